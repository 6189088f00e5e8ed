"""The original Deepfakes autoencoder (Reddit / deepfakes/faceswap, late 2017), in PyTorch.

Kept only as a yardstick for benchmarks/train_speed.py; it is not in `MODELS`. Faithful to
the Keras original at 64 px: encoder convolutions 128-256-512-1024 (5x5, stride 2,
LeakyReLU 0.1), dense 1024, dense 4*4*1024, upscale to 512 channels (still in the shared
encoder); each decoder upscales 256-128-64 and ends in a 5x5 sigmoid convolution to RGB.
No mask, mean absolute error loss, Adam(lr 5e-5, betas 0.5/0.999).
"""

from __future__ import annotations

import torch
from torch import nn

RES = 64
ENCODER_DIM = 1024


def _conv(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, 5, stride=2, padding=2),
                         nn.LeakyReLU(0.1))


def _upscale(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels_in, channels_out * 4, 3, padding=1),
                         nn.LeakyReLU(0.1), nn.PixelShuffle(2))


class Reference2017(nn.Module):
    """(N, 3, 64, 64) RGB in [0, 1] -> (N, 3, 64, 64) as person "a" or "b"."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            _conv(3, 128), _conv(128, 256), _conv(256, 512), _conv(512, 1024),
            nn.Flatten(), nn.Linear(1024 * 4 * 4, ENCODER_DIM),
            nn.Linear(ENCODER_DIM, 4 * 4 * 1024), nn.Unflatten(1, (1024, 4, 4)),
            _upscale(1024, 512))  # (N, 512, 8, 8)
        self.decoder_a = self._decoder()
        self.decoder_b = self._decoder()

    @staticmethod
    def _decoder() -> nn.Sequential:
        return nn.Sequential(_upscale(512, 256), _upscale(256, 128), _upscale(128, 64),
                             nn.Conv2d(64, 3, 5, padding=2), nn.Sigmoid())

    def render(self, x: torch.Tensor, person: str) -> torch.Tensor:
        decoder = self.decoder_a if person == "a" else self.decoder_b
        out: torch.Tensor = decoder(self.encoder(x))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.render(x, "a")


def reference_optimizer(model: Reference2017) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=5e-5, betas=(0.5, 0.999))
