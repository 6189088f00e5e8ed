"""Round 47, after review: three holes in the sweep of kept chunks (`batch/kept_chunks.py`).
A job dropped from the list kept its chunks for ever while the user kept its OUTDIR (the
age rule skipped a live OUTDIR, and the sweeping batch holds that very lock). The same job
run into two OUTDIRs shared one folder, so one OUTDIR's rerun swept the folder the other's
live batch was writing into. And a folder whose removal failed was reported removed."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from kept_support import kept_folders, stopped, stopped_batch

from facedub.batch import kept_chunks
from facedub.batch import run as batch_run
from facedub.batch.jobs import STATE_DIR
from facedub.batch.kept_chunks import JOB_FILE, KEPT_FOLDER, sweep_kept

MONTH = 30 * 24 * 3600


def _old_folder(work: Path, out_dir: Path, output: str, age: float) -> Path:
    """A kept folder this host's batch in `out_dir` left for `output`, `age` seconds ago."""
    folder = work / KEPT_FOLDER / "dropped"
    folder.mkdir(parents=True)
    (folder / JOB_FILE).write_text(f'{{"job_id": 7, "host": "{os.uname().nodename}", '
                                   f'"out_dir": "{out_dir.resolve()}", "output": "{output}"}}')
    (folder / "segment-0000.mp4").write_bytes(b"segment")
    then = time.time() - age
    for path in (*folder.iterdir(), folder):
        os.utime(path, (then, then))
    return folder


def test_a_dropped_jobs_old_chunks_are_swept_by_its_outdirs_live_batch(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / STATE_DIR).mkdir(parents=True)
    dropped = _old_folder(tmp_path / "work", out, "b.mp4", MONTH)
    with open(out / STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the sweeping batch holds its OUTDIR's lock
        removed = sweep_kept(tmp_path / "work", out, {"a.mp4": "K_a"}, batch_run._batch_live)
    assert removed == [dropped]  # before: [], and the month-old folder stayed for ever
    assert not dropped.exists()


def test_a_dropped_jobs_recent_chunks_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    recent = _old_folder(tmp_path / "work", out, "b.mp4", 3600)  # put back in the list?
    assert sweep_kept(tmp_path / "work", out, {"a.mp4": "K_a"}, lambda d: True) == []
    assert recent.is_dir()


def test_the_same_job_in_two_outdirs_keeps_two_folders_and_a_rerun_spares_the_live_one(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_run, "_outcomes", stopped)
    live_out, stopped_out = tmp_path / "live", tmp_path / "stopped"
    (live_out / STATE_DIR).mkdir(parents=True)  # kept, though the stopped batch made nothing
    stopped_batch(tmp_path, faces_dir, live_out, crf=23)
    (live,) = kept_folders(tmp_path)
    stopped_batch(tmp_path, faces_dir, stopped_out, crf=23)  # the same job elsewhere
    assert len(kept_folders(tmp_path)) == 2  # before: one folder, its note naming the last
    with open(live_out / STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # live_out's batch writes its chunks now
        stopped_batch(tmp_path, faces_dir, stopped_out, crf=20)  # rerun, an option changed
        assert live in kept_folders(tmp_path)  # before: swept under the live batch
        assert len(kept_folders(tmp_path)) == 2  # live's, and the rerun's new one (old one swept)
    stopped_batch(tmp_path, faces_dir, live_out, crf=23)  # resumed: its folder is found
    assert live in kept_folders(tmp_path) and len(kept_folders(tmp_path)) == 2


def test_a_folder_that_could_not_be_removed_is_not_reported_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    stuck = _old_folder(tmp_path / "work", out, "b.mp4", MONTH)
    removing = shutil.rmtree

    def refused(path: Any, ignore_errors: bool = False) -> None:
        # As a busy or read-only folder's removal fails (root may remove a read-only one,
        # so the failure is made here); `sweep_kept` asks to ignore errors.
        assert ignore_errors
        if Path(path) != stuck:
            removing(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(kept_chunks.shutil, "rmtree", refused)
    assert sweep_kept(tmp_path / "work", out, {}, lambda d: False) == []  # before: [stuck]
    assert stuck.is_dir()


def test_a_stopped_batch_rerun_under_another_host_name_resumes_its_chunks(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second review (finding 3): with the host in the folder's name, a batch stopped
    on one host and rerun on another (a requeued node, a laptop whose host name follows
    the network) rendered every chunk again, and the old folder stayed."""
    monkeypatch.setattr(batch_run, "_outcomes", stopped)
    out = tmp_path / "out"
    monkeypatch.setattr(kept_chunks.socket, "gethostname", lambda: "node-a")
    stopped_batch(tmp_path, faces_dir, out, crf=23)
    (first,) = kept_folders(tmp_path)
    (first / "segment-0000.mp4").write_bytes(b"a finished chunk of node-a")
    monkeypatch.setattr(kept_chunks.socket, "gethostname", lambda: "node-b")
    stopped_batch(tmp_path, faces_dir, out, crf=23)  # the same job, requeued elsewhere
    assert kept_folders(tmp_path) == [first]  # before: a second folder, every chunk again
    assert (first / "segment-0000.mp4").read_bytes() == b"a finished chunk of node-a"
    assert '"node-b"' in (first / JOB_FILE).read_text()  # noted, for whoever looks


def test_another_hosts_folder_of_this_outdir_is_swept_as_ours(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / STATE_DIR).mkdir(parents=True)
    work = tmp_path / "work"
    dropped = _old_folder(work, out, "b.mp4", MONTH)
    stale = work / KEPT_FOLDER / "stale"
    shutil.copytree(dropped, stale)
    for folder, output in ((dropped, "b.mp4"), (stale, "a.mp4")):
        (folder / JOB_FILE).write_text(f'{{"job_id": 7, "host": "another-host", '
                                       f'"out_dir": "{out.resolve()}", "output": "{output}"}}')
    then = time.time() - MONTH
    for path in (dropped / JOB_FILE, dropped):
        os.utime(path, (then, then))
    with open(out / STATE_DIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the sweeping batch holds its OUTDIR's lock
        removed = sweep_kept(work, out, {"a.mp4": "K_a"}, batch_run._batch_live)
    # before: [] (another host's folder was "not ours" and its OUTDIR is live)
    assert removed == [dropped, stale]
