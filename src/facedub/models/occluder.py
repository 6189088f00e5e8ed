"""OccluderNet: a small U-Net that marks what covers a face in an aligned crop.

Input (N, 3, 128, 128) RGB in [0, 1], the face aligned to the template at the "whole"
coverage (facedub.align). Output (N, 1, 64, 64) logits at half resolution: > 0 where
something in front of the face (a hand, glasses frames, a microphone, a cup, hair across
the face) hides it. The decoder stops at half size because the full-size level would
cost as much as all the others together, and the mask is feathered anyway. About 0.15 M
parameters, so it runs in a few milliseconds on one CPU core. Trained by
tools/train_occluder.py on real face crops with occluders composited in.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from facedub.models.occluder_graph import (  # noqa: F401 (also this module's names)
    BN_EPS,
    OCCLUDER_OUT,
    OCCLUDER_RES,
    OCCLUDER_WIDTHS,
    occluder_graph,
    widths_metadata,
)


def _block(channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class OccluderNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = OCCLUDER_WIDTHS) -> None:
        super().__init__()
        self.widths = tuple(widths)  # saved in the weights' metadata (`occluder_metadata`)
        self.stem = _block(3, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(_block(widths[i], widths[i + 1], stride=2),
                          _block(widths[i + 1], widths[i + 1]))
            for i in range(len(widths) - 1))
        # Up to the 64 px level only (see the module docstring).
        self.up = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i])
            for i in reversed(range(1, len(widths) - 1)))
        self.head = nn.Conv2d(widths[1], 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stem(image * 2.0 - 1.0)  # (N, w0, 128, 128)
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        skips.pop()  # the deepest level is x itself
        for up in self.up:
            skip = skips.pop()
            x = functional.interpolate(x, size=skip.shape[-2:], mode="bilinear",
                                       align_corners=False)
            x = up(torch.cat([x, skip], dim=1))
        logits: torch.Tensor = self.head(x)  # (N, 1, 64, 64)
        return logits


def occluder_metadata(net: OccluderNet) -> dict[str, str]:
    """The safetensors metadata that lets the swap's loader (facedub.composite.occlusion)
    rebuild `net`: its architecture and widths."""
    return {"architecture": "OccluderNet", **widths_metadata(net.widths)}


def occluder_onnx(net: OccluderNet) -> bytes:
    """The ONNX graph of `net` (eval mode, batch norm folded into the convolutions), built
    directly from its weights: fast, and free of the TorchScript exporter. Input "image"
    (1, 3, 128, 128) RGB in [0, 1]; output "logits" (1, 1, 64, 64)."""
    state = {name: value.detach().numpy() for name, value in net.state_dict().items()}
    return occluder_graph(state, levels=len(net.down) + 1)
