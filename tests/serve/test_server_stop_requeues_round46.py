"""Round 46: `facedub serve` stopped (Ctrl-C, SIGTERM) while a job ran marked that job
"cancelled", as if the user had cancelled it: the next start showed it cancelled and never
ran it. It is now queued again (with a line saying why) and runs first on the next start;
a job the user cancels stays cancelled."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from serve_support import REQUEST, FakeBench, wait_for, wait_until

from facedub.serve.store import Store
from facedub.serve.work import STOPPED_REQUEUED, JobRunner


def _running(tmp_path: Path, frames: int, pause: float = 0.0,
             hold: threading.Event | None = None
             ) -> tuple[Store, FakeBench, JobRunner, int]:
    """A job runner on a new store, its one swap job started (`frames` steps of `pause` s,
    or each held until `hold` is set)."""
    store = Store(tmp_path)
    bench = FakeBench(store, frames=frames, pause=pause, hold=hold)
    runner = JobRunner(bench)  # type: ignore[arg-type]
    runner.start()
    job_id = runner.submit("swap", REQUEST)
    assert bench.started.wait(120)  # a bound for a loaded machine, not a timing
    return store, bench, runner, job_id


def test_a_job_the_server_stopped_runs_again_on_the_next_start(tmp_path: Path) -> None:
    store, bench, runner, job_id = _running(tmp_path, frames=400, pause=0.01)
    runner.stop()  # what the server's shutdown does on Ctrl-C or SIGTERM
    stopped = store.job(job_id)
    assert stopped["state"] == "queued", stopped  # main: "cancelled", never run again
    assert "server stopped" in stopped["message"] and "runs again" in stopped["message"]
    assert bench.discarded == [job_id]  # its half-written output removed

    again = FakeBench(store, frames=5, pause=0.0)
    restarted = JobRunner(again)  # type: ignore[arg-type]
    restarted.start()
    try:
        finished = wait_for(store, job_id, "done")
        assert finished["output"] == f"job{job_id}.mp4"
    finally:
        restarted.stop()


def test_a_users_cancel_wins_over_a_stop_before_the_next_progress_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review R: Cancel clicked in a step with no progress check (an engine load, the
    content check, encoding), then the server stopped before that step ended: the job the
    user cancelled came back queued and ran first on the next start."""
    # Stop waits for the job as long as a loaded machine may need to settle it after its
    # step: its 10 s was a wall window the job's thread had to finish in (the other
    # tests make it short, where the job outlasts it on purpose).
    monkeypatch.setattr(JobRunner, "STOP_WAIT", 600)
    step = threading.Event()  # a step with no progress check, until the test ends it
    store, _, runner, job_id = _running(tmp_path, frames=10, hold=step)
    runner.cancel(job_id)  # the user clicks Cancel
    stopping = threading.Thread(target=runner.stop)  # then Ctrl-C, within the step
    stopping.start()
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a timing
    while not runner._stop.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    step.set()  # the step ends after the stop (before: 0.1 s slept, a 1 s step)
    stopping.join(timeout=600)
    assert not stopping.is_alive(), "stop() still waiting after 600 s"
    assert not runner._thread.is_alive()  # its job settled it, not stop's give-up
    job = store.job(job_id)
    assert (job["state"], job["message"]) == ("cancelled", "cancelled"), job


def test_a_requeued_job_keeps_no_progress_of_the_stopped_run(tmp_path: Path) -> None:
    """The requeued row read "swap, 0 of 400 frames, 80 fps, 5 s left" until it ran."""
    store, _, runner, job_id = _running(tmp_path, frames=400, pause=0.01)
    # Progress written before the stop (before: 0.6 s slept, which a loaded machine's job
    # thread may not have used to write any).
    wait_until(store, job_id, lambda job: job["done"] > 0, "progress written")
    runner.stop()
    job = store.job(job_id)
    assert job["state"] == "queued", job
    assert (job["phase"], job["done"], job["total"], job["fps"], job["eta"]) == (
        "", 0, 0, 0.0, None), job


def _stop_during_a_long_step(tmp_path: Path, user_cancels: bool,
                             monkeypatch: pytest.MonkeyPatch) -> tuple[Store, int]:
    """A job in a step with no progress check that lasts until the test ends it (longer
    than stop's wait, made short here), then the server stopped; returns once the job's
    thread has ended its step too. Before: a 12 s step against stop's 10 s wait, which a
    loaded machine's 2 s of delays in between could outlast."""
    monkeypatch.setattr(JobRunner, "STOP_WAIT", 0.5)
    step = threading.Event()
    store, _, runner, job_id = _running(tmp_path, frames=2, hold=step)
    assert store.job(job_id)["phase"] == "swap"  # its first progress write, before the stop
    if user_cancels:
        runner.cancel(job_id)
    runner.stop()  # gives up waiting after STOP_WAIT; the process would exit here
    assert runner._thread.is_alive()  # still in its step
    job = store.job(job_id)
    if user_cancels:
        assert (job["state"], job["message"]) == ("cancelled", "cancelled"), job
    else:  # before: left "running", and the next start marked it failed
        assert (job["state"], job["message"]) == ("queued", STOPPED_REQUEUED), job
        assert (job["phase"], job["done"], job["total"], job["fps"], job["eta"]) == (
            "", 0, 0, 0.0, None), job
    step.set()
    runner._thread.join(timeout=120)  # its late end must not change what stop wrote
    assert not runner._thread.is_alive()
    assert store.job(job_id)["state"] == job["state"]
    return store, job_id


def test_a_job_in_a_step_longer_than_stops_wait_runs_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review R3: the row was left 'running' and the next start marked it failed ("start
    it again"), a job the server had stopped lost."""
    store, job_id = _stop_during_a_long_step(tmp_path, False, monkeypatch)
    again = FakeBench(store, frames=3, pause=0.0)
    restarted = JobRunner(again)  # type: ignore[arg-type]
    restarted.start()
    try:
        assert wait_for(store, job_id, "done")["output"] == f"job{job_id}.mp4"
    finally:
        restarted.stop()
    assert again.discarded == [job_id]  # the stopped run's staged files removed at start


def test_a_job_cancelled_in_a_step_longer_than_stops_wait_stays_cancelled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, job_id = _stop_during_a_long_step(tmp_path, True, monkeypatch)
    restarted = JobRunner(FakeBench(store, frames=3, pause=0.0))  # type: ignore[arg-type]
    restarted.start()
    restarted.stop()
    assert store.job(job_id)["state"] == "cancelled"  # before: "failed"
