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

With `light_sigma` above 0 the network refines the face's detail, not its light: it sees
the crop divided by its own smooth light (`smooth_light`: the alpha-weighted Gaussian
mean of its grey, sigma `light_sigma` px, brought to LIGHT_LEVEL), and its correction is
multiplied back by that light, so a face lit darker than any it trained on shows it the
detail it learnt, and gets the correction scaled to its own light (the webcam man's
network lowered the torch-lit faces' SSIM on every frame: BENCHMARKS.md, Refiner,
twenty-ninth to thirty-first rounds). 0 (a folder refined before it): the crop as it is.

Input: `shown` (N, 3, H, W) RGB in [0, 1] (the composited crop over the target crop, as
the paste-back shows it) and `alpha` (N, 1, H, W) in [0, 1]; output (N, 3, H, W): `shown`
plus the correction inside the alpha (unclamped: the caller rounds and clips). Any H, W:
it is fully convolutional, so one network serves every crop size.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from facedub.errors import FacedubError

CROP_ARCH = "crop-conv"
# The grey a face's smooth light is brought to before the network sees it (about the
# webcam split's training faces' own, 66 to 72 L*).
LIGHT_LEVEL = 0.5
# The weight (in alpha-pixels of the blur) of LIGHT_LEVEL in the light where the alpha
# is thin: the light tends to it far from the face instead of dividing by nothing.
LIGHT_PRIOR = 1e-3
MIN_LIGHT = 1.0 / 255.0
GREY = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class CropRefinerArgs:
    """`width`: channels of the hidden convolutions; `layers`: 3x3 convolutions in all
    (the receptive field's radius in pixels, `reach`); `light_sigma`: the smooth light's
    Gaussian, crop px, that the network's input is divided by and its correction
    multiplied by (0: none, the crop as it is; `CropRefiner`)."""

    width: int = 16
    layers: int = 4
    light_sigma: float = 0.0

    def __post_init__(self) -> None:
        if not 4 <= self.width <= 64:
            raise FacedubError(f"crop refiner width {self.width}: use a value from 4 to 64")
        if not 2 <= self.layers <= 8:
            raise FacedubError(f"crop refiner layers {self.layers}: use a value from 2 to 8")
        if not (self.light_sigma == 0.0 or 2.0 <= self.light_sigma <= 32.0):
            raise FacedubError(f"crop refiner light sigma {self.light_sigma}: use 0 (none) "
                               "or a value from 2 to 32 px")

    @property
    def reach(self) -> int:
        """Pixels on each side an output pixel reads (one per 3x3 convolution)."""
        return self.layers

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def crop_refiner_args_from_json(data: Any) -> CropRefinerArgs:
    """CropRefinerArgs from their saved JSON form (a folder refined before
    `light_sigma` has none: 0, its network sees the crop as it is); FacedubError if
    malformed."""
    try:
        return CropRefinerArgs(width=int(data["width"]), layers=int(data["layers"]),
                               light_sigma=float(data.get("light_sigma", 0.0)))
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
        # not saved (a function of the arguments): main's folders load as they were
        self.register_buffer("light_kernel", gaussian_taps(self.args.light_sigma)
                             if self.args.light_sigma > 0.0 else None, persistent=False)

    def forward(self, shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in 0..1 and (N, 1, H, W) -> the crop with the correction inside
        the alpha."""
        return shown + alpha * self.correction(shown, alpha)

    def correction(self, shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W): the correction in the crop's own pixels (0..1 units), before
        the alpha weighs it; what the swap keeps a band of (engines.refiner)."""
        kernel = self.light_kernel
        if not isinstance(kernel, torch.Tensor):  # a network of the crop as it is
            return self.body(torch.cat([shown, alpha], dim=1))  # type: ignore[no-any-return]
        scale = smooth_light(shown, alpha, kernel) / LIGHT_LEVEL
        detail = self.body(torch.cat([shown / scale, alpha], dim=1))
        return detail * scale  # type: ignore[no-any-return]


def gaussian_taps(sigma: float) -> torch.Tensor:
    """(2 ceil(3 sigma) + 1,) float32: a Gaussian of `sigma` px, summing to 1."""
    radius = math.ceil(3.0 * sigma)
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(taps ** 2) / (2.0 * sigma * sigma))
    return kernel / kernel.sum()


def smooth_light(shown: torch.Tensor, alpha: torch.Tensor, kernel: torch.Tensor
                 ) -> torch.Tensor:
    """(N, 1, H, W): the smooth light of `shown` (N, 3, H, W) in 0..1, the Gaussian
    (`kernel`) mean of its grey weighted by `alpha` (N, 1, H, W): the face's own, not
    the frame's beyond it (which the alpha-weighted sums read as zero, so that a crop cut
    to the alpha's box reads the same light inside it). Tends to LIGHT_LEVEL where no
    alpha is near; at least MIN_LIGHT."""
    grey = (shown * torch.tensor(GREY, dtype=shown.dtype, device=shown.device)
            .view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    lit, spread = _separable_blur(grey * alpha, kernel), _separable_blur(alpha, kernel)
    light = (lit + LIGHT_PRIOR * LIGHT_LEVEL) / (spread + LIGHT_PRIOR)
    return light.clamp(min=MIN_LIGHT)


def _separable_blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) under the separable `kernel`, zeros beyond the edge ('same' size);
    one channel, so that the ONNX export knows the kernels' shapes."""
    radius = kernel.shape[0] // 2
    x = functional.conv2d(x, kernel.view(1, 1, -1, 1), padding=(radius, 0))
    return functional.conv2d(x, kernel.view(1, 1, 1, -1), padding=(0, radius))
