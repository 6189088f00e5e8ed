"""The target's light as it changes: a torch sweeping over the face.

The compositor's tone (`tone.carry_detail`) takes the target's light only coarser than
its split (a 16th of the crop) and the source's detail finer, so a moving light's finer
marks (the nose's cast shadow across the cheek, the lit nose tip, the lit / dark split
down the chin) were the source's flat photo light: self-photo's face SSIM 0.95-0.96 with
the torch off, 0.88-0.90 with it on (BENCHMARKS.md, fifty-first round). At that band the
target's own features (its nose's and cheeks' relief under its usual light, its folds)
are who it is and must not come in; what changes from frame to frame where the coarse
light changes is the light's. So, per track, the target's band and coarse light are
kept as a slow reference, and where the coarse light has moved far from it the band's
change from its reference is added to the face's: the torch's marks on the source's own
relief. Where the light is steady (every pair but the torch's) nothing is added.

Everything here is at the tone's half size, CIELAB L units.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.color import blur_factor

BAND_DIVISOR = 4.0  # the band between the tone's sigma / this and its sigma (tone.FINE_DIVISOR)
# L units the coarse light may move from the track's reference unnoticed, and at how many
# the band's whole change is the light's: on self-photo's torch frames (easing 0.1) 3 .. 8
# took the face SSIM 0.897 -> 0.918, 6 .. 12 to 0.911; on lighting's first 140 frames
# (Obama turning to his left, 29-58) 3 .. 8 moved 30 frames by at most 4 levels.
CHANGE_FROM = 3.0
CHANGE_FULL = 8.0
# The reference's share of a steady frame, and of a changed one (so a light that stays on
# becomes the reference in about a hundred frames): 0.1 let the torch's 13-18 lit frames
# into it (SSIM 0.918 against 0.920 at 0.03).
EASING = 0.03
EASING_FLOOR = 0.01


@dataclass(frozen=True)
class LightReference:
    """A track's target light at the tone's half size: its band between sigma /
    BAND_DIVISOR and sigma (`band`) and its low-pass at sigma (`low`), (s, s) L units."""

    band: np.ndarray
    low: np.ndarray


@dataclass(frozen=True)
class LightChange:
    """`lightness` (s, s) L units to add to the target's base (0 where the light is
    steady; None: nowhere), and the track's reference after this frame."""

    lightness: np.ndarray | None
    reference: LightReference


def light_change(target_lightness: np.ndarray, mask: np.ndarray, weight: np.ndarray,
                 sigma: float, reference: LightReference | None) -> LightChange:
    """The target's band change where its coarse light moved from the track's
    `reference` (`CHANGE_FROM` .. `CHANGE_FULL` L), times `weight` (s, s: the bare skin
    shown), and the reference eased toward this frame where its light did not move.
    `target_lightness` (s, s) L, `mask` (s, s) where the face is measured, `sigma` the
    tone's low-pass at this size; `reference` None: the track's first frame (its own)."""
    low = _masked_plane_blur(target_lightness, mask, sigma)
    band = _masked_plane_blur(target_lightness, mask, sigma / BAND_DIVISOR) - low
    if reference is None or reference.low.shape != low.shape:
        return LightChange(None, LightReference(band, low))
    moved = np.clip((np.abs(low - reference.low) - CHANGE_FROM) / (CHANGE_FULL - CHANGE_FROM),
                    0.0, 1.0).astype(np.float32)
    easing = EASING_FLOOR + (EASING - EASING_FLOOR) * (1.0 - moved)
    eased = LightReference(reference.band + easing * (band - reference.band),
                           reference.low + easing * (low - reference.low))
    share = moved * weight
    if not share.any():
        return LightChange(None, eased)
    return LightChange((share * (band - reference.band)).astype(np.float32), eased)


def _masked_plane_blur(plane: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """`color.masked_blur` of one (s, s) plane: its Gaussian average over `mask` only,
    computed at the reduced size `blur_factor` gives."""
    size = plane.shape[0]
    small = max(8, size // blur_factor(sigma))
    weighted: np.ndarray = (plane * mask).astype(np.float32)
    weights: np.ndarray = mask.astype(np.float32)
    if small != size:
        weighted = cv2.resize(weighted, (small, small), interpolation=cv2.INTER_AREA)
        weights = cv2.resize(weights, (small, small), interpolation=cv2.INTER_AREA)
    small_sigma = sigma * small / size
    blurred: np.ndarray = (cv2.GaussianBlur(weighted, (0, 0), small_sigma)
                           / (cv2.GaussianBlur(weights, (0, 0), small_sigma) + 1e-6))
    if small != size:
        blurred = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
    return blurred
