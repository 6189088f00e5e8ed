"""Glasses rims as whole rings: clear plastic frames show in the pixels only as faint,
broken lines (the top-hat of `faces.glasses_cues.glasses_frames` finds their edges in
fragments), which pasted alone leave the rims half swapped over. A rim is a closed
ring around each eye, so a ring is fitted to the fragments and drawn whole.

All in the face's fine canonical crop (see facedub.composite.occlusion): the face is
upright there and the eyes are where the landmarks say, so the search is small.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.glasses_cues import (
    RING_HALF_WIDTHS,
    RING_OFFSETS_X,
    RING_OFFSETS_Y,
    RING_RATIOS,
    RING_SAMPLES,
    RING_SPREAD,
)
from facedub.faces.regions import mesh_regions

# Rings tried around each eye, in units of the eye spacing: centre offsets, half-widths
# and height-to-width ratios (a turned head foreshortens the far lens); points along a
# ring (a multiple of 8: see `_row_counts`); a line's spread. One grid with the frame
# cue's rim test (`glasses_cues`, the layer below, fits the same rings).
OFFSETS_X, OFFSETS_Y = RING_OFFSETS_X, RING_OFFSETS_Y
HALF_WIDTHS, RATIOS = RING_HALF_WIDTHS, RING_RATIOS
SAMPLES = RING_SAMPLES
RIM_WIDTH = 0.09  # drawn rim thickness, in eye spacings (the lines' own spread)
# The fit is no evidence of glasses: on bare faces, lids, eye bags and wrinkles give
# rings as good as faint rims do (measured on the shared clips); it is only drawn once
# the face is known to wear glasses.
# Glasses sit still on the face, so in the canonical crop their rims stay put, but the
# best ring of a frame follows its lines' noise (d12: the fresh fit moves a median 2.4 px
# a frame in x, a tenth of its frames 10 px or more). A track's rims are fitted to its
# lines eased over frames (LINES_EASING, a call's share) and held unless another ring
# runs along HOLD_SAMPLES more of them (see `follow_rims`).
# (d12, searched every frame: LINES_EASING 0.2-0.5 and HOLD_SAMPLES 2-5 moved the rims in
# 19-68 of its 182 frames; fitted afresh, they moved in every one.)
LINES_EASING = 0.3
HOLD_SAMPLES = 3.0
# Held rims rarely move (d12: in 36 of 182 frames), so they are searched for on every
# SEARCH_EVERY-th frame of a track only (`follow_rims` eases the lines in on every call; a
# track judged to wear glasses looks for its lines, and calls it, on the search's frames
# only, see facedub.composite.occlusion, so there a move comes a frame or two later).
SEARCH_EVERY = 2
# The rims drawn are at least this large unless a smaller ring is clearly the rim: rings
# of 0.30 and 0.34 eye spacings run along a lid's crease as well as the rim runs along the
# frame's lines (d12's right eye, frames 140-160: the best ring swapped between 21 and
# 31-34 px half-widths, the rim 31-34, at a spacing of 61 px), and held they stayed on the
# crease. Small round glasses (narrower than 0.76 eye spacings) have no larger ring along
# their rims: a smaller ring is drawn where it runs along SMALL_MARGIN more of the lines'
# points than any ring of DRAWN_HALF_WIDTHS (a crease runs along about as many as the rim;
# small rims painted on d3, their sides near the eye corners left out by
# `glasses_frames`, 4-9 more than the larger rings, which share only their lower arcs;
# d12's and d9's rims are held as before with 4 or 8).
DRAWN_HALF_WIDTHS = tuple(w for w in HALF_WIDTHS if w >= 0.38)
SMALL_MARGIN = 4.0

# Which of `_candidates`' rings (ordered by x offset, y offset, half-width, ratio) are of
# DRAWN_HALF_WIDTHS.
_LARGE_RINGS = np.array(np.meshgrid(OFFSETS_X, OFFSETS_Y, HALF_WIDTHS, RATIOS, indexing="ij")
                        )[2].ravel() >= min(DRAWN_HALF_WIDTHS)

Rings = np.ndarray  # (2, 4) float: centre x, centre y, half-width, half-height per eye


def _candidates(spacing: float) -> np.ndarray:
    """(N, 4) ring offsets and half-axes around an eye centre."""
    grid = np.array(np.meshgrid(OFFSETS_X, OFFSETS_Y, HALF_WIDTHS, RATIOS,
                                indexing="ij")).reshape(4, -1).T
    rings = grid.copy()
    rings[:, 3] = grid[:, 2] * grid[:, 3]
    return rings * spacing


def fit_rims(frames: np.ndarray, landmarks: np.ndarray) -> Rings:
    """The ring around each eye that runs most along the frame lines in `frames`
    (C, C) float32 in [0, 1]; `landmarks` in its pixels."""
    return _best_rings(frames, landmarks)[0]


@dataclass(frozen=True)
class HeldRims:
    """A track's rims: `rings` as held, and `lines` (C, C) float32 in [0, 1], the running
    mean (LINES_EASING) of where its frames' lines are (`_near_lines`)."""

    rings: Rings
    lines: np.ndarray
    searched: int = 0  # frames since the rings were last searched for


def follow_rims(frames: np.ndarray, landmarks: np.ndarray, held: HeldRims | None
                ) -> HeldRims:
    """The rims of a track on this frame: the ring around each eye that runs most along
    the track's lines so far (`held`'s, None on its first frame, eased towards those in
    `frames`), where it runs along HOLD_SAMPLES more of them than the `held` ring does;
    else the held ring. A real move (a turn that changes their projection) is followed
    within a few frames; the lines' noise is not. Between searches (SEARCH_EVERY) the
    held rings are kept."""
    near, _ = _near_lines(frames, landmarks)
    lines = near.astype(np.float32)
    if held is not None and held.lines.shape == lines.shape:
        lines -= held.lines
        lines *= LINES_EASING
        lines += held.lines
    if held is not None and not searching(held):
        return HeldRims(held.rings, lines, held.searched + 1)
    flat = _padded_flat(lines)
    candidates, scores = _ring_scores(flat, lines.shape[0], landmarks)
    best = _drawn_best(scores)
    eyes = np.arange(2)
    rings = candidates[eyes, best]
    if held is not None:
        kept = (_ring_sums(flat, lines.shape[0], held.rings) + HOLD_SAMPLES
                > scores[eyes, best])
        rings[kept] = held.rings[kept]
    return HeldRims(rings, lines)


def _drawn_best(scores: np.ndarray) -> np.ndarray:
    """(2,) for each eye the index of the ring to draw among `_ring_scores`' (2, N):
    the best of DRAWN_HALF_WIDTHS, or the best smaller ring where it runs along
    SMALL_MARGIN more points (small round glasses)."""
    large = _LARGE_RINGS
    best_large = np.flatnonzero(large)[np.argmax(scores[:, large], axis=1)]
    best_small = np.flatnonzero(~large)[np.argmax(scores[:, ~large], axis=1)]
    eyes = np.arange(len(scores))
    small = scores[eyes, best_small] >= scores[eyes, best_large] + SMALL_MARGIN
    return np.where(small, best_small, best_large)


def searching(held: HeldRims) -> bool:
    """Whether the frame after that of `held` searches for the rims (SEARCH_EVERY)."""
    return held.searched + 1 >= SEARCH_EVERY


def between_searches(held: HeldRims) -> HeldRims:
    """`held` on a frame whose lines are not looked for (`searching` false): the same
    rims and lines, a frame further from the last search."""
    return HeldRims(held.rings, held.lines, held.searched + 1)


def _padded_flat(lines: np.ndarray) -> np.ndarray:
    """`lines` (C, C) with a pixel of zeros around, flattened: every sample beyond the
    crop reads 0 (a flat index into it is cheaper than clipping and masking)."""
    size = lines.shape[0]
    padded = np.zeros((size + 2, size + 2), np.float32)
    padded[1:-1, 1:-1] = lines
    return padded.ravel()


def _ring_sums(flat: np.ndarray, size: int, rings: np.ndarray) -> np.ndarray:
    """(N,) the sum of `flat` (`_padded_flat` of a (size, size) map) at the points of
    `rings` (N, 4)."""
    angles = np.linspace(0.0, 2.0 * np.pi, SAMPLES, endpoint=False)
    xs = np.clip(np.round(rings[:, :1] + rings[:, 2:3] * np.cos(angles)), -1, size)
    ys = np.clip(np.round(rings[:, 1:2] + rings[:, 3:4] * np.sin(angles)), -1, size)
    at = (ys.astype(np.intp) + 1) * (size + 2) + xs.astype(np.intp) + 1
    return np.asarray(flat[at].sum(axis=1, dtype=np.float64))


def _ring_scores(flat: np.ndarray, size: int, landmarks: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(2, N, 4) the rings tried around each eye (`_candidates` about its centre) and
    (2, N) the sum of `flat` (`_padded_flat` of a (size, size) map) at their points.
    (Each ring's columns are rounded once per x offset and half-width, its rows once per
    y offset, half-width and ratio, as in `_best_rings`.)"""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    candidates = _candidates(spacing)
    grid = (len(OFFSETS_X), len(OFFSETS_Y), len(HALF_WIDTHS), len(RATIOS))
    by_x = candidates.reshape(*grid, 4)[:, 0, :, 0]
    by_y = candidates.reshape(*grid, 4)[0]
    angles = np.linspace(0.0, 2.0 * np.pi, SAMPLES, endpoint=False)
    cos, sin = np.cos(angles), np.sin(angles)
    rings = np.zeros((2, len(candidates), 4))
    scores = np.zeros((2, len(candidates)))
    for eye, centre in enumerate(centres):
        shift = np.array([centre[0], centre[1], 0.0, 0.0])
        xr, yr = by_x + shift, by_y + shift
        xs = np.clip(np.round(xr[..., :1] + xr[..., 2:3] * cos), -1, size).astype(np.intp)
        ys = np.clip(np.round(yr[..., 1:2] + yr[..., 3:4] * sin), -1, size).astype(np.intp)
        at = (xs + 1)[:, None, :, None] + ((ys + 1) * (size + 2))[None]
        scores[eye] = flat[at.reshape(len(candidates), SAMPLES)].sum(axis=1, dtype=np.float64)
        rings[eye] = candidates + shift
    return rings, scores


def _near_lines(frames: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(C, C) uint8 1 on or a pixel or two beside the lines of `frames`, and the eye
    spacing in its pixels."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    spacing = float(np.linalg.norm(points[regions.left_eye].mean(axis=0)
                                   - points[regions.right_eye].mean(axis=0)))
    spread = max(1, round(RING_SPREAD * spacing))
    near = cv2.dilate((frames > 0.2).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spread + 1,) * 2))
    return near, spacing


def ring_cover(frames: np.ndarray, landmarks: np.ndarray) -> float:
    """The share of its points that the best ring of the eye with the fewer lines runs
    along (see `fit_rims`): no evidence alone (see the note above), one of three in
    `faces.glasses_cues.faint_glasses_evidence`."""
    return float(_best_rings(frames, landmarks)[1].min())


def _best_rings(frames: np.ndarray, landmarks: np.ndarray) -> tuple[Rings, np.ndarray]:
    """The best ring of each eye and the share of its points on a line."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    size = frames.shape[0]
    # A line counts where it is, or a pixel or two beside (the ring is not exact).
    spread = max(1, round(RING_SPREAD * spacing))
    near = cv2.dilate((frames > 0.2).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spread + 1,) * 2))
    # With a pixel of zeros around, every sample beyond the crop reads one: a flat index
    # into it is a third cheaper than clipping both coordinates and masking them.
    padded = np.zeros((size + 2, size + 2), np.uint8)
    padded[1:-1, 1:-1] = near
    flat = padded.ravel()
    angles = np.linspace(0.0, 2.0 * np.pi, SAMPLES, endpoint=False)
    cos, sin = np.cos(angles), np.sin(angles)
    candidates = _candidates(spacing)
    # A ring's columns depend on its x offset and half-width alone, its rows on its y
    # offset, half-width and ratio: each is rounded once for the distinct rings (35 and
    # 175 of the 875), and their flat indices added by broadcasting (the same numbers,
    # at a third of the cost of rounding all 875 rings' points).
    grid = (len(OFFSETS_X), len(OFFSETS_Y), len(HALF_WIDTHS), len(RATIOS))
    by_x = candidates.reshape(*grid, 4)[:, 0, :, 0]  # (offsets x, half-widths, 4)
    by_y = candidates.reshape(*grid, 4)[0]  # (offsets y, half-widths, ratios, 4)
    best_rings = np.zeros((2, 4))
    cover = np.zeros(2)
    for eye, centre in enumerate(centres):
        shift = np.array([centre[0], centre[1], 0.0, 0.0])
        xr = by_x + shift
        yr = by_y + shift
        xs = np.clip(np.round(xr[..., :1] + xr[..., 2:3] * cos), -1, size).astype(np.intp)
        ys = np.clip(np.round(yr[..., 1:2] + yr[..., 3:4] * sin), -1, size).astype(np.intp)
        ys += 1
        ys *= size + 2
        xs += 1
        at = xs[:, None, :, None] + ys[None]  # (offsets x, offsets y, widths, ratios, samples)
        counts = _row_counts(flat[at.reshape(len(candidates), SAMPLES)])
        best = int(np.argmax(counts))
        best_rings[eye] = candidates[best] + shift
        cover[eye] = counts.max() / SAMPLES
    return best_rings, cover


def _row_counts(hits: np.ndarray) -> np.ndarray:
    """(N,) the number of ones in each row of `hits` (N, SAMPLES) uint8 of 0 and 1: its
    rows' bytes added eight at a time as 64-bit words (no byte sum passes 255), then each
    word's bytes added by one multiplication (the same counts as `hits.sum(axis=1)`, in
    a third less time)."""
    words = np.ascontiguousarray(hits).view(np.uint64)
    summed = words[:, 0].copy()
    for column in range(1, words.shape[1]):
        summed += words[:, column]
    summed *= np.uint64(0x0101010101010101)
    summed >>= np.uint64(56)
    return summed


RimsKey = tuple[int, ...]


def rims_key(rings: Rings, spacing: float) -> RimsKey:
    """Everything `draw_rims` draws from (its rounded rings and width): equal keys draw
    equal rims, so held rims are drawn once."""
    width = max(1, round(RIM_WIDTH * spacing))
    return (width, *(round(float(value)) for value in np.asarray(rings).ravel()))


def draw_rims(rings: Rings, spacing: float, size: int) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the two rings as soft bands of a rim's width."""
    canvas = np.zeros((size, size), np.uint8)
    width = max(1, round(RIM_WIDTH * spacing))
    for x, y, half_width, half_height in rings:
        cv2.ellipse(canvas, (round(x), round(y)), (round(half_width), round(half_height)),
                    0.0, 0, 360, 255, width, lineType=cv2.LINE_AA)
    sigma = max(0.5, 0.2 * width)
    soft = np.zeros((size, size), np.float32)
    x, y, box_width, box_height = cv2.boundingRect(canvas)
    if box_width == 0:
        return soft
    # Blurred in the rims' box grown by more than the kernel's reach alone: beyond it the
    # blur is 0, and the box's edges (0) mirror as the crop's do (the same values).
    reach = int(4 * sigma) + 2
    rows = slice(max(0, y - reach), min(size, y + box_height + reach))
    columns = slice(max(0, x - reach), min(size, x + box_width + reach))
    blurred = cv2.GaussianBlur(canvas[rows, columns], (0, 0), sigma)
    soft[rows, columns] = blurred
    soft[rows, columns] /= 255.0
    return soft
