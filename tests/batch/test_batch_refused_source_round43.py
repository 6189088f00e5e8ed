"""Round 43: a batch job whose source the engine refuses (a profile photo) failed only
after its worker had analysed the whole target; the engine is made first now, and closed
on every path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from batch_media import write_jobs
from PIL import Image

from facedub.batch import load_jobs
from facedub.batch import worker as batch_worker
from facedub.batch.worker import JobTask, run_job
from facedub.errors import FacedubError


def _task(tmp_path: Path) -> JobTask:
    for name in ("profile.jpg", "target.jpg"):
        Image.fromarray(np.full((96, 96, 3), 120, dtype=np.uint8)).save(tmp_path / name)
    jobs = load_jobs(write_jobs(tmp_path, [{"target": tmp_path / "target.jpg",
                                            "source": tmp_path / "profile.jpg",
                                            "output": "out.jpg"}]), tmp_path / "out")
    return JobTask(jobs.jobs[0], "key", tmp_path / "work", tmp_path / "config")


def test_a_refused_source_fails_the_job_before_the_target_is_analysed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    analysed: list[str] = []

    def refused(*args: Any) -> Any:
        raise FacedubError("every face of the source is turned 45 degrees or more")

    monkeypatch.setattr(batch_worker, "build_engine", refused)
    monkeypatch.setattr(batch_worker, "analyse_target",
                        lambda target, *args: analysed.append(Path(target).name))
    outcome = run_job(_task(tmp_path), tmp_path / "staging")
    assert not outcome.ok and "45 degrees" in outcome.reason
    assert analysed == []


def test_the_engine_is_closed_when_the_targets_analysis_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []

    class Engine:
        def close(self) -> None:
            closed.append(True)

    def damaged(*args: Any) -> None:
        raise FacedubError("the target is damaged")

    monkeypatch.setattr(batch_worker, "build_engine", lambda job, work_dir, bar: Engine())
    monkeypatch.setattr(batch_worker, "analyse_target", damaged)
    outcome = run_job(_task(tmp_path), tmp_path / "staging")
    assert not outcome.ok and "damaged" in outcome.reason
    assert closed == [True]
