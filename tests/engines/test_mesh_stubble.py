"""engines/mesh_stubble.py on real faces: a source's stubble or beard is found, a smooth
chin is not, and the mesh engine shows the target's own chin where the source has
stubble (the streamer's ginger stubble read as dirt round d18's mouth, issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_stubble import DARKEST, beard_zone, shaven, stubble_share
from facedub.evaluate.stubble import beard_region, dark_texture
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

BEARDED = "still_kit_harington_turned.jpg"  # full dark stubble beard
STUBBLE = "still_paul_rudd_frontal_studio.jpg"  # short dark stubble
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a smooth, shaven chin
WOMAN = "clip_liveportrait_d3_woman_headturn.mp4"
CROP = 256


@pytest.fixture(scope="module")
def smooth_chin(extracted: Callable[..., Faceset], faces_dir: Path) -> TargetFace:
    """The talking man's first frame, aligned as the swap aligns it."""
    record = extracted(TALKING, max_frames=1, crop_size=CROP).faces_of()[0]
    frame = next(media.iter_frames(faces_dir / TALKING))
    face_from_frame = face_from_frame_matrix(record.frame_landmarks, CROP, "whole")
    return TargetFace(image=warp_to_face(frame.image, face_from_frame, CROP),
                      face_landmarks=landmarks_in_crop(record.frame_landmarks, face_from_frame),
                      face_from_frame=face_from_frame, pose=record.pose,
                      blendshapes=record.blendshapes, time=0.0, track=0)


@pytest.mark.parametrize(("name", "low", "high"), [
    (BEARDED, 0.9, 1.0), (STUBBLE, 0.9, 1.0), (TALKING, 0.0, 0.0), (WOMAN, 0.0, 0.0)])
def test_stubble_is_found_and_a_smooth_chin_is_not(extracted: Callable[..., Faceset],
                                                   name: str, low: float, high: float
                                                   ) -> None:
    faceset = extracted(name, max_frames=1, crop_size=CROP)
    record = faceset.faces_of()[0]
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    assert low <= stubble_share(faceset.load_image(record), landmarks) <= high


def test_the_beard_zone_is_below_the_nose_round_the_lips_not_on_them(
        smooth_chin: TargetFace) -> None:
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    lips = polygon_mask(landmarks[mesh_regions().lips_outer], CROP) > 0.5
    points = np.round(landmarks[:, :2]).astype(int)
    for beard in (18, 200, 164):  # below and above the lip
        x, y = points[beard]
        assert zone[y, x] > 0.9, beard
    for outline in (152, 172, 397):  # the chin and jaw, on the zone's outline
        x, y = points[outline]
        assert zone[y, x] > 0.75, outline
    for bare in (195, 50, 280):  # the nose's bridge, the upper cheeks
        x, y = points[bare]
        assert zone[y, x] < 0.05, bare
    assert zone[cv2.erode(lips.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0].max() < 0.1


def test_the_engine_shows_the_targets_own_chin_where_the_source_has_stubble(
        extracted: Callable[..., Faceset], smooth_chin: TargetFace) -> None:
    """Kit Harington's stubble beard onto d18's shaven chin: without the step its dark
    strands cover a third of the chin and upper lip (0.33); with it 0.04, what is left
    being the edge of the soft shade kept of it (see `shaven`)."""
    source = extracted(BEARDED, max_frames=1, crop_size=CROP)
    target = smooth_chin
    lightness = _lightness(target.image)
    beard = beard_region(target.face_landmarks, CROP, np.ones((CROP, CROP), dtype=bool))
    dirt = {}
    for shave in (False, True):
        engine = MeshEngine(source, MeshEngineConfig(shave_source=shave))
        face = engine.swap_face(target)
        dirt[shave] = dark_texture(lightness, _lightness(face.image), beard)
    assert dirt[False] > 0.2
    assert dirt[True] < 0.08


def _lightness(image: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab[..., 0]


def test_shaving_keeps_the_sources_broad_relief_and_little_of_its_beards_shadow() -> None:
    """A warped source face with a dark moustache band (50 grey levels), ginger specks
    in it and a lighter chin (a relief the target has not) onto a flat target with its
    own fine grain: the band keeps at most DARKEST of its darkness, the specks and tint
    go, the lighter chin stays."""
    size = 128
    rng = np.random.default_rng(1)
    target = np.full((size, size, 3), 150.0, dtype=np.float32)
    target += rng.normal(0.0, 2.0, (size, size, 1)).astype(np.float32)
    face = target.copy()
    face[30:50] -= np.array([50.0, 60.0, 75.0], dtype=np.float32)  # a brown band
    specks = rng.random((size, size)) < 0.3
    face[specks & (np.arange(size)[:, None] >= 30) & (np.arange(size)[:, None] < 50)] -= 30.0
    face[80:110, 30:100] += 20.0  # a lighter chin
    result = shaven(face, target, np.ones((size, size), dtype=np.float32), size)
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY)
    flat = float(np.median(cv2.cvtColor(target, cv2.COLOR_RGB2GRAY)))
    assert flat - float(np.median(grey[34:46])) <= DARKEST + 0.5
    assert float(np.median(grey[88:102, 40:90])) - flat > 15.0
    band = result[34:46]
    assert float(np.abs(band[..., 0] - band[..., 2]).mean()) < 2.0  # no ginger tint left
    assert float(np.std(grey[36:44] - cv2.GaussianBlur(grey, (0, 0), 2.0)[36:44])) < 3.0
    # Where the weight is 0 the face is untouched.
    assert np.array_equal(shaven(face, target, np.zeros((size, size), np.float32), size), face)
