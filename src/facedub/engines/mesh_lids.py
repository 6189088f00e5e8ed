"""The source's upper lids where the target lowers its own far past their open height.

A photo source has one pair of lids, open. Where the target lowers its lids and raises its
brows (a look down under raised brows, a slow blink), the mesh's triangles between the lash
line and the brow grow two to three times their share of the face, and the source's crease
and the shade under its brow's inner head are warped over the whole grown lid: a dark grey
wedge with a straight edge from the brow's head down to the lashes, doubled where it crosses
a triangle's seam (readme-photo, Paul Rudd's deep-set eyes on Katie Hill's frames 28-39;
BENCHMARKS.md, fifty-third round). There the lid's coarse shading is smoothed to its own
mean over crop / 64 and its fine texture kept: the wedge's straight edges go, the lid stays
about as dark, which is part of how the source is recognised (over crop / 32 the lid came
within 10 L of Katie Hill's own and readme-photo lost 12 of 160 frames nearer the source
over four job ids; the target's own lid in its place cost 5 of 40, and smoothing the
texture too left a smeared lid and 2 of 40; fifty-third and fifty-fourth rounds).

Stretch against the source's lid alone is not a lowered lid: a turned photo's far lid is
foreshortened in the photo and stretches on every frontal frame (hair-forehead, Kit
Harington's photo: smoothed on every frame, distance to the source +0.0095; fifty-third
round). So the smoothing is also gated by the target's own lids against its own usual open
ones (`UsualLids`): only where its lids grow and its eyes close, both against its own usual
(a lid grown alone is also a head pitched or a brow raised over open eyes: Hamilton's on
occlusion-mic, 1.5-2.5 with his eyes open).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from facedub.engines.mesh_topology import mirrored_triangles, signed_areas
from facedub.faces.masks import grown_bounds, three_channels

# One side's upper lid: the eye opening's upper edge and the two rings of the mesh above it,
# up to (not into) the brow's lower edge. The other side's are their mirror images.
UPPER_LID_LANDMARKS = (33, 246, 161, 160, 159, 158, 157, 173, 133, 130, 247, 30, 29, 27, 28,
                       56, 190, 243, 113, 225, 224, 223, 222, 221, 189)
# The target's lids lowered: both upper lids' share of its face over its usual open share
# (the USUAL_QUANTILE percentile of its last USUAL_FRAMES frames), ramped from LOWERED_FROM
# to LOWERED_FULL. On the 26 pairs' first 40 frames: Katie Hill (readme-photo) at most 1.11
# on frames 0-22 with her eyes open, 1.36 on 23, 1.46-1.76 on 24-39 (the wedge); the
# streamer (hair-forehead's target) at most 1.22 (a half blink, 28-31), Obama 1.25, the
# open-eyed d12 1.29; blinks and looks down 1.3-1.6 (Elon Musk's 16-21, d9's 12-14 and
# 37-39, d10's 26-33, the older woman's 15-16).
LOWERED_FROM = 1.3
LOWERED_FULL = 1.45
USUAL_QUANTILE = 10.0  # the open lid: a low percentile, not the lowest (a frame's jitter)
USUAL_FRAMES = 250  # about ten seconds
# And its eyes closing: their opening (`eye_opening`) over its usual open opening (the
# OPEN_QUANTILE percentile of the same frames), ramped down from CLOSING_FROM to
# CLOSING_FULL. Katie Hill 0.41-0.80 on 23-39, 0.94-1.01 before; Hamilton (occlusion-mic)
# 0.78-1.12 with his eyes open; d9's blinks 0.05-0.26.
OPEN_QUANTILE = 90.0
CLOSING_FROM = 0.9
CLOSING_FULL = 0.8
# Each eye's upper and lower lid midpoints and its corners.
EYE_POINTS = ((159, 145, 33, 133), (386, 374, 263, 362))
# A lid triangle whose share of the whole face (target's over the source's) grows this much
# is stretched: not smoothed from STRETCH_FROM, wholly from STRETCH_FULL. readme-photo's
# lids: median 1.39, at most 1.68 on frame 20 (open eyes, no wedge); median 2.1-2.4, 90th
# percentile 2.8-3.2 on 33 and 36. From 2.0 to 3.0 the wedge was fainter at 2x but still
# there on 28 and 36.
STRETCH_FROM = 1.8
STRETCH_FULL = 2.6
SMOOTH = 1.0 / 64.0  # of the crop: the coarse shading (the wedge, the crease's band)
FINE = 1.0 / 256.0  # of the crop, at least a pixel: the texture kept (skin, lashes' shadow)


def upper_lid_triangles(triangles: np.ndarray, template_vertices: np.ndarray,
                        eye_openings: np.ndarray) -> np.ndarray:
    """(T,) bool: the mesh's triangles wholly in either eye's upper lid
    (`UPPER_LID_LANDMARKS` and their mirror images), the eye openings out."""
    return mirrored_triangles(triangles, template_vertices, eye_openings, UPPER_LID_LANDMARKS)


def lids_share(vertices: np.ndarray, triangles: np.ndarray, lids: np.ndarray) -> float:
    """Both upper lids' (`lids`, (T,) bool) share of the whole mesh's area, over one face's
    (V, 2) warp `vertices`: both, so that a turned head's near lid growing and its far lid
    shrinking do not read as a lid lowered."""
    areas = np.abs(signed_areas(vertices, triangles))
    return float(areas[lids].sum() / max(float(areas.sum()), 1e-12))


def eye_opening(landmarks: np.ndarray) -> float:
    """Both eyes' mean opening in `landmarks` (478, 2+): the lids' midpoints apart over the
    corners apart."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return float(np.mean([np.linalg.norm(points[upper] - points[lower])
                          / max(float(np.linalg.norm(points[outer] - points[inner])), 1e-12)
                          for upper, lower, outer, inner in EYE_POINTS]))


class UsualLids:
    """Per target track, how far it has lowered its lids (`lowered`): its `lids_share` over
    its usual open one, ramped from LOWERED_FROM to LOWERED_FULL, times its `eye_opening`
    under its usual open one, ramped from CLOSING_FROM to CLOSING_FULL. Causal: the first
    frame is its own usual, so a track that opens with its lids lowered is left as it is."""

    def __init__(self) -> None:
        self._history: dict[int, deque[tuple[float, float]]] = {}

    def lowered(self, track: int, share: float, opening: float) -> float:
        """0..1, once a frame in order: the frame's `lids_share` and `eye_opening` against
        the track's usual."""
        history = self._history.setdefault(track, deque(maxlen=USUAL_FRAMES))
        history.append((share, opening))
        shares, openings = np.asarray(history).T
        grown = share / max(float(np.percentile(shares, USUAL_QUANTILE)), 1e-12)
        closed = opening / max(float(np.percentile(openings, OPEN_QUANTILE)), 1e-12)
        return float(np.clip((grown - LOWERED_FROM) / (LOWERED_FULL - LOWERED_FROM), 0.0, 1.0)
                     * np.clip((CLOSING_FROM - closed) / (CLOSING_FROM - CLOSING_FULL), 0.0, 1.0))

    def forget(self, track: int) -> None:
        self._history.pop(track, None)


def stretched_share(source_vertices: np.ndarray, target_vertices: np.ndarray,
                    triangles: np.ndarray, lids: np.ndarray) -> np.ndarray:
    """(T,) float32 in [0, 1]: how far each lid triangle (`lids`, (T,) bool) of one source
    face (its (V, 2) warp vertices) is stretched over the target's (its (V, 2) moved warp
    vertices): each triangle's share of the whole mesh's area, the target's over the
    source's, ramped from STRETCH_FROM to STRETCH_FULL; 0 off the lids. Shares, not areas:
    the two crops' sizes and a turned head's foreshortening of the whole face cancel."""
    source_areas = np.abs(signed_areas(source_vertices, triangles))
    target_areas = np.abs(signed_areas(target_vertices, triangles))
    source_shares = source_areas / max(float(source_areas.sum()), 1e-12)
    target_shares = target_areas / max(float(target_areas.sum()), 1e-12)
    stretch = target_shares / np.maximum(source_shares, 1e-12)
    ramp = np.clip((stretch - STRETCH_FROM) / (STRETCH_FULL - STRETCH_FROM), 0.0, 1.0)
    return (ramp * lids).astype(np.float32)


def smoothed_lids(image: np.ndarray, share: np.ndarray, skin: np.ndarray, size: int) -> None:
    """In place: `image` (S, S, 3) float32, the engine's face, as far as `share` (S, S) its
    coarse shading (blurred over FINE of the crop) replaced by its own mean over `skin`
    (S, S) in [0, 1] (the mesh less the eye openings) within SMOOTH of the crop, the finer
    texture kept: the lid's darkness kept, its straight-edged shades gone, the skin not
    smeared (smoothing the whole lid left it softer than the face round it)."""
    sigma = SMOOTH * size
    box = grown_bounds(share > 0.01, int(3 * sigma) + 1)
    if box is None:
        return
    weight = np.ascontiguousarray(skin[box])
    mean = cv2.GaussianBlur(image[box] * three_channels(weight), (0, 0), sigma)
    mean /= three_channels(np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-3))
    coarse = cv2.GaussianBlur(image[box], (0, 0), max(1.0, FINE * size))
    image[box] += three_channels(share[box]) * (mean - coarse)
