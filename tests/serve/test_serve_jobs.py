"""The job queue: state in SQLite, so a restarted server shows what was done, fails what
was running, runs what was queued; and cancelling stops a running job at its next frame."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from serve_support import REQUEST, FakeBench, wait_for

from facedub.serve.store import Store
from facedub.serve.work import JobRunner, SwapRequest


def test_restart_keeps_finished_jobs_fails_running_ones_and_runs_queued(tmp_path: Path
                                                                        ) -> None:
    first = Store(tmp_path)
    done = first.add_job("swap", REQUEST)
    first.update_job(done, state="done", output="job1.mp4", done=5, total=5)
    running = first.add_job("swap", REQUEST)
    first.update_job(running, state="running", done=2, total=5)
    queued = first.add_job("swap", REQUEST)
    # A new server on the same work folder (the first one "died" with a job running).
    store = Store(tmp_path)
    bench = FakeBench(store)
    runner = JobRunner(bench)  # type: ignore[arg-type]
    runner.start()
    try:
        assert bench.discarded == [running]  # what it left half-written is removed
        assert wait_for(store, queued, "done")["output"] == f"job{queued}.mp4"
        assert store.job(done)["state"] == "done" and store.job(done)["output"] == "job1.mp4"
        failed = store.job(running)
        assert failed["state"] == "failed" and "server stopped" in failed["message"]
    finally:
        runner.stop()
    assert [job["id"] for job in Store(tmp_path).jobs()] == [queued, running, done]


def test_progress_reaches_the_total_and_cancel_stops_a_running_job(tmp_path: Path) -> None:
    store = Store(tmp_path)
    # Its first step lasts until the test ends it: cancelled within it, on any machine
    # (before: a 4 s job that a thread delayed as long on a loaded machine saw finish).
    step = threading.Event()
    bench = FakeBench(store, frames=400, hold=step)
    runner = JobRunner(bench)  # type: ignore[arg-type]
    runner.start()
    try:
        job_id = runner.submit("swap", REQUEST)
        assert bench.started.wait(120)  # a bound for a loaded machine, not a timing
        runner.cancel(job_id)
        step.set()
        job = wait_for(store, job_id, "cancelled")
        assert job["message"] == "cancelled"
        assert job["done"] < 400  # stopped before the end
        assert bench.discarded == [job_id]
        bench.frames, bench.hold = 30, None
        finished = wait_for(store, runner.submit("swap", REQUEST), "done")
        assert finished["done"] == finished["total"] == 30
    finally:
        runner.stop()
    assert store.job(job_id)["state"] == "cancelled"  # the server's stop left it so


def test_bad_options_are_refused_with_a_clear_error() -> None:
    from facedub.errors import FacedubError

    with pytest.raises(FacedubError, match="--color"):
        SwapRequest.from_json({"source": "s", "target": "t", "options": {"color": "pink"}})
    with pytest.raises(FacedubError, match="source"):
        SwapRequest.from_json({"target": "t"})


def test_a_swap_request_carries_every_compositing_option_of_swap() -> None:
    import inspect
    from dataclasses import fields

    from facedub.cli.files import swap
    from facedub.composite.compositor import CompositeConfig
    from facedub.errors import FacedubError

    chosen = {"color": "reinhard", "blend": "poisson", "mask_erode": 2, "mask_blur": 9,
              "relight": 0.5, "occlusion": "off"}
    offered = set(inspect.signature(swap).parameters)  # the command line's options
    assert set(chosen) == offered & {field.name for field in fields(CompositeConfig)}
    request = SwapRequest.from_json({"source": "s", "target": "t", "options": chosen})
    assert request.composite == CompositeConfig(**chosen)  # type: ignore[arg-type]
    assert SwapRequest.from_json(request.to_json()) == request
    with pytest.raises(FacedubError, match="--occlusion"):
        SwapRequest.from_json({"source": "s", "target": "t", "options": {"occlusion": "x"}})


def test_swap_request_keeps_the_stubble_choice_both_ways() -> None:
    """`to_json` writes the mesh engine's stubble mode; `from_json` reads it back (a queued
    "shave" job ran as "hair")."""
    request = SwapRequest.from_json({"source": "s", "target": "t",
                                     "options": {"stubble": "shave"}})
    assert request.mesh.stubble == "shave"
    assert SwapRequest.from_json(request.to_json()).mesh.stubble == "shave"
