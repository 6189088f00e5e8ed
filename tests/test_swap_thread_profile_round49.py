"""tools/swap_thread_profile.py, the forty-ninth round's additions: the core-seconds each
phase leaves idle, the source's analysis told from the target's by its marks' "source "
prefix, and either analysis split per thread like the frames stage."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(TOOLS))
    import swap_thread_profile

    return swap_thread_profile


def test_a_phase_leaves_idle_what_its_cores_could_have_run_beyond_its_cpu(
        tool: ModuleType) -> None:
    phases = {"landmarks": {"wall": 4.0, "cpu": 4.5, "threads": {}},
              "frames": {"wall": 16.0, "cpu": 25.0, "threads": {}}}
    assert tool.idle_cores(phases, 2) == [("landmarks", 4.0, 4.5, 3.5),
                                          ("frames", 16.0, 25.0, 7.0)]
    assert tool.idle_cores(phases, 1)[1] == ("frames", 16.0, 25.0, -9.0)


def test_the_source_analysis_inside_the_engines_opening_is_marked_as_the_sources(
        tool: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = importlib.import_module("facedub.engines.registry")
    threads = importlib.import_module("facedub.threads")
    run = importlib.import_module("facedub.extract.run")

    def open_engine(*args: Any, **kwargs: Any) -> str:
        # as the real engine's opening does: the source's analysis through the module's names
        run._analyse()
        run._finalise()
        return "engine"

    # set first so that the monkeypatch puts back the real ones over the tool's wrappers
    monkeypatch.setattr(registry, "open_engine", open_engine)
    monkeypatch.setattr(run, "_analyse", lambda *args, **kwargs: None)
    monkeypatch.setattr(run, "_finalise", lambda *args, **kwargs: None)
    monkeypatch.setattr(threads.BackgroundSink, "close", threads.BackgroundSink.close)
    tracer = tool.Tracer(profile=False)
    tracer.wrap_tail(SimpleNamespace(sign_output=None, write_sidecar=None))
    assert registry.open_engine("mesh", None) == "engine"
    run._analyse()  # the target's analysis, after the engine is open
    run._finalise()
    assert [name for name, _, _ in tracer.marks] == list(WRITTEN[:5] + WRITTEN[6:9])


# The marks a swap writes (the test above checks the tool's own; "analysis" and "frames"
# are `wrap_phases`'s), in order.
WRITTEN = ("engine", "source landmarks", "source finalise", "source after finalise",
           "after engine", "analysis", "landmarks", "finalise", "after finalise", "frames")


def test_either_analysis_is_split_per_thread_from_its_own_marks(tool: ModuleType) -> None:
    tracer = tool.Tracer(profile=False)
    main, source_thread, landmarks, safety = 100, 200, 300, 400
    tracer.python_names = {source_thread: "facedub-prefetch#3",
                           landmarks: "facedub-prefetch#9", safety: "facedub-safety#8"}
    # The source's analysis (1-2 s) inside the engine's opening, the target's (3-8 s).
    times = (0.5, 1.0, 2.0, 2.1, 2.2, 2.5, 3.0, 8.0, 8.5, 9.0)
    tracer.marks = [(name, at, {}) for name, at in zip(WRITTEN, times, strict=True)]
    tracer.sched_marks = [{main: (0.4, 0.0)}, {main: (0.5, 0.0)},
                          {main: (0.9, 0.0), source_thread: (0.6, 0.0)},
                          {main: (0.95, 0.0)}, {main: (0.98, 0.0)}, {main: (1.0, 0.0)},
                          {main: (1.2, 0.1)}, {main: (2.2, 0.4), landmarks: (1.5, 0.5)},
                          {main: (2.4, 0.4), landmarks: (1.6, 0.5)},
                          {main: (2.5, 0.4), landmarks: (1.7, 0.5)}]
    target_waits = {("MainThread", "get"): 3.25, ("facedub-prefetch#9", "put"): 0.5}
    tracer.wait_marks = [{}, {}, {}, {}, {}, {}, {("MainThread", "get"): 0.25},
                         target_waits, target_waits, target_waits]
    # The landmark thread starts inside the target's analysis and runs on past it; the
    # content check starts and ends inside it; the source's thread ended before it.
    tracer.thread_starts = {source_thread: 1.1, landmarks: 3.5, safety: 3.2}
    tracer.thread_ends = {source_thread: (1.9, 0.6, 0.0), safety: (4.2, 0.4, 0.1)}
    rows = tool.phase_sleeps(tracer, main, "landmarks", "finalise")
    assert set(rows) == {"main", "facedub-prefetch#9", "facedub-safety#8"}
    assert rows["main"] == pytest.approx({
        "wall": 5.0, "cpu": 1.0, "runq": 0.3, "asleep": 3.7, "get": 3.0, "put": 0.0,
        "rest": 0.7})
    assert rows["facedub-prefetch#9"] == pytest.approx({
        "wall": 4.5, "cpu": 1.5, "runq": 0.5, "asleep": 2.5, "get": 0.0, "put": 0.5,
        "rest": 2.0})
    assert rows["facedub-safety#8"] == pytest.approx({
        "wall": 1.0, "cpu": 0.4, "runq": 0.1, "asleep": 0.5, "get": 0.0, "put": 0.0,
        "rest": 0.5})
    source = tool.phase_sleeps(tracer, main, "source landmarks", "source finalise")
    assert set(source) == {"main", "facedub-prefetch#3"}
    assert source["main"] == pytest.approx({
        "wall": 1.0, "cpu": 0.4, "runq": 0.0, "asleep": 0.6, "get": 0.0, "put": 0.0,
        "rest": 0.6})
    assert source["facedub-prefetch#3"] == pytest.approx({
        "wall": 0.8, "cpu": 0.6, "runq": 0.0, "asleep": 0.2, "get": 0.0, "put": 0.0,
        "rest": 0.2})
