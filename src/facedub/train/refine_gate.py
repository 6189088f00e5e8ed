"""The refiner's band gate, chosen on held-out faces: how much of each band of its
correction (low, mid, fine; facedub.models.refiner) a swap uses.

Why: the refiner's correction of a face it never saw is partly noise. On the split-clip
self-swaps its mid band (features a few pixels to a sixth of the face across: the exact
shape of brows, lids and lips, which a rendering from another frame cannot know) made the
composited face worse, while its fine band and half of the whole correction made it
better (BENCHMARKS.md, Refiner, third round). Shrinking an uncertain estimate toward the
mesh engine's face is the cheap cure; how far is measured, not guessed.

Each band is chosen by the measure it reaches: mid and fine by the SSIM of what the
compositor's `--color detail` keeps (the low band barely reaches it), then low by the
SSIM of the whole refined face (what the other colour methods show). Gains run over
GAIN_STEPS; (0, 0, 0), the mesh engine's face, is among them, so the chosen gate never
scores below the mesh engine on the held-out faces; on ties the smaller gain wins.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from facedub.models.refiner import Gains, Refiner
from facedub.train.losses import masked_ssim
from facedub.train.refine_loss import detail_composed

GAIN_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class HeldOut:
    """Held-out faces and the refiner's correction of them, in bands: `inputs` (N, 3,
    R, R) the mesh engine's faces, `truth` (N, 3, R, R), `mask` (N, 1, R, R), `bands`
    (low, mid, fine) each (N, 3, R, R)."""

    inputs: torch.Tensor
    truth: torch.Tensor
    mask: torch.Tensor
    bands: tuple[torch.Tensor, torch.Tensor, torch.Tensor]

    def refined(self, gains: Gains) -> torch.Tensor:
        """The faces a refiner gated by `gains` returns (eval mode: clamped)."""
        low, mid, fine = self.bands
        correction = gains[0] * low + gains[1] * mid + gains[2] * fine
        return (self.inputs + correction).clamp(0.0, 1.0)

    def whole(self, faces: torch.Tensor) -> float:
        """Mean SSIM inside the face mask."""
        return float(masked_ssim(faces, self.truth, self.mask).mean())

    def kept(self, faces: torch.Tensor) -> float:
        """Mean SSIM inside the face mask of what `--color detail` keeps of `faces`."""
        return self.whole(detail_composed(faces, self.truth, self.mask))


def joined(parts: list[HeldOut]) -> HeldOut:
    """One HeldOut of several batches', on the CPU."""
    def cat(tensors: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(tensors).cpu()

    return HeldOut(cat([p.inputs for p in parts]), cat([p.truth for p in parts]),
                   cat([p.mask for p in parts]),
                   (cat([p.bands[0] for p in parts]), cat([p.bands[1] for p in parts]),
                    cat([p.bands[2] for p in parts])))


def held_out(model: Refiner, inputs: torch.Tensor, truth: torch.Tensor,
             mask: torch.Tensor) -> HeldOut:
    """The refiner's banded correction of held-out `inputs` (N, 4, R, R)."""
    with torch.inference_mode():
        bands = model.bands(model.correction(inputs))
    return HeldOut(inputs[:, :3].float(), truth.float(), mask.float(), bands)


def choose_gains(faces: HeldOut) -> Gains:
    """The gate's gains that score best on `faces` (see the module docstring)."""
    best_score, mid, fine = -1.0, 0.0, 0.0
    for mid_gain, fine_gain in itertools.product(GAIN_STEPS, GAIN_STEPS):
        score = faces.kept(faces.refined((1.0, mid_gain, fine_gain)))
        if score > best_score + 1e-6:
            best_score, mid, fine = score, mid_gain, fine_gain
    best_score, low = -1.0, 0.0
    for low_gain in GAIN_STEPS:
        score = faces.whole(faces.refined((low_gain, mid, fine)))
        if score > best_score + 1e-6:
            best_score, low = score, low_gain
    return low, mid, fine
