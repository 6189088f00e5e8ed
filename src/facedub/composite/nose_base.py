"""Whether the face's nose underside is one flat painted shadow (the gate of
`carry_detail`'s `nose_base` lift).

A photo lit from above has the nose's underside in shadow. Where the source's nostrils
show inside that shadow (Rowan Atkinson's photo, the webcam streamer's clip), the shadow
and the nostrils are part of who the face reads as: lifted to the target's depth there,
the webcam source's likeness fell past the job ids' spread (blink-video's mean margin
-0.087 -> -0.067) and border-photo's smile with it (BENCHMARKS.md, forty-first round).
Biden's broad smile instead has one dark band under the tip with no nostril darker than
it (his nostrils' places are lit, the band below them is the shadow): at 1x a dark,
sharp-edged wedge under d18's nose (expr-smile-teeth). Only such a band is lifted.

The reading: the darker of the two nostrils (the 10th percentile of the face's L in a
small disk round each nostril's landmarks) minus the band (the 25th percentile of L in
the underside zone, `SkinWeights.nose_base` over a half). Positive: the nostrils are
lighter than the shadow below them, a painted band. On the 22 benchmark pairs' engine
faces, every frame of 40: Biden's photo +5.5 to +13.6 (on d18 and on Obama), every
other source at most +1.2 (Paul Rudd's photo with a microphone or hand before it; his
studio light leaves no shadow), Atkinson's photo -8.2 to -6.7, the streamer's -20 to -1
(BENCHMARKS.md, forty-second round): the gate, FLAT_BAND_MIN, is in the gap's middle.
"""

from __future__ import annotations

import cv2
import numpy as np

# Each nostril's landmarks (MediaPipe's face mesh: the nostril's opening, its rim by the
# tip and by the wing), left and right; their mean is the disk's centre.
NOSTRILS = ((79, 166, 219), (309, 392, 439))
# The disk's radius as a share of the crop: 5 px at 416, inside the nostril's opening
# on every pair's target (a larger disk, a sixtieth, reached Biden's band under the wing
# and took his gap from +5.5 to +1).
NOSTRIL_RADIUS = 1.0 / 80.0
# The nostrils this much lighter than the band (L units) and more: a flat painted band.
FLAT_BAND_MIN = 3.0
# The face's L is smoothed this much (pixels at the crop) before it is read: the
# percentiles read shapes, not single grain pixels.
READ_BLUR = 1.0


def flat_band_reading(face_lightness: np.ndarray, face_landmarks: np.ndarray,
                      nose_base: np.ndarray) -> float:
    """The darker nostril's L minus the nose underside's band (L units; positive: the
    nostrils lighter than the shadow under them, see the module's docstring).

    `face_lightness` (S, S) float32: the face's CIELAB L (0-100) in the target's crop;
    `face_landmarks` (478, 2+) in crop pixels; `nose_base` (S, S) in [0, 1]: the
    underside zone (`SkinWeights.nose_base`). Read on the box round the nose only."""
    size = face_lightness.shape[0]
    radius = size * NOSTRIL_RADIUS
    points = np.asarray(face_landmarks)[:, :2]
    centres = [points[list(ids)].mean(axis=0) for ids in NOSTRILS]
    zone = nose_base > 0.5
    rows, columns = np.nonzero(zone)
    if rows.size == 0:
        return float("-inf")  # no underside in the crop: nothing to lift
    reach = int(np.ceil(radius + 3 * READ_BLUR))
    xs = [c[0] for c in centres] + [columns.min(), columns.max()]
    ys = [c[1] for c in centres] + [rows.min(), rows.max()]
    x0, x1 = max(0, int(min(xs)) - reach), min(size, int(max(xs)) + reach + 1)
    y0, y1 = max(0, int(min(ys)) - reach), min(size, int(max(ys)) + reach + 1)
    lightness = cv2.GaussianBlur(np.ascontiguousarray(face_lightness[y0:y1, x0:x1]),
                                 (0, 0), READ_BLUR)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    nostrils = []
    for centre in centres:
        disk = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius ** 2
        if not disk.any():
            return float("-inf")  # a nostril outside the crop (a far head turn)
        nostrils.append(float(np.percentile(lightness[disk], 10)))
    band = float(np.percentile(lightness[zone[y0:y1, x0:x1]], 25))
    return min(nostrils) - band


def flat_band(face_lightness: np.ndarray, face_landmarks: np.ndarray,
              nose_base: np.ndarray) -> bool:
    """Whether the face's nose underside is a flat painted band (`flat_band_reading` at
    least FLAT_BAND_MIN): only then is it held to the target's depth."""
    return flat_band_reading(face_lightness, face_landmarks, nose_base) >= FLAT_BAND_MIN
