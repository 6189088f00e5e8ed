"""The kept target eye's feathered rim drawn over one lid, not two.

Where the target's own eyes are kept (`mesh_eyes.kept_eyes`), the compositor shows the
target's eye, its lash line and a margin of its lid, and feathers it into the source's face
over a few pixels of lid. A source lid line that falls under that feather (a lid crease,
the shade of a deep-set socket, a lower lash line) is then drawn at part strength beside
the target's lid, which has none there: a second lid line. Angelina Jolie's crease on d9
(threequarter-glasses) lay where the rim falls from 0.4 to 0.1, 8-11 L darker than his
lid there, higher up on his blinks, where the margin grows (BENCHMARKS.md, fifty-third and
fifty-fourth rounds). So under the rim the source's face is made no darker than the
target's own lid there, toned by the source's lid: the median lightness difference of the
two over that eye's rim. A line the target has there too stays (its lid is as dark); only
what the target lacks is lifted, and only as far as the target's eye is kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_eyes import EYES

# The lift is whole where the kept eye's feathered share is between RIM_FULL and
# 1 - RIM_FULL, ramped to 0 at either end (inside the opening the target's eye is all
# there is; past the rim's end the source's lid is shown as it is).
RIM_FULL = 0.03
# The share's range whose pixels give each eye's lightness difference between the
# source's lid and the target's (its skin, not the opening nor the face beyond).
OFFSET_SHARES = (0.05, 0.95)
MIN_OFFSET_PIXELS = 20
# L units the source may stay darker than the toned target lid before it is lifted: the
# two lids' own skin texture.
TOLERANCE = 2.0


def rim_weight(eyes: np.ndarray, share: float) -> np.ndarray:
    """(h, w) float32: how far the source's lid is lifted, from `eyes` (h, w), the kept
    eyes' mask times their `share` (`mesh.MeshEngine._kept`): `share` where the feathered
    mask is between RIM_FULL and 1 - RIM_FULL, ramped to 0 at 0 and at 1."""
    raw = eyes / np.float32(max(share, 1e-6))
    ramp = np.clip(np.minimum(raw, 1.0 - raw) / np.float32(RIM_FULL), 0.0, 1.0)
    weight: np.ndarray = (ramp * np.float32(share)).astype(np.float32)
    return weight


def _nearer_eye(landmarks: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """(h, w) int: per pixel of `box`, which eye of `landmarks` (478, 2+; `EYES` order) its
    opening's centre is nearer."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centres = np.array([points[eye.contour].mean(axis=0) for eye in EYES])
    ys, xs = np.mgrid[box[0], box[1]].astype(np.float64)
    distances = [np.hypot(xs - cx, ys - cy) for cx, cy in centres]
    nearer: np.ndarray = (distances[1] < distances[0]).astype(np.int64)
    return nearer


def _lightness(pixels: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def rim_lines_lifted(image: np.ndarray, reshaped: np.ndarray, eyes: np.ndarray, share: float,
                     landmarks: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """`image` (S, S, 3) uint8, the engine's face, with the source's lid lines under the
    kept eyes' rim lifted (the module's docstring): no darker than `reshaped` (the target
    moved with the face shape, (h, w, 3) over `box`, which holds every pixel where `eyes`
    is above 0.01) plus that eye's median lightness difference, less TOLERANCE, by
    `rim_weight`. `eyes` (S, S): the kept eyes' mask times `share`; `landmarks` (478, 2+):
    the moved landmarks the face was drawn on. Returns a new array where anything is
    lifted, else `image` itself."""
    if share <= 0.0 or box[0].stop <= box[0].start or box[1].stop <= box[1].start:
        return image
    weight = rim_weight(eyes[box], share)
    if not weight.any():
        return image
    face = _lightness(image[box])
    target = _lightness(reshaped)[..., 0]
    difference = face[..., 0] - target
    raw = eyes[box] / np.float32(share)
    skin = (raw > OFFSET_SHARES[0]) & (raw < OFFSET_SHARES[1])
    nearer = _nearer_eye(landmarks, box)
    lift = np.zeros(weight.shape, dtype=np.float32)
    for eye in range(len(EYES)):
        zone = skin & (nearer == eye)
        if int(zone.sum()) < MIN_OFFSET_PIXELS:
            continue
        floor = target + np.float32(np.median(difference[zone]) - TOLERANCE)
        side = nearer == eye
        lift[side] = np.clip(floor - face[..., 0], 0.0, None)[side]
    lift *= weight
    if not (lift > 0.5).any():
        return image
    face[..., 0] += lift
    lifted = np.clip(cv2.cvtColor(face, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0.0, 255.0)
    result = image.copy()
    # Only where it moved: the round trip through Lab is not exact.
    result[box] = np.where((lift > 0.0)[..., None], lifted.astype(np.uint8), image[box])
    return result
