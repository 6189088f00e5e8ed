"""A Ray worker killed mid-job leaves no temporary job folder behind: the driver removes
the folders its batch's jobs were given (a killed worker's TemporaryDirectory never ran
its clean-up, and /tmp/facedub-job-* with a job log was left about once a suite run).

Ray itself is faked: each task runs in a forked process that dies mid-job, as a worker
SIGKILLed by the test of the real cluster does."""

from __future__ import annotations

import os
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facedub.batch import ray_cluster


class _RayError(Exception):
    pass


class _Ref:
    def __init__(self, status: int) -> None:
        self.status = status


def _fake_ray(started: list[str]) -> types.ModuleType:
    """Just what `ray_outcomes` calls; a task runs in a child process that dies in it."""
    ray = types.ModuleType("ray")
    exceptions = types.ModuleType("ray.exceptions")
    exceptions.RayError = _RayError  # type: ignore[attr-defined]
    ray.exceptions = exceptions  # type: ignore[attr-defined]

    def remote(function: Callable[..., Any]) -> Any:
        def run(*args: Any) -> _Ref:
            started.append(args[1] if len(args) > 1 else "facedub-job-")
            pid = os.fork()
            if pid == 0:  # the worker: killed while its job runs
                try:
                    function(*args)
                finally:
                    os._exit(1)
            return _Ref(os.waitpid(pid, 0)[1])

        task = types.SimpleNamespace(remote=run)
        return types.SimpleNamespace(options=lambda **options: task)

    def get(ref: _Ref) -> Any:
        raise _RayError(f"worker died ({ref.status})")

    ray.is_initialized = lambda: True  # type: ignore[attr-defined]
    ray.cluster_resources = lambda: {"CPU": 2.0}  # type: ignore[attr-defined]
    ray.remote = remote  # type: ignore[attr-defined]
    ray.wait = lambda refs, num_returns: (refs[:num_returns], refs[num_returns:])  # type: ignore[attr-defined]
    ray.get = get  # type: ignore[attr-defined]
    return ray


def _killed_mid_job(task: Any, staging: Path) -> Any:
    (staging / "job.log").write_text("half a log\n")
    os._exit(9)  # SIGKILL's effect: no `finally`, no clean-up


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fake worker is a forked process")
def test_a_killed_workers_job_folder_is_removed_by_the_driver(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    started: list[str] = []
    monkeypatch.setitem(sys.modules, "ray", _fake_ray(started))
    monkeypatch.setitem(sys.modules, "ray.exceptions", sys.modules["ray"].exceptions)
    monkeypatch.setattr(ray_cluster, "run_job", _killed_mid_job)
    job = types.SimpleNamespace(engine="mesh", number=1, output=tmp_path / "out.mp4")
    config = types.SimpleNamespace(cpus_per_job=1, max_retries=0, address=None, workers=1)
    tasks = [types.SimpleNamespace(job=job, chunk=None)]

    outcomes = list(ray_cluster.ray_outcomes(tasks, config, tmp_path / "staging"))  # type: ignore[arg-type]

    assert [outcome.ok for _, outcome in outcomes] == [False]
    assert started, "no job ran"
    assert all(mark.startswith("facedub-job-") for mark in started)
    assert list(temporary.iterdir()) == [], "the killed worker's job folder was left"


def test_only_this_batchs_job_folders_are_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mine, other = ray_cluster.job_folder_mark(), ray_cluster.job_folder_mark()
    assert mine != other
    (tmp_path / f"{mine}abc").mkdir()
    (tmp_path / f"{other}abc").mkdir()
    ray_cluster.removed_job_folders(mine)
    assert [path.name for path in tmp_path.iterdir()] == [f"{other}abc"]
