"""A photo's brows' inner heads out of the shade its expression casts on them.

Biden's smiling portrait reads browDown 0.87-0.89: his broad smile squints, his brows sit
0.08 eye distances lower over his eyes than at rest (the two-people photo, browDown
0.64-0.69) and their inner heads lie in the squint's shade. Warped onto d18's resting
face, his pale grey brows' middles and dark inner heads (L* 30 at the inner head where
d18's own is 43) read as a frown on every frame: browDown 0.11-0.15 over d18's. Drawing
his brows higher (his brow points moved toward his eyes before the warp) hardly moved the
evaluation's reading and looked the same; the output's inner heads raised to the
lightness of its brows' middles read d18's browDown (within 0.02).

So on a photo whose browDown reads beyond any resting face's (BROW_REST), each brow's
inner head is lifted in the source crop to at least the median lightness of the same
brow's middle, only lighter, before the warp. The brows' middles and outer ends, their
hair's colour and the skin round them stay as they are. No other photo in the shared set
reads over BROW_REST (Paul Rudd's neutral studio portrait 0.60, Kit Harington 0.47-0.52,
the others 0.40 or less), and a video source's faces show its rest among them.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.landmarks import BLENDSHAPE_NAMES

# The highest browDown a resting face reads in the shared set: Biden in the two-people
# photo 0.64-0.69, Paul Rudd's studio portrait 0.60, d18 0.16-0.31.
BROW_REST = 0.7
# Each brow's inner head (upper and lower edge's two innermost points) and its middle.
_INNER_HEADS = ((107, 66, 65, 55), (336, 296, 295, 285))
_MIDDLES = ((66, 105, 52, 65), (296, 334, 282, 295))
HEAD_GROW = 0.04  # eye distances the inner head's hull is grown by (its hairs past it)
HEAD_SOFT = 0.015  # eye distances: the lift's edge softened over this


def brows_held_down(blendshapes: np.ndarray) -> bool:
    """Whether a photo's (52,) `blendshapes` read its brows further down than a face at
    rest reads them (its expression's, not its person's)."""
    down = np.mean([blendshapes[BLENDSHAPE_NAMES.index(name)]
                    for name in ("browDownLeft", "browDownRight")])
    return float(down) > BROW_REST


def inner_heads_lifted(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 RGB `crop` with each brow's inner head lightened (CIELAB L, only
    up) to at least its brow's middle's median lightness; `landmarks` (478, 2+) in crop
    pixels."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eye_distance = float(np.linalg.norm(points[263] - points[33]))
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[..., 0].copy()
    lifted = lightness.copy()
    grow = max(1, round(HEAD_GROW * eye_distance))
    for head, middle in zip(_INNER_HEADS, _MIDDLES, strict=True):
        middle_mask = _hull(crop.shape, points[list(middle)], 0) > 0.5
        if not middle_mask.any():
            continue
        level = float(np.median(lightness[middle_mask]))
        weight = cv2.GaussianBlur(_hull(crop.shape, points[list(head)], grow), (0, 0),
                                  max(0.5, HEAD_SOFT * eye_distance))
        lifted += weight * np.maximum(level - lifted, 0.0)
    lab[..., 0] = lifted
    moved = cv2.cvtColor(np.clip(np.rint(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    # Elsewhere the crop's own pixels (a round trip through 8-bit CIELAB moves them).
    return np.where((lifted > lightness)[..., None], moved, crop)


def _hull(shape: tuple[int, ...], points: np.ndarray, grow: int) -> np.ndarray:
    drawn = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(drawn, cv2.convexHull(np.rint(points).astype(np.int32)), 255)
    grown = drawn if not grow else cv2.dilate(
        drawn, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return np.asarray(grown, dtype=np.float32) / 255.0
