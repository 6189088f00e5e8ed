"""The source's eyes toned like the target's own eyes in the same frame.

The compositor gives the face the target's low-pass and the source's detail. In an eye
that is the wrong split: the whites and the iris are the eye's contrast, not light, and a
soft, shadowed video source (d3 onto headturn-woman's studio-lit face) carried too little
of it, so the eyes came out grey with a faint iris, where the target's own eyes (kept,
pasted uncoloured) had been crisp. So each eye, its opening and the lash line around it,
is toned here directly against the target's same eye in the same frame: its whites
brought to the target's lightness and its iris stretched toward the target's contrast,
and its colour moved so its whites have the target's white (the iris keeps its hue
against them, a little muted: eye colour is identity). The compositor then pastes it
uncoloured, as it did the target's kept eyes. The tone is eased per track: the target's
eye shows more or less white from frame to frame. Past the opening (the lash line) the
stretch is no skin's: there the toned eye is no lighter than its lid's skin toned like the
target's lid (`lid_skin_tone`). Where the target's own eyes come back, their irises take
the source's colour (`EyeToner.tint`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from typing import Literal

import cv2
import numpy as np

from facedub.engines.mesh_eyes import EYES
from facedub.faces.masks import feather, mask_bounds

# Percentiles of L in the eye opening matched to the target's: its whites (BRIGHT), and
# its iris as far as GAIN_RANGE allows (DARK: below it the target's lash line and make-up;
# a source iris stretched to their darkness came out black, with glowing whites, in a
# half-closed eye). Above BRIGHT the source's whites ease into the target's TOP.
DARK, BRIGHT, TOP = 15.0, 90.0, 99.0
# Pixels of the opening between these L percentiles are its whites (above: catchlights,
# a lens's reflections) ...
WHITES = (70.0, 95.0)
IRIS = 50.0  # ... and from DARK up to this one its iris
IRIS_SOFT = 8.0  # L units over which the iris's tint fades out toward the whites
# The share of the source's colour against its whites kept: all of it made a pink lid
# margin red against the compositor's lids, which keep half the source's colour detail
# (`composite.tone.CHROMA_DETAIL`); the iris's hue stays.
CHROMA = 0.6
# Lab units the whites' colour moves at most: a safety net. At 6 a warm studio photo's
# eyes (film-headturn: the whites needed 23 units toward the target's pink) stayed yellow.
MAX_SHIFT = 25.0
GAIN_RANGE = (0.8, 2.5)  # the lightness stretch never goes beyond these ...
# ... but in a small eye the floor falls to SMALL_EYE_GAIN: the stretch that matches the
# target's contrast. A sharp photo's eye in a GIF's small, soft one (the smoker: Rudd's
# opening spans 35-45 L from its 15th to 90th percentile, the target's 15-20, 18 px wide)
# held at 0.8 came out 10-14 L darker than the target's across its iris and outer third,
# a black slit under the target's whites. A large eye keeps 0.8: its iris's contrast is
# the source's own (blink-video's 42 px eyes lost identity at 0.4). Ramped by the target
# opening's width in crop pixels between SMALL_EYE_WIDTH.
SMALL_EYE_GAIN = 0.4
SMALL_EYE_WIDTH = (20.0, 32.0)
TONE_FOLLOW = 0.4  # share of this frame's tone per frame (the rest is the last frame's)
MIN_PIXELS = 12  # an eye opening smaller than this is left as it is
OPEN_ENOUGH = 0.6  # target opening, as a share of its usual, below which it is closing
OPEN_DECAY = 0.995  # per frame: how slowly the usual opening forgets a wide-open eye
# The toned region reaches this share of the crop past the opening, over the lash line:
# further, the source's lid skin brightened with the eye's stretch showed as a pale band
# under the eye against the compositor's lid.
LASH_LINE = 0.006
# Past the opening (the lash line, the lids' rims) the eye's stretch is no skin's tone: a
# pale webcam source's lower lid, stretched as whites, came out as a white crescent under
# each iris on Obama's dark, shadowed lids (lighting: 52-60 L where his are 36-38; the
# compositor's own tone of that skin 37-43). There a pixel is no lighter than the lid's
# skin toned like the target's (`lid_skin_tone`), fully from SKIN_SOFT L units lighter. That
# skin is read below each eye, from LID_SKIN[0] to LID_SKIN[1] of the crop past its
# opening (below the corners' line: above it lie the lashes, the crease, eye shadow).
LID_SKIN = (0.015, 0.04)
SKIN_SOFT = 4.0
SKIN_RATIO = (0.5, 2.0)  # the lid's lightness scaled by no more than these
# The engine's image is the toned eye by `region`, and the compositor pastes that image
# uncoloured by the same `region`: on the feather past the opening the untoned source showed
# through by region * (1 - region), up to a quarter. Where the target's lid margins (the
# ring up to LID_SKIN[0] of the crop past the opening: lash lines, lids' rims) are darker
# against its lid skin than the source's against its own (`lid_margin`), that let a light
# photo's lids through: occlusion-mic's deep, top-lit sockets (margin / skin 0.58, Rudd's
# studio lids 0.83) came out 15-30 grey levels lighter on the lid margins than the target,
# and the landmarker read a less smiling face (BENCHMARKS.md, thirty-eighth round).
# There, on the lower lid (below the corners' line, `below_corners`), the image is the toned
# eye by 1 - (1 - region)^2 (the untoned source through by region * (1 - region)^2, at most
# 0.15), as far as the source's margin / skin exceeds the target's (eased per track, the
# face's larger eye) by MARGIN_FROM, fully from MARGIN_FULL. The lower lid only: the smile
# is read off it (the upper lid so toned alone, frames 2-9 read main's smile), so the upper
# lid's lash line stays as it was. Not wholly from 0.3 of the region (the thirty-eighth
# round's): the toned lid then ended in a step at the feather's outer edge, which lies below
# the target's own lower lid (Rudd's opening drawn lower), and doubled edges rose 1.9% ->
# 2.5% of the eye and mouth bands (the lower lid alone so: 2.5% too); so, 1.96%.
# Occlusion-mic over four ids: smile 76 -> 80 of 96 frames, mouth open/closed 90 -> 90
# (BENCHMARKS.md, Expression, thirty-ninth round). The gate: occlusion-mic 0.28-0.37
# on its first 23 frames (0.08-0.22 as the head turns away); the other pairs where the
# source's eyes show under it on their first 40 frames (older-glasses 0.195; readme-photo
# 0.17, whose near eye's margins are lighter too, 7-17 L, left under the gate;
# expr-smile-older 0.12, lighting 0.12, photo-to-mouth 0.13, the rest 0.11 at most): their
# swaps are as they were, to the byte.
MARGIN_FROM, MARGIN_FULL = 0.2, 0.26


@dataclass(frozen=True)
class EyeTone:
    """L' = bright + gain * (L - source bright), above `bright` eased into `top`;
    (a, b)' = target whites + CHROMA * ((a, b) - source whites), the target's whites being
    the source's moved by (shift_a, shift_b). (iris_a, iris_b): the toned source iris's
    colour less the target's (`EyeToner.tint`)."""

    bright: float
    source_bright: float
    top: float
    gain: float
    shift_a: float
    shift_b: float
    white_a: float  # the source's whites
    white_b: float
    iris_a: float = 0.0
    iris_b: float = 0.0
    # The lid's skin (`lid_skin_tone`): L' = skin_ratio * L, (a, b)' = (a, b) + skin_(a, b);
    # skin_ratio 0: not known (no cap past the opening).
    skin_ratio: float = 0.0
    skin_a: float = 0.0
    skin_b: float = 0.0
    # How much lighter against its lid skin the source's lid margins are than the target's
    # (`lid_margin_tone`): 0 where either is unknown.
    margin: float = 0.0

    def eased(self, last: EyeTone | None, follow: float) -> EyeTone:
        if last is None:
            return self
        # A lid's skin known on one side only is taken as it is (0 is no ratio to ease from).
        current = self
        if last.skin_ratio == 0.0:
            last = replace(last, skin_ratio=self.skin_ratio, skin_a=self.skin_a,
                           skin_b=self.skin_b)
        elif self.skin_ratio == 0.0:
            current = replace(self, skin_ratio=last.skin_ratio, skin_a=last.skin_a,
                              skin_b=last.skin_b)
        # The fields read directly: `dataclasses.astuple` deep-copies each (the same floats, at ten
        # times the cost, twice an eye and frame).
        new, old = (np.array([getattr(tone, field.name) for field in fields(tone)])
                    for tone in (current, last))
        return EyeTone(*(float(value) for value in old + follow * (new - old)))


def eye_box(contour: np.ndarray, grow: float, size: int) -> tuple[slice, slice] | None:
    """The crop box around one eye contour (N, 2), grown by `grow` pixels (+2)."""
    low = np.floor(contour.min(axis=0) - grow - 2).astype(int).clip(0, size)
    high = np.ceil(contour.max(axis=0) + grow + 3).astype(int).clip(0, size)
    if high[0] - low[0] < 4 or high[1] - low[1] < 4:
        return None
    return slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0]))


def eye_region(contour: np.ndarray, box: tuple[slice, slice], grow: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """(hard opening, soft region) in `box`: the opening itself (uint8 0/255) and the
    opening grown by `grow` pixels over the lash line, feathered (float32 0..1)."""
    opening = eye_opening(contour, box)
    soft = feather(opening, erode=-max(1, round(grow)), blur=max(2, round(grow)))
    return opening, soft


def eye_opening(contour: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """`eye_region`'s hard opening alone (the target's soft region is not read)."""
    rows, columns = box
    shape = (rows.stop - rows.start, columns.stop - columns.start)
    opening = np.zeros(shape, dtype=np.uint8)
    points = np.round(contour - (columns.start, rows.start)).astype(np.int32)
    cv2.fillPoly(opening, [points], 255)
    return opening


def _lab(pixels: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def gain_floor(width: int) -> float:
    """The lowest lightness stretch for a target eye opening `width` crop pixels wide:
    SMALL_EYE_GAIN up to SMALL_EYE_WIDTH[0], GAIN_RANGE[0] from SMALL_EYE_WIDTH[1]."""
    return float(np.interp(width, SMALL_EYE_WIDTH, (SMALL_EYE_GAIN, GAIN_RANGE[0])))


def percentiles(values: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    """`np.percentile(values, percents)` of a 1-D float array without NaNs, the same
    float64 values: its linear interpolation written out on the sorted values (NumPy's
    own steps, in its order) instead of its general path, whose checks, partition and
    `np.unique` of the indexes cost ten times the sort on an eye's few hundred pixels."""
    ordered = np.sort(values)
    quantiles = np.true_divide(percents, 100)
    virtual = (ordered.size - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1
    last = virtual >= ordered.size - 1  # the largest value itself
    previous[last] = -1
    following[last] = -1
    previous_index, following_index = previous.astype(np.intp), following.astype(np.intp)
    gamma = virtual - previous_index
    below, above = ordered[previous_index], ordered[following_index]
    # NumPy's `_lerp`: from below under a half, from above from a half on.
    step = above - below
    value: np.ndarray = np.add(below, step * gamma)
    np.subtract(above, step * (1 - gamma), out=value, where=gamma >= 0.5, casting="unsafe")
    return value


def column_medians(pixels: np.ndarray) -> np.ndarray:
    """`np.median(pixels, axis=0)` of (N, C) float32 pixels without NaNs (N > 0), the same
    values: the middle one or the mean of the middle two of each sorted column, by
    `np.mean` as NumPy's median takes it (without its partition's general path)."""
    ordered = np.sort(pixels, axis=0)
    middle = ordered.shape[0] // 2
    picked = ordered[middle:middle + 1] if ordered.shape[0] % 2 else ordered[middle - 1:middle + 1]
    median: np.ndarray = np.mean(picked, axis=0)
    return median


def eye_tone(source: np.ndarray, source_opening: np.ndarray, target: np.ndarray,
             target_opening: np.ndarray, source_lab: np.ndarray | None = None
             ) -> EyeTone | None:
    """The tone that makes one source eye (its box of the engine's image, (h, w, 3)
    float32 RGB 0..255) look like the target's same eye (its box of the target crop,
    uint8 or float32): L percentiles DARK and BRIGHT over each opening (uint8, its box)
    matched, and the whites' (a, b). None where either eye shows too little.
    `source_lab`: `_lab(source)` if already made."""
    source_lab = _lab(source) if source_lab is None else source_lab
    open_s, open_t = source_opening > 0, target_opening > 0
    if min(open_s.sum(), open_t.sum()) < MIN_PIXELS:
        return None
    # The target's opening alone converted (OpenCV's float Lab is a pixel's own: the
    # values of the box's conversion there).
    target_lab = _lab(target[open_t][None])[0]
    # Every percentile of an eye's L in one call (one sort of its pixels instead of
    # three; NumPy's values for several q are those of each q alone).
    source_l, target_l = source_lab[..., 0][open_s], target_lab[:, 0]
    s_dark, s_bright, s_low, s_high, s_iris = percentiles(source_l,
                                                          (DARK, BRIGHT, *WHITES, IRIS))
    t_dark, t_bright, t_top, t_low, t_high, t_iris = percentiles(
        target_l, (DARK, BRIGHT, TOP, *WHITES, IRIS))
    floor = gain_floor(int(np.count_nonzero(open_t.any(axis=0))))
    gain = float(np.clip((t_bright - t_dark) / max(s_bright - s_dark, 1.0), floor,
                         GAIN_RANGE[1]))
    source_chroma, target_chroma = source_lab[..., 1:][open_s], target_lab[:, 1:]
    source_whites = _mean_between(source_chroma, source_l, s_low, s_high)
    target_whites = _mean_between(target_chroma, target_l, t_low, t_high)
    shift = target_whites - source_whites
    # Through the target's tinted lenses (older-glasses: purple) the source's eye takes
    # the tint as the target's own eye shows it.
    shift *= min(1.0, MAX_SHIFT / max(float(np.linalg.norm(shift)), 1e-6))
    target_whites = source_whites + shift
    # The irises: the openings' pixels between the DARK percentile of L (lashes, pupil)
    # and IRIS.
    iris = (target_whites + CHROMA * (_mean_between(source_chroma, source_l, s_dark, s_iris)
                                      - source_whites)
            - _mean_between(target_chroma, target_l, t_dark, t_iris))
    return EyeTone(float(t_bright), float(s_bright), max(float(t_top), float(t_bright) + 1.0),
                   gain, float(shift[0]), float(shift[1]), float(source_whites[0]),
                   float(source_whites[1]), float(iris[0]), float(iris[1]))


def lid_skin(image: np.ndarray, contour: np.ndarray, corners: np.ndarray,
             in_frame: np.ndarray | None = None) -> np.ndarray | None:
    """(3,): the median Lab of the skin under one eye of `image` (S, S, 3) RGB 0..255,
    whose opening is `contour` (N, 2) and corners `corners` (2, 2): the ring from
    LID_SKIN[0] to LID_SKIN[1] of the crop past the opening, below the corners' line (and
    inside `in_frame` (S, S) where given). None where under MIN_PIXELS of it show."""
    size = image.shape[0]
    near, far = (max(1, round(share * size)) for share in LID_SKIN)
    box = eye_box(contour, far, size)
    if box is None:
        return None
    rows, columns = box
    opening = np.zeros((rows.stop - rows.start, columns.stop - columns.start), np.uint8)
    cv2.fillPoly(opening, [np.round(contour - (columns.start, rows.start)).astype(np.int32)],
                 255)
    runs = row_runs(opening)

    def grown(by: int) -> np.ndarray:
        if runs is not None:
            return grown_runs(runs, opening.shape, by)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * by + 1, 2 * by + 1))
        return cv2.dilate(opening, disc) > 0

    left, right = sorted(np.asarray(corners, dtype=np.float64), key=lambda point: point[0])
    along = (right - left) / max(float(np.linalg.norm(right - left)), 1e-6)
    # Each term on its row or column, added over the box (the same float64 values per
    # pixel as on the box's full grids of coordinates).
    xs = np.arange(columns.start, columns.stop)[None, :]
    ys = np.arange(rows.start, rows.stop)[:, None]
    below = ((xs - left[0]) * -along[1] + (ys - left[1]) * along[0]) > 0
    ring = grown(far) & ~grown(near) & below
    if in_frame is not None:
        ring &= in_frame[box].astype(bool)
    if ring.sum() < MIN_PIXELS:
        return None
    # Only the ring's pixels converted: OpenCV's float Lab is a pixel's own (the same
    # values as the box's conversion at those pixels).
    return column_medians(_lab(image[box][ring][None]).reshape(-1, 3))


def lid_margin(image: np.ndarray, contour: np.ndarray, in_frame: np.ndarray | None = None
               ) -> float | None:
    """The median CIELAB L of one eye's lid margins in `image` (S, S, 3) RGB 0..255: the
    ring round its opening `contour` (N, 2) up to LID_SKIN[0] of the crop past it (the
    lash lines, both lids; inside `in_frame` (S, S) where given). None where under
    MIN_PIXELS of it show."""
    size = image.shape[0]
    near = max(1, round(LID_SKIN[0] * size))
    box = eye_box(contour, near, size)
    if box is None:
        return None
    opening = eye_opening(contour, box)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * near + 1, 2 * near + 1))
    ring = (cv2.dilate(opening, disc) > 0) & (opening == 0)
    if in_frame is not None:
        ring &= in_frame[box].astype(bool)
    if ring.sum() < MIN_PIXELS:
        return None
    return float(np.median(_lab(image[box][ring][None])[0, :, 0]))


def row_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(rows, first, last) of a 2-D mask whose every row holds at most one run of
    non-zero pixels (an eye's filled opening, but for a fold of its contour): the rows
    that hold one, and its first and last column in each. None where a row holds more."""
    on = mask > 0
    counts = np.count_nonzero(on, axis=1)
    rows = np.flatnonzero(counts)
    first = on[rows].argmax(axis=1)
    last = on.shape[1] - 1 - on[rows, ::-1].argmax(axis=1)
    if np.any(last - first + 1 != counts[rows]):
        return None
    return rows, first, last


@functools.cache
def _half_widths(radius: int) -> np.ndarray:
    """Per row, how far OpenCV's MORPH_ELLIPSE of `radius` reaches either side of its
    middle column (its rows are runs about it: their length // 2)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    half: np.ndarray = (disc.sum(axis=1) // 2).astype(np.intp)
    half.flags.writeable = False
    return half


def grown_runs(runs: tuple[np.ndarray, np.ndarray, np.ndarray], shape: tuple[int, ...],
               radius: int) -> np.ndarray:
    """(H, W) bool: `cv2.dilate(mask, MORPH_ELLIPSE of radius) > 0` of the (H, W) mask
    whose `row_runs` are `runs`, the same pixels: each run widened by each of the
    element's rows and moved by that row's offset, their union counted along each row
    (OpenCV's generic dilation visits each of the element's thousand points: at radius
    18, three times the cost on an eye's lid box)."""
    rows, first, last = runs
    height, width = shape[0], shape[1]
    half = _half_widths(radius)
    moved = rows[:, None] + np.arange(-radius, radius + 1)
    starts = np.maximum(first[:, None] - half, 0)
    stops = np.minimum(last[:, None] + half, width - 1) + 1
    inside = (moved >= 0) & (moved < height)
    place = moved[inside] * (width + 1)
    size = height * (width + 1)
    marks = (np.bincount(place + starts[inside], minlength=size)
             - np.bincount(place + stops[inside], minlength=size)).reshape(height, width + 1)
    grown: np.ndarray = np.cumsum(marks[:, :width], axis=1) > 0
    return grown


def lid_skin_tone(tone: EyeTone, source_skin: np.ndarray | None,
                  target_skin: np.ndarray | None) -> EyeTone:
    """`tone` with its lid's skin tone (`EyeTone.skin_ratio`, skin_a, skin_b) taking the
    source's lid skin (`lid_skin`, Lab) to the target's: lightness scaled (a shade's
    lashes stay as much darker), colour moved. As it is where either is unknown."""
    if source_skin is None or target_skin is None:
        return tone
    ratio = float(np.clip(target_skin[0] / max(float(source_skin[0]), 1.0), *SKIN_RATIO))
    return replace(tone, skin_ratio=ratio, skin_a=float(target_skin[1] - source_skin[1]),
                   skin_b=float(target_skin[2] - source_skin[2]))


def lid_margin_tone(tone: EyeTone, source_margin: float | None,
                    source_skin: np.ndarray | None, target_margin: float | None,
                    target_skin: np.ndarray | None) -> EyeTone:
    """`tone` with its `margin`: the source's lid margins' L (`lid_margin`) over its lid
    skin's (`lid_skin`) less the target's same ratio; 0 where any is unknown."""
    if (source_margin is None or target_margin is None or source_skin is None
            or target_skin is None):
        return replace(tone, margin=0.0)
    margin = (source_margin / max(float(source_skin[0]), 1.0)
              - target_margin / max(float(target_skin[0]), 1.0))
    return replace(tone, margin=float(margin))


def below_corners(box: tuple[slice, slice], corners: np.ndarray) -> np.ndarray:
    """(h, w) float32 over `box`: 1 below the line through one eye's `corners` (2, 2)
    (crop pixels; the lower lid's side), 0 above it, the half pixel either side between."""
    rows, columns = box
    left, right = sorted(np.asarray(corners, dtype=np.float64), key=lambda point: point[0])
    along = (right - left) / max(float(np.linalg.norm(right - left)), 1e-6)
    xs = np.arange(columns.start, columns.stop)[None, :]
    ys = np.arange(rows.start, rows.stop)[:, None]
    below = (xs - left[0]) * -along[1] + (ys - left[1]) * along[0]
    return np.clip(0.5 + below, 0.0, 1.0).astype(np.float32)


def toning_share(region: np.ndarray, margin: float, lower: np.ndarray | None = None
                 ) -> np.ndarray:
    """(h, w) float32: how much of the engine's image is the toned eye over one eye's
    feathered `region`: the region itself, but as far as the target's lid margins are darker
    against its skin than the source's (`margin`: the face's larger `EyeTone.margin`,
    MARGIN_FROM to MARGIN_FULL) 1 - (1 - region)^2, on the lower lid (`lower`,
    `below_corners`; None: everywhere; see MARGIN_FROM's comment)."""
    weight = float(np.clip((margin - MARGIN_FROM) / (MARGIN_FULL - MARGIN_FROM), 0.0, 1.0))
    if weight <= 0.0:
        return region
    steep = np.float32(1.0) - (np.float32(1.0) - region) ** 2 - region
    if lower is not None:
        steep *= lower
    share: np.ndarray = region + np.float32(weight) * steep
    return share


def _mean_between(chroma: np.ndarray, lightness: np.ndarray, low: float, high: float
                  ) -> np.ndarray:
    """(2,): the mean (a, b) `chroma` (N, 2) of an eye's pixels whose `lightness` (N,)
    lies between `low` and `high` (its whites, its iris)."""
    mean: np.ndarray = chroma[(lightness >= low) & (lightness <= high)].mean(axis=0)
    return mean


def toned(source: np.ndarray, tone: EyeTone, outside: np.ndarray | None = None,
          lab: np.ndarray | None = None) -> np.ndarray:
    """One eye's box (h, w, 3) float32 RGB 0..255 with `tone` applied, same shape; where
    `outside` (h, w) in [0, 1] says it lies past the opening, no lighter than its lid's
    skin toned like the target's (`EyeTone.skin_ratio`, SKIN_SOFT). `lab`: `_lab(source)`
    if already made (written over)."""
    lab = _lab(source) if lab is None else lab
    skin = None
    if outside is not None and tone.skin_ratio > 0.0:
        skin = lab.copy()
        skin[..., 0] = np.clip(skin[..., 0] * tone.skin_ratio, 0.0, 100.0)
        skin[..., 1] += tone.skin_a
        skin[..., 2] += tone.skin_b
    lightness = tone.bright + tone.gain * (lab[..., 0] - tone.source_bright)
    room = tone.top - tone.bright
    over = np.maximum(lightness - tone.bright, 0.0)
    lightness -= over - room * np.tanh(over / room)  # no whiter than the target's whites
    lab[..., 0] = np.clip(lightness, 0.0, 100.0)
    lab[..., 1] = tone.white_a + tone.shift_a + CHROMA * (lab[..., 1] - tone.white_a)
    lab[..., 2] = tone.white_b + tone.shift_b + CHROMA * (lab[..., 2] - tone.white_b)
    if skin is not None and outside is not None:
        lighter = outside * np.clip((lab[..., 0] - skin[..., 0]) / SKIN_SOFT, 0.0, 1.0)
        lab += lighter[..., None] * (skin - lab)
    rgb: np.ndarray = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(rgb, 0.0, 255.0)


class EyeToner:
    """Tones the source's eyes like the target's, eased per target track and eye."""

    def __init__(self) -> None:
        self._tones: dict[tuple[int, int], EyeTone] = {}
        self._usual_open: dict[tuple[int, int], float] = {}  # opening areas, per track and eye

    def forget(self, track: int) -> None:
        for eye in range(len(EYES)):
            self._tones.pop((track, eye), None)
            self._usual_open.pop((track, eye), None)

    def _open(self, track: int, eye: int, area: int) -> bool:
        """The target's eye is open as wide as it usually is (the largest opening of the
        track, forgotten by OPEN_DECAY a frame), not closing in a blink."""
        usual = max(float(area), OPEN_DECAY * self._usual_open.get((track, eye), 0.0))
        self._usual_open[(track, eye)] = usual
        return area >= OPEN_ENOUGH * usual

    def __call__(self, image: np.ndarray, landmarks: np.ndarray, target_image: np.ndarray,
                 target_landmarks: np.ndarray, track: int,
                 target_in_frame: np.ndarray | None = None) -> np.ndarray:
        """Each source eye in `image` (S, S, 3) float32, over `landmarks` (the moved
        ones), toned like the same eye of `target_image` (S, S, 3) uint8 over
        `target_landmarks` (its pixels `target_in_frame`), in place; returns (S, S)
        float32: the toned regions (the opening and its lash line, LASH_LINE of the crop,
        feathered; past the opening no lighter than the lid's skin toned like the
        target's, `lid_skin_tone`). Where the target's eye is closing, cut by the frame or
        too small to measure, the track's last tone is used as it was (a closed eye's lash
        line measured as its whites darkened the source's eyes for the frames after a
        blink)."""
        size = image.shape[0]
        regions = np.zeros((size, size), dtype=np.float32)
        grow = LASH_LINE * size
        for k, eye in enumerate(EYES):
            contour = np.asarray(landmarks)[eye.contour, :2]
            target_contour = np.asarray(target_landmarks)[eye.contour, :2]
            box = eye_box(contour, 2 * grow, size)
            target_box = eye_box(target_contour, 2 * grow, size)
            if box is None or target_box is None:
                continue
            opening, region = eye_region(contour, box, grow)
            target_opening = eye_opening(target_contour, target_box)
            if target_in_frame is not None:
                target_opening = target_opening * target_in_frame[target_box]
            last = self._tones.get((track, k))
            # The source eye's Lab, read by `eye_tone` and toned in place by `toned` (the
            # box's pixels do not change in between): made once where the eye is measured.
            source_lab = None
            tone = None
            if self._open(track, k, int(np.count_nonzero(target_opening))):
                source_lab = _lab(image[box])
                tone = eye_tone(image[box], opening, target_image[target_box], target_opening,
                                source_lab)
            if tone is None:
                if last is None:
                    continue
                tone = last
            else:
                corners = list(eye.corners)
                source_skin = lid_skin(image, contour, np.asarray(landmarks)[corners, :2])
                target_skin = lid_skin(target_image, target_contour,
                                       np.asarray(target_landmarks)[corners, :2],
                                       target_in_frame)
                tone = lid_margin_tone(
                    lid_skin_tone(tone, source_skin, target_skin),
                    lid_margin(image, contour), source_skin,
                    lid_margin(target_image, target_contour, target_in_frame), target_skin)
                tone = tone.eased(last, TONE_FOLLOW)
                self._tones[(track, k)] = tone
            outside = 1.0 - cv2.GaussianBlur(opening.astype(np.float32) / 255.0, (3, 3), 0)
            # The face's sockets are lit alike: its larger margin (the other eye's as last
            # toned) gates both eyes.
            other = self._tones.get((track, 1 - k))
            face_margin = max(tone.margin, -np.inf if other is None else other.margin)
            # (The lower lid's side only where the gate is open: no work on other faces.)
            lower = (below_corners(box, np.asarray(landmarks)[list(eye.corners), :2])
                     if face_margin > MARGIN_FROM else None)
            image[box] += toning_share(region, face_margin, lower)[..., None] * (
                toned(image[box], tone, outside, source_lab) - image[box])
            np.maximum(regions[box], region, out=regions[box])
        return regions


    def tint(self, image: np.ndarray, box: tuple[slice, slice], landmarks: np.ndarray,
             track: int, size: int) -> np.ndarray:
        """The target's own eyes `image` (inside `box` of the (S, S) crop of `size`,
        (h, w, 3) float32, over `landmarks`) with their irises given the colour of the
        source's toned irises last shown on `track` (none shown: as they are), so that
        where the target's eyes come back (a blink) the eye's colour does not switch.
        Returns a new array."""
        tones = [self._tones.get((track, k)) for k in range(len(EYES))]
        if all(tone is None for tone in tones):
            return image
        image = image.copy()
        for eye, tone in zip(EYES, tones, strict=True):
            contour = np.asarray(landmarks)[eye.contour, :2]
            inner = eye_box(contour, 2.0, size)
            if tone is None or inner is None:
                continue
            rows = slice(max(inner[0].start, box[0].start), min(inner[0].stop, box[0].stop))
            columns = slice(max(inner[1].start, box[1].start),
                            min(inner[1].stop, box[1].stop))
            if rows.stop - rows.start < 4 or columns.stop - columns.start < 4:
                continue
            opening, _ = eye_region(contour, (rows, columns), 1.0)
            local = (slice(rows.start - box[0].start, rows.stop - box[0].start),
                     slice(columns.start - box[1].start, columns.stop - box[1].start))
            pixels = image[local]
            lab = _lab(pixels)
            inside = opening > 0
            if inside.sum() < MIN_PIXELS:
                continue
            iris_top = np.percentile(lab[..., 0][inside], IRIS)
            weight = inside * np.clip((iris_top + IRIS_SOFT - lab[..., 0]) / IRIS_SOFT, 0, 1)
            weight = cv2.GaussianBlur(weight.astype(np.float32), (3, 3), 0)
            lab[..., 1] += weight * tone.iris_a
            lab[..., 2] += weight * tone.iris_b
            image[local] = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0, 0.0, 255.0)
        return image


def eyes_bounds(eyes: np.ndarray, own_eyes: np.ndarray) -> tuple[slice, slice] | None:
    """The box where `eyes` or `own_eyes` (S, S) is above 0.01 (`with_eyes`,
    `source_share`): None where neither is."""
    return mask_bounds((eyes > 0.01) | (own_eyes > 0.01))


def with_eyes(kept: np.ndarray, image: np.ndarray, eyes: np.ndarray, own_eyes: np.ndarray,
              reshaped: np.ndarray, box: tuple[slice, slice],
              inner: tuple[slice, slice] | Literal["find"] | None = "find"
              ) -> tuple[np.ndarray, np.ndarray]:
    """(kept, kept image) for the compositor (`SwappedFace`): `kept` (S, S) where the
    target's mouth is kept, `image` (S, S, 3) uint8 the engine's, `eyes` (S, S) the share
    of the target's own eyes, `own_eyes` (S, S) where `image` shows the source's toned
    eyes, `reshaped` the target (moved with the face shape) inside `box`. Around the eyes
    the compositor then shows the target's eyes by `eyes`, of the rest the source's toned
    eyes by `own_eyes`, and the rest its own colouring of the source's face: each share
    applied once. `inner`: `eyes_bounds(eyes, own_eyes)`, found here if not given."""
    kept = kept.astype(np.float32)  # a copy
    kept_image = image.copy()
    if inner == "find":
        inner = eyes_bounds(eyes, own_eyes)
    if inner is None:
        return kept, kept_image
    share, own_share = eyes[inner], own_eyes[inner]
    eyes_kept = 1.0 - (1.0 - share) * (1.0 - own_share)
    zone = eyes_kept > np.maximum(kept[inner], 0.01)
    # `reshaped` covers `box`, which holds every pixel where `eyes` is above 0.
    target = np.zeros((*share.shape, 3), dtype=np.float32)
    rows = slice(max(box[0].start, inner[0].start), min(box[0].stop, inner[0].stop))
    columns = slice(max(box[1].start, inner[1].start), min(box[1].stop, inner[1].stop))
    if rows.stop > rows.start and columns.stop > columns.start:
        target[rows.start - inner[0].start:rows.stop - inner[0].start,
               columns.start - inner[1].start:columns.stop - inner[1].start] = reshaped[
            rows.start - box[0].start:rows.stop - box[0].start,
            columns.start - box[1].start:columns.stop - box[1].start]
    weight = share[..., None]
    own = ((1.0 - share) * own_share)[..., None]
    mixed = (weight * target + own * image[inner]) / np.maximum(weight + own, 1e-6)
    kept_image[inner][zone] = np.clip(mixed[zone] + 0.5, 0, 255).astype(np.uint8)
    np.maximum(kept[inner], eyes_kept, out=kept[inner])
    return kept, kept_image


def source_share(kept: np.ndarray, eyes: np.ndarray, own_eyes: np.ndarray,
                 catchlights: np.ndarray | None = None,
                 inner: tuple[slice, slice] | Literal["find"] | None = "find") -> np.ndarray:
    """(S, S) float32 in [0, 1]: the share of `with_eyes`' kept image (same arguments,
    before it) that is the source's toned eyes rather than the target's, 0 elsewhere
    (`SwappedFace.kept_source`: the compositor blurs that share, never the target's).
    `catchlights` (S, S) in [0, 1]: where the target's own catchlights were laid over the
    source's irises (`mesh_catchlights.with_catchlights`), which are the target's: blurred
    as the source's, old-photo's iris glint was gone (thirteenth round review).
    `inner`: `eyes_bounds(eyes, own_eyes)`, found here if not given."""
    share = np.zeros(eyes.shape, dtype=np.float32)
    if inner == "find":
        inner = eyes_bounds(eyes, own_eyes)
    if inner is None:
        return share
    target, own = eyes[inner], (1.0 - eyes[inner]) * own_eyes[inner]
    eyes_kept = 1.0 - (1.0 - target) * (1.0 - own_eyes[inner])
    zone = eyes_kept > np.maximum(kept[inner], 0.01)
    share[inner] = np.where(zone, own / np.maximum(target + own, 1e-6), 0.0)
    if catchlights is not None:  # 0 outside `inner` either way
        share[inner] *= 1.0 - catchlights[inner]
    return share
