"""The band of the target's lips round the kept mouth opening, in the source's lip colour.

The mesh engine pastes the target's own pixels wherever the blended source faces' mouth
interior was warped (`mesh_mouth.keep_target_interior`, grown twice), and lays the target
(reshaped) there uncoloured: beyond the target's own opening that is a band of the
target's lips, about a third of them, even on closed mouths. On a lipstick target it read
as her red lipstick inside the source's paler lips, and it held the face to the target
(older-glasses, BENCHMARKS.md fourteenth round). Without it, though, the landmarker lost
the lips' parting (a smile read far less). So the band keeps the target's lightness
structure (its dark inner lip line, the parting) and takes the source's lip colour: its
a/b moved by how the source's lips differ from the source's cheeks, laid on the target's
cheeks in the same frame (the compositor colours the source's lips beside the band by the
faces' skin, while the band is pasted uncoloured), and its lightness moved a little
toward them. Only where the target's pixels there look like lips (not its teeth or the
cavity, which are far greyer or darker), and never in the target's true opening.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions

CHEEKS = (50, 280, 205, 425)  # mesh landmarks on the mid-cheeks, away from the lips
CHEEK_PATCH = 0.03  # half-side of each cheek square, in crop widths
MIN_PIXELS = 30  # fewer lip or cheek pixels than this: no colour measured
LIGHTNESS_SHARE = 0.5  # share of the lips' lightness difference applied (L 0..100) ...
LIGHTNESS_MOST = 8.0  # ... at most this much either way
# Lip-likeness of a target pixel from its chroma against the target lips' median (teeth
# are greyer) and its lightness against theirs (the cavity is darker).
CHROMA_RAMP = (0.35, 0.7)
DARKER_RAMP = (30.0, 15.0)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) float32 Lab (L 0..100) of RGB in 0..255 (any dtype)."""
    pixels = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 255.0) / np.float32(255.0)
    return np.asarray(cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB)
                      ).reshape(pixels.shape)


def _rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) float32 RGB in 0..255 of Lab (L 0..100)."""
    rgb = cv2.cvtColor(np.asarray(lab, dtype=np.float32).reshape(-1, 1, 3), cv2.COLOR_LAB2RGB)
    return (np.clip(rgb, 0.0, 1.0) * np.float32(255.0)).reshape(lab.shape)


def lips_median(image: np.ndarray, face_landmarks: np.ndarray, exclude: np.ndarray | None = None
                ) -> np.ndarray | None:
    """(3,) median Lab of the lips (the outer lip loop less the inner one, and less
    `exclude` (S, S) above 0.05) of `image` (S, S, 3) RGB with `face_landmarks` (478, 2+) in
    its pixels; None where under MIN_PIXELS of them are left."""
    size = image.shape[0]
    regions = mesh_regions()
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    lips = ((polygon_mask(points[regions.lips_outer], size) > 0.5)
            & ~(polygon_mask(points[regions.lips_inner], size) > 0.5))
    if exclude is not None:
        lips &= exclude <= 0.05
    if np.count_nonzero(lips) < MIN_PIXELS:
        return None
    return np.asarray(np.median(_lab(image[lips]), axis=0), dtype=np.float32)


def cheeks_median(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray | None:
    """(3,) median Lab of squares round the CHEEKS landmarks of `image` (S, S, 3) RGB; None
    where under MIN_PIXELS of them lie in the crop."""
    size = image.shape[0]
    half = max(2, round(CHEEK_PATCH * size))
    patches = []
    for index in CHEEKS:
        x, y = np.round(np.asarray(face_landmarks[index][:2], dtype=np.float64)).astype(int)
        patch = image[max(0, y - half):max(0, y + half + 1), max(0, x - half):max(0, x + half + 1)]
        patches.append(np.asarray(patch, dtype=np.float32).reshape(-1, 3))
    pixels = np.concatenate(patches)
    if len(pixels) < MIN_PIXELS:
        return None
    return np.asarray(np.median(_lab(pixels), axis=0), dtype=np.float32)


def lip_colour_shift(source_lips: np.ndarray, source_cheeks: np.ndarray,
                     target_lips: np.ndarray, target_cheeks: np.ndarray) -> np.ndarray:
    """(3,) Lab shift for the target's lips: to the source's lips against its cheeks, laid
    on the target's cheeks, in a/b; in L LIGHTNESS_SHARE of it, at most LIGHTNESS_MOST."""
    wanted = target_cheeks + (source_lips - source_cheeks)
    shift = (wanted - target_lips).astype(np.float32)
    shift[0] = np.clip(LIGHTNESS_SHARE * shift[0], -LIGHTNESS_MOST, LIGHTNESS_MOST)
    return shift


def with_lip_colour(target: np.ndarray, band: np.ndarray, shift: np.ndarray,
                    target_lips: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 RGB: `target` (H, W, 3) RGB 0..255 moved by `shift` (3,) in Lab
    by `band` (H, W) in [0, 1] times how much each pixel looks like the target's lips
    (`target_lips`, their median Lab): its teeth and its mouth's cavity stay."""
    lab = _lab(target)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    lip_chroma = max(float(np.hypot(target_lips[1], target_lips[2])), 1e-3)
    low, high = CHROMA_RAMP
    coloured = np.clip((chroma / lip_chroma - low) / (high - low), 0.0, 1.0)
    darkest, dark = DARKER_RAMP
    lit = np.clip((lab[..., 0] - (target_lips[0] - darkest)) / (darkest - dark), 0.0, 1.0)
    weight = (band * coloured * lit)[..., None]
    return np.asarray(_rgb(lab + weight * shift), dtype=np.float32)
