"""tools/swap_thread_profile.py: the scheduler's per-thread clocks it reads, and its split
of a frames-stage thread's wall into CPU, a wait for a core, queue waits and the rest."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(TOOLS))
    import swap_thread_profile

    return swap_thread_profile


# The scheduler's per-thread clocks are Linux's (/proc/<pid>/task/<tid>/schedstat, present
# only where the kernel keeps scheduler statistics, CONFIG_SCHED_INFO).
HAS_SCHEDSTAT = os.path.exists(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/schedstat")


@pytest.mark.skipif(not HAS_SCHEDSTAT, reason="no /proc/<pid>/task/<tid>/schedstat here: "
                    "the scheduler's per-thread clocks are Linux's (CONFIG_SCHED_INFO)")
def test_schedstat_counts_this_threads_cpu_and_not_its_sleep(tool: ModuleType) -> None:
    tid = threading.get_native_id()
    before = tool.task_schedstat()[tid]
    time.sleep(0.2)
    slept = tool.task_schedstat()[tid]
    started = time.thread_time()
    while time.thread_time() - started < 0.2:  # busy
        pass
    busy = tool.task_schedstat()[tid]
    assert slept[0] - before[0] < 0.05  # asleep: on no CPU
    assert busy[0] - slept[0] >= 0.15  # busy: on a CPU (its waits for one apart)
    assert all(value >= 0.0 for value in busy)


def test_a_frames_thread_wall_splits_into_cpu_core_waits_queue_waits_and_the_rest(
        tool: ModuleType) -> None:
    tracer = tool.Tracer(profile=False)
    main, engine, early = 100, 200, 300
    tracer.python_names = {engine: "facedub-prefetch#5", early: "facedub-prefetch#2"}
    # The frames stage begins at 10 s: main has 4 s of CPU and 1 s of core waits so far.
    tracer.marks = [("analysis", 2.0, {}), ("frames", 10.0, {})]
    tracer.sched_marks = [{early: (1.0, 0.0)}, {main: (4.0, 1.0)}]
    tracer.wait_marks = [{}, {("MainThread", "get"): 0.5}]
    tracer.thread_starts = {engine: 10.5, early: 3.0}
    tracer.thread_ends = {engine: (30.0, 12.0, 5.0), early: (9.0, 2.0, 0.0)}
    tracer.final_sched = {main: (17.0, 4.0)}
    tracer.waits = {("MainThread", "get"): 2.5, ("MainThread", "put"): 0.25,
                    ("facedub-prefetch#5", "put"): 1.5}
    rows = tool.frames_sleeps(tracer, main, end=31.0)
    assert set(rows) == {"main", "facedub-prefetch#5"}  # the early thread ended before
    assert rows["main"] == pytest.approx({
        "wall": 21.0, "cpu": 13.0, "runq": 3.0, "asleep": 5.0, "get": 2.0, "put": 0.25,
        "rest": 2.75})
    # A thread started inside the stage: from its own start to its own end.
    assert rows["facedub-prefetch#5"] == pytest.approx({
        "wall": 19.5, "cpu": 12.0, "runq": 5.0, "asleep": 2.5, "get": 0.0, "put": 1.5,
        "rest": 1.0})
