"""The composited-stage refiner's training data and loss: patches of the source's own
composited faces, and the loss of what the swap shows of the network's correction (its
band finer than engines.refiner.CROP_BAND_SIGMA, as `refine_composited` keeps it).

The twenty-sixth round trained the network on its whole correction and shipped the fine
band only: the band kept about half of the held-out gain (+0.0015 -> +0.0008; BENCHMARKS.md,
Refiner). Here the loss reads the band itself (`band_output`, the torch twin of
`refine_composited`'s normalised band), so training spends nothing on the coarse
correction the swap throws away.

Loss: 1 - SSIM of luma (the evaluation's window, sigma 1.5) plus L1, weighted by the
evaluation's face region, on the PATCH px centre of each patch (the patch is cut
BAND_MARGIN px wider on each side, so that the band's blur at the centre reads the
correction as on the whole crop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from facedub.engines.refiner import CROP_BAND_SIGMA, MIN_ALPHA
from facedub.models.crop_refiner import CropRefiner

PATCH = 64  # the loss's patch side, px: several times the network's 9 px reach
# Pixels cut round the loss's patch: the band's Gaussian (3.6 px) reaches 12 px at 3.3
# sigma (its weight there 0.4% of the centre's), the network's 4 px more.
BAND_MARGIN = 16
BAND_RADIUS = 12  # the band's Gaussian taps each side in training (renormalised)
LUMA = (0.299, 0.587, 0.114)
# OpenCV's 3x3 Laplacian (cv2.Laplacian, ksize 1), what the evaluation's sharpness reads.
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


@dataclass(frozen=True)
class TrainingFace:
    """A training face: the mesh engine's composited crop as shown (uint8), the
    compositor's alpha (float16), the true crop (uint8), the evaluation's face region
    (bool) and the crop's pixels inside the frame (bool; None: all)."""

    shown: np.ndarray
    alpha: np.ndarray
    truth: np.ndarray
    region: np.ndarray
    in_frame: np.ndarray | None = None


@dataclass(frozen=True)
class Patches:
    """A batch of patches (N, C, P + 2 BAND_MARGIN, same) float32: `shown` and `truth`
    RGB in 0..1, `alpha` in 0..1, `seen` (1 where the band reads the correction: the
    alpha's pixels inside the frame), `weight` (the face region on the PATCH px centre,
    0 elsewhere)."""

    shown: torch.Tensor
    alpha: torch.Tensor
    truth: torch.Tensor
    seen: torch.Tensor
    weight: torch.Tensor


def patches(faces: Sequence[TrainingFace], batch: int, rng: np.random.Generator,
            device: torch.device | None = None) -> Patches:
    """`batch` patches, each centred on a face-region pixel of a face drawn by `rng`
    (the window clamped to the crop; the loss's weight on its PATCH px centre)."""
    side = PATCH + 2 * BAND_MARGIN
    centre = np.zeros((side, side), np.float32)
    centre[BAND_MARGIN:-BAND_MARGIN, BAND_MARGIN:-BAND_MARGIN] = 1.0
    parts: list[list[np.ndarray]] = [[], [], [], [], []]
    for index in rng.integers(len(faces), size=batch):
        face = faces[int(index)]
        inside = np.argwhere(face.region)
        y, x = inside[rng.integers(len(inside))]
        size = face.shown.shape[0]
        y0 = int(np.clip(y - side // 2, 0, size - side))
        x0 = int(np.clip(x - side // 2, 0, size - side))
        box = (slice(y0, y0 + side), slice(x0, x0 + side))
        alpha = face.alpha[box].astype(np.float32)
        seen = alpha >= MIN_ALPHA
        if face.in_frame is not None:
            seen &= face.in_frame[box]
        parts[0].append(face.shown[box].transpose(2, 0, 1) / np.float32(255.0))
        parts[1].append(alpha[None])
        parts[2].append(face.truth[box].transpose(2, 0, 1) / np.float32(255.0))
        parts[3].append(seen[None].astype(np.float32))
        parts[4].append((face.region[box] * centre)[None].astype(np.float32))
    tensors = [torch.from_numpy(np.stack(part).astype(np.float32)).to(device or "cpu")
               for part in parts]
    return Patches(*tensors)


def band_kernel(sigma: float = CROP_BAND_SIGMA, radius: int = BAND_RADIUS) -> torch.Tensor:
    """(2 radius + 1,) float32: a Gaussian of `sigma` px, summing to 1."""
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(taps ** 2) / (2 * sigma * sigma))
    return kernel / kernel.sum()


def _blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) under the separable `kernel`, zeros beyond the edge ('same' size)."""
    channels, radius = x.shape[1], kernel.shape[0] // 2
    rows = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    columns = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    x = functional.conv2d(x, rows, padding=(radius, 0), groups=channels)
    return functional.conv2d(x, columns, padding=(0, radius), groups=channels)


def band_output(model: CropRefiner, shown: torch.Tensor, alpha: torch.Tensor,
                seen: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W): `shown` with the band of the network's correction that the swap
    keeps (`engines.refiner.refine_composited`): the correction in the crop's own
    pixels, zero beyond `seen`, minus its Gaussian mean over `seen` (normalised), times
    the alpha the paste-back weighs it by."""
    correction = model.correction(shown, alpha) * seen
    spread = _blur(seen, kernel)
    mean = _blur(correction, kernel) / spread.clamp(min=1e-6)
    return shown + alpha * (correction - mean * (spread > 1e-6)) * seen


def patch_loss(model: CropRefiner, batch: Patches, window: torch.Tensor,
               kernel: torch.Tensor, sharpness_weight: float = 0.0) -> torch.Tensor:
    """The loss of what the swap shows of the network's correction (its fine band),
    plus `sharpness_weight` times `sharpness_rise`."""
    out = band_output(model, batch.shown, batch.alpha, batch.seen, kernel)
    loss = shown_loss(out, batch.truth, batch.weight, window)
    if sharpness_weight > 0.0:
        loss = loss + sharpness_weight * sharpness_rise(out, batch.shown, batch.truth,
                                                        batch.weight)
    return loss


def sharpness_rise(out: torch.Tensor, shown: torch.Tensor, truth: torch.Tensor,
                   weight: torch.Tensor) -> torch.Tensor:
    """How much further from the truth's the patches' sharpness is in `out` than in
    `shown` (the evaluation's sharpness mismatch: |log2| of the mean |Laplacian| of luma
    over `weight`, per patch; 0 where it is no further), averaged over the batch."""
    def sharpness(x: torch.Tensor) -> torch.Tensor:
        laplacian = functional.conv2d(luma(x), LAPLACIAN.to(x.device), padding=1).abs()
        return (laplacian * weight).sum(dim=(1, 2, 3)) / weight.sum(dim=(1, 2, 3)).clamp(
            min=1.0)

    wanted = sharpness(truth).clamp(min=1e-3)
    now = (torch.log2(sharpness(shown).clamp(min=1e-3) / wanted)).abs()
    after = (torch.log2(sharpness(out).clamp(min=1e-3) / wanted)).abs()
    return functional.relu(after - now).mean()


def shown_loss(out: torch.Tensor, truth: torch.Tensor, weight: torch.Tensor,
               window: torch.Tensor) -> torch.Tensor:
    """1 - SSIM of luma plus L1, both weighted by `weight` (N, 1, H, W)."""
    total = weight.sum().clamp(min=1.0)
    structural = ((1.0 - ssim_map(luma(out), luma(truth), window)) * weight).sum() / total
    absolute = ((out - truth).abs() * weight).sum() / (3 * total)
    return structural + absolute


def gaussian_window(sigma: float = 1.5) -> torch.Tensor:
    """The evaluation's SSIM window (11 taps, sigma 1.5) as a (1, 1, 11, 11) kernel."""
    taps = torch.arange(-5, 6, dtype=torch.float32)
    kernel = torch.exp(-(taps ** 2) / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    return (kernel[:, None] * kernel[None, :])[None, None]


def ssim_map(a: torch.Tensor, b: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) luma in 0..255 -> SSIM map ('same' size, reflect padding)."""
    def blur(x: torch.Tensor) -> torch.Tensor:
        return functional.conv2d(functional.pad(x, (5, 5, 5, 5), mode="reflect"), window)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
            / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in 0..1 -> (N, 1, H, W) luma in 0..255."""
    weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True) * 255.0

