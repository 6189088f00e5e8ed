"""Round 47: the kept chunks of a stopped batch (`batch/kept_chunks.py`) live in a folder
named by the job's inputs and options. A batch stopped, its inputs or options changed, then
run again, left the old folder in the work folder for ever (a new key, a new folder): up
to a gigabyte of segments for a 10-minute job, at every change. A batch now sweeps, as it
starts and holds OUTDIR's lock, the folders its own outputs will not use again, and any
folder nothing wrote to for a week whose OUTDIR no batch holds; never a live batch's."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
from kept_support import kept_folders, stopped, stopped_batch

from facedub.batch import run as batch_run
from facedub.batch.jobs import STATE_DIR
from facedub.batch.kept_chunks import JOB_FILE, KEPT_FOLDER

WEEK_AND_A_DAY = 8 * 24 * 3600


def test_a_jobs_kept_chunks_of_older_inputs_are_swept_as_it_runs_again(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_run, "_outcomes", stopped)
    out = tmp_path / "out"
    stopped_batch(tmp_path, faces_dir, out, crf=23)
    (first,) = kept_folders(tmp_path)
    (first / "segment-0000.mp4").write_bytes(b"a finished chunk of crf 23")
    stopped_batch(tmp_path, faces_dir, out, crf=20)  # an option changed after the stop
    (second,) = kept_folders(tmp_path)  # main: both, the first for ever
    assert second != first
    stopped_batch(tmp_path, faces_dir, out, crf=20)  # the same job again: kept
    assert kept_folders(tmp_path) == [second]


def _foreign_folder(tmp_path: Path, name: str, out_dir: Path, age: float,
                    noted: bool = True) -> Path:
    """A kept folder of a job of another OUTDIR, last written `age` seconds ago; without
    its owner noted (an older facedub's) unless `noted`."""
    folder = tmp_path / "work" / KEPT_FOLDER / name
    folder.mkdir(parents=True)
    if noted:
        (folder / JOB_FILE).write_text(f'{{"job_id": 7, "host": "{os.uname().nodename}", '
                                       f'"out_dir": "{out_dir}", "output": "x.mp4"}}')
    (folder / "segment-0000.mp4").write_bytes(b"segment")
    then = time.time() - age
    for path in (*folder.iterdir(), folder):
        os.utime(path, (then, then))
    return folder


def test_a_live_batchs_kept_chunks_are_never_swept_and_a_weeks_orphans_are(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_run, "_outcomes", stopped)
    live_out, left_out = tmp_path / "live", tmp_path / "left"
    (live_out / STATE_DIR).mkdir(parents=True)
    (left_out / STATE_DIR).mkdir(parents=True)
    (left_out / STATE_DIR / "lock").touch()  # a batch ran there once, and ended
    live = _foreign_folder(tmp_path, "live", live_out, WEEK_AND_A_DAY)
    left = _foreign_folder(tmp_path, "left", left_out, WEEK_AND_A_DAY)
    recent = _foreign_folder(tmp_path, "recent", left_out, 3600)  # stopped an hour ago
    unnamed = _foreign_folder(tmp_path, "unnamed", left_out, WEEK_AND_A_DAY, noted=False)
    with open(live_out / STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a batch runs there now (a long wait in its queue)
        stopped_batch(tmp_path, faces_dir, tmp_path / "out", crf=23)
        kept = kept_folders(tmp_path)
        assert live in kept and recent in kept
        assert left not in kept and unnamed not in kept  # main: kept for ever
    stopped_batch(tmp_path, faces_dir, tmp_path / "out", crf=23)
    assert live not in kept_folders(tmp_path)  # its batch ended a week after it last wrote


def test_a_folder_a_job_uses_now_is_kept_whoever_left_it(tmp_path: Path) -> None:
    """A week old, its note naming another OUTDIR no batch holds (a torn or hand-copied
    note), and the job planned now uses it: kept."""
    from facedub.batch.kept_chunks import sweep_kept

    moved = _foreign_folder(tmp_path, "abc", tmp_path / "old-out", WEEK_AND_A_DAY)
    other = _foreign_folder(tmp_path, "def", tmp_path / "old-out", WEEK_AND_A_DAY)
    removed = sweep_kept(tmp_path / "work", tmp_path / "new-out", {"x.mp4": "abc"},
                         live=lambda out_dir: False)
    assert removed == [other] and moved.is_dir()
