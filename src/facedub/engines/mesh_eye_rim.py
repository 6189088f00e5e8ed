"""The kept target eye's feathered rim drawn over one lid, not two.

Where the target's own eyes are kept (`mesh_eyes.kept_eyes`), the compositor shows the
target's eye, its lash line and a margin of its lid, and feathers it into the source's face
over a few pixels of lid. A source lid line that falls under that feather (a lid crease,
the shade of a deep-set socket) was drawn at part strength beside the target's lid, which
has none there: a second lid line. Angelina Jolie's crease on d9 (threequarter-glasses) lay
where the rim falls from 0.4 to 0.1, 8-11 L darker than his lid there, higher up on his
blinks, where the margin grows (BENCHMARKS.md, fifty-third and fifty-fourth rounds).

So each such line is drawn once. Where the target's eye is open, the source's: the kept
share is taken off it in the rim's outer part (not nearer the opening, where the source's
lashes lie), and the crease shows whole at the source's own place above the target's lash
line (Jolie's crease is much of her likeness: lifted away on open eyes, threequarter-glasses
lost 5 of 23 frames nearer the source; shown whole it gained 12). Where the target's eye
closes, the target's: a closing lid unfolds its crease, and the source's open-eyed crease
stood over d9's closed lids as a drawn arc; there the source's face under the rim is made
no darker than the target's own lid, toned by the source's (the median lightness
difference of the two over that eye's rim). A line the target has there too is neither:
only where the source is darker than the toned target lid.

Over the upper lids only, and on past their outer corners, where a crease and its lid
shadow run on beyond the lash line's end (Jolie's wing: that, not her lower lid, was what
the whole rim gained); under the lower lid the source's lines were a second lower lid
line beside the target's (d3's under-eye shade past Katie Hill's pale lower lid).

Only where the target's eyes are kept because the source's squint at rest
(`mesh_eyes.narrower_at_rest`), the case this was built for: kept for a blink or a wink
(border-photo's winking target), her open eye's rim toned or shown drew a pale arc down
her nose side and cost frames nearer the source; each eye is judged by its own lids.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_eyes import EYES, lid_gaps, looking_down_open

# The share's range whose pixels give each eye's lightness difference between the
# source's lid and the target's (its skin, not the opening nor the face beyond).
OFFSET_SHARES = (0.05, 0.95)
MIN_OFFSET_PIXELS = 20
# L units the source may stay darker than the toned target lid: the lids' own texture.
TOLERANCE = 2.0
# An open eye: the source's line shown whole from LINE_FULL L darker than the toned
# target lid, in the rim's outer part, where the kept share is under SHOWN_BELOW[0]
# (ramped to none from SHOWN_BELOW[1]: nearer the opening lie the source's lashes, and
# shown they were a second lash line).
LINE_FULL = 6.0
SHOWN_BELOW = (0.6, 0.8)
LINE_SOFTEN = 1.0  # the shown line's edge blurred over this many pixels (sigma)
# A closing eye, from its own lid gap (`mesh_eyes.lid_gaps`, in iris diameters): lifted
# from CLOSING[0], wholly from CLOSING[1] (an open eye 0.5-0.7, a closed one under 0.2),
# each eye apart, and not as far as the target looks down with both eyes open
# (`mesh_eyes.looking_down_open`: lowered lids are not closing; Katie Hill's on readme-photo,
# toned, cost a frame). The lift is whole where the kept share is between LIFT_FULL and
# 1 - LIFT_FULL (inside the opening the target's eye is all there is; past the rim's end the
# source's lid is shown as it is).
CLOSING = (0.35, 0.2)
LIFT_FULL = 0.03
# Both only over the upper lid: from the opening's upper edge UPPER_REACH eye widths up,
# between its corners and on past the outer one by OUTER_REACH eye widths (the rim's end
# there), its edge softened over UPPER_SOFTEN px (sigma). Round the whole rim, the
# source's lower lid lines (a squinting smile's, under the target's open eyes) were shown
# whole too: doubled edges up on expr-smile-teeth (0.0040 -> 0.0064), photo-to-mouth and
# headturn-woman (d3's under-eye shade shown past Katie Hill's pale lower lid, a second
# lower lid line). Jolie's lower lid under d9's rim is no darker than his but by 1-4 L next
# to the near eye's opening: what the whole rim gained on threequarter-glasses (at its own
# id, 30 of 40 frames nearer the source over the upper lids alone, 27 with the lower lids,
# 35 round the whole rim) was past her outer corners, above the corner line, where her
# crease and lid shadow run on as a wing beyond the lash line's end (35 with them;
# BENCHMARKS.md, fifty-fifth round).
UPPER_REACH = 0.8
OUTER_REACH = 0.5
UPPER_SOFTEN = 1.5


def eyes_closing(blendshapes: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(2,) in `EYES` order: how closed each eye of the target (its (52,) `blendshapes`, its
    (478, 2+) `landmarks`) is, 0 open .. 1 closed (CLOSING)."""
    gaps = lid_gaps(landmarks)
    closed: np.ndarray = np.clip((CLOSING[0] - gaps) / (CLOSING[0] - CLOSING[1]), 0.0, 1.0)
    return closed * (1.0 - looking_down_open(blendshapes, landmarks))


def _upper_lids(landmarks: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """(2, h, w) float32 over `box`: per eye of `landmarks` (478, 2+; `EYES` order), the band
    from its opening's upper edge UPPER_REACH eye widths up, between its corners and
    OUTER_REACH eye widths on past its outer one (the corner farther from the other eye)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    origin = np.array([box[1].start, box[0].start], dtype=np.float64)
    centres = _opening_centres(points)
    bands = np.zeros((len(EYES), height, width), dtype=np.float32)
    for k, eye in enumerate(EYES):
        first, second = points[eye.corners[0]], points[eye.corners[1]]
        span = max(float(np.linalg.norm(second - first)), 1e-6)
        along = (second - first) / span
        up = np.array([along[1], -along[0]])  # across the corner line, toward the brow
        contour = points[eye.contour]
        upper = contour[(contour - first) @ up >= 0.0]
        upper = upper[np.argsort((upper - first) @ along)]
        other = centres[1 - k]
        if np.linalg.norm(second - other) > np.linalg.norm(first - other):
            upper = np.vstack([upper, second + along * OUTER_REACH * span])
        else:
            upper = np.vstack([first - along * OUTER_REACH * span, upper])
        band = np.vstack([upper, (upper + up * UPPER_REACH * span)[::-1]]) - origin
        canvas = np.zeros((height, width), dtype=np.uint8)
        cv2.fillPoly(canvas, [np.round(band).astype(np.int32)], 1)
        bands[k] = cv2.GaussianBlur(canvas.astype(np.float32), (0, 0), UPPER_SOFTEN)
    return bands


def _opening_centres(points: np.ndarray) -> np.ndarray:
    """(2, 2): the centre (x, y) of each eye's opening (`EYES` order) of `points` (478, 2)."""
    return np.array([points[eye.contour].mean(axis=0) for eye in EYES])


def _nearer_eye(landmarks: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """(h, w) int: per pixel of `box`, the index in `EYES` of the eye of `landmarks`
    (478, 2+) whose opening's centre is nearer."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centres = _opening_centres(points)
    ys, xs = np.mgrid[box[0], box[1]].astype(np.float64)
    distances = [np.hypot(xs - cx, ys - cy) for cx, cy in centres]
    nearer: np.ndarray = (distances[1] < distances[0]).astype(np.int64)
    return nearer


def _lab(pixels: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def _darker(face: np.ndarray, target: np.ndarray, raw: np.ndarray, nearer: np.ndarray
            ) -> np.ndarray:
    """(h, w) float32: L units the source's `face` (L over `box`) is darker than the
    target's lid `target` (L) toned by the source's, less TOLERANCE; per eye, the tone is
    the median difference over its rim's skin (`raw`, the kept eyes' feathered mask, in
    OFFSET_SHARES), each eye's over the pixels `nearer` (`_nearer_eye`) it."""
    skin = (raw > OFFSET_SHARES[0]) & (raw < OFFSET_SHARES[1])
    darker = np.zeros(raw.shape, dtype=np.float32)
    for eye in range(len(EYES)):
        zone = skin & (nearer == eye)
        if int(zone.sum()) < MIN_OFFSET_PIXELS:
            continue
        floor = target + np.float32(np.median((face - target)[zone]) - TOLERANCE)
        side = nearer == eye
        darker[side] = np.clip(floor - face, 0.0, None)[side]
    return darker


def rim_lines_once(image: np.ndarray, reshaped: np.ndarray, eyes: np.ndarray, share: float,
                   landmarks: np.ndarray, box: tuple[slice, slice], closed: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(image, eyes) with the source's lid lines under the kept eyes' rim over the upper
    lids and past their outer corners drawn once (the module's docstring). `image`
    (S, S, 3) uint8: the engine's face; `reshaped`: the target moved with the face shape,
    (h, w, 3) over `box`, which holds every pixel where `eyes` is above 0.01; `eyes` (S, S)
    float32: the kept eyes' feathered mask times their `share`; `landmarks` (478, 2+): the
    moved landmarks the face was drawn on; `closed` (2,): how closed each of the target's
    eyes is (`eyes_closing`). New arrays where anything changed, else the ones given."""
    if share <= 0.0 or box[0].stop <= box[0].start or box[1].stop <= box[1].start:
        return image, eyes
    raw = eyes[box] / np.float32(share)
    if not ((raw > 0.0) & (raw < 1.0)).any():
        return image, eyes
    lab = _lab(image[box])
    nearer = _nearer_eye(landmarks, box)
    darker = _darker(lab[..., 0], _lab(reshaped)[..., 0], raw, nearer)
    bands = _upper_lids(landmarks, box)
    shut = np.tensordot(np.asarray(closed, dtype=np.float32), bands, axes=1)
    opened = bands.sum(axis=0) - shut
    if opened.max() > 0.0:
        outer = np.clip((SHOWN_BELOW[1] - raw) / (SHOWN_BELOW[1] - SHOWN_BELOW[0]), 0.0, 1.0)
        line = cv2.GaussianBlur(np.clip(darker / LINE_FULL, 0.0, 1.0) * outer, (0, 0),
                                LINE_SOFTEN)
        eyes = eyes.copy()
        eyes[box] *= 1.0 - np.clip(opened * line, 0.0, 1.0)
    if shut.max() > 0.0:
        rim = np.clip(np.minimum(raw, 1.0 - raw) / np.float32(LIFT_FULL), 0.0, 1.0)
        lift = darker * rim * shut * np.float32(share)
        if (lift > 0.5).any():
            lab[..., 0] += lift
            lifted = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0.0, 255.0)
            image = image.copy()
            # Only where it moved: the round trip through Lab is not exact.
            image[box] = np.where((lift > 0.0)[..., None], lifted.astype(np.uint8), image[box])
    return image, eyes
