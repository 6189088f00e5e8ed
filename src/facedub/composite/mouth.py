"""Landmark smoothing that follows the head and lets the mouth keep up with speech.

The compositor steadies a target face's landmarks with One Euro filters. Filtered point
by point, the whole face lagged the head: in a head turn the swapped face trailed the
target's by a pixel or more (d3's split clip: 1.2 px on average at a 320 px face), and
on a self-swap that alone cost 0.004 face SSIM. So the landmarks are split into the
head's motion (the similarity that maps the frontal template's nose and upper face oval
onto them, `mesh_shape.pose_free`) and the face's pose-free shape. The head's motion, fitted to a
hundred points and so far steadier than any one of them, follows a quick filter; the
shape a steady one.

Lag in the shape is invisible on the skull but not on the mouth: speech opens and closes
the jaw within a few frames, and a filtered jaw opens late and closes late, so the
swapped mouth is shut while the target's is open (the mesh engine places the target's
own mouth at the filtered landmarks). The lower face's shape therefore follows a faster
filter, blended in smoothly from the nose down to the chin so the mesh between them is
not torn.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from facedub.composite.smooth import OneEuroFilter
from facedub.engines.mesh_shape import pose_free
from facedub.faces.regions import NOSE_TIP, mesh_regions
from facedub.faces.template import face_template

MOUTH_MIN_CUTOFF = 12.0  # Hz: the lower face's filter when still (the skull's is 2 Hz)
MOUTH_BETA = 40.0
# The head's motion: still, cut off at 4 Hz (twice the shape's), and quicker with speed.
# Unfiltered it scored 0.0045 SSIM better on the split clips than point by point, this
# 0.0034, with the whole face's frame-to-frame acceleration 0.50 px against 0.42 point by
# point and 0.54 unfiltered (d3); BENCHMARKS.md, 2026-12-02.
HEAD_MIN_CUTOFF = 4.0
HEAD_BETA = 100.0


@functools.cache
def lower_face_share() -> np.ndarray:
    """(478,) in [0, 1]: how far down each landmark lies between the nose tip (0) and the
    top of the upper lip (1: the lips and the jaw), judged on the frontal template so it
    is the same for every face."""
    template = face_template()
    regions = mesh_regions()
    nose = float(template[NOSE_TIP, 1])
    lips = float(template[regions.lips_outer, 1].min())
    share = (template[:, 1] - nose) / (lips - nose)
    return np.asarray(np.clip(share, 0.0, 1.0))


@functools.cache
def _head_points() -> tuple[np.ndarray, float]:
    """(4, 4) homogeneous template points that fix a 3D affine map (the template's centre
    and a face size along each axis), and that face size in template units."""
    template = face_template()
    size = float(np.ptp(template[:, :2], axis=0).max())
    centre = template.mean(axis=0)
    points = np.vstack([centre, centre + np.eye(3) * size])
    return np.hstack([points, np.ones((4, 1))]), size


@dataclass
class SpeechFilter:
    """Filters (478, 3) landmarks: the head's motion quick, the skull's shape steady, the
    mouth and jaw quick."""

    steady: OneEuroFilter = field(default_factory=OneEuroFilter)
    quick: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(
        min_cutoff=MOUTH_MIN_CUTOFF, beta=MOUTH_BETA))
    head: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(
        min_cutoff=HEAD_MIN_CUTOFF, beta=HEAD_BETA))

    def __call__(self, time: float, landmarks: np.ndarray, scale: float) -> np.ndarray:
        """`scale`: the face's size in the landmarks' units (pixels)."""
        shape, transform = pose_free(landmarks)
        points, size = _head_points()
        steady = self.steady(time, shape, scale=size)
        quick = self.quick(time, shape, scale=size)
        share = lower_face_share()[:, None]
        shape = steady * (1.0 - share) + quick * share
        # The head's motion as where it takes four template points, filtered in pixels.
        placed = self.head(time, points[:, :3] @ transform[:3, :3].T + transform[:3, 3],
                           scale=scale)
        affine = np.linalg.solve(points, np.hstack([placed, np.ones((4, 1))])).T
        return np.asarray(shape @ affine[:3, :3].T + affine[:3, 3])
