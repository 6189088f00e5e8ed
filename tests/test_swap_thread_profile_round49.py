"""tools/swap_thread_profile.py, the forty-ninth round's additions: the core-seconds each
phase leaves idle, and the target's analysis split per thread like the frames stage (the
source's analysis, marked with the same names first, left out)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

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


def test_the_targets_analysis_is_split_per_thread_from_its_own_marks(
        tool: ModuleType) -> None:
    tracer = tool.Tracer(profile=False)
    main, source_thread, landmarks, safety = 100, 200, 300, 400
    tracer.python_names = {source_thread: "facedub-prefetch#3",
                           landmarks: "facedub-prefetch#9", safety: "facedub-safety#8"}
    # The source's analysis (1-2 s) is marked with the same names as the target's (3-8 s).
    tracer.marks = [("landmarks", 1.0, {}), ("finalise", 2.0, {}), ("analysis", 2.5, {}),
                    ("landmarks", 3.0, {}), ("finalise", 8.0, {}), ("frames", 9.0, {})]
    tracer.sched_marks = [{main: (0.5, 0.0)}, {main: (0.9, 0.0), source_thread: (0.6, 0.0)},
                          {main: (1.0, 0.0)}, {main: (1.2, 0.1)},
                          {main: (2.2, 0.4), landmarks: (1.5, 0.5)}, {main: (2.5, 0.4)}]
    tracer.wait_marks = [{}, {}, {}, {("MainThread", "get"): 0.25},
                         {("MainThread", "get"): 3.25, ("facedub-prefetch#9", "put"): 0.5},
                         {}]
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
