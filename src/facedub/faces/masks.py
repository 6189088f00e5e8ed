"""Soft masks from landmarks, in the pixels of whatever image the landmarks belong to
(normally the aligned crop, where the face is upright and roll is removed)."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template

# How far the forehead is extended above the landmark oval's top, as a share of the
# distance from the eyes to that top: MediaPipe's oval stops well below the hairline.
FOREHEAD_EXTENSION = 0.3
BETWEEN_EYES = 168  # landmark on the nose bridge between the eyes
HALF_SIZE_SIGMA = 10.0  # feathering blurs this wide (pixels) are computed at half size


def face_mask(face_landmarks: np.ndarray, size: int, forehead: bool = True, erode: int = 0,
              blur: int = 0) -> np.ndarray:
    """(size, size) float32 mask in [0, 1] of the face oval, optionally with forehead.

    `erode` shrinks the hard mask by that many pixels (negative grows it); `blur` is the
    feather width in pixels (Gaussian, applied after erosion).
    """
    return feather(face_oval(face_landmarks, size, forehead), erode, blur)


def face_oval(face_landmarks: np.ndarray, size: int, forehead: bool = True) -> np.ndarray:
    """(size, size) uint8, 255 inside the face oval (see `face_mask`), 0 outside."""
    hull: np.ndarray = convex_hull_mask(_oval_points(face_landmarks, forehead), (size, size))
    return hull.astype(np.uint8) * np.uint8(255)


def convex_hull_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(rows, columns) bool: True inside the convex hull of `points` ((N, 2) x, y pixels,
    rounded to whole pixels), every pixel its outline touches included."""
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    hull: np.ndarray = mask.astype(bool)
    return hull


def three_channels(weights: np.ndarray) -> np.ndarray:
    """(H, W) weights as (H, W, 3), to scale an RGB image by (`channels_of`)."""
    return channels_of(weights, 3)


def channels_of(weights: np.ndarray, count: int) -> np.ndarray:
    """(H, W) weights as (H, W, count): the values of `weights[..., None]`, but NumPy's
    loops over a broadcast last axis are several times slower than over contiguous arrays
    (at 440 px 0.47 against 0.13 ms a product with 3)."""
    if weights.size == 0:
        return weights[..., None]
    spread: np.ndarray = cv2.merge([weights] * count)
    return spread


def mask_bounds(mask: np.ndarray) -> tuple[slice, slice] | None:
    """(rows, columns) slices of the bounding box of the non-zero pixels of a 2-D mask;
    None if it has none. OpenCV's bounding box of the mask's bytes: the same box as
    NumPy's any() along each axis, without two passes over the whole crop (the mesh
    engine asks a dozen times a frame); a uint8 mask is read as it is, without a boolean
    copy first."""
    hard = (mask if mask.dtype == np.uint8 and mask.flags.c_contiguous
            else np.ascontiguousarray(mask, dtype=bool).view(np.uint8))
    left, top, width, height = cv2.boundingRect(hard)
    if width == 0:
        return None
    return slice(top, top + height), slice(left, left + width)


def bounds_or_empty(mask: np.ndarray) -> tuple[slice, slice]:
    """`mask_bounds`, empty slices for an empty mask."""
    return mask_bounds(mask) or (slice(0, 0), slice(0, 0))


def grown_bounds(mask: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """`mask_bounds` grown by `margin` pixels on every side, within the mask's shape;
    None if it has no non-zero pixel."""
    box = mask_bounds(mask)
    if box is None:
        return None
    rows, columns = box
    height, width = mask.shape[:2]
    return (slice(max(0, rows.start - margin), min(height, rows.stop + margin)),
            slice(max(0, columns.start - margin), min(width, columns.stop + margin)))


def box_meet(first: tuple[slice, slice], second: tuple[slice, slice]
             ) -> tuple[slice, slice] | None:
    """The overlap of two boxes (rows, columns slices); None if they do not overlap."""
    rows = slice(max(first[0].start, second[0].start), min(first[0].stop, second[0].stop))
    columns = slice(max(first[1].start, second[1].start), min(first[1].stop, second[1].stop))
    if rows.start >= rows.stop or columns.start >= columns.stop:
        return None
    return rows, columns


def box_within(part: tuple[slice, slice], box: tuple[slice, slice]) -> tuple[slice, slice]:
    """`part` (rows, columns of an image, inside `box`) in the pixels of `box`."""
    return (slice(part[0].start - box[0].start, part[0].stop - box[0].start),
            slice(part[1].start - box[1].start, part[1].stop - box[1].start))


def polygon_mask(points: np.ndarray, size: int, blur: int = 0) -> np.ndarray:
    """(size, size) float32 mask of one closed polygon (e.g. the inner lip loop)."""
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points[:, :2]).astype(np.int32)], 255)
    return feather(mask, 0, blur)


def feather(mask: np.ndarray, erode: int, blur: int) -> np.ndarray:
    """Erode (or dilate, if negative) a uint8 or float mask, then blur it; float32 out."""
    hard = mask if mask.dtype == np.uint8 else _to_uint8(mask)
    if erode:
        hard = _morphed(hard, erode)
    sigma = blur / 2.0
    if hard.ndim != 2 or (blur > 0 and _halved(hard.shape, sigma)):
        soft = np.divide(hard, np.float32(255.0), dtype=np.float32)  # astype, then / 255
        if blur > 0:
            soft = _gaussian(soft, sigma)
        box: tuple[slice, slice] = (slice(None), slice(None))
    else:
        soft, box = _soft_box(hard, sigma if blur > 0 else 0.0)
    if blur > 0 and erode >= 0:  # keep the blur inside the hard edge: never past the face
        # Only in the box: beyond it 2 * 0 - 1 clips to 0 as it is.
        inner = soft[box]
        inner *= 2.0
        inner -= 1.0
        np.clip(inner, 0.0, 1.0, out=inner)
    return soft


def _soft_box(hard: np.ndarray, sigma: float) -> tuple[np.ndarray, tuple[slice, slice]]:
    """(H, W) float32: `hard` (uint8, 2-D) / 255, Gaussian-blurred at `sigma` (none at 0),
    with the box it was computed in: only the box round its non-zero pixels, grown by the
    kernel's reach on every side (OpenCV finds it on the bytes), is divided and blurred;
    the rest stays 0, as the whole image's blur leaves it there. Within a float32 rounding
    of blurring the whole image (OpenCV's vector loop along a shorter row ends
    differently); until the forty-eighth round only the rows were boxed, and a mouth's or
    an eye's mask was blurred across the crop's whole width (the engine feathers a dozen
    masks a frame: BENCHMARKS.md, forty-eighth round)."""
    soft = np.zeros(hard.shape, dtype=np.float32)
    left, top, width, height = cv2.boundingRect(hard)
    if height == 0:
        return soft, (slice(0, 0), slice(0, 0))
    reach = _blur_reach(sigma) if sigma > 0 else 0
    box = (slice(max(0, top - reach), top + height + reach),
           slice(max(0, left - reach), left + width + reach))
    part = np.divide(hard[box], np.float32(255.0), dtype=np.float32)
    soft[box] = part if sigma <= 0 else cv2.GaussianBlur(part, (0, 0), sigmaX=sigma,
                                                         sigmaY=sigma)
    return soft, box


def _to_uint8(mask: np.ndarray) -> np.ndarray:
    """`np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8)`. For float32 in one pass of
    OpenCV's saturating multiply, the same values (the float32 product, rounded half to
    even; checked on every float32 from -1 to 4, beyond which both saturate), at a third
    of NumPy's four passes (0.07 against 0.19 ms at 440 px)."""
    if mask.dtype == np.float32 and mask.ndim == 2 and mask.size:
        converted: np.ndarray = cv2.multiply(mask, 255.0, dtype=cv2.CV_8U)
        return converted
    return np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8)


def _morphed(hard: np.ndarray, erode: int) -> np.ndarray:
    """`hard` (uint8) eroded by an ellipse of radius `erode`, or dilated by -`erode`.
    Only the box around its non-zero pixels, `erode` pixels wider, is filtered: outside
    it every pixel stays 0 either way, and inside it the filter sees what it sees in the
    whole image (the same values; a 19 px ellipse over a 440 px crop took 0.9 ms)."""
    radius = abs(erode)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    x, y, width, height = cv2.boundingRect(hard)
    result = np.zeros_like(hard)
    if width == 0:
        return result
    rows = slice(max(0, y - radius), min(hard.shape[0], y + height + radius))
    columns = slice(max(0, x - radius), min(hard.shape[1], x + width + radius))
    part = np.ascontiguousarray(hard[rows, columns])
    result[rows, columns] = cv2.erode(part, kernel) if erode > 0 else cv2.dilate(part, kernel)
    return result


def _halved(shape: tuple[int, ...], sigma: float) -> bool:
    """Whether `_gaussian` blurs an image of `shape` at `sigma` at half size."""
    return sigma >= HALF_SIZE_SIGMA and shape[0] % 2 == 0 and shape[1] % 2 == 0


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; one of at least HALF_SIZE_SIGMA on an even-sized image is computed
    at half size (a sixth of the work for the compositor's mask of a 440 px crop), its
    sigma less the blur of the shrink and the linear enlargement themselves (about one
    square pixel of variance): within 0.32 / 255 of the full-size blur's mask."""
    height, width = image.shape[:2]
    if not _halved(image.shape, sigma):
        return blur_rows(image, sigma)
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    small_sigma = np.sqrt(sigma * sigma - 1.0) / 2.0
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=small_sigma, sigmaY=small_sigma)
    enlarged: np.ndarray = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return enlarged


def _blur_reach(sigma: float) -> int:
    """Rows past a non-zero pixel that a Gaussian blur at `sigma` can reach, with a row to
    spare (OpenCV's float kernel: 8 sigma + 1 wide, odd): `blur_rows`' and `feather`'s
    band."""
    return int(4 * sigma) + 2


def blur_rows(image: np.ndarray, sigma: float) -> np.ndarray:
    """cv2.GaussianBlur of a float32 image that is 0 outside a few regions, computed on
    the rows they cover grown by the kernel's reach: the same values (beyond that reach
    the blur is exactly 0, and the band's edge rows are 0 as the image's are there), at
    a fraction of the cost for a mouth, the eye corners or the brows. Whole rows:
    OpenCV's vector loop along a row ends differently on a narrower image (last-bit
    changes)."""
    reach = _blur_reach(sigma)
    rows = np.flatnonzero(image.any(axis=1))
    blurred = np.zeros_like(image)
    if rows.size:
        top, bottom = max(0, rows[0] - reach), rows[-1] + reach + 1
        blurred[top:bottom] = cv2.GaussianBlur(image[top:bottom], (0, 0), sigmaX=sigma,
                                               sigmaY=sigma)
    return blurred


def _oval_points(face_landmarks: np.ndarray, forehead: bool) -> np.ndarray:
    regions = mesh_regions()
    oval = np.asarray(face_landmarks)[regions.face_oval, :2].astype(np.float64)
    if not forehead:
        return oval
    return np.concatenate([oval, forehead_points(face_landmarks)])


def forehead_points(landmarks: np.ndarray) -> np.ndarray:
    """Points above MediaPipe's oval, where the forehead goes on towards the hairline.

    Each oval point above the eyes is pushed out from the point between the eyes by
    FOREHEAD_EXTENSION of its distance; the same rule on source and target makes the
    points correspond, so they also serve as extra mesh vertices for warping.
    """
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2].astype(np.float64)
    upper = regions.face_oval[upper_oval_mask()]
    centre = points[BETWEEN_EYES]
    return centre + (points[upper] - centre) * (1.0 + FOREHEAD_EXTENSION)


@functools.cache
def upper_oval_mask() -> np.ndarray:
    """Which face-oval points lie above the eyes, judged on the frontal template so the
    choice is the same for every face."""
    template = face_template()
    regions = mesh_regions()
    eye_line = template[np.concatenate([regions.left_eye, regions.right_eye]), 1].mean()
    upper = np.asarray(template[regions.face_oval, 1] < eye_line)
    upper.flags.writeable = False  # cached and shared: read only
    return upper


def hair_zone(face_landmarks: np.ndarray, size: int, inset: float = 0.0,
              side_shares: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """(S, S) float32: 1 above the brows and beside them down to the nose tip (where hair
    falls), fading to 0 over 4% of the crop, so brows, eyes and the face centre are never
    judged. `inset`: how many fade widths further out the zone starts. `side_shares`
    (the person's right, left side): the zone beside the brows there starts and fades
    over that share of the widths (a turned face's far side, where hair comes nearer the
    brow's tail: `engines.mesh_clean`). `face_landmarks`: (478, 2+) crop pixels."""
    regions = mesh_regions()
    right = face_landmarks[regions.right_eyebrow]
    left = face_landmarks[regions.left_eyebrow]
    brow_line = float(min(right[:, 1].min(), left[:, 1].min()))
    inner_x0, inner_x1 = float(right[:, 0].min()), float(left[:, 0].max())
    nose_y = float(face_landmarks[1, 1])
    fade = 0.04 * size
    ys = np.arange(size, dtype=np.float32)[:, None]
    xs = np.arange(size, dtype=np.float32)[None, :]
    above = np.clip((brow_line - inset * fade - ys) / fade, 0, 1)
    beside = np.zeros((size, size), dtype=np.float32)
    for past, share in ((inner_x0 - xs, side_shares[0]), (xs - inner_x1, side_shares[1])):
        side_fade = fade * share
        beside = np.maximum(beside, np.clip((past - inset * side_fade) / side_fade, 0, 1))
    return np.maximum(above, beside * np.clip((nose_y - ys) / fade, 0, 1)).astype(np.float32)
