"""The composited-stage refiner: a small full-resolution network run on the compositor's
finished crop (issue 13; BENCHMARKS.md, Refiner, twenty-fifth and twenty-sixth rounds).

The compositor's tone, colour and low-pass steps remove most of what a refiner run
before it learns (a refiner's gain on the renderings, +0.010, became -0.0010 to -0.0016
on the composited held-out faces); what it leaves is the target's fine detail (the
oracles put +0.029 of face SSIM in the 1-3.6 px band of a 300 px crop). This network
runs after the compositor, on what the swap shows: four 3x3 convolutions of `width`
channels at the crop's own resolution (receptive field 2 * layers + 1 = 9 px, the fine
band's reach), its last one zero at the start (the identity), its output added inside
the compositor's alpha.

Input: `shown` (N, 3, H, W) RGB in [0, 1] (the composited crop over the target crop, as
the paste-back shows it) and `alpha` (N, 1, H, W) in [0, 1]; output (N, 3, H, W): `shown`
plus the correction inside the alpha (unclamped: the caller rounds and clips). Any H, W:
it is fully convolutional, so one network serves every crop size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from facedub.errors import FacedubError

CROP_ARCH = "crop-conv"


@dataclass(frozen=True)
class CropRefinerArgs:
    """`width`: channels of the hidden convolutions; `layers`: 3x3 convolutions in all
    (the receptive field's radius in pixels, `reach`)."""

    width: int = 16
    layers: int = 4

    def __post_init__(self) -> None:
        if not 4 <= self.width <= 64:
            raise FacedubError(f"crop refiner width {self.width}: use a value from 4 to 64")
        if not 2 <= self.layers <= 8:
            raise FacedubError(f"crop refiner layers {self.layers}: use a value from 2 to 8")

    @property
    def reach(self) -> int:
        """Pixels on each side an output pixel reads (one per 3x3 convolution)."""
        return self.layers

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def crop_refiner_args_from_json(data: Any) -> CropRefinerArgs:
    """CropRefinerArgs from their saved JSON form; FacedubError if malformed."""
    try:
        return CropRefinerArgs(width=int(data["width"]), layers=int(data["layers"]))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"crop refiner arguments {data!r} are malformed ({error}); the "
                           "refiner folder is damaged, refine again") from error


class CropRefiner(nn.Module):
    def __init__(self, args: CropRefinerArgs | None = None) -> None:
        super().__init__()
        self.args = args or CropRefinerArgs()
        width = self.args.width
        convs: list[nn.Module] = [nn.Conv2d(4, width, 3, padding=1), nn.ReLU()]
        for _ in range(self.args.layers - 2):
            convs += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        head = nn.Conv2d(width, 3, 3, padding=1)
        for parameter in head.parameters():  # the identity at the start
            nn.init.zeros_(parameter)
        self.body = nn.Sequential(*convs, head)

    def forward(self, shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in 0..1 and (N, 1, H, W) -> the crop with the correction inside
        the alpha."""
        return shown + alpha * self.correction(shown, alpha)

    def correction(self, shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W): the correction in the crop's own pixels (0..1 units), before
        the alpha weighs it; what the swap keeps a band of (engines.refiner)."""
        return self.body(torch.cat([shown, alpha], dim=1))  # type: ignore[no-any-return]
