"""The nose's lift (the grimace's bunny lines lifted off a calm target) is gated on the
source face itself, not on the swapped face: a source that wears glasses keeps their bridge
and rims (the curly-haired man onto d18 read as wrinkled as the grimace on the swapped face,
and half his glasses were erased), while the grimace is still lifted; the gate is read once
per source face (issue 17). Real faces from ../shared/data/faces."""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_expression import SourceWrinkles, wrinkled_shares
from facedub.engines.mesh_expression_regions import region_weights
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset

GLASSES = "still_man_curly_hair_glasses.jpg"  # metal-rimmed glasses over his nose
GRIMACE = "still_man_angry_grimace.png"  # a frown and a wrinkled nose; MediaPipe: no sneer
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: neutral, no sneer
CROP = 256
# The nose's bridge and upper sides (MediaPipe's mesh), as in the nose's own tests.
NOSE = (6, 197, 195, 114, 343, 217, 437, 188, 412)


@pytest.fixture(scope="module")
def calm(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    return first_target_face(TALKING, CROP)


def _nose(target: TargetFace) -> np.ndarray:
    hull = cv2.convexHull(np.round(target.face_landmarks[list(NOSE), :2]).astype(np.int32))
    mask = np.zeros((CROP, CROP), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask > 0


def _depth(image: np.ndarray, where: np.ndarray) -> float:
    """The mean depth (grey levels) of the thin dark lines over `where` (a closing's
    black-hat across 9 px)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    return float((cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel) - grey)[where].mean())


def _lined_and_not(faceset: Faceset, target: TargetFace) -> tuple[np.ndarray, np.ndarray]:
    """The source on the target through the engine with and without the expression lines."""
    def swapped(lines: bool) -> np.ndarray:
        config = MeshEngineConfig(follow=1.0, target_expression_lines=lines)
        return MeshEngine(faceset, config).swap_face(target).image
    return swapped(True), swapped(False)


def test_a_source_s_glasses_are_not_lifted_off_its_nose(
        extracted: Callable[..., Faceset], calm: TargetFace) -> None:
    """The glasses' bridge and inner rims over the nose stay as dark as without the
    expression lines (before: the nose's line depth 8.5 -> 4.1, pixels up to 57 grey levels
    lighter); the grimace's wrinkled nose is still lifted through the engine."""
    nose = _nose(calm)
    lined, unlined = _lined_and_not(extracted(GLASSES, crop_size=CROP), calm)
    assert _depth(lined, nose) > 0.9 * _depth(unlined, nose)
    change = (cv2.cvtColor(lined, cv2.COLOR_RGB2GRAY).astype(int)
              - cv2.cvtColor(unlined, cv2.COLOR_RGB2GRAY))
    assert change[nose].max() < 15
    lined, unlined = _lined_and_not(extracted(GRIMACE, crop_size=CROP), calm)
    assert _depth(lined, nose) < 0.75 * _depth(unlined, nose)


def _read(reads: list[int], crop: np.ndarray, landmarks: np.ndarray, index: int
          ) -> tuple[np.ndarray, np.ndarray]:
    reads.append(index)
    return crop, landmarks


def test_the_gate_is_read_once_per_source_face_on_its_own_crop(
        extracted: Callable[..., Faceset], calm: TargetFace) -> None:
    """`SourceWrinkles` reads each source face's crop once, whatever the frames, and gates
    the nose's lift by it: the grimace's open (1), the glasses' shut (0)."""
    for name, share in ((GRIMACE, 1.0), (GLASSES, 0.0)):
        faceset = extracted(name, crop_size=CROP)
        record = faceset.faces_of()[0]
        crop = faceset.load_image(record)
        landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
        assert wrinkled_shares(crop, landmarks)["nose"] == share
        reads: list[int] = []
        wrinkles = SourceWrinkles(functools.partial(_read, reads, crop, landmarks))
        weights = region_weights(record.blendshapes, calm.blendshapes, calm.blendshapes)
        assert weights.lift["nose"] == 1.0
        for _ in range(3):
            assert wrinkles({0: 1.0}, weights).lift["nose"] == share
        assert reads == [0]
