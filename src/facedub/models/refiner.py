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

The correction is split in three bands (`Refiner.bands`) with a gain each (`gains`, the
band gate): `low` (what a Gaussian of sigma R / 16 keeps, the band the compositor's
`--color detail` replaces by the target's), `fine` (what a Gaussian of FINE_SIGMA removes)
and `mid` between them. Trained, the refiner's mid-band correction made swaps of unseen
frames worse while its fine band helped (BENCHMARKS.md, Refiner, third round): a learned
correction of an uncertain feature is partly noise, and less of it is better. `refine`
keeps the mid band closed and chooses the low and fine gains on held-out faces
(train/refine_gate.py); they are saved beside the best weights (best.json), not in them,
and baked into an exported graph. Gains (1, 1, 1), the
default and always while training, leave the correction whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from facedub.errors import FacedubError
from facedub.models.layers import gaussian_matrix

REFINER_ARCH = "unet"
REFINER_RESOLUTIONS = (128, 256)
INPUT_CHANNELS = 4  # RGB + mesh mask
BANDS = ("low", "mid", "fine")
Gains = tuple[float, float, float]  # of the correction's low, mid and fine bands
WHOLE: Gains = (1.0, 1.0, 1.0)
LOW_DIVISOR = 16.0  # low band: sigma = R / 16, as the compositor's detail low-pass
FINE_SIGMA = 1.5  # fine band: what this Gaussian (pixels at R) removes


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
    low_pass: torch.Tensor  # (R, R) blur matrices of the band gate (buffers)
    smooth: torch.Tensor

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
        self.gains: Gains = WHOLE
        # Not in the state dict: the gains live in best.json, and weights saved before
        # the gate existed still load.
        low_sigma = args.res / LOW_DIVISOR
        self.register_buffer("low_pass", gaussian_matrix(
            args.res, _taps(low_sigma), low_sigma, torch.device("cpu")), persistent=False)
        self.register_buffer("smooth", gaussian_matrix(
            args.res, _taps(FINE_SIGMA), FINE_SIGMA, torch.device("cpu")), persistent=False)

    def set_gains(self, gains: Gains) -> None:
        """The band gate's gains (low, mid, fine), each in [0, 1]."""
        if len(gains) != len(BANDS) or not all(0.0 <= g <= 1.0 for g in gains):
            raise FacedubError(f"refiner gains {gains!r}: three values from 0 to 1 (low, "
                               "mid, fine); the refiner folder is damaged, refine again")
        self.gains = (float(gains[0]), float(gains[1]), float(gains[2]))

    def bands(self, correction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                       torch.Tensor]:
        """(low, mid, fine) of an (N, 3, R, R) correction; they sum to it."""
        low = self.low_pass @ correction @ self.low_pass.T
        smooth = self.smooth @ correction @ self.smooth.T
        return low, smooth - low, correction - smooth

    def correction(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, R, R) -> (N, 3, R, R): what the network adds to the input's colour,
        before the band gate."""
        skips = [self.stem(x)]  # (N, w, R, R)
        for down in self.down:
            skips.append(down(skips[-1]))  # (N, w * 2^k, R / 2^k, R / 2^k)
        y = self.bottom(skips.pop())
        for merge in self.merge:
            y = merge(torch.cat([self.up(y), skips.pop()], dim=1))
        return self.head(y).float()  # type: ignore[no-any-return]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, R, R) -> (N, 3, R, R) RGB in [0, 1]."""
        correction = self.correction(x)
        if self.gains != WHOLE:
            # A Python branch, so the exported graph holds the blurs only when gated.
            low, mid, fine = self.bands(correction)
            correction = self.gains[0] * low + self.gains[1] * mid + self.gains[2] * fine
        refined = x[:, :3].float() + correction
        if self.training:
            # No clamp while training: a clamped pixel has no gradient, and one bad step
            # that pushed the whole face out of [0, 1] left the refiner dead for good
            # (BENCHMARKS.md, Refiner). The loss pulls stray values back in.
            return refined
        return refined.clamp(0.0, 1.0)


def _taps(sigma: float) -> int:
    return 2 * round(3.0 * sigma) + 1
