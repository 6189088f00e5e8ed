"""The swap learns its target's glasses beside the engine's first faces (forty-seventh
round): `prefetched(meanwhile=...)` runs a call on the consumer's thread once its
producer has started, and the swap's frames stage hands it the compositor's glasses.
On main the glasses were learned before the engine's thread existed, and that thread
(one of the two cores' busy stages) idled through it (BENCHMARKS.md, forty-seventh
round)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facedub.threads import prefetched

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
RUDD = "still_paul_rudd_frontal_studio.jpg"
WAIT = 20.0  # seconds: far longer than one item or face takes, even on a loaded machine


def test_meanwhile_runs_on_the_consumers_thread_while_the_producer_works() -> None:
    first_made = threading.Event()
    seen: dict[str, Any] = {}

    def producer() -> Iterator[int]:
        first_made.set()
        yield from range(10)

    def meanwhile() -> None:
        seen["thread"] = threading.get_ident()
        # The producer runs beside this call: its first item is made while we wait here.
        seen["producer ran"] = first_made.wait(WAIT)

    assert list(prefetched(producer(), depth=2, meanwhile=meanwhile)) == list(range(10))
    assert seen == {"thread": threading.get_ident(), "producer ran": True}


def test_an_error_in_meanwhile_is_raised_and_stops_the_producer() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            count = 0
            while True:
                produced.append(count)
                yield count
                count += 1
        finally:
            closed.set()

    def failing() -> None:
        raise OSError("glasses unreadable")

    with pytest.raises(OSError, match="glasses unreadable"):
        for _ in prefetched(endless(), depth=2, meanwhile=failing):
            pass
    assert closed.is_set()  # stopped and closed on its own thread before the raise
    assert len(produced) <= 2 + 2  # depth ahead at most, then stopped


def test_the_swap_learns_the_glasses_while_the_engine_makes_its_first_faces(
        faces_dir: Path, short_clip: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The glasses' learning waits (a while) for the engine's first face: on main it ran
    before the engine's thread started, so the wait ran out with no face made."""
    from facedub.engines.mesh import MeshEngine
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.swap import SwapConfig, swap

    swap_module = importlib.import_module("facedub.swap")
    compositor_module = importlib.import_module("facedub.composite.compositor")
    target = short_clip(KATIE, 0.4)
    work = tmp_path / "work"
    first_face = threading.Event()
    seen: dict[str, bool] = {}
    engine_face = swap_module.FrameSwapper.engine_face
    learn_glasses = compositor_module.Compositor.learn_glasses

    def noted_face(self: Any, frame: Any) -> Any:
        made = engine_face(self, frame)
        first_face.set()
        return made

    def waiting_glasses(self: Any, *args: Any) -> None:
        seen["engine face made meanwhile"] = first_face.wait(WAIT)
        learn_glasses(self, *args)
        seen["learned"] = True

    monkeypatch.setattr(swap_module.FrameSwapper, "engine_face", noted_face)
    monkeypatch.setattr(compositor_module.Compositor, "learn_glasses", waiting_glasses)
    engine = MeshEngine(analysed(faces_dir / RUDD, work, ExtractConfig(crop_size=256)),
                        source_path=faces_dir / RUDD)
    try:
        result = swap(target, engine, tmp_path / "out.mp4",
                      SwapConfig(work_dir=work, config_dir=work / "config", job_id=7))
    finally:
        engine.close()
    assert result.frames_swapped == result.frames > 5
    assert seen == {"engine face made meanwhile": True, "learned": True}


def test_other_callers_of_frame_swapper_still_get_the_glasses_learned(
        faces_dir: Path, short_clip: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch, serve and the tests build a swapper with `frame_swapper` and composite with
    it directly: its default still learns the glasses first."""
    from facedub.engines.mesh import MeshEngine
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.progress import NoProgress
    from facedub.swap import SwapConfig, analyse_target, frame_swapper

    compositor_module = importlib.import_module("facedub.composite.compositor")
    learned: list[int] = []
    learn_glasses = compositor_module.Compositor.learn_glasses

    def noted(self: Any, *args: Any) -> None:
        learned.append(len(args[2]))
        learn_glasses(self, *args)

    monkeypatch.setattr(compositor_module.Compositor, "learn_glasses", noted)
    target = short_clip(KATIE, 0.4)
    work = tmp_path / "work"
    config = SwapConfig(work_dir=work, config_dir=work / "config", job_id=7)
    engine = MeshEngine(analysed(faces_dir / RUDD, work, ExtractConfig(crop_size=256)),
                        source_path=faces_dir / RUDD)
    try:
        faceset = analyse_target(target, config, NoProgress())
        swapper = frame_swapper(target, faceset, engine, config)
        assert learned == [len(swapper.by_frame)]
        frame_swapper(target, faceset, engine, config, learn_glasses=False)
        assert learned == [len(swapper.by_frame)]  # not learned again
    finally:
        engine.close()
