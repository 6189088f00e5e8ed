"""The refiner: a small U-Net that turns the mesh engine's warped face into a clean face
of the same person, in the same pose, expression and light.

Input `x` (N, 4, R, R) float32: channels 0-2 the mesh engine's face laid over the target
crop (RGB in [0, 1]: warped source texture where the mesh mask is 1, the target's own
pixels elsewhere: its eyes, mouth opening, hair and background), channel 3 the mesh
engine's soft validity mask in [0, 1]. Output (N, 3, R, R) RGB, clamped to [0, 1] in
eval mode (unclamped while training).

The output is residual (input colour plus a correction) and the correction's last
convolution starts at zero, so an untrained refiner returns its input unchanged: training
can only move it away from the mesh engine's result where the loss says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from facedub.errors import FacedubError

REFINER_ARCH = "unet"
REFINER_RESOLUTIONS = (128, 256)
INPUT_CHANNELS = 4  # RGB + mesh mask


@dataclass(frozen=True)
class RefinerArgs:
    """What a refiner is built from; saved beside the weights.

    `res`: side of the square input in pixels (128 or 256). `width`: channels at full
    resolution (doubling at every level down). `levels`: how many times the U-Net halves
    the image; the receptive field must span the face to fix its colour and light, so 4
    at 128 px (the coarsest level sees 8 x 8 cells).
    """

    res: int = 128
    width: int = 8
    levels: int = 4

    def __post_init__(self) -> None:
        if self.res not in REFINER_RESOLUTIONS:
            raise FacedubError(f"--res {self.res}: use one of "
                               f"{', '.join(map(str, REFINER_RESOLUTIONS))}")
        if not 4 <= self.width <= 256:
            raise FacedubError(f"refiner width {self.width}: use a value from 4 to 256")
        if not 1 <= self.levels <= 5:
            raise FacedubError(f"refiner levels {self.levels}: use a value from 1 to 5")

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def refiner_args_from_json(data: Any) -> RefinerArgs:
    """RefinerArgs from their saved JSON form; FacedubError if malformed."""
    try:
        return RefinerArgs(res=int(data["res"]), width=int(data["width"]),
                           levels=int(data["levels"]))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"refiner arguments {data!r} are malformed ({error}); the "
                           "refiner folder is damaged, refine again") from error


def conv(channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution (4x4 when it halves the image) and LeakyReLU(0.1)."""
    kernel = 4 if stride == 2 else 3
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, kernel_size=kernel,
                                   stride=stride, padding=1), nn.LeakyReLU(0.1))


class Refiner(nn.Module):
    """A light U-Net (Ronneberger et al. 2015): strided convolutions down, bilinear
    upsampling and one convolution over the upsampled and skipped features at every level
    up. One convolution a level keeps it near 0.2 GMAC a 128 px face, so it trains on a
    CPU in minutes and runs beside the mesh engine at video rate. See the module
    docstring for input and output."""

    arch = REFINER_ARCH

    def __init__(self, args: RefinerArgs) -> None:
        super().__init__()
        self.args = args
        widths = [args.width << level for level in range(args.levels + 1)]
        self.stem = conv(INPUT_CHANNELS, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(conv(widths[i], widths[i + 1], stride=2),
                          conv(widths[i + 1], widths[i + 1]))
            for i in range(args.levels))
        self.bottom = conv(widths[-1], widths[-1])
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.merge = nn.ModuleList(conv(widths[i + 1] + widths[i], widths[i])
                                   for i in reversed(range(args.levels)))
        self.head = nn.Conv2d(widths[0], 3, kernel_size=3, padding=1)
        for parameter in self.head.parameters():
            nn.init.zeros_(parameter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, R, R) -> (N, 3, R, R) RGB in [0, 1]."""
        skips = [self.stem(x)]  # (N, w, R, R)
        for down in self.down:
            skips.append(down(skips[-1]))  # (N, w * 2^k, R / 2^k, R / 2^k)
        y = self.bottom(skips.pop())
        for merge in self.merge:
            y = merge(torch.cat([self.up(y), skips.pop()], dim=1))
        refined = x[:, :3].float() + self.head(y).float()
        if self.training:
            # No clamp while training: a clamped pixel has no gradient, and one bad step
            # that pushed the whole face out of [0, 1] left the refiner dead for good
            # (BENCHMARKS.md, Refiner). The loss pulls stray values back in.
            return refined
        return refined.clamp(0.0, 1.0)
