"""Thin veils of smoke over the face: a soft matte (see facedub.composite.occlusion).

Smoke is not an object with an edge but a veil the face shows through: each pixel is a
mix of the face's skin beneath and the smoke's own colour, `(1 - alpha) * skin + alpha *
smoke`. The other cues make hard marks (the colour completion raises every pixel it grows
through to 1), so where the smoke thins out over a cheek they either keep the cheek
whole or swap the veil away. Here `alpha` is read from the pixel itself: how far it lies
from the face's skin towards the smoke's colour, once by lightness and once by chroma.
The two agree only on that line (smoke is lighter and greyer than skin at once); a lit
cheek is lighter but keeps its chroma, a shadow is darker, a torch's light turns the hue.

The smoke's colour is taken from dense smoke: far lighter and greyer than the skin, a
region lying across the face's outline (smoke drifts in from beside the face). Without
it nothing is marked, so a bare face (whose highlights are lighter and greyer too) keeps
no veil.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.occlusion_cues import eyes_and_brows
from facedub.composite.occlusion_objects import FEWEST_COLOURS, inside_loop, skin_reference
from facedub.faces.masks import face_mask
from facedub.faces.regions import mesh_regions

# Dense smoke: CIELAB lightness DENSE_LIGHTER (of 100) or more above the skin's median,
# chroma at most DENSE_CHROMA of the skin's; a region of DENSE_AREA of the crop or more
# within DENSE_BAND of the crop of the face's outline, with DENSE_SIDE of the crop of it
# beyond the head's outline (forehead included) and DENSE_INSIDE inside the face's.
# Smoke drifts in from beside the face and over it; a spotlight's blown-out highlight
# on a forehead is as light and grey but lies on the head, and a white collar under the
# jaw lies beside the face only (clip 11's stage shot: both, in 39 and 88 of its 121
# frames, without these two rules).
DENSE_LIGHTER, DENSE_CHROMA = 25.0, 0.45
DENSE_AREA, DENSE_SIDE, DENSE_INSIDE, DENSE_BAND = 0.006, 0.01, 0.0015, 0.08
# ... and a veil, not white: at most DENSE_CLIPPED of it at L* CLIPPED or more (a white
# backdrop touching the face, overexposed: still_man_angry_grimace.png, its median 100).
DENSE_CLIPPED, CLIPPED = 0.25, 97.0
# Skin whose chroma is below SKIN_CHROMA (a greyscale picture) has no chroma to lose:
# nothing is read.
SKIN_CHROMA = 8.0
# A pixel is on the line from the skin to the smoke when its chroma lies within
# LINE_WIDTH (a*, b* units) of it and its two readings of alpha (lightness, chroma)
# differ by AGREE or less; its alpha is the smaller of the two.
LINE_WIDTH, AGREE = 5.0, 0.3
# A veil is pixels of VEIL_CORE or more joined to the dense smoke, with a rim of
# VEIL_LOW or more up to VEIL_RIM of the crop around them. A lit forehead reads as 0.1
# to 0.4 (lighter and less red than the cheeks): joined through such pixels, a veil
# spread over it (clip 16, frame 0).
VEIL_CORE, VEIL_LOW, VEIL_RIM = 0.35, 0.15, 0.04


def smoke_veils(lab: np.ndarray, points: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """(R, R) float32 in [0, 1]: how much of each pixel of the face in `lab` (R, R, 3,
    CIELAB: L* 0-100, a* and b* signed) is a veil of smoke over it; zero where there is no
    dense smoke across the face's outline. `points` the landmarks in its pixels, `shown`
    (R, R) bool the pixels inside the frame."""
    size = lab.shape[0]
    none = np.zeros((size, size), np.float32)
    reference = lab[skin_reference(points, size) & shown].astype(np.float32)
    if len(reference) < 2 * FEWEST_COLOURS:
        return none
    skin = np.median(reference, axis=0)
    skin_chroma = float(np.hypot(skin[1], skin[2]))
    if skin_chroma < SKIN_CHROMA:
        return none
    light = ((lab[..., 0] >= skin[0] + DENSE_LIGHTER)
             & (np.hypot(lab[..., 1], lab[..., 2]) <= DENSE_CHROMA * skin_chroma) & shown)
    # Most faces have too little that light and grey anywhere in the crop: no more to do.
    if np.count_nonzero(light) < DENSE_AREA * size * size:
        return none
    face = (face_mask(points, size, forehead=False) > 0.5) & shown
    head = face_mask(points, size, forehead=True) > 0.5
    dense, smoke = _dense_smoke(light, face, head, lab)
    if smoke is None:
        return none
    alpha = _alpha_towards(lab, skin, smoke)
    regions = mesh_regions()
    features = eyes_and_brows(points, size, grow=1) | inside_loop(points, regions.lips_inner,
                                                                  size)
    core = ((alpha >= VEIL_CORE) | dense) & shown
    count, labels = cv2.connectedComponents(core.astype(np.uint8), connectivity=8)
    joined = np.zeros(count, bool)
    joined[np.unique(labels[dense])] = True
    joined[0] = False
    rim = max(1, round(VEIL_RIM * size))
    near = cv2.dilate(joined[labels].astype(np.uint8), np.ones((2 * rim + 1,) * 2, np.uint8))
    veil = (near > 0) & (alpha >= VEIL_LOW) & face & ~features
    return np.where(veil, alpha, 0.0).astype(np.float32)


def _dense_smoke(light: np.ndarray, face: np.ndarray, head: np.ndarray, lab: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """(R, R) bool, the dense smoke among the `light` (and grey) pixels beside the face
    (`face`, `head`: (R, R) bool, inside the face's outline, and the head's with the
    forehead), and its median colour in `lab` (None where there is none)."""
    size = lab.shape[0]
    band = max(1, round(DENSE_BAND * size))
    near = cv2.dilate(face.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8)) > 0
    candidates = near & light
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates.astype(np.uint8),
                                                               connectivity=8)
    if count <= 1:
        return candidates, None
    beyond = np.bincount(labels[~head & near], minlength=count)
    inside = np.bincount(labels[face], minlength=count)
    pixels = size * size
    keep = ((stats[:, cv2.CC_STAT_AREA] >= DENSE_AREA * pixels) & (beyond >= DENSE_SIDE * pixels)
            & (inside >= DENSE_INSIDE * pixels))
    keep[0] = False
    dense = keep[labels]
    if not dense.any():
        return dense, None
    colours = lab[dense].astype(np.float32)
    if float(np.mean(colours[:, 0] >= CLIPPED)) > DENSE_CLIPPED:
        return np.zeros_like(dense), None
    return dense, np.median(colours, axis=0)


def _alpha_towards(lab: np.ndarray, skin: np.ndarray, smoke: np.ndarray) -> np.ndarray:
    """(R, R) float32: each pixel's share of `smoke` in a mix with `skin` (CIELAB colours),
    read by lightness and by chroma; zero off the line between them or where the two
    readings disagree."""
    values = lab.astype(np.float32)
    by_lightness = (values[..., 0] - skin[0]) / max(1.0, float(smoke[0] - skin[0]))
    towards = (smoke[1:] - skin[1:]).astype(np.float32)
    length = max(1.0, float(np.hypot(*towards)))
    offset = values[..., 1:] - skin[1:]
    along = (offset @ towards) / length
    across = np.abs(offset[..., 0] * towards[1] - offset[..., 1] * towards[0]) / length
    by_chroma = along / length
    on_line = (across <= LINE_WIDTH) & (np.abs(by_lightness - by_chroma) <= AGREE)
    alpha = np.clip(np.minimum(by_lightness, by_chroma), 0.0, 1.0)
    return np.where(on_line, alpha, 0.0).astype(np.float32)
