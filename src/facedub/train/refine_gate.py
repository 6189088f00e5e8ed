"""The refiner's band gate, chosen on held-out faces: how much of each band of its
correction (low, mid, fine; facedub.models.refiner) a swap uses.

Why: the refiner's correction of a face it never saw is partly noise. Its mid band
(features a few pixels to a sixth of the face across: the exact shape and place of brows,
lids and lip edges, which a rendering from another frame cannot know) made the composited
face worse where the swap meets faces unlike the source's own frames: one photo onto a
clip in other light (self-photo: -0.0033 SSIM from the mid band alone, +0.0036 from the
fine band, +0.0037 from the low band), and the split clip with the refiners of the second
round; on held-out stretches of the source's own video it looks useful, so held-out faces
cannot be trusted to open it (BENCHMARKS.md, Refiner, third round). The mid band is
therefore closed (MID_GAIN), and the fine and low bands are measured: fine by the SSIM of
what the compositor's `--color detail` keeps (the low band barely reaches it), then low
by the SSIM of the whole refined face (what the other colour methods show). Gains run
over GAIN_STEPS; 0, the mesh engine's face, is among them, so the chosen gate never
scores below the mesh engine on the held-out faces; on ties the smaller gain wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from facedub.models.refiner import Gains, Refiner
from facedub.train.losses import masked_ssim
from facedub.train.refine_loss import detail_composed

GAIN_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)
MID_GAIN = 0.0  # closed: see the module docstring


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
    fine = _best_gain(lambda gain: faces.kept(faces.refined((1.0, MID_GAIN, gain))))
    low = _best_gain(lambda gain: faces.whole(faces.refined((gain, MID_GAIN, fine))))
    return low, MID_GAIN, fine


def _best_gain(score: Callable[[float], float]) -> float:
    """The gain of GAIN_STEPS that `score` rates highest; on ties the smaller."""
    best_score, best = -1.0, 0.0
    for gain in GAIN_STEPS:
        value = score(gain)
        if value > best_score + 1e-6:
            best_score, best = value, gain
    return best
