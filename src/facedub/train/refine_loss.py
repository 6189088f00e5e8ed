"""The refiner's loss on what the compositor keeps of its face.

The compositor's default colour method (`--color detail`, composite/tone.py) keeps only
the swapped face's high-pass: the result is the target's masked low-pass (Gaussian,
sigma = the crop's side / 16) plus the face's own detail above it. Whatever the refiner
does below that band (re-lighting and re-toning toward the source) is thrown away, so a
loss on the whole face spends the small network on work that never reaches the output
(BENCHMARKS.md, Refiner). `detail_composed` builds what the compositor would make of a
refined face over the true one, and the loss compares that with the truth.

Measured, this loss (RefineConfig.detail_loss) and the energy term swapped worse than the
plain loss on the whole face: trained on the band it keeps, the refiner blurred that
band more. Both stay as options; `refine` uses the plain loss, and the held-out log
reports the kept band of every refiner (`detail_composed`).
"""

from __future__ import annotations

import torch

from facedub.train.losses import LossWeights, _gaussian_blur, reconstruction_loss

LOW_PASS_DIVISOR = 16.0  # as composite/compositor.py's DETAIL_SIGMA_DIVISOR
MASK_FLOOR = 0.05  # the compositor's low-pass is taken where its mask exceeds this


def masked_low_pass(x: torch.Tensor, inside: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of (N, C, H, W) `x` over the pixels where `inside` (N, 1, H, W) is 1,
    normalised by the blurred mask (so the face's low-pass is not darkened by its
    surroundings near the mask edge)."""
    size = 2 * round(3.0 * sigma) + 1
    stacked = _gaussian_blur(torch.cat([x.float() * inside, inside], dim=1), size, sigma)
    return stacked[:, :-1] / stacked[:, -1:].clamp_min(1e-4)


def detail_composed(face: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor
                    ) -> torch.Tensor:
    """(N, 3, R, R): the truth's low-pass plus `face`'s high-pass inside the face mask
    (the compositor's `--color detail`, without its limits on the detail), `face` itself
    outside it."""
    inside = (mask > MASK_FLOOR).float()
    sigma = face.shape[-1] / LOW_PASS_DIVISOR
    low = masked_low_pass(torch.cat([face, truth], dim=1), inside, sigma)
    composed = face.float() - low[:, :3] + low[:, 3:]
    return inside * composed + (1.0 - inside) * face.float()


def refine_loss(refined: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor,
                eyes_mouth: torch.Tensor, weights: LossWeights, whole: float,
                energy: float = 0.0) -> torch.Tensor:
    """DSSIM + L1 of the detail the compositor keeps, plus `whole` times the same loss on
    the refined face as it is (which keeps its low-pass near the truth for `--color none`
    and the other colour methods); a negative `whole`: the whole face's loss alone. Plus
    `energy` times `energy_loss`."""
    if whole < 0:
        loss = reconstruction_loss(refined, truth, mask, eyes_mouth, weights)
    else:
        loss = reconstruction_loss(detail_composed(refined, truth, mask), truth, mask,
                                   eyes_mouth, weights)
        if whole > 0:
            loss = loss + whole * reconstruction_loss(refined, truth, mask, eyes_mouth,
                                                      weights)
    if energy > 0:
        loss = loss + energy * energy_loss(refined, truth, mask)
    return loss


def detail_energy(x: torch.Tensor, sigma: float = 1.0, window: float = 3.0) -> torch.Tensor:
    """(N, 1, H, W): local RMS of `x`'s fine detail (what a Gaussian of `sigma` pixels
    removes), averaged over a Gaussian window of `window` pixels and the channels."""
    fine = x.float() - _gaussian_blur(x.float(), 2 * round(3.0 * sigma) + 1, sigma)
    power = _gaussian_blur(fine * fine, 2 * round(3.0 * window) + 1, window)
    return power.mean(dim=1, keepdim=True).clamp_min(1e-8).sqrt()


def energy_loss(refined: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor
                ) -> torch.Tensor:
    """Mean |local detail energy of the refined face - the truth's| inside the mask: a
    blurred face costs as much as a wrong one. DSSIM and L1 alone reward blur wherever
    the fine detail's position is uncertain (a rendering from another frame), and the
    refiner then smoothed the face (BENCHMARKS.md, Refiner)."""
    weights = (mask > MASK_FLOOR).float()
    difference = (detail_energy(refined) - detail_energy(truth)).abs()
    return (difference * weights).sum() / weights.sum().clamp_min(1.0)
