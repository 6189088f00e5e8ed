"""Building blocks shared by the autoencoder architectures (DeepFaceLab's SAEHD layers).

All tensors are NCHW float32 (bf16 under autocast on CUDA). Images going in and out of a
model are RGB in [0, 1]; a mask is (N, 1, H, W) in [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from facedub.errors import FacedubError

RESOLUTIONS = (64, 128, 256)
# The encoder halves the image this many times; the dense bottleneck sits at res / 16.
DOWNSCALES = 4


@dataclass(frozen=True)
class ModelArgs:
    """What an architecture is built from; saved beside the weights so a run rebuilds itself.

    `res`: side of the square crop in pixels (64, 128 or 256). `width`: channels of the
    encoder's first level (it doubles at every downscale). `latent`: size of the dense
    bottleneck, and the channels of the code the decoder starts from. `decoder_width`:
    channels of the decoder's last level (it doubles towards the bottleneck).
    """

    res: int
    width: int
    latent: int
    decoder_width: int

    def __post_init__(self) -> None:
        if self.res not in RESOLUTIONS:
            raise FacedubError(f"--res {self.res}: use one of {', '.join(map(str, RESOLUTIONS))}")
        for name in ("width", "latent", "decoder_width"):
            value = getattr(self, name)
            if not 4 <= value <= 4096:
                raise FacedubError(f"model {name} {value}: use a value from 4 to 4096")

    def to_json(self) -> dict[str, int]:
        return asdict(self)


class Downscale(nn.Module):
    """5x5 convolution with stride 2, then LeakyReLU(0.1): (N, C, H, W) -> (N, out, H/2, W/2).

    The wide kernel is what the original Deepfakes encoder used; it sees the face's parts
    in context at every level."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, kernel_size=5, stride=2, padding=2)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(self.conv(x))
        return out


class Upscale(nn.Module):
    """3x3 convolution to 4x the channels, LeakyReLU(0.1), pixel shuffle:
    (N, C, H, W) -> (N, out, 2H, 2W). Pixel shuffle avoids the checkerboard artefacts
    of transposed convolutions."""

    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out * 4, kernel_size=3, padding=1)
        self.act = nn.LeakyReLU(0.1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.shuffle(self.act(self.conv(x)))
        return out


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip: sharpens detail at one scale, shape unchanged."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.act(self.conv1(x)))
        out: torch.Tensor = self.act(x + y)
        return out


class Encoder(nn.Module):
    """(N, 3, R, R) image -> (N, 8*width * (R/16)**2) flat features."""

    def __init__(self, width: int) -> None:
        super().__init__()
        channels = [3] + [width << level for level in range(DOWNSCALES)]
        self.down = nn.Sequential(*(Downscale(channels[i], channels[i + 1])
                                    for i in range(DOWNSCALES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.down(x), start_dim=1)

    @staticmethod
    def features(args: ModelArgs) -> int:
        side = args.res >> DOWNSCALES
        return (args.width << (DOWNSCALES - 1)) * side * side


class Inter(nn.Module):
    """The dense bottleneck: flat features -> latent -> (N, channels, R/8, R/8) code.

    The dense layers are what forces the two identities through one small description
    of pose, expression and light."""

    def __init__(self, features: int, latent: int, channels: int, res: int) -> None:
        super().__init__()
        self.side = res >> DOWNSCALES
        self.channels = channels
        self.dense1 = nn.Linear(features, latent)
        self.dense2 = nn.Linear(latent, self.side * self.side * channels)
        self.up = Upscale(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dense2(self.dense1(x))
        x = x.view(-1, self.channels, self.side, self.side)  # (N, C, R/16, R/16)
        out: torch.Tensor = self.up(x)  # (N, C, R/8, R/8)
        return out


class Decoder(nn.Module):
    """(N, C, R/8, R/8) code -> face (N, 3, R, R) and mask (N, 1, R, R), both in [0, 1]."""

    def __init__(self, channels_in: int, width: int) -> None:
        super().__init__()
        levels = [channels_in, width * 8, width * 4, width * 2]
        blocks: list[nn.Module] = []
        for i in range(3):
            blocks += [Upscale(levels[i], levels[i + 1]), ResidualBlock(levels[i + 1])]
        self.body = nn.Sequential(*blocks)
        # One head for colour and mask: the mask costs one output channel, not a branch.
        self.head = nn.Conv2d(levels[-1], 4, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = torch.sigmoid(self.head(self.body(x)))  # (N, 4, R, R)
        return out[:, :3], out[:, 3:]


def gaussian_matrix(n: int, size: int, sigma: float, device: torch.device) -> torch.Tensor:
    """(n, n) matrix that blurs a length-n signal with a Gaussian of `size` taps,
    reflecting at the borders (like numpy's "reflect" padding)."""
    taps = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2.0
    kernel = torch.exp(-(taps**2) / (2.0 * sigma * sigma))
    kernel = kernel / kernel.sum()
    rows = torch.arange(n, device=device).view(n, 1)
    source = rows + taps.long().view(1, size)  # (n, size) index each tap reads
    source = source.abs()  # reflect below 0
    source = torch.where(source > n - 1, 2 * (n - 1) - source, source)  # reflect above n-1
    matrix = torch.zeros(n, n, device=device)
    matrix.scatter_add_(1, source, kernel.expand(n, size).contiguous())
    return matrix
