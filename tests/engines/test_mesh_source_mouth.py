"""Where the faces the mesh engine chose have a mouth more open or stretched than the
target's, a source video's other faces whose mouth fits give the lips, not the target's
own lips (which read as the target: issue 9); the target's opening stays (issue 17).
Real faces from ../shared/data/faces."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import lips_mask, lips_shares, target_lips_share
from facedub.engines.mesh_source_mouth import SourceMouths
from facedub.faceset import Faceset

EXPRESSIVE = "clip_liveportrait_d10_woman_expressions.mp4"  # frames 0-1 closed, 4-19 smiling
OLDER = "clip_videoretalking_5_older_woman_glasses.mp4"  # frame 0: closed, red lipstick
SHOUTING = "still_woman_shouting.jpg"
CROP = 256
STRETCHED, FITTING = 12, 0  # the expressive clip's faces: a broad smile, a closed mouth


def test_the_shares_of_many_faces_are_each_faces_share(
        blendshapes: Callable[..., np.ndarray]) -> None:
    target = blendshapes(jawOpen=0.05)
    faces = np.stack([blendshapes(), blendshapes(mouthSmileLeft=0.6), blendshapes(jawOpen=0.45),
                      blendshapes(mouthStretchRight=0.2, jawOpen=0.3)])
    assert lips_shares(faces, target) == pytest.approx(
        [target_lips_share(face, target) for face in faces])
    assert lips_shares(faces, target)[0] == 0.0 and lips_shares(faces, target)[2] == 1.0


def test_a_fitting_mouth_is_chosen_over_a_nearer_pose(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """A face turned 30 degrees away whose mouth fits is taken before one in the target's
    pose that smiles broadly over the target's closed mouth (nearer by pose and mouth
    blendshapes alone: 1.7 against 2.5 units)."""
    poses = np.array([[0.0, 0.0, 0.0], [30.0, 0.0, 0.0]])
    faces = np.stack([blendshapes(mouthSmileLeft=0.8, mouthSmileRight=0.8), blendshapes()])
    mouths = SourceMouths(poses, faces, 12.0, 1.5, neighbours=1, follow=1.0)
    assert mouths.choose(0, np.zeros(3), blendshapes(jawOpen=0.02)) == {1: 1.0}
    # ... but where the target smiles too, the nearer pose wins again.
    smiling = blendshapes(mouthSmileLeft=0.8, mouthSmileRight=0.8)
    assert mouths.choose(1, np.zeros(3), smiling) == {0: 1.0}


@pytest.fixture(scope="module")
def expressive(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(EXPRESSIVE, max_frames=20, crop_size=CROP)


@pytest.fixture(scope="module")
def closed_lips(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    """The older woman's first frame, aligned as the swap aligns it."""
    return first_target_face(OLDER, CROP)


def _engine(source: Faceset, chosen: int, **options: object) -> MeshEngine:
    """The engine with the whole face's source choice fixed to face `chosen`."""
    config = MeshEngineConfig(**{"follow": 1.0, **options})  # type: ignore[arg-type]
    engine = MeshEngine(source, config)
    engine._choose_sources = lambda _target: {chosen: 1.0}  # type: ignore[method-assign]
    return engine


def _swapped(source: Faceset, target: TargetFace, chosen: int, source_mouth: bool,
             **options: object) -> np.ndarray:
    """The engine's face with the whole face's source choice fixed to face `chosen`."""
    return _engine(source, chosen, source_mouth=source_mouth, **options).swap_face(target).image


def _lips(target: TargetFace) -> np.ndarray:
    return lips_mask(target.face_landmarks, CROP) > 0.99


def _median_difference(image: np.ndarray, other: np.ndarray, where: np.ndarray) -> float:
    return float(np.median(np.abs(image.astype(np.float32) - other.astype(np.float32))[where]))


def test_a_stretched_source_mouth_gives_way_to_its_fitting_lips(
        expressive: Faceset, closed_lips: TargetFace) -> None:
    """d10's broad smile chosen for the whole face, onto the older woman's closed lips:
    without `source_mouth` the lips are the target's own (red lipstick); with it they are
    d10's closed lips from another frame, as when that frame is chosen for the whole face
    (not the smile's own stretched lips), and no teeth show on the closed mouth."""
    records = expressive.faces_of()
    shares = [target_lips_share(records[i].blendshapes, closed_lips.blendshapes)
              for i in (STRETCHED, FITTING)]
    assert shares == [1.0, 0.0], "the clip's faces should be a stretched and a fitting mouth"
    lips = _lips(closed_lips)
    assert lips.sum() > 200

    def median_difference(image: np.ndarray, other: np.ndarray) -> float:
        return _median_difference(image, other, lips)

    target_lips = _swapped(expressive, closed_lips, STRETCHED, source_mouth=False)
    source_lips = _swapped(expressive, closed_lips, STRETCHED, source_mouth=True)
    fitting = _swapped(expressive, closed_lips, FITTING, source_mouth=True)
    assert median_difference(target_lips, closed_lips.image) < 3.0  # 1
    assert median_difference(source_lips, closed_lips.image) > 5.0  # 7 (the fitting face: 8)
    assert median_difference(source_lips, fitting) < 3.0  # 1
    lab = cv2.cvtColor(source_lips, cv2.COLOR_RGB2LAB).astype(np.float32)
    teeth = (lab[..., 0] > 150) & (np.hypot(lab[..., 1] - 128, lab[..., 2] - 128) < 14)
    assert (teeth & lips).sum() < 5


def _with_crops(engine: MeshEngine, change: Callable[[np.ndarray], np.ndarray]) -> None:
    """Every source face but the stretched one seen through `change` (S, S, 4) -> same."""
    clean_crop = engine._faces.clean_crop
    engine._faces.clean_crop = (  # type: ignore[method-assign]
        lambda index: clean_crop(index) if index == STRETCHED else change(clean_crop(index)))


def test_the_lips_shown_are_the_fitting_faces(expressive: Faceset,
                                              closed_lips: TargetFace) -> None:
    """The other faces' red and blue swapped (d10's stretched and closed lips warped over
    the same outline look much alike): the lips shown over the older woman's are blue
    like theirs, as when the fitting face is chosen for the whole face, where the smile's
    own are red."""
    def swapped(chosen: int) -> np.ndarray:
        engine = _engine(expressive, chosen, source_mouth=True)
        _with_crops(engine, lambda crop: crop[..., [2, 1, 0, 3]])
        return engine.swap_face(closed_lips).image.astype(np.float32)

    lips = _lips(closed_lips)
    source_lips, fitting = swapped(STRETCHED), swapped(FITTING)
    smile = _swapped(expressive, closed_lips, STRETCHED, source_mouth=True).astype(np.float32)
    blueness = [(image[..., 2] - image[..., 0])[lips] for image in (source_lips, fitting, smile)]
    near, far = (float(np.median(np.abs(blueness[0] - other))) for other in blueness[1:])
    assert near < 10.0 and far > 30.0, (near, far)


def test_where_the_fitting_faces_lips_are_not_clean_the_targets_come_back(
        expressive: Faceset, closed_lips: TargetFace) -> None:
    """The fitting faces' lips not clean (as hair or the image's edge over them): the
    target's own lips there, as without `source_mouth`, not the smile's stretched lips."""
    engine = _engine(expressive, STRETCHED, source_mouth=True)
    _with_crops(engine, lambda crop: np.concatenate([crop[..., :3], 0 * crop[..., 3:]], axis=2))
    image = engine.swap_face(closed_lips).image
    target_lips = _swapped(expressive, closed_lips, STRETCHED, source_mouth=False)
    lips = _lips(closed_lips)
    assert _median_difference(image, target_lips, lips) < 2.0


def test_the_mouth_faces_are_forgotten_when_the_track_ends(
        blendshapes: Callable[..., np.ndarray],
        expressive: Faceset, closed_lips: TargetFace) -> None:
    """After `end_track` a new face on the same track gets the mouth faces a fresh engine
    gives it, not ones eased from the ended track's (here smiling, turned) face."""
    other = dataclasses.replace(
        closed_lips, blendshapes=blendshapes(mouthSmileLeft=0.5, mouthSmileRight=0.5),
        pose=dataclasses.replace(closed_lips.pose, yaw=closed_lips.pose.yaw + 25.0))
    fresh = _engine(expressive, STRETCHED, follow=0.3).swap_face(closed_lips).image
    engine = _engine(expressive, STRETCHED, follow=0.3)
    engine.swap_face(other)
    carried = engine.swap_face(closed_lips).image
    assert not np.array_equal(carried, fresh), "the ended track's faces should matter"
    engine.swap_face(other)
    engine.end_track(closed_lips.track)
    assert np.array_equal(engine.swap_face(closed_lips).image, fresh)


def test_a_photo_source_shows_what_it_did_without_source_mouth(
        extracted: Callable[..., Faceset], closed_lips: TargetFace) -> None:
    """A photo has no other face to take the lips from: the output is the same with and
    without `source_mouth` (the shouting mouth over closed lips keeps the target's)."""
    photo = extracted(SHOUTING, crop_size=CROP)
    assert target_lips_share(photo.faces_of()[0].blendshapes, closed_lips.blendshapes) > 0.5
    images = [MeshEngine(photo, MeshEngineConfig(source_mouth=on)).swap_face(closed_lips).image
              for on in (True, False)]
    assert np.array_equal(*images)
