"""Landmark smoothing that lets the mouth keep up with speech.

The compositor steadies a target face's landmarks with a One Euro filter. Its lag is
invisible on the skull but not on the mouth: speech opens and closes the jaw within a few
frames, and a filtered jaw opens late and closes late, so the swapped mouth is shut while
the target's is open (the mesh engine places the target's own mouth at the filtered
landmarks). The lower face therefore follows a faster filter, blended in smoothly from
the nose down to the chin so the mesh between them is not torn.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from facedub.composite.smooth import OneEuroFilter
from facedub.faces.regions import NOSE_TIP, mesh_regions
from facedub.faces.template import face_template

MOUTH_MIN_CUTOFF = 12.0  # Hz: the lower face's filter when still (the skull's is 2 Hz)
MOUTH_BETA = 40.0


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


@dataclass
class SpeechFilter:
    """Filters (478, 3) landmarks: the skull steady, the mouth and jaw quick."""

    steady: OneEuroFilter = field(default_factory=OneEuroFilter)
    quick: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(
        min_cutoff=MOUTH_MIN_CUTOFF, beta=MOUTH_BETA))

    def __call__(self, time: float, landmarks: np.ndarray, scale: float) -> np.ndarray:
        steady = self.steady(time, landmarks, scale=scale)
        quick = self.quick(time, landmarks, scale=scale)
        share = lower_face_share()[:, None]
        return np.asarray(steady * (1.0 - share) + quick * share)
