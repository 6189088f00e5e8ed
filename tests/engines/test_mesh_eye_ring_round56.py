"""The pale, mask-like rim round expr-shouting's eyes (the shouting photo onto d10; issue 9,
fifty-sixth round). Over each upper lid the swap is lighter next to the opening than in the
band above it, where d10's own lid is the other way round: her made-up lid darker than her
lit brow bone. Traced to the photo's own skin round her sockets, her lids stretched and lit
under her raised brows and her creases in their shadow, carried by the compositor's tone as
detail over a flat base (the sockets' own skin, `tone._own_sockets`). It is not the
bare-eye base, the relief share, the engine's shadow lift or the lids' brightness cap: each
taken away leaves it. The eye toner's region ends about 5 px past the opening, short of the
ring (BENCHMARKS.md, Realism, fifty-sixth round). Holding the face's finer socket band to a
made-up target's layout took the rim down but the swap toward d10's likeness at every job id,
and was reverted; so was capping only the photo's lighter lids (fifty-seventh round: margin
0.112 -> 0.143 toward d10). The sockets' band lift now reads their finer band round a
made-up target's eyes (`tone.SOCKET_FINE_DIVISOR`): +6.2 / +3.7 -> +6.0 / +3.4 L here. Not
fixed: the finding is kept here as a strict xfail."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_eyes import EYES
from facedub.faceset import Faceset

SHOUTING = "still_woman_shouting.jpg"
D10 = "clip_liveportrait_d10_woman_expressions.mp4"
SIZE = 256
RING = (0.009, 0.02)  # the lid next to the opening, shares of the crop past it ...
BAND = (0.02, 0.048)  # ... and the band above it, to the brow


def _lid_step(lightness: np.ndarray, landmarks: np.ndarray, eye: int) -> float:
    """The median L* of the upper lid's RING less its BAND's, between the eye's corners."""
    size = lightness.shape[0]
    opening = np.zeros((size, size), np.uint8)
    cv2.fillPoly(opening, [np.round(landmarks[EYES[eye].contour, :2]).astype(np.int32)], 1)
    past = cv2.distanceTransform(1 - opening, cv2.DIST_L2, 5) / size
    first, second = (landmarks[index, :2] for index in EYES[eye].corners)
    rows, columns = np.mgrid[:size, :size]
    line = first[1] + (columns - first[0]) * (second[1] - first[1]) / (second[0] - first[0])
    upper = ((columns > min(first[0], second[0])) & (columns < max(first[0], second[0]))
             & (rows < line))
    ring = np.median(lightness[(past > RING[0]) & (past <= RING[1]) & upper])
    band = np.median(lightness[(past > BAND[0]) & (past <= BAND[1]) & upper])
    return float(ring - band)


@pytest.fixture(scope="module")
def lid_steps(first_target_face: Callable[..., TargetFace],
              extracted: Callable[..., Faceset]) -> list[tuple[float, float]]:
    """(target, swapped) lid step of each eye: the shouting photo onto d10's first frame,
    composited."""
    target = first_target_face(D10, SIZE, person=True)
    engine = MeshEngine(extracted(SHOUTING, max_frames=1, crop_size=SIZE), MeshEngineConfig())
    try:
        swapped = Compositor(CompositeConfig()).composite(target, engine.swap_face(target))
    finally:
        engine.close()
    own, made = (to_lab(image)[..., 0] for image in (target.image, swapped.image))
    return [(_lid_step(own, target.face_landmarks, eye),
             _lid_step(made, target.face_landmarks, eye)) for eye in range(len(EYES))]


def test_d10s_own_lids_are_darker_than_her_brow_bone(
        lid_steps: list[tuple[float, float]]) -> None:
    """The measure's own check: d10's made-up upper lids are darker than the band above
    them, her lit brow bone (-9 to -12 L here)."""
    assert all(own < -5.0 for own, _ in lid_steps), lid_steps


@pytest.mark.xfail(strict=True, reason="the photo's stretched, lit lids and shadowed creases "
                   "come through the compositor's tone as detail: a pale ring round d10's eyes "
                   "(traced, not fixed)")
def test_the_swapped_lids_keep_d10s_lid_to_brow_step(
        lid_steps: list[tuple[float, float]]) -> None:
    """Neither swapped upper lid's step to the band above it more than 3 L over d10's own
    (main: +6.2 and +3.7 L on this frame at 256 px; fifty-seventh round +6.0 and +3.4)."""
    assert all(made - own <= 3.0 for own, made in lid_steps), lid_steps
