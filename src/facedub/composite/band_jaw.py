"""A turned face's blend band thinner along its lower rim: the jaw line and the chin.

On a turned face the frontal feather (erode 5, blur 15 at 256 px) leaves the target's jaw
line and chin 0.3-0.8 of the blend: those pixels held the turned smoker's identity as the
target's (the jaw ring and chin moved frames 13-31's margin by -0.031 / -0.029, the thin
band, erode 0 and blur 6, flipped 6 of the 10 missed 15-30 degree frames; BENCHMARKS.md,
thirty-seventh round). Only below the mouth, on the far half: the far cheek's outline keeps
the reach's own feather (`blend.reach_parts`), the forehead, the near cheek and the near
half's jaw the frontal one.
"""

from __future__ import annotations

import numpy as np

from facedub.composite.blend import CHIN, MOUTH_CORNERS, ROWS_FADE, turn_share
from facedub.faces.masks import face_mask
from facedub.faces.regions import MIDLINE, TEMPLES

# At a whole turn share the lower rim's band is erode * (1 - 1) and blur * JAW_BLUR:
# the thirty-seventh round's thin band (erode 0, blur 6 of 15 at 256 px).
JAW_BLUR = 0.4


def jaw_rows(points: np.ndarray, size: int) -> np.ndarray:
    """(size,) float32: 1 from the mouth's corners' row down, fading to 0 above it over
    twice ROWS_FADE of the mouth-to-chin height (the far cheek's reach fades out there,
    `blend.far_weights`). `points` (478, 2+) crop pixels."""
    bottom = float(points[list(MOUTH_CORNERS), 1].mean())
    chin = float(points[CHIN, 1])
    fade = max(ROWS_FADE * 2.0 * (chin - bottom), 1.0)
    rows = np.arange(size, dtype=np.float32)
    return np.clip((rows - bottom) / fade + 1.0, 0.0, 1.0).astype(np.float32)


def far_columns(points: np.ndarray, size: int, side: int) -> np.ndarray:
    """(size,) float32: 1 on the far side (`side`, `blend.turn_share`'s) from an eighth of
    the face's width past the midline outwards, 0 from an eighth on the near side, a ramp
    between (the chin at the middle takes half). The near half's jaw on the thin band cost
    the smoker's 30-45 degree frames and seams; the far half's alone kept its 15-30 degree
    gain at main's seam (BENCHMARKS.md, thirty-eighth round)."""
    middle = float(points[MIDLINE, 0])
    quarter = max(abs(float(points[TEMPLES[1], 0]) - float(points[TEMPLES[0], 0])) / 4.0, 1.0)
    columns = np.arange(size, dtype=np.float32)
    return np.clip((columns - middle) * side / quarter + 0.5, 0.0, 1.0).astype(np.float32)


def jaw_band(near: np.ndarray, reached: np.ndarray, face_landmarks: np.ndarray, size: int,
             forehead: bool, erode: int, blur: int) -> np.ndarray:
    """(S, S) float32: `reach_parts`' `reached` with, on a turned face (`blend.turn_share`
    over 0), the rows from the mouth down (`jaw_rows`) on the far side (`far_columns`)
    moved toward the thin band's mask
    (erode * (1 - share), blur * (1 - (1 - JAW_BLUR) * share)) by the turn share, from
    the frontal mask `near`: the thinner mask holds the frontal one inside it (less
    eroded, a narrower feather kept inside the hard edge), so the band only grows
    outwards, and what it adds over `near` is the rim `blend.rim_weights` finds (toned
    like the target's there by the compositor). A face under FRONTAL (share 0) keeps
    `reached` as it is (the same array)."""
    share, side = turn_share(face_landmarks)
    if share <= 0.0 or blur <= 0:
        return reached
    thin_erode = round(erode * (1.0 - share))
    thin_blur = max(1, round(blur * (1.0 - (1.0 - JAW_BLUR) * share)))
    if thin_erode == erode and thin_blur == blur:
        return reached
    points = np.asarray(face_landmarks)[:, :2]
    rows = jaw_rows(points, size)
    lower = np.flatnonzero(rows)
    if not lower.size:
        return reached
    thin = face_mask(face_landmarks, size, forehead=forehead, erode=thin_erode, blur=thin_blur)
    band = slice(int(lower[0]), size)
    # The thin mask is never under the frontal one: the step is the band's outer growth.
    thinned = near[band] + (rows[band, None] * far_columns(points, size, side)[None, :]
                            * np.maximum(thin[band] - near[band], 0.0))
    grown = reached.copy()
    np.maximum(grown[band], thinned, out=grown[band])
    return grown
