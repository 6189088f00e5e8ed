"""Finding where the watermark tile sits in a (possibly cropped) picture.

An uncropped picture, however resized, has the tile at its nominal size, so only the
tile's phase is unknown and one correlation finds it. A crop makes the tile larger
relative to the frame by an unknown factor per axis: those two scales are searched on a
coarse grid at half the reading resolution, then the best few are refined at full reading
resolution. A fold only adds up coherently when its scale error, times the number of
chips spanned, is under about half a chip, hence the 0.6% coarse step.

The thresholds are z-scores of the phase-only sync correlation, set from unmarked
material (see benchmarks/watermark_robustness.py): the highest score any unmarked clip or
photo of the test set reached was well below them. The searched one is higher because
searching 3,700 scale pairs gives noise that many more chances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from facedub.provenance.pattern import Matcher, SyncMatch, fold

NOMINAL_THRESHOLD = 6.0
SEARCH_THRESHOLD = 7.5
# A reading after the first is another chance for noise: its score counts less by this
# much. Two readings of unmarked frames correlate about 0.7 (60 JPEG q10 frames), and a
# Gaussian tail at 6.25 is a fifth of that at 6.0, so together they reach the threshold at
# most 1.2 times as often as the first reading alone (the union's bound; less, as they
# correlate), where counting both at 6.0 could have doubled it.
LATER_READING_MARGIN = 0.25
SCALE_MIN, SCALE_MAX = 0.95, 1.40  # tile size relative to nominal: 1.25 = 10% crop per side
COARSE_STEP = 0.006  # log-scale step of the coarse grid
_REFINE_CANDIDATES = 4
_REFINE_STEPS = 3  # refine within +-1 coarse step, in thirds


@dataclass(frozen=True)
class Geometry:
    """Where the sync pattern is: scale (x, y) relative to nominal and its phase, and in
    which of the readings given (`reading`: its index) it was found."""

    found: bool
    z: float
    threshold: float
    scale: tuple[float, float]
    sync: SyncMatch
    reading: int = 0


def find_geometry(images: Sequence[np.ndarray], fine: Matcher, coarse: Matcher) -> Geometry:
    """Locate the sync pattern in reading-resolution whitened images (or sums of them): one
    per reading of the same frames (`pattern.whitened_lumas`), the primary first.

    At nominal scale every reading is tried and the strongest taken, a later one's score
    less `LATER_READING_MARGIN`; the highest score of 106 unmarked items moved 4.81 -> 4.83
    (threshold 6.0) without the margin. The crop search, thousands of folds, reads the
    primary only: its threshold was set for one.
    """
    nominals = [_counted(fine.find_sync(fold(image, 1.0, 1.0, fine.tile_px)), later=index > 0)
                for index, image in enumerate(images)]
    reading = max(range(len(nominals)), key=lambda index: nominals[index].z)
    nominal = nominals[reading]
    if nominal.z >= NOMINAL_THRESHOLD:
        return Geometry(True, nominal.z, NOMINAL_THRESHOLD, (1.0, 1.0), nominal, reading)
    image = images[0]
    best_scale, best = (1.0, 1.0), SyncMatch(-np.inf, (0, 0))
    for scale in _coarse_candidates(image, coarse):
        for refined in _neighbourhood(scale):
            match = fine.find_sync(fold(image, *refined, fine.tile_px))
            if match.z > best.z:
                best_scale, best = refined, match
    if best.z >= SEARCH_THRESHOLD:
        return Geometry(True, best.z, SEARCH_THRESHOLD, best_scale, best)
    # Not found: report whichever attempt came closer to its own threshold.
    if nominal.z - NOMINAL_THRESHOLD >= best.z - SEARCH_THRESHOLD:
        return Geometry(False, nominal.z, NOMINAL_THRESHOLD, (1.0, 1.0), nominal, reading)
    return Geometry(False, best.z, SEARCH_THRESHOLD, best_scale, best)


def coarse_scales() -> np.ndarray:
    count = int(np.ceil(np.log(SCALE_MAX / SCALE_MIN) / COARSE_STEP)) + 1
    return np.asarray(SCALE_MIN * np.exp(np.arange(count) * COARSE_STEP))


def _counted(match: SyncMatch, later: bool) -> SyncMatch:
    """The match with its score as it counts against the threshold."""
    return replace(match, z=match.z - LATER_READING_MARGIN) if later else match


def _coarse_candidates(image: np.ndarray, coarse: Matcher) -> list[tuple[float, float]]:
    """The best few (scale_x, scale_y) on the coarse grid, at least 2 steps apart."""
    rows, cols = image.shape
    small = cv2.resize(image, (max(1, cols // 2), max(1, rows // 2)),
                       interpolation=cv2.INTER_AREA)
    scales = coarse_scales()
    scores = np.empty((len(scales), len(scales)), np.float32)  # (x index, y index)
    for ix, scale_x in enumerate(scales):
        # Folding is linear and separable: fold along x once, then along y per scale_y.
        folded_x = _fold_axis(small, float(scale_x), axis=1, tile_px=coarse.tile_px)
        folds = np.stack([_fold_axis(folded_x, float(scale_y), axis=0, tile_px=coarse.tile_px)
                          for scale_y in scales])
        scores[ix] = coarse.sync_peaks(folds)
    picked: list[tuple[int, int]] = []
    for flat_index in np.argsort(scores, axis=None)[::-1]:
        ix, iy = divmod(int(flat_index), len(scales))
        if all(max(abs(ix - px), abs(iy - py)) > 2 for px, py in picked):
            picked.append((ix, iy))
            if len(picked) == _REFINE_CANDIDATES:
                break
    return [(float(scales[ix]), float(scales[iy])) for ix, iy in picked]


def _neighbourhood(scale: tuple[float, float]) -> list[tuple[float, float]]:
    offsets = np.exp(np.arange(-_REFINE_STEPS, _REFINE_STEPS + 1) * COARSE_STEP / _REFINE_STEPS)
    return [(scale[0] * float(dx), scale[1] * float(dy)) for dx in offsets for dy in offsets]


def _fold_axis(image: np.ndarray, scale: float, axis: int, tile_px: int) -> np.ndarray:
    """Shrink `image` by `scale` along one axis and sum its tile_px-long blocks there."""
    rows, cols = image.shape
    if axis == 1:
        size = int(np.ceil(cols / scale))
        matrix = np.array([[1.0 / scale, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
        resampled = cv2.warpAffine(image, matrix, (size, rows), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        blocks = -(-size // tile_px)
        padded = np.zeros((rows, blocks * tile_px), np.float32)
        padded[:, :size] = resampled
        return np.asarray(padded.reshape(rows, blocks, tile_px).sum(axis=1))
    return _fold_axis(np.ascontiguousarray(image.T), scale, 1, tile_px).T
