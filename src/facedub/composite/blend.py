"""Blending the swapped face into the target crop: feathered alpha or Poisson cloning."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.masks import (
    box_meet,
    face_mask,
    feather,
    forehead_points,
    mask_bounds,
    three_channels,
)
from facedub.faces.regions import MIDLINE, TEMPLES, face_halves

BLEND_METHODS = ("feather", "poisson")


def feather_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Alpha blend of uint8 images: `mask` (S, S) float32 in [0, 1] is the face's share.
    Computed only inside the box where the mask is not 0; outside it the result is the
    target (the kept eyes and mouth are a small part of the crop)."""
    box = mask_bounds(mask)
    result = np.array(target, dtype=np.uint8)
    if box is None:
        return result
    part = target[box]
    if mask.dtype != np.float32:  # a float64 share: worked in float64, as it was
        blended64 = part + three_channels(mask[box]) * (face[box].astype(np.float64) - part)
        result[box] = np.clip(blended64 + 0.5, 0, 255).astype(np.uint8)
        return result
    # part + alpha * (face - part), + 0.5, clipped: each step in place on the face's
    # float32 copy (the same float32 operations, the sum's terms swapped; four
    # box-sized temporaries fewer).
    blended = face[box].astype(np.float32)
    blended -= part
    blended *= three_channels(mask[box])
    blended += part
    blended += np.float32(0.5)
    result[box] = np.clip(blended, 0, 255, out=blended).astype(np.uint8)
    return result


def poisson_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Seamless cloning (Pérez et al., "Poisson Image Editing", 2003): the face's
    gradients inside the mask, the target's colours on its border. Falls back to the
    feathered blend when the mask touches the crop's edge (cloning needs a border)."""
    hard = (mask > 0.5).astype(np.uint8) * 255
    hard[:2, :] = hard[-2:, :] = 0
    hard[:, :2] = hard[:, -2:] = 0
    if not hard.any():
        return target.copy()
    x, y, width, height = cv2.boundingRect(hard)
    centre = (x + width // 2, y + height // 2)
    cloned = cv2.seamlessClone(face, target, hard, centre, cv2.NORMAL_CLONE)
    # seamlessClone fills the whole mask; the soft edge still comes from the feather.
    return feather_blend(cloned, target, mask)


# How turned a face is, as 1 - (its narrower half / its wider half): the far side's reach
# starts past FRONTAL and is whole from TURNED on. Elon Musk's GIF face reads 0.46-0.5 at
# 12-16 degrees of yaw, 0.64-0.74 at 22-28 and 0.77-0.9 at 30-37; border-photo's at most
# 0.51 (at 15 degrees) and headturn-woman's 0.55: faces under about 20 degrees keep the
# face mask as it is (from 0.35 on, border-photo's frames at 9-15 degrees were reached
# and two of its 37 frontal frames fell to the target's side; BENCHMARKS.md,
# twenty-sixth round).
FRONTAL = 0.5
TURNED = 0.7
BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)  # the brows' upper edges
MOUTH_CORNERS = (61, 291)
CHIN = 152
ROWS_FADE = 0.1  # the reach fades above the brows and below the mouth over this share
# The face's outer feather beyond a cut (`beyond_cuts`): where the shown mask is under 1,
# (1 - mask) times this of what lies past the cut is taken out (the whole from 3/4 down).
BEYOND_CUT_FEATHER = 4.0
BEYOND_CUT_LEAST = 0.01  # less of a pixel than this is left as it is (no sliver there)
POLAR_ANGLES = 720  # rays round the face's centre, at the cut's quarter size


def turn_share(face_landmarks: np.ndarray) -> tuple[float, int]:
    """(share in [0, 1], side) of a face: how far it is turned, 0 up to FRONTAL and 1 from
    TURNED on, and which way its far side lies in the image (-1: left, +1: right).
    `face_landmarks` (478, 2+) in crop pixels."""
    left, right = face_halves(np.asarray(face_landmarks))  # as the image shows them
    narrow, wide = min(left, right), max(left, right, 1e-6)
    share = float(np.clip((1.0 - max(narrow, 0.0) / wide - FRONTAL) / (TURNED - FRONTAL),
                          0.0, 1.0))
    return share, (-1 if left < right else 1)


def reach_mask(face_landmarks: np.ndarray, size: int, forehead: bool, erode: int,
               blur: int) -> np.ndarray:
    """(size, size) float32: the face's share. `faces.masks.face_mask` with `erode` and
    `blur`, and on a turned face's far side, from the brows to the mouth, the hull of the
    whole mesh (the far cheek and the nose's tip as the landmarks outline them: the
    visible silhouette) with its erosion and feather drawn in as far as the face is
    turned. On a turned face the far half is a few pixels wide: the feather made for a
    frontal face left the target's far eye corner, nose side and cheek there (Elon
    Musk's at 30-37 degrees: 8-17 of a 168 px crop, 8 px of it the feather;
    BENCHMARKS.md, twenty-sixth round). The near side, the forehead and the jaw keep
    the frontal feather: a thin one there cost seams."""
    return reach_parts(face_landmarks, size, forehead, erode, blur)[1]


def reach_parts(face_landmarks: np.ndarray, size: int, forehead: bool, erode: int,
                blur: int) -> tuple[np.ndarray, np.ndarray]:
    """(near, reached), both (size, size) float32: the frontal `faces.masks.face_mask`
    and `reach_mask` (the same; `near` is `reached` itself on a face under FRONTAL)."""
    near = face_mask(face_landmarks, size, forehead=forehead, erode=erode, blur=blur)
    share, side = turn_share(face_landmarks)
    if share <= 0.0:
        return near, near
    points = np.asarray(face_landmarks)[:, :2].astype(np.float64)
    outline = (np.concatenate([points, forehead_points(face_landmarks)]) if forehead
               else points)
    hull = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(outline).astype(np.int32)), 255)
    far = feather(hull, round(erode * (1.0 - share)), max(1, round(blur * (1.0 - share))))
    return near, _with_far(near, far, points, side)


def rim_weights(near: np.ndarray, reached: np.ndarray) -> np.ndarray | None:
    """(S, S) float32 in [0, 1]: the share of the face shown by `reached` that the
    frontal mask `near` did not show (`reach_parts`): 1 at the reach's outer edge, 0
    where the frontal mask shows it whole; None where the reach adds nothing."""
    if near is reached:
        return None
    added = reached - near
    # Only in the box where the reach adds anything (its far side's box): elsewhere 0.
    box = mask_bounds(added > 0)
    if box is None:
        return None
    part, whole = added[box], reached[box]
    weights = np.zeros(added.shape, dtype=np.float32)
    weights[box] = np.where(part > 0, part / np.maximum(whole, 1e-6), 0.0)
    return weights


def far_weights(points: np.ndarray, size: int, side: int) -> np.ndarray:
    """(size, size) float32: 1 on the far side (`side`, as `turn_share` gives it) from
    half way across its half outwards, 0 from the midline inwards; between the brows'
    tops and the mouth's corners, fading over ROWS_FADE of the brows-to-chin height
    above and below. `points` (478, 2) crop pixels."""
    down, across = _far_ramps(points, size, side)
    weights: np.ndarray = (down[:, None] * across[None, :]).astype(np.float32)
    return weights


def _far_ramps(points: np.ndarray, size: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """`far_weights`' two factors, (size,) float32 each: down the rows, across the
    columns."""
    middle = float(points[MIDLINE, 0])
    temple = float(points[TEMPLES[0] if side < 0 else TEMPLES[1], 0])
    ramp = max(abs(middle - temple) / 2.0, 1.0)
    columns = np.arange(size, dtype=np.float32)
    across = np.clip((columns - middle) * side / ramp, 0.0, 1.0)
    top = float(points[list(BROWS), 1].min())
    bottom = float(points[list(MOUTH_CORNERS), 1].mean())
    fade = max(ROWS_FADE * (float(points[CHIN, 1]) - top), 1.0)
    rows = np.arange(size, dtype=np.float32)
    down = (np.clip((rows - top) / fade + 1.0, 0.0, 1.0)
            * np.clip((bottom - rows) / fade + 1.0, 0.0, 1.0))
    return down, across


def _with_far(near: np.ndarray, far: np.ndarray, points: np.ndarray, side: int
              ) -> np.ndarray:
    """max(near, far * far_weights), float32 (S, S): worked only in the box where the
    weights are not 0 (about a quarter of the crop); elsewhere far * 0 is 0 and the
    maximum `near` (never below 0) itself. The same values."""
    size = near.shape[0]
    down, across = _far_ramps(points, size, side)
    rows, columns = np.flatnonzero(down), np.flatnonzero(across)
    reached = near.astype(np.float32)  # a copy: `near` is returned beside it
    if rows.size and columns.size:
        box = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
        weights = down[box[0], None] * across[None, box[1]]
        reached[box] = np.maximum(near[box], far[box] * weights)
    return reached


def beyond_cuts(cut: np.ndarray, shown: np.ndarray, centre: np.ndarray) -> np.ndarray | None:
    """(S, S) float32 in [0, 1] or None (nothing): `beyond_cuts_in_box`'s share laid
    into the whole crop (0 outside its box)."""
    part = beyond_cuts_in_box(cut, shown, centre)
    if part is None:
        return None
    beyond = np.zeros(cut.shape, dtype=np.float32)
    beyond[part.box] = part.share
    return beyond


@dataclass(frozen=True)
class BeyondCut:
    """`beyond_cuts_in_box`'s result: `share` (h, w) float32 in [0, 1], the crop's `box`
    (rows, columns) of it; 0 everywhere outside the box."""

    box: tuple[slice, slice]
    share: np.ndarray


def beyond_cuts_in_box(cut: np.ndarray, shown: np.ndarray, centre: np.ndarray
                       ) -> BeyondCut | None:
    """The share of the face's outer feather that lies beyond a cut, to be taken out of
    the blend's mask, in the box where it is not 0 (None: nothing). `cut` (S, S) in
    [0, 1]: what is kept of the target at the face's edges
    (`composite.occlusion.edge_occluders`: hair at the temples and beside the eyes, in
    either crop); `shown` (S, S) float32: the blend's mask before the cut (`reach_parts`'
    reached); `centre` (2,): the point between the eyes, crop pixels.

    Along each ray from `centre` the most cut met so far, less the cut itself, where the
    mask is feathered: (1 - shown) * BEYOND_CUT_FEATHER of it, so the mask's inside keeps
    what lies past a strand. A cut band inside the outline (a source's sideburn in the
    engine's face, cut as hair) left the feather outside it showing a sliver of the
    engine's face at a third, and the target's own skin in the band between read as a
    thin dark line down the cheek (headturn-man 31-39, turned and looking up; BENCHMARKS.md,
    thirty-third round). Judged at quarter size, as the cut is (it is blurred there).

    The full-size steps are taken only in the box where the rays' most cut reaches
    BEYOND_CUT_LEAST: beyond it the share is 0 either way, and the whole crop's passes
    were most of its cost (BENCHMARKS.md, Swap speed, thirty-fourth round).
    """
    if not cut.any():
        return None
    size = cut.shape[0]
    small_size = max(32, size // 4)
    scale = small_size / size
    small = cv2.resize(cut, (small_size, small_size), interpolation=cv2.INTER_AREA)
    middle = (float(centre[0]) * scale, float(centre[1]) * scale)
    radius = float(np.hypot(max(middle[0], small_size - middle[0]),
                            max(middle[1], small_size - middle[1])))
    # WARP_FILL_OUTLIERS: without it the samples past the crop (a ray beyond a corner) are
    # left as the new array's memory held (under load a NaN turned a face white).
    polar = cv2.warpPolar(small, (max(2, round(radius)), POLAR_ANGLES), middle, radius,
                          cv2.WARP_POLAR_LINEAR | cv2.WARP_FILL_OUTLIERS)
    polar = _most_outwards(polar)
    passed = cv2.warpPolar(polar, (small_size, small_size), middle, radius,
                           cv2.WARP_POLAR_LINEAR | cv2.WARP_INVERSE_MAP | cv2.WARP_FILL_OUTLIERS)
    # Where the rays' most cut is under BEYOND_CUT_LEAST the share is: (passed - cut) *
    # feathered / (1 - cut) needs passed >= cut + LEAST * (1 - cut) >= LEAST (feathered
    # is at most 1), and the enlargement is never above the plane pixels it reads (a
    # tenth of margin for float32's rounding).
    reach = mask_bounds(passed >= np.float32(0.9 * BEYOND_CUT_LEAST))
    if reach is None:
        return None
    # And where the mask shows the face: its feather's box is the box of all it shows.
    face_box = mask_bounds(shown)
    box = None if face_box is None else box_meet(
        _enlarged_reach(reach, size / small_size, size), face_box)
    if box is None:
        return None
    passed = cv2.resize(passed, (size, size), interpolation=cv2.INTER_LINEAR)
    return _beyond_in(passed[box], cut[box], shown[box], box)


def _most_outwards(polar: np.ndarray) -> np.ndarray:
    """The running maximum along each row of `polar` (angles x radii; outwards along
    each ray): `np.maximum.accumulate(polar, axis=1)`'s values (a maximum is exact), a
    column at a time on the rays' transposed copy, in a third of its time."""
    rays = np.ascontiguousarray(polar.T)
    for radius in range(1, rays.shape[0]):
        np.maximum(rays[radius], rays[radius - 1], out=rays[radius])
    return np.ascontiguousarray(rays.T)


def _enlarged_reach(reach: tuple[slice, slice], factor: float, size: int
                    ) -> tuple[slice, slice]:
    """The box of an (S, S) bilinear enlargement (by `factor` = S / s) of an (s, s)
    plane that holds every output pixel reading the plane's `reach` box: each output
    pixel reads the two plane pixels round its centre, (x + 0.5) / factor - 0.5; a
    plane pixel and a half of margin (over 0.5 / factor for the rounding)."""

    def grown(part: slice) -> slice:
        return slice(max(0, math.floor((part.start - 1.5) * factor)),
                     min(size, math.ceil((part.stop + 1.5) * factor)))

    if factor < 1.0:  # a crop under the plane's 32 px: shrunk, not enlarged
        return slice(0, size), slice(0, size)
    return grown(reach[0]), grown(reach[1])


def _beyond_in(passed: np.ndarray, cut: np.ndarray, shown: np.ndarray,
               box: tuple[slice, slice]) -> BeyondCut | None:
    """`beyond_cuts_in_box`'s share from the (h, w) float32 parts of the crop in `box`:
    the most cut met along the rays `passed`, the `cut`, the blend's mask `shown`; each
    step of clip((passed - cut) * feathered / max(1 - cut, 1e-3), 0, 1) in place, the
    same float32 operations in the same order. Shrunk to the share's own box."""
    feathered = np.subtract(np.float32(1.0), shown)
    feathered *= np.float32(BEYOND_CUT_FEATHER)
    np.clip(feathered, 0.0, 1.0, out=feathered)
    feathered *= shown > 0
    beyond = np.subtract(passed, cut, out=passed)
    beyond *= feathered
    kept = np.subtract(np.float32(1.0), cut, out=feathered)
    np.maximum(kept, np.float32(1e-3), out=kept)
    beyond /= kept
    np.clip(beyond, 0.0, 1.0, out=beyond)
    beyond[beyond < BEYOND_CUT_LEAST] = 0.0
    own = mask_bounds(beyond)
    if own is None:
        return None
    return BeyondCut((slice(box[0].start + own[0].start, box[0].start + own[0].stop),
                      slice(box[1].start + own[1].start, box[1].start + own[1].stop)),
                     beyond[own])
