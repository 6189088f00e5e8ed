"""A target face that the frame's edge cuts: the aligned crop is black beyond the edge,
and the compositor's colour, light, sharpness and grain measurements must not see it.
The detail colour, computed only in the box round the blend's alpha (`tone.region_box`),
still covers every pixel the blend shows there."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite import compositor, tone
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import crop_in_frame, warp_to_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.types import HeadPose

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
SIZE = 256
LOWER_LIP = 17
REGION_SIZE = 440  # the swap's crop for a 512 px clip


def _target(frame: np.ndarray, landmarks: np.ndarray, matrix: np.ndarray, size: int = SIZE
            ) -> TargetFace:
    height, width = frame.shape[:2]
    return TargetFace(image=warp_to_face(frame, matrix, size),
                      in_frame=crop_in_frame(matrix, size, (width, height)),
                      face_landmarks=landmarks_in_crop(landmarks, matrix),
                      face_from_frame=matrix, pose=HeadPose(0.0, 0.0, 0.0),
                      blendshapes=np.zeros(52, np.float32), time=0.0, track=0)


def test_a_face_cut_under_the_lip_is_toned_as_where_the_frame_goes_on(faces_dir: Path
                                                                      ) -> None:
    frame = next(media.iter_frames(faces_dir / KATIE)).image
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(frame)[0].landmarks
    matrix = face_from_frame_matrix(landmarks, SIZE, "whole")
    cut_row = round(float(landmarks[LOWER_LIP, 1])) + 12  # the frame ends under the lip
    whole = _target(frame, landmarks, matrix)
    cut = _target(frame[:cut_row], landmarks, matrix)
    assert not cut.in_frame.all() and cut.in_frame.sum() > SIZE * SIZE // 2
    # The engine's face: another tone than the target's, whole beyond the edge too.
    face = np.clip(whole.image * 0.8 + 30.0, 0, 255).astype(np.uint8)
    swapped = SwappedFace(face, np.ones((SIZE, SIZE), np.float32))
    config = CompositeConfig(occlusion="off")
    results = [Compositor(config).composite(target, swapped) for target in (whole, cut)]
    # The pixels both show, near the edge, where the face replaces the frame.
    distance = cv2.distanceTransform(cut.in_frame.astype(np.uint8), cv2.DIST_L2, 3)
    near = (distance > 0) & (distance < 24) & (results[0].alpha > 0.5)
    assert near.sum() > 500
    lightness = [to_lab(result.image)[..., 0][near] for result in results]
    assert abs(float(np.mean(lightness[1] - lightness[0]))) < 1.5
    assert float(np.percentile(np.abs(lightness[1] - lightness[0]), 95)) < 4.0


@pytest.fixture(scope="module")
def katie(faces_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = next(media.iter_frames(faces_dir / KATIE)).image
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(frame)[0].landmarks
    return frame, landmarks, face_from_frame_matrix(landmarks, REGION_SIZE, "whole")


def _whole_crop(region: np.ndarray | None, size: int) -> tuple[slice, slice]:
    return slice(0, size), slice(0, size)


@pytest.mark.parametrize(("below_lip", "blend"),
                         [(12, "feather"), (15, "feather"), (18, "feather"), (12, "poisson")])
def test_a_face_cut_by_the_frame_is_coloured_wherever_the_blend_shows_it(
        katie: tuple[np.ndarray, np.ndarray, np.ndarray], below_lip: int, blend: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    frame, landmarks, matrix = katie
    cut = _target(frame[:round(float(landmarks[LOWER_LIP, 1])) + below_lip], landmarks, matrix,
                  REGION_SIZE)
    assert not cut.in_frame.all()
    face = np.clip(_target(frame, landmarks, matrix, REGION_SIZE).image * 0.6 + 60.0, 0, 255
                   ).astype(np.uint8)
    swapped = SwappedFace(face, np.ones((REGION_SIZE, REGION_SIZE), np.float32))
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
    target = _target(frame, landmarks, matrix, REGION_SIZE)
    face = np.clip(target.image * 0.6 + 60.0, 0, 255).astype(np.uint8)
    result = Compositor(CompositeConfig(occlusion="off")).composite(
        target, SwappedFace(face, np.zeros((REGION_SIZE, REGION_SIZE), np.float32)))
    assert float(result.alpha.max()) == 0.0
    np.testing.assert_array_equal(result.image, target.image)
