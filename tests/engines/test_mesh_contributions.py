"""A video source's faces made on two threads (mesh_contributions): the same output to the
bit as made one after the other on the engine's thread, the threads used only where a
frame blends several faces, and let go when the engine is closed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from facedub.engines import mesh_contributions, mesh_sources
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.faceset import Faceset

SOURCE = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a video: several faces a frame
PHOTO = "still_kit_harington_turned.jpg"  # one face, and the mirror fill runs
TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256


@pytest.fixture
def threads_seen(record_threads: Callable[[object, str], list[str]]) -> Iterator[list[str]]:
    """The names of the threads each `source_contribution` ran on."""
    yield record_threads(mesh_contributions, "source_contribution")


def _swapped(engine: MeshEngine, target: TargetFace, frames: int) -> list[np.ndarray]:
    try:
        return [engine.swap_face(target).image for _ in range(frames)]
    finally:
        engine.close()


def test_a_video_sources_faces_on_two_threads_swap_to_the_same_bits(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        threads_seen: list[str], record_threads: Callable[[object, str], list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Several faces a frame are made on the engine's face threads, their first loads
    (the cleaned crops: a first swap's 70 ms a face) too, and the frames are those of the
    faces made in turn on the calling thread (the sums' order kept). Their first loads:
    the cleaned crops and the light's asymmetry."""
    cleaned = record_threads(mesh_sources, "clean_weights")
    lights = record_threads(mesh_sources, "light_asymmetry")
    source = extracted(SOURCE, max_frames=12, every=3, crop_size=CROP)
    target = first_target_face(TARGET, CROP)
    threaded = _swapped(MeshEngine(source), target, 3)
    assert any(name.startswith("facedub-face") for name in threads_seen)
    assert len(cleaned) > 1 and all(name.startswith("facedub-face") for name in cleaned)
    assert len(lights) > 1 and all(name.startswith("facedub-face") for name in lights)
    threads_seen.clear()
    cleaned.clear()
    monkeypatch.setattr(MeshEngine, "_face_workers", lambda self, faces: None)
    in_turn = _swapped(MeshEngine(source), target, 3)
    assert threads_seen and not any(name.startswith("facedub-face") for name in threads_seen)
    assert cleaned and not any(name.startswith("facedub-face") for name in cleaned)
    for one, other in zip(threaded, in_turn, strict=True):
        assert one.tobytes() == other.tobytes()


def test_a_photo_source_starts_no_threads_and_close_lets_them_go(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        threads_seen: list[str]) -> None:
    target = first_target_face(TARGET, CROP)
    photo = MeshEngine(extracted(PHOTO, max_frames=1, crop_size=CROP))
    _swapped(photo, target, 1)
    assert threads_seen == [threading.current_thread().name]
    assert photo._workers is None
    before = set(threading.enumerate())
    video = MeshEngine(extracted(SOURCE, max_frames=12, every=3, crop_size=CROP))
    _swapped(video, target, 1)  # closed
    assert any(name.startswith("facedub-face") for name in threads_seen)
    assert video._workers is None
    assert not [t for t in set(threading.enumerate()) - before
                if t.name.startswith("facedub-face")]
