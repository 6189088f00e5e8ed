"""The mirrored side's texture at the face's own brightness.

Where a source turns a triangle away, the mesh engine fills it from its mirror image on
the other side of the face (`MeshEngine._add_source`). That image carries the light of
the place it was taken from: a turned head's near cheek falls into shade at its outer
edge (the turn, the hair beside it), and mirrored, that shade lands inside the far cheek
of a frontal target, which its own light shows bright (hair-forehead: a grey band from
the temple to the jaw, L 30-50 between a far cheek at 80-87; BENCHMARKS.md, fifteenth
round). The mirror is there for the source's skin and detail, not for that shade: its
broad lightness is lifted to what the source's own visible texture shows nearby, never
lowered (lowered too, the far side came out greyer than the frame's light: thirteenth
round).
"""

from __future__ import annotations

import cv2
import numpy as np

# Of the crop: the mirrored shade's own shape (a band a sixteenth of the crop wide; pores
# and stubble are finer) against the source's face around it (wide enough to reach over
# that band to the skin the source shows directly on either side).
MIRROR_SHADE_SIGMA = 1.0 / 64.0
DIRECT_LEVEL_SIGMA = 1.0 / 16.0
MIRROR_MAX_GAIN = 2.0  # a mirrored pixel at most this much brighter (near-black hair stays)
MIN_TRUST = 1e-3  # summed trust below which a level is not known
LEVEL_SIGMA_PIXELS = 4.0  # the levels are blurred at a size where their sigma is this


def levelled_mirror(mirrored: np.ndarray, mirror_trust: np.ndarray, direct: np.ndarray,
                    direct_trust: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) float32: `mirrored` (H, W, 3) float32 RGB 0..255, a box of the mirrored
    texture warped onto the target crop (of side `size` px), brightened where its broad
    lightness is below the directly warped texture's around it. `direct` (H, W, 3) the
    same box of the direct texture, `mirror_trust` and `direct_trust` (H, W) float32 how
    far each is trusted per pixel (visibility times clean weight): each level is the
    weighted mean (the mirror's at MIRROR_SHADE_SIGMA by its trust, the direct texture's
    at DIRECT_LEVEL_SIGMA by its trust squared), so hair and turned-away slivers in the
    direct texture count little and the skin the source shows well nearby sets the
    level (by the trust alone, the stretched curls at Kit's far silhouette, which pass
    as clean, held it 10-15 grey levels lower).
    The gain is one where either level is unknown, and at most MIRROR_MAX_GAIN."""
    mirror_level = _weighted_level(mirrored, mirror_trust, max(1.0, size * MIRROR_SHADE_SIGMA))
    direct_level = _weighted_level(direct, direct_trust**2, max(1.0, size * DIRECT_LEVEL_SIGMA))
    known = (mirror_level > 0.0) & (direct_level > 0.0)
    gain = np.ones(mirrored.shape[:2], dtype=np.float32)
    gain[known] = np.clip(direct_level[known] / np.maximum(mirror_level[known], 1.0),
                          1.0, MIRROR_MAX_GAIN)
    levelled: np.ndarray = np.minimum(mirrored * gain[..., None], 255.0).astype(np.float32)
    return levelled


def _weighted_level(texture: np.ndarray, trust: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32: the trust-weighted Gaussian mean of the texture's brightness (its
    luma), 0 where the blurred trust is below MIN_TRUST. Blurred at a size where sigma is
    LEVEL_SIGMA_PIXELS pixels: a level carries no detail (at full size the wide blur
    took 13 ms, as did NumPy's mean over the channels, on the loaded machine)."""
    height, width = trust.shape
    shrink = max(1.0, sigma / LEVEL_SIGMA_PIXELS)
    small = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    brightness = cv2.cvtColor(np.ascontiguousarray(texture, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    weights = trust.astype(np.float32)
    sums = [cv2.GaussianBlur(cv2.resize(plane, small, interpolation=cv2.INTER_AREA), (0, 0),
                             sigma / shrink) for plane in (brightness * weights, weights)]
    total, mass = (cv2.resize(plane, (width, height), interpolation=cv2.INTER_LINEAR)
                   for plane in sums)
    level = np.zeros_like(total)
    np.divide(total, mass, out=level, where=mass > MIN_TRUST)
    return level
