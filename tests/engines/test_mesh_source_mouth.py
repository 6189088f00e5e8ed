"""Where the faces the mesh engine chose have a mouth more open or stretched than the
target's, a source video's other faces whose mouth fits give the lips, not the target's
own lips (which read as the target: issue 9); the target's opening stays (issue 17).
Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import lips_mask, lips_shares, target_lips_share
from facedub.engines.mesh_source_mouth import SourceMouths
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faceset import Faceset

EXPRESSIVE = "clip_liveportrait_d10_woman_expressions.mp4"  # frames 0-1 closed, 4-19 smiling
OLDER = "clip_videoretalking_5_older_woman_glasses.mp4"  # frame 0: closed, red lipstick
CROP = 256
STRETCHED, FITTING = 12, 0  # the expressive clip's faces: a broad smile, a closed mouth


def _shapes(**values: float) -> np.ndarray:
    vector = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float64)
    for name, value in values.items():
        vector[BLENDSHAPE_NAMES.index(name)] = value
    return vector


def test_the_shares_of_many_faces_are_each_faces_share() -> None:
    target = _shapes(jawOpen=0.05)
    faces = np.stack([_shapes(), _shapes(mouthSmileLeft=0.6), _shapes(jawOpen=0.45),
                      _shapes(mouthStretchRight=0.2, jawOpen=0.3)])
    assert lips_shares(faces, target) == pytest.approx(
        [target_lips_share(face, target) for face in faces])
    assert lips_shares(faces, target)[0] == 0.0 and lips_shares(faces, target)[2] == 1.0


def test_a_fitting_mouth_is_chosen_over_a_nearer_pose() -> None:
    """A face turned 30 degrees away whose mouth fits is taken before one in the target's
    pose that smiles broadly over the target's closed mouth (nearer by pose and mouth
    blendshapes alone: 1.7 against 2.5 units)."""
    poses = np.array([[0.0, 0.0, 0.0], [30.0, 0.0, 0.0]])
    faces = np.stack([_shapes(mouthSmileLeft=0.8, mouthSmileRight=0.8), _shapes()])
    mouths = SourceMouths(poses, faces, 12.0, 1.5, neighbours=1, follow=1.0)
    assert mouths.choose(0, np.zeros(3), _shapes(jawOpen=0.02)) == {1: 1.0}
    # ... but where the target smiles too, the nearer pose wins again.
    smiling = _shapes(mouthSmileLeft=0.8, mouthSmileRight=0.8)
    assert mouths.choose(1, np.zeros(3), smiling) == {0: 1.0}


@pytest.fixture(scope="module")
def expressive(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(EXPRESSIVE, max_frames=20, crop_size=CROP)


@pytest.fixture(scope="module")
def closed_lips(extracted: Callable[..., Faceset], faces_dir: Path) -> TargetFace:
    """The older woman's first frame, aligned as the swap aligns it."""
    record = extracted(OLDER, max_frames=1, crop_size=CROP).faces_of()[0]
    frame = next(media.iter_frames(faces_dir / OLDER))
    face_from_frame = face_from_frame_matrix(record.frame_landmarks, CROP, "whole")
    return TargetFace(image=warp_to_face(frame.image, face_from_frame, CROP),
                      face_landmarks=landmarks_in_crop(record.frame_landmarks, face_from_frame),
                      face_from_frame=face_from_frame, pose=record.pose,
                      blendshapes=record.blendshapes, time=0.0, track=0)


def _swapped(source: Faceset, target: TargetFace, chosen: int, source_mouth: bool
             ) -> np.ndarray:
    """The engine's face with the whole face's source choice fixed to face `chosen`."""
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, source_mouth=source_mouth))
    engine._choose_sources = lambda _target: {chosen: 1.0}  # type: ignore[method-assign]
    return engine.swap_face(target).image


def test_a_stretched_source_mouth_gives_way_to_its_fitting_lips(
        expressive: Faceset, closed_lips: TargetFace) -> None:
    """d10's broad smile chosen for the whole face, onto the older woman's closed lips:
    without `source_mouth` the lips are the target's own (red lipstick); with it they are
    d10's closed lips from another frame, as when that frame is chosen for the whole face,
    and no teeth show on the closed mouth."""
    records = expressive.faces_of()
    shares = [target_lips_share(records[i].blendshapes, closed_lips.blendshapes)
              for i in (STRETCHED, FITTING)]
    assert shares == [1.0, 0.0], "the clip's faces should be a stretched and a fitting mouth"
    lips = lips_mask(closed_lips.face_landmarks, CROP) > 0.99
    assert lips.sum() > 200

    def median_difference(image: np.ndarray, other: np.ndarray) -> float:
        return float(np.median(np.abs(image.astype(np.float32) - other.astype(np.float32))[lips]))

    target_lips = _swapped(expressive, closed_lips, STRETCHED, source_mouth=False)
    source_lips = _swapped(expressive, closed_lips, STRETCHED, source_mouth=True)
    fitting = _swapped(expressive, closed_lips, FITTING, source_mouth=True)
    assert median_difference(target_lips, closed_lips.image) < 3.0  # 1
    assert median_difference(source_lips, closed_lips.image) > 5.0  # 7 (the fitting face: 8)
    assert median_difference(source_lips, fitting) < 3.0  # 1
    lab = cv2.cvtColor(source_lips, cv2.COLOR_RGB2LAB).astype(np.float32)
    teeth = (lab[..., 0] > 150) & (np.hypot(lab[..., 1] - 128, lab[..., 2] - 128) < 14)
    assert (teeth & lips).sum() < 5
