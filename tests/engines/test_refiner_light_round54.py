"""The composited stage's light gate (fifty-fourth round): a refiner keeps the light its
training faces were lit by (light.json; TrainedLight), and the swap leaves a face lit
more than LIGHT_MARGIN L* outside it as the compositor made it, the network not run (the
webcam man's network lowered every frame of the same man under a torch, 30 L* darker).
On a real photo's face, in about a second."""

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub.engines.refiner import (
    LIGHT_MARGIN,
    TorchCropRefiner,
    face_lightness,
    fits_light,
    open_crop_refiner,
    refine_composited,
)
from facedub.errors import FacedubError
from facedub.fsutil import write_json_atomic
from facedub.models.crop_refiner_run import (
    LIGHT_FILE,
    TrainedLight,
    read_trained_light,
)
from portrait_support import portrait_middle
from refiner_support import random_head_refiner

PHOTO = "still_biden_frontal.jpg"
SIZE = 160


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> np.ndarray:
    return portrait_middle(faces_dir / PHOTO, SIZE)


def _alpha() -> np.ndarray:
    rows, columns = np.mgrid[:SIZE, :SIZE]
    disc = (np.hypot(rows - SIZE / 2, columns - SIZE / 2) < SIZE / 3).astype(np.float32)
    return cv2.GaussianBlur(disc, (0, 0), 3.0)


def test_a_face_lit_outside_the_training_light_is_left_as_it_is(face: np.ndarray) -> None:
    alpha = _alpha()
    composited = cv2.GaussianBlur(face, (0, 0), 1.2)  # softer than its target: a band kept
    lit = face_lightness(face, alpha > 0.5)
    backend = TorchCropRefiner(random_head_refiner(0.3))
    near = TrainedLight(lit - 1.0, lit + 1.0)
    refined = refine_composited(backend, composited, alpha, face, light=near)
    assert (refined != composited).any()
    assert (refined == refine_composited(backend, composited, alpha, face)).all()
    brighter = TrainedLight(lit + LIGHT_MARGIN + 1.0, lit + LIGHT_MARGIN + 9.0)
    assert (refine_composited(backend, composited, alpha, face, light=brighter)
            == composited).all()
    darker = TrainedLight(lit - LIGHT_MARGIN - 9.0, lit - LIGHT_MARGIN - 1.0)
    assert (refine_composited(backend, composited, alpha, face, light=darker)
            == composited).all()


def test_the_margin_and_a_face_with_nothing_to_read() -> None:
    light = TrainedLight(60.0, 70.0)
    assert fits_light(light, 60.0 - LIGHT_MARGIN) and fits_light(light, 70.0 + LIGHT_MARGIN)
    assert not fits_light(light, 60.0 - LIGHT_MARGIN - 0.1)
    assert not fits_light(light, 70.0 + LIGHT_MARGIN + 0.1)
    assert not fits_light(light, math.nan)
    assert math.isnan(face_lightness(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), bool)))


def test_the_lightness_is_cie_l_star(face: np.ndarray) -> None:
    """Mid grey (RGB 119) is L* 50, white 100; a real face's mean is OpenCV's Lab L*'s
    within a tenth of a level."""
    where = np.ones((8, 8), bool)
    assert face_lightness(np.full((8, 8, 3), 119, np.uint8), where) == pytest.approx(
        50.0, abs=0.3)
    assert face_lightness(np.full((8, 8, 3), 255, np.uint8), where) == pytest.approx(100.0)
    disc = _alpha() > 0.5
    for image in (face, face // 4):  # lit as the photo is, and a dark face (L* 10 to 30)
        lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        assert face_lightness(image, disc) == pytest.approx(float(lab[..., 0][disc].mean()),
                                                            abs=0.1)


def test_a_folder_says_its_light_and_a_malformed_one_is_refused(tmp_path: Path) -> None:
    assert read_trained_light(tmp_path) is None  # refined before facedub kept it
    write_json_atomic(tmp_path / LIGHT_FILE, TrainedLight(35.5, 40.25).to_json())
    assert read_trained_light(tmp_path) == TrainedLight(35.5, 40.25)
    raw = json.loads((tmp_path / LIGHT_FILE).read_text())
    write_json_atomic(tmp_path / LIGHT_FILE, {**raw, "low": 50.0})
    with pytest.raises(FacedubError, match="not a range"):
        read_trained_light(tmp_path)
    assert open_crop_refiner(tmp_path) is None  # not a refiner folder: nothing opened
