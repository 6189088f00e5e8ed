"""Round 46: a batch job of a long video was swapped unsplit (`swap.swap`), so a batch
stopped (Ctrl-C, SIGTERM, a killed worker) at minute 9 of a 10-minute job rendered it again
from frame 0 when run again, where `facedub swap` resumes its finished segments. A job's
long video now renders in the same resumable segments (`batch/resumable.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt, write_jobs

from facedub.batch import load_jobs, resumable
from facedub.batch import worker as batch_worker
from facedub.batch.worker import JobTask, run_job

SEGMENT_SECONDS = 0.8  # 2.5 s (63 frames) of a clip with a keyframe every 0.48 s: 3 segments


def test_a_stopped_batch_job_renders_only_its_unfinished_segments_again(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = remuxed_excerpt(faces_dir / KATIE, 2.5, tmp_path / "k.mp4")
    jobs = load_jobs(write_jobs(tmp_path, [{"target": clip, "source": faces_dir / RUDD,
                                            "output": "k.mp4"}]), tmp_path / "out")
    task = JobTask(jobs.jobs[0], "key", tmp_path / "work", tmp_path / "config")
    # Short segments for the short clip (a real one has them from 3 minutes on).
    monkeypatch.setattr(batch_worker, "plan_segments",
                        lambda target: resumable.plan_segments(target, SEGMENT_SECONDS),
                        raising=False)
    rendered: list[int] = []
    render = resumable._render
    stop_at = [2]  # Ctrl-C as the second segment starts

    def counted(*args: Any) -> Any:
        rendered.append(args[4].index)  # the chunk
        if len(rendered) == stop_at[0]:
            raise KeyboardInterrupt
        return render(*args)

    monkeypatch.setattr(resumable, "_render", counted)
    staging = tmp_path / "staging"
    with pytest.raises(KeyboardInterrupt):  # main: the job ran through, unsplit
        run_job(task, staging)
    assert rendered == [0, 1]
    shutil.rmtree(staging)  # as the next run of the driver does
    rendered.clear()
    stop_at[0] = 0
    outcome = run_job(task, staging)
    assert outcome.ok, outcome.reason
    assert rendered == [1, 2]  # segment 0 was kept
    assert outcome.frames == outcome.frames_swapped == 63
    assert (staging / "k.mp4").is_file() and (staging / "k.mp4.provenance.json").is_file()
    assert not list((tmp_path / "work" / resumable.RESUME_FOLDER).glob("*/segment-*"))
