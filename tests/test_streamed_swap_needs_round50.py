"""tools/streamed_swap_needs.py: the whole analysis's values a swap's frames take (the
chosen person's faces, the compositing size, the person's descriptor) against the values
the first K analysed frames alone give."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from facedub.faceset import FaceRecord
from facedub.types import HeadPose

TOOLS = Path(__file__).resolve().parents[1] / "tools"
CROP = 256


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(TOOLS))
    import streamed_swap_needs

    return streamed_swap_needs


def face(frame: int, person: int, scale: float, left: float = 0.0) -> FaceRecord:
    """A face of `person` (its own track) at `left`, `scale` crop pixels a frame pixel."""
    return FaceRecord(
        frame=frame, time=frame / 25, source="clip.mp4", track=person, person=person,
        box=(left, 0.0, left + 100.0, 100.0), frame_landmarks=np.zeros((478, 3), np.float32),
        face_from_frame=np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]]),
        pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
        descriptor=np.full(128, 0.1 * person, np.float32), sharpness=0.0, image="", mask="")


def test_a_face_that_grows_after_the_first_frames_is_composited_at_another_size(
        tool: ModuleType) -> None:
    # 30 frames at 0.5 crop pixels a frame pixel (512 px), then 70 at 0.8 (320 px)
    records = [face(frame, 0, 0.5 if frame < 30 else 0.8) for frame in range(100)]
    descriptor = np.zeros(128, np.float32)
    whole = tool.whole_needs(records, 0, CROP, descriptor, 512)
    assert whole.size == 320
    early = tool.compare(whole, tool.prefix_needs(records, frozenset({0}), 25, CROP, 512), 25)
    assert early.same_faces and not early.same_size and early.size == 512
    assert early.descriptor_distance == 0.0
    late = tool.compare(whole, tool.prefix_needs(records, frozenset({0}), 90, CROP, 512), 90)
    assert late.same_size and late.size == 320


def test_a_person_with_more_screen_time_later_is_not_the_first_frames_choice(
        tool: ModuleType) -> None:
    # person 1 on frames 0-59 (60 faces), person 0 on frames 20-99 (80): the whole chooses 0
    records = sorted([face(frame, 1, 0.5) for frame in range(60)]
                     + [face(frame, 0, 0.6, left=300.0) for frame in range(20, 100)],
                     key=lambda record: record.frame)
    whole = tool.whole_needs(records, 0, CROP, np.zeros(128, np.float32), 512)
    first = tool.compare(whole, tool.prefix_needs(records, frozenset({0}), 25, CROP, 512), 25)
    assert not first.same_faces  # the first 25 frames show person 1 most
    assert first.descriptor_distance == pytest.approx(0.1 * np.sqrt(128), rel=1e-5)
    later = tool.compare(whole, tool.prefix_needs(records, frozenset({0}), 100, CROP, 512),
                         100)
    assert later.same_faces and later.same_size


def test_frames_before_any_face_give_no_reading(tool: ModuleType) -> None:
    records = [face(frame, 0, 0.5) for frame in range(40, 60)]
    whole = tool.whole_needs(records, 0, CROP, None, 512)
    assert tool.compare(whole, tool.prefix_needs(records, frozenset({0}), 25, CROP, 512),
                        25) is None
