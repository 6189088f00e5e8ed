"""Matching the swapped face's sharpness to the target's.

A face taken from a sharp studio photo and pasted into a soft webcam frame shows at once:
its pores and stubble are crisper than everything around it. The face is blurred just
enough that its fine detail (Laplacian energy inside the mask) matches the target's: the
bare skin and the features each to the target's own there, so a sharp photo's skin keeps
its texture down to the frame's level even where its features need a stronger blur,
where it has texture to keep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.grain import MIN_MISSING, grain_level
from facedub.engines.mesh_warp import enlarged_box
from facedub.faces.masks import mask_bounds

SIGMAS = (0.0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.8)
# Pixels around the mask's box that the widest trial blur (OpenCV's uint8 kernel reaches
# 3 sigma) and the Laplacian read: inside the box they see what they see in the whole crop.
_MARGIN = math.ceil(3 * SIGMAS[-1]) + 2


def detail_energy(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared Laplacian of the grey image where the mask is above one half."""
    return _energy(image, mask > 0.5)


def _energy(image: np.ndarray, inside: np.ndarray, weight: np.ndarray | None = None
            ) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    if not inside.any():
        return 0.0
    if weight is None:
        return float(np.mean(laplacian[inside] ** 2))
    return float(np.average(laplacian[inside] ** 2, weights=weight[inside]))


def match_sharpness(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                    bare: np.ndarray | None = None) -> np.ndarray:
    """The face, blurred with the smallest of SIGMAS that brings its detail energy down to
    the target's (never sharpened: detail that is not there cannot be made up);
    `sharpness_sigma` chooses it. With `bare` (S, S) float in [0, 1] (1 on the bare skin,
    0 on the features: `tone.skin_weights(...).bare`), the skin and the features are each
    matched to the target's own (`split_sigmas`) and blended by it.

    Judged over the whole mask, the features' strong edges set the blur: a sharp studio
    photo's smooth skin went to -0.71 log2 of a GIF's dithered skin while its features
    came to -0.3, and the grain step's noise stood in for the skin's lost texture
    (BENCHMARKS.md, thirtieth and thirty-first rounds)."""
    if bare is None:
        sigma = sharpness_sigma(face, target, mask)
        return _blurred(face, sigma)
    sigmas = split_sigmas(face, target, mask, bare)
    if sigmas.skin == sigmas.features:
        return _blurred(face, sigmas.skin)
    # The skin's blur only round where the mask shows the face (its feather included),
    # the features' only round where they are (`bare` below one): there each is the
    # whole crop's (the boxes' margin is the widest blur's reach).
    shown = _box(mask > 0)
    if shown is None:
        return face
    result = face.copy()
    result[shown] = _blurred(np.ascontiguousarray(face[shown]), sigmas.skin)
    features = _box((bare < FULL_SKIN) & (mask > 0))
    if features is not None:
        weight = np.ascontiguousarray(bare[features], dtype=np.float32)
        result[features] = cv2.blendLinear(
            np.ascontiguousarray(result[features]),
            _blurred(np.ascontiguousarray(face[features]), sigmas.features),
            weight, 1.0 - weight)
    return result


# `bare` at or above this is skin only (its soft edge's tail: under a grey level's blend)
FULL_SKIN = 0.995


def _blurred(face: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(face, (0, 0), sigma) if sigma > 0 else face


@dataclass(frozen=True)
class SplitSigmas:
    """The Gaussian blurs (sigma in pixels, 0: none) that bring the face's bare skin and
    its features each to the target's detail energy there."""

    skin: float
    features: float


# Below this share of the mask's pixels a part (the features of a face seen from far
# off, the skin of one a hand covers) reads too few pixels to judge: it takes the other
# part's blur.
MIN_PART_SHARE = 0.05


def split_sigmas(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                 bare: np.ndarray) -> SplitSigmas:
    """The blurs for the skin (`bare` above one half) and for the features (the rest)
    inside `mask` (above one half) that bring the face's detail energy there down to the
    target's there (`_part_sigma`); a part under MIN_PART_SHARE of the mask takes the
    other's (both judged as a whole). One blur of the box's Laplacian per trial of SIGMAS
    serves both parts (the box: as in `sharpness_sigma`).

    The split is made only where under the whole mask's blur (`sharpness_sigma`'s, read
    by `_Readings` from the same blurs) the skin would lack `grain.MIN_MISSING` grey
    levels of the target skin's grain at least (the smoker's GIF: 0.64-0.97); elsewhere
    the face is judged as a whole, as before, and the skin is never blurred more than
    that. A skin that lacks less has no texture to gain by being spared: a self-swap's
    webcam source lacks 0.03-0.27 (self-photo; split, its SSIM fell 0.9171 -> 0.9166), an
    old scan's skin has more grain than the frame's (old-photo: -0.02 to -0.08; split,
    its dense grain at the frame's Laplacian energy read twice the frame's grain, written
    0.07 -> 0.23 log2; BENCHMARKS.md, thirty-first and thirty-second rounds)."""
    inside = mask > 0.5
    box = _box(inside)
    if box is None:
        return SplitSigmas(0.0, 0.0)
    inside = inside[box]
    skin = inside & (bare[box] > 0.5)
    parts = [part.view(np.uint8) for part in (skin, inside & ~skin)]
    counts = [cv2.countNonZero(part) for part in parts]
    if min(counts) < MIN_PART_SHARE * sum(counts):  # one part: judged as a whole
        sigma = sharpness_sigma(face, target, mask)
        return SplitSigmas(sigma, sigma)
    read = _Readings(face[box], target[box], [*parts, inside.view(np.uint8)])
    whole = read.whole(2)
    if read.missing_grain(0, whole) < MIN_MISSING:  # not spared: judged as a whole
        return SplitSigmas(whole, whole)
    # The target's and the unblurred face's Laplacians and energies in the parts are the
    # readings' own (the same grey, the same Laplacian): made once, not again here.
    wanted = read.wanted(len(parts))
    # The Laplacian of the blurred face is the blurred Laplacian (both are convolutions):
    # taken once, each trial is one blur of it.
    laplacian = read.laplacian(0.0)
    trials = [(0.0, read.energies(0.0, len(parts)))]
    for sigma in SIGMAS[1:]:
        if all(energy <= limit * 1.1 for energy, limit in zip(trials[-1][1], wanted,
                                                               strict=True)):
            break
        trials.append((sigma, _energies(cv2.GaussianBlur(laplacian, (0, 0), sigma), parts)))
    skin_sigma, feature_sigma = (
        _part_sigma(laplacian, part, [(sigma, energies[index]) for sigma, energies in trials],
                    wanted[index]) for index, part in enumerate(parts))
    return SplitSigmas(min(skin_sigma, whole), feature_sigma)


class _Readings:
    """The face's parts read as written (its box blurred as uint8 RGB, the grey rounded, as
    `match_sharpness` and the measures make it) at any blur, each blur made once, against
    the target's: the Laplacian energy and the grain (mean |grey - its 3x3 median| on the
    image's own flat pixels, as the eval and `grain.grain_level` read it)."""

    def __init__(self, face: np.ndarray, target: np.ndarray, parts: list[np.ndarray]):
        self._face = face
        self._parts = parts
        self._target_grey = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY)
        self._wanted_energies = self._energies(self._target_grey)
        self._greys: dict[float, np.ndarray] = {}
        self._laplacians: dict[float, np.ndarray] = {}
        self._energy_readings: dict[float, list[float]] = {}

    def _energies(self, grey: np.ndarray) -> list[float]:
        return _energies(_grey_laplacian(grey), self._parts)

    def wanted(self, count: int) -> list[float]:
        """The target's energies in the first `count` parts."""
        return self._wanted_energies[:count]

    def laplacian(self, sigma: float) -> np.ndarray:
        """The float32 Laplacian of the face's grey blurred by `sigma` (`_laplacian`'s
        of the blurred face)."""
        if sigma not in self._laplacians:
            self._laplacians[sigma] = _grey_laplacian(self._grey(sigma))
        return self._laplacians[sigma]

    def energies(self, sigma: float, count: int) -> list[float]:
        """The face's energies blurred by `sigma` in the first `count` parts."""
        self._energy(0, sigma)
        return self._energy_readings[sigma][:count]

    def _grain(self, grey: np.ndarray, index: int) -> float:
        # Read where the image itself is flat, as the grain step and the measures read it.
        return grain_level(grey.astype(np.float32), self._parts[index])

    def _grey(self, sigma: float) -> np.ndarray:
        if sigma not in self._greys:
            self._greys[sigma] = cv2.cvtColor(_blurred(self._face, sigma), cv2.COLOR_RGB2GRAY)
        return self._greys[sigma]

    def _energy(self, index: int, sigma: float) -> float:
        if sigma not in self._energy_readings:
            self._energy_readings[sigma] = _energies(self.laplacian(sigma), self._parts)
        return self._energy_readings[sigma][index]

    def whole(self, index: int) -> float:
        """`sharpness_sigma`'s blur for part `index` (the whole mask), from the same
        blurs: the first of SIGMAS whose energy is within 10% of the target's there."""
        wanted = self._wanted_energies[index] * 1.1
        return next((sigma for sigma in SIGMAS if self._energy(index, sigma) <= wanted),
                    SIGMAS[-1])

    def missing_grain(self, index: int, sigma: float) -> float:
        """Grey levels of grain part `index` of the face blurred by `sigma` lacks against
        the target's there (negative: it has more)."""
        return (self._grain(self._target_grey, index)
                - self._grain(self._grey(sigma), index))


REFINEMENTS = 2  # blurs tried between two of SIGMAS, each nearer the wanted energy


def _part_sigma(laplacian: np.ndarray, part: np.ndarray, trials: list[tuple[float, float]],
                wanted: float) -> float:
    """The blur for one part from its energies at the trial sigmas (ascending): 0 if the
    first is within 10% of `wanted`, else the first trial that is, brought nearer by up
    to REFINEMENTS blurs between it and the one before (`_between`), each kept only if
    its energy is within 10% of `wanted` too (as with SIGMAS: never more detail than the
    frame's); the largest of SIGMAS if none is. SIGMAS' steps are coarse: a sharp
    photo's skin blurred by the next one came out 0.2-0.3 log2 softer than a GIF frame's
    (BENCHMARKS.md, thirty-first round)."""
    first = next((index for index, (_, energy) in enumerate(trials)
                  if energy <= wanted * 1.1), None)
    if first is None:
        return SIGMAS[-1]
    if first == 0:
        return 0.0
    (softer, before), (harder, after) = trials[first - 1], trials[first]
    for _ in range(REFINEMENTS):
        sigma = _between(softer, harder, before, after, wanted)
        if not softer < sigma < harder:
            break
        energy = _energies(cv2.GaussianBlur(laplacian, (0, 0), sigma), [part])[0]
        if energy <= wanted * 1.1:
            harder, after = sigma, energy
        else:
            softer, before = sigma, energy
    return harder


def _grey_laplacian(grey: np.ndarray) -> np.ndarray:
    """The float32 Laplacian of a uint8 grey image."""
    laplacian: np.ndarray = cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F)
    return laplacian


def _energies(laplacian: np.ndarray, parts: list[np.ndarray]) -> list[float]:
    """Mean square of a float32 `laplacian` in each uint8 (0/1) part."""
    squared = cv2.multiply(laplacian, laplacian)
    return [float(cv2.mean(squared, mask=part)[0]) for part in parts]


def _between(softer: float, harder: float, before: float, after: float, wanted: float
             ) -> float:
    """The blur between two (`softer` < `harder`) at which the detail energy (`before`
    at the lesser, `after` at the greater) reaches `wanted`, its logarithm taken as
    linear in sigma."""
    if after >= wanted or before <= after:
        return harder
    share = math.log(before / max(wanted, 1e-6)) / math.log(before / max(after, 1e-6))
    return softer + (harder - softer) * min(1.0, max(0.0, share))


def _box(inside: np.ndarray) -> tuple[slice, slice] | None:
    """The box round the bool `inside` (plus _MARGIN): the trial blurs and the Laplacian
    see in it what they see in the whole crop. None where nothing is inside."""
    x, y, width, height = cv2.boundingRect(inside.view(np.uint8))
    if not width:
        return None
    rows, columns = inside.shape
    return (slice(max(0, y - _MARGIN), min(rows, y + height + _MARGIN)),
            slice(max(0, x - _MARGIN), min(columns, x + width + _MARGIN)))


def sharpness_sigma(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                    weighted: bool = False) -> float:
    """The smallest of SIGMAS (0: none) whose Gaussian blur brings the face's detail
    energy inside `mask` down to the target's (within 10%), else the largest. `weighted`:
    measured wherever `mask` is above 0.01, each pixel by its `mask` (a share of an image
    that never reaches one half, the source's eyes as the target's close, is measured
    too), else where it is above one half.

    The energies are measured on the box around the mask (plus _MARGIN), which gives the
    same values as on the whole crop at a fraction of the cost."""
    inside = mask > (0.01 if weighted else 0.5)
    rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not rows.size:
        return 0.0
    height, width = inside.shape
    box = (slice(max(0, rows[0] - _MARGIN), min(height, rows[-1] + 1 + _MARGIN)),
           slice(max(0, columns[0] - _MARGIN), min(width, columns[-1] + 1 + _MARGIN)))
    inside, part = inside[box], face[box]
    weight = mask[box] if weighted else None
    wanted = _energy(target[box], inside, weight)
    if _energy(part, inside, weight) <= wanted * 1.1:
        return 0.0
    for sigma in SIGMAS[1:]:
        if _energy(cv2.GaussianBlur(part, (0, 0), sigma), inside, weight) <= wanted * 1.1:
            return sigma
    return SIGMAS[-1]


# The source's skin texture held to the target skin's own (`texture_excess`), band by
# band: the finest grain (below TEXTURE_GRAIN px, a webcam's or a film's noise) and the
# pores and specks (from there to sigma / TEXTURE_DIVISOR), each where it is locally
# (rms within sigma / TEXTURE_REACH) stronger than TEXTURE_GAIN times the target's same
# band there plus TEXTURE_FLOOR L units. Coarser (wrinkles, folds, the nose's shading:
# the source's likeness) is left alone.
TEXTURE_GRAIN = 1.0
TEXTURE_DIVISOR = 8.0
TEXTURE_REACH = 4.0
TEXTURE_GAINS = (2.0, 1.0)  # finest grain, pores
TEXTURE_FLOOR = 0.05


def texture_excess(lightness: np.ndarray, target_lightness: np.ndarray, weight: np.ndarray,
                   sigma: float, box: tuple[slice, slice] | None = None) -> np.ndarray:
    """(S, S) float32 L units (only in `box`, if given) to take off the face's
    `lightness` (S, S; read in `texture_box` alone) so that, in the
    `weight` (S, S) in [0, 1] (the bare skin the face shows), each of its two fine bands
    is locally no stronger than the target's same band in `target_lightness` (S, S, the
    target crop's L at full size) allows; `sigma` is the compositor's low-pass (pixels).

    A studio photo's pores and a shaved chin's specks came over whole: at 1x Paul Rudd's
    photo on Katie Hill's smooth skin read grey and dotted (the README pair: in the frame
    her cheeks' band below 1.5 px 0.33 L rms, the face's 1.00; BENCHMARKS.md, eighteenth
    to twentieth rounds). Held as one band (all below sigma / 8) and measured at half
    size, the limit cut a face with a photo's 2-3 px texture below a grainy webcam
    target's 1 px grain (hair-forehead): it took the face's own finest band with the
    pores, and at half size the target's grain was averaged away. Band by band at full
    size, a band the target shows as strongly is never cut below it, and a face never
    loses more than its surplus over the target's in that band."""
    size = lightness.shape[0]
    coarse = _coarse(sigma)
    half = max(8, size // 2)
    small_weight = np.clip(resized(weight.astype(np.float32, copy=False), half), 0.0, 1.0)
    reach = max(0.5, sigma / TEXTURE_REACH * half / size)
    around = cv2.GaussianBlur(small_weight, (0, 0), reach)
    around += np.float32(1e-3)
    rows, columns = texture_box(weight, sigma)
    whole = (slice(0, size), slice(0, size))
    box = whole if box is None else box
    excess = np.zeros(lightness[box].shape, dtype=np.float32)
    if rows.stop == rows.start:  # no bare skin shown: nothing to hold
        return excess
    # The bands in the box's columns only, widened to OpenCV's vector blocks
    # (`vector_columns`): each row's blur there is the whole row's to the bit. Outside,
    # the weight, the cut and so the excess are nil.
    columns = vector_columns(columns, size)
    # Below, each step of the limit in place on its own map (min((gain * wanted + floor)
    # / max(present, 1e-3), 1), then the weight times 1 - that): the same float32
    # operations in the same order, five half-size temporaries fewer a band; the cut
    # enlarged only in the rows it is used in (`enlarged_box`, the whole enlargement's
    # values there). BENCHMARKS.md, Refiner, sixteenth round.
    for gain, face_band, target_band in zip(
            TEXTURE_GAINS, _bands(lightness[rows, columns], coarse),
            _bands(target_lightness[rows, columns], coarse), strict=True):
        share = _local_rms(target_band, (rows, columns), size, small_weight, around, reach)
        share *= np.float32(gain)
        share += np.float32(TEXTURE_FLOOR)
        present = _local_rms(face_band, (rows, columns), size, small_weight, around, reach)
        np.maximum(present, np.float32(1e-3), out=present)
        np.divide(share, present, out=share)
        np.minimum(share, np.float32(1.0), out=share)
        cut = np.subtract(np.float32(1.0), share, out=share)
        cut *= small_weight
        cut_box = enlarged_box(cut, size, (rows, columns))
        np.multiply(cut_box, face_band, out=face_band)
        # Into the box's part of it (beyond the rows and columns the excess is 0).
        within = _within((rows, columns), box)
        if within is not None:
            inner, outer = within
            excess[outer] += face_band[inner]
    return excess


def _within(part: tuple[slice, slice], box: tuple[slice, slice]
            ) -> tuple[tuple[slice, slice], tuple[slice, slice]] | None:
    """Where the boxes `part` and `box` (of one image) meet: that as slices into `part`'s
    own array and into `box`'s; None where they do not."""
    starts = [max(a.start, b.start) for a, b in zip(part, box, strict=True)]
    stops = [min(a.stop, b.stop) for a, b in zip(part, box, strict=True)]
    if any(stop <= start for start, stop in zip(starts, stops, strict=True)):
        return None
    inner = tuple(slice(start - a.start, stop - a.start)
                  for start, stop, a in zip(starts, stops, part, strict=True))
    outer = tuple(slice(start - b.start, stop - b.start)
                  for start, stop, b in zip(starts, stops, box, strict=True))
    return (inner[0], inner[1]), (outer[0], outer[1])


# OpenCV's float row filters run in blocks of this many columns, the row's last
# (width mod VECTOR_BLOCK) columns apart.
VECTOR_BLOCK = 16


def vector_columns(columns: slice, size: int) -> slice:
    """`columns` of an (S, S) float32 plane (S `size`) widened so that a Gaussian blur of
    the strip gives each of its columns the whole rows' values there, to the bit: from a
    multiple of VECTOR_BLOCK, to one or to the rows' end (the strip's vector blocks are
    the whole rows' blocks, its tail their tail; OpenCV's tail is computed apart, and a
    strip cut elsewhere differed in the last bit: BENCHMARKS.md, thirty-fourth round).
    The values hold only where the strip reaches the blur's kernel past them; the texture
    box's margin gives that."""
    start = columns.start // VECTOR_BLOCK * VECTOR_BLOCK
    stop = -(-columns.stop // VECTOR_BLOCK) * VECTOR_BLOCK
    if stop > size // VECTOR_BLOCK * VECTOR_BLOCK:
        stop = size
    return slice(start, stop)


def filled_beyond_frame(lightness: np.ndarray, in_frame: np.ndarray | None,
                        sigma: float) -> np.ndarray:
    """(S, S) float32: the target's `lightness` with the crop's black fill beyond a frame
    edge (`in_frame` False) replaced by the frame's own lightness spread smoothly across it,
    for `texture_excess` at the compositor's low-pass `sigma`.

    The fill's edge is a step the bands' blurs reach 4 x sigma / 8 into the frame: there
    the target read as strongly textured and a source's pores were left whole in a strip
    about 20 px wide along the edge (440 px, review of the twentieth round). A smooth
    continuation has no band of its own, so the strip is held like the rest of the skin."""
    if in_frame is None or in_frame.all() or not in_frame.any():
        return lightness
    inside = in_frame.astype(np.float32)
    spread_sigma = 2.0 * _coarse(sigma)  # the fill's own edge 8 x coarse out: unseen
    spread = cv2.GaussianBlur(lightness * inside, (0, 0), spread_sigma) / np.maximum(
        cv2.GaussianBlur(inside, (0, 0), spread_sigma), np.float32(1e-6))
    return np.where(in_frame, lightness, spread).astype(np.float32)


def texture_box(weight: np.ndarray, sigma: float) -> tuple[slice, slice]:
    """The rows and columns of an (S, S) crop that `texture_excess` needs its planes in
    for the `weight` (S, S) and `sigma`: the weight's own and the bands' blur reach round
    them, even-aligned (whole pixels of the half-size planes); all for an odd S.

    The limit's cut is nil outside (the weight is, and the cut's enlargement reaches 1 px
    past it). OpenCV blurs each row of a narrower strip with the same values; a strip cut
    in columns anywhere changed its vector loops' blocks and 14 of 60 random boxes differed
    in the last bit (sigma 1), so `texture_excess` widens the columns to whole vector
    blocks (`vector_columns`). A box's Lab conversion is its pixels' own (200 random
    boxes: the same values)."""
    size = weight.shape[0]
    bounds = mask_bounds(weight > 0)
    if bounds is None:
        return slice(0, 0), slice(0, 0)
    if size % 2 or size < 16:  # half-size pixels are not whole pairs of these
        return slice(0, size), slice(0, size)
    # OpenCV's float kernel reaches 4 sigma (rounded: at most one pixel more), the cut's
    # enlargement 2 pixels past the weight, the even alignment 1.
    margin = math.ceil(4 * _coarse(sigma)) + 4

    def reach(shown: slice) -> slice:
        return slice(max(0, (shown.start - margin) // 2 * 2),
                     min(size, (shown.stop + margin + 1) // 2 * 2))

    return reach(bounds[0]), reach(bounds[1])


def _coarse(sigma: float) -> float:
    """The pores' band's coarse edge (px) for the compositor's low-pass `sigma`."""
    return max(sigma / TEXTURE_DIVISOR, 1.5 * TEXTURE_GRAIN)


def _bands(lightness: np.ndarray, coarse: float) -> tuple[np.ndarray, np.ndarray]:
    """The finest grain (below TEXTURE_GRAIN px) and the pores and specks (from there to
    `coarse` px) of a float32 plane."""
    grain_low = cv2.GaussianBlur(lightness, (0, 0), TEXTURE_GRAIN)
    return lightness - grain_low, grain_low - cv2.GaussianBlur(lightness, (0, 0), coarse)


def resized(image: np.ndarray, size: int) -> np.ndarray:
    """A square `image` at `size` pixels a side: area-averaged when shrunk, bilinear
    when enlarged, itself when already that size."""
    if image.shape[0] == size:
        return image
    shrink = image.shape[0] > size
    result: np.ndarray = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA
                                    if shrink else cv2.INTER_LINEAR)
    return result


def _local_rms(band: np.ndarray, box: tuple[slice, slice], size: int, weight: np.ndarray,
               around: np.ndarray, reach: float) -> np.ndarray:
    """(s, s) rms of the `band` (the `box` of an (S, S) plane, S `size`) in the (s, s)
    `weight` within Gaussian `reach` (s pixels; `around` is the weight's own blur by it)."""
    rows, columns = box
    small = weight.shape[0]
    # Even-aligned rows (or all): halved they are whole rows of `energy`, and outside
    # them the weight is nil. The squares laid into whole rows (0 beyond the columns:
    # the weight is nil there too), so the shrink is the whole rows' to the bit.
    first, last = rows.start * small // size, rows.stop * small // size
    squares = np.zeros((band.shape[0], size), dtype=np.float32)
    np.multiply(band, band, out=squares[:, columns])
    energy = np.zeros_like(weight)
    energy[first:last] = cv2.resize(squares, (small, last - first),
                                    interpolation=cv2.INTER_AREA)
    # The weight (in [0, 1]) times the energy only in its rows: elsewhere that is 0 * w,
    # +0 as the zeros already are. Then each step in place on the blur's own map.
    energy[first:last] *= weight[first:last]
    spread = cv2.GaussianBlur(energy, (0, 0), reach)
    # The blur's float rounding leaves tiny negative values where the weight is nil.
    np.maximum(spread, np.float32(0.0), out=spread)
    np.divide(spread, around, out=spread)
    local: np.ndarray = np.sqrt(spread, out=spread)
    return local
