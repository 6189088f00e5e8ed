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
from facedub.engines.mesh_stubble import beard_zone, stubble_share
from facedub.evaluate.stubble import beard_region, dark_texture
from facedub.faces.align import align_face, face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

BEARDED = "still_kit_harington_turned.jpg"  # full dark stubble beard
STUBBLE = "still_paul_rudd_frontal_studio.jpg"  # short dark stubble
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a smooth, shaven chin
WOMAN = "clip_liveportrait_d3_woman_headturn.mp4"
CROP = 256


def _photo_face(path: Path) -> tuple[np.ndarray, np.ndarray]:
    image = media.read_photo(path) if path.suffix == ".jpg" else next(
        media.iter_frames(path)).image
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        found = analyser.analyse(image, 0.0)
    aligned = align_face(image, found[0].landmarks, CROP, "whole")
    return aligned.image, aligned.face_landmarks


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
def test_stubble_is_found_and_a_smooth_chin_is_not(faces_dir: Path, name: str, low: float,
                                                   high: float) -> None:
    crop, landmarks = _photo_face(faces_dir / name)
    assert low <= stubble_share(crop, landmarks) <= high


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
    strands cover a tenth of the chin and upper lip; with it, as good as none."""
    source = extracted(BEARDED, crop_size=CROP)
    target = smooth_chin
    lightness = _lightness(target.image)
    beard = beard_region(target.face_landmarks, CROP, np.ones((CROP, CROP), dtype=bool))
    dirt = {}
    for shave in (False, True):
        engine = MeshEngine(source, MeshEngineConfig(shave_source=shave))
        face = engine.swap_face(target)
        dirt[shave] = dark_texture(lightness, _lightness(face.image), beard)
    assert dirt[False] > 0.05
    assert dirt[True] < 0.01


def _lightness(image: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab[..., 0]
