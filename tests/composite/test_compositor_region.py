"""The compositor's detail colour is computed only in the box round the blend's alpha
(`tone.region_box`): a face cut by the frame's edge, and a face the blend does not show
at all, come out as if the whole crop had been converted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.composite import compositor, tone
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import crop_in_frame, warp_to_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.types import HeadPose

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
SIZE = 440
LOWER_LIP = 17


def _target(frame: np.ndarray, landmarks: np.ndarray, matrix: np.ndarray) -> TargetFace:
    height, width = frame.shape[:2]
    return TargetFace(image=warp_to_face(frame, matrix, SIZE),
                      in_frame=crop_in_frame(matrix, SIZE, (width, height)),
                      face_landmarks=landmarks_in_crop(landmarks, matrix),
                      face_from_frame=matrix, pose=HeadPose(0.0, 0.0, 0.0),
                      blendshapes=np.zeros(52, np.float32), time=0.0, track=0)


@pytest.fixture(scope="module")
def katie(faces_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = next(media.iter_frames(faces_dir / KATIE)).image
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(frame)[0].landmarks
    return frame, landmarks, face_from_frame_matrix(landmarks, SIZE, "whole")


def _whole_crop(region: np.ndarray | None, size: int) -> tuple[slice, slice]:
    return slice(0, size), slice(0, size)


@pytest.mark.parametrize(("below_lip", "blend"),
                         [(12, "feather"), (15, "feather"), (18, "feather"), (12, "poisson")])
def test_a_face_cut_by_the_frame_is_coloured_wherever_the_blend_shows_it(
        katie: tuple[np.ndarray, np.ndarray, np.ndarray], below_lip: int, blend: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    frame, landmarks, matrix = katie
    cut = _target(frame[:round(float(landmarks[LOWER_LIP, 1])) + below_lip], landmarks, matrix)
    assert not cut.in_frame.all()
    face = np.clip(_target(frame, landmarks, matrix).image * 0.6 + 60.0, 0, 255
                   ).astype(np.uint8)
    swapped = SwappedFace(face, np.ones((SIZE, SIZE), np.float32))
    config = CompositeConfig(occlusion="off", blend=blend)
    boxed = Compositor(config).composite(cut, swapped)
    monkeypatch.setattr(tone, "region_box", _whole_crop)
    monkeypatch.setattr(compositor, "region_box", _whole_crop)
    whole = Compositor(config).composite(cut, swapped)
    np.testing.assert_array_equal(boxed.alpha, whole.alpha)
    np.testing.assert_array_equal(boxed.image, whole.image)


def test_a_face_the_blend_does_not_show_leaves_the_target_as_it_is(
        katie: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    frame, landmarks, matrix = katie
    target = _target(frame, landmarks, matrix)
    face = np.clip(target.image * 0.6 + 60.0, 0, 255).astype(np.uint8)
    result = Compositor(CompositeConfig(occlusion="off")).composite(
        target, SwappedFace(face, np.zeros((SIZE, SIZE), np.float32)))
    assert float(result.alpha.max()) == 0.0
    np.testing.assert_array_equal(result.image, target.image)
