"""faces/track.py: tracks follow boxes, split at a cut, and two faces of one frame are
never one person."""

from __future__ import annotations

import numpy as np

from facedub.faces.track import (
    Detection,
    FrameDetections,
    box_iou,
    needs_descriptor,
    track_faces,
)
from facedub.types import Box

LEFT: Box = (10.0, 10.0, 60.0, 70.0)
RIGHT: Box = (200.0, 10.0, 250.0, 70.0)


def _descriptor(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    # Two seeds lie about 0.85 apart: different people to dlib (same person: below 0.6).
    return (vector / np.linalg.norm(vector) * 0.6).astype(np.float32)


def _frame(index: int, *faces: tuple[Box, np.ndarray | None], cut: bool = False
           ) -> FrameDetections:
    return FrameDetections(index, cut, tuple(Detection(index, box, d) for box, d in faces))


def _shifted(box: Box, dx: float) -> Box:
    return (box[0] + dx, box[1], box[2] + dx, box[3])


def test_box_overlap_exact_cases() -> None:
    assert box_iou(LEFT, LEFT) == 1.0
    assert box_iou(LEFT, RIGHT) == 0.0
    assert box_iou((0, 0, 2, 1), (1, 0, 3, 1)) == 1 / 3
    assert needs_descriptor(RIGHT, [LEFT]) and not needs_descriptor(LEFT, [LEFT])


def test_a_moving_face_is_one_track() -> None:
    person = _descriptor(1)
    frames = [_frame(i, (_shifted(LEFT, 3 * i), person if i == 0 else None))
              for i in range(10)]
    tracking = track_faces(frames)
    assert {ids[0] for ids in tracking.track_of} == {0}
    assert tracking.person_of_track == (0,)


def test_a_scene_cut_splits_the_track_even_where_the_box_stays() -> None:
    frames = [_frame(i, (LEFT, None), cut=i == 5) for i in range(10)]
    tracking = track_faces(frames)
    assert [ids[0] for ids in tracking.track_of] == [0] * 5 + [1] * 5


def test_the_same_person_after_a_cut_is_grouped_again() -> None:
    person = _descriptor(1)
    frames = [_frame(i, (LEFT if i < 5 else RIGHT, person), cut=i == 5) for i in range(10)]
    tracking = track_faces(frames)
    assert len(set(tracking.person_of_track)) == 1
    assert len(tracking.person_of_track) == 2


def test_two_faces_of_one_frame_are_never_one_person() -> None:
    # Identical descriptors (twins, or dlib confusing two small faces) in the same frames.
    look_alike = _descriptor(3)
    frames = [_frame(i, (LEFT, look_alike), (RIGHT, look_alike)) for i in range(6)]
    tracking = track_faces(frames)
    first, second = tracking.track_of[0]
    assert first != second
    assert tracking.person_of_track[first] != tracking.person_of_track[second]


def test_a_different_identity_under_the_box_starts_a_new_track() -> None:
    frames = [_frame(i, (LEFT, _descriptor(1 if i < 3 else 2))) for i in range(6)]
    tracking = track_faces(frames)
    assert [ids[0] for ids in tracking.track_of] == [0, 0, 0, 1, 1, 1]
    assert tracking.person_of_track[0] != tracking.person_of_track[1]


def test_persons_are_numbered_by_screen_time() -> None:
    often, rarely = _descriptor(1), _descriptor(2)
    frames = [_frame(i, (LEFT, often), *([(RIGHT, rarely)] if i < 2 else []))
              for i in range(8)]
    tracking = track_faces(frames)
    left_track, right_track = tracking.track_of[0]
    assert tracking.person_of_track[left_track] == 0
    assert tracking.person_of_track[right_track] == 1
