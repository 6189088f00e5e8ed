"""engines/mesh_catchlights.py: d10's ring light, mirrored round her pupils, is not laid
over a source's iris (it read as a second iris ring on expr-shouting; BENCHMARKS.md,
nineteenth round); a spot catchlight still is."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh_catchlights import target_catchlights
from facedub.engines.mesh_eyes import EYES


def _eyes(size: int) -> np.ndarray:
    """Landmarks (478, 3) of two eyes 32 px wide, open 20 px, irises of radius 8."""
    landmarks = np.zeros((478, 3))
    for eye, x in zip(EYES, (70.0, 30.0), strict=True):
        contour = np.linspace(0, 2 * np.pi, len(eye.contour), endpoint=False)
        landmarks[eye.contour, 0] = x + 16 * np.cos(contour)
        landmarks[eye.contour, 1] = size / 2 + 10 * np.sin(contour)
        landmarks[eye.iris_centre, :2] = (x, size / 2)
        landmarks[list(eye.iris_ring), :2] = [(x + 8, size / 2), (x, size / 2 - 8),
                                               (x - 8, size / 2), (x, size / 2 + 8)]
    return landmarks


def test_a_ring_round_the_pupil_is_not_laid_a_spot_beside_it_is() -> None:
    size = 100
    landmarks = _eyes(size)
    target = np.full((size, size, 3), 60, np.uint8)  # dark irises everywhere
    ys, xs = np.mgrid[0:size, 0:size]
    ring = np.abs(np.hypot(xs - 70.0, ys - size / 2) - 4.0) < 0.6  # round the first pupil
    target[ring] = 250
    target[46:48, 32:34] = 250  # the other eye: a spot beside its iris centre
    lights = target_catchlights(target, landmarks)
    assert lights[0] is None  # main laid it (7-11 of 12 sectors lit on d10's frames)
    assert lights[1] is not None


def test_d10s_ring_light_is_not_laid_d18s_dot_is(
        first_target_face: Callable[..., TargetFace]) -> None:
    """On the clips' first faces: d10's catchlights are rings round her pupils, d18's a
    small dot in each eye."""
    ringed = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", 448)
    assert target_catchlights(ringed.image, ringed.face_landmarks) == [None, None]
    dotted = first_target_face("clip_liveportrait_d18_man_frontal_mouth.mp4", 256)
    assert all(light is not None
               for light in target_catchlights(dotted.image, dotted.face_landmarks))
