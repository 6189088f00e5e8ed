"""Resume folders a stopped long swap leaves (forty-first round): a folder nothing has
written to for a week (its swap never run again) is removed when the next segmented swap
starts; a recent one of another output is kept (it may be resumed, or be rendering)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from facedub.batch.resumable import JOB_FILE, RESUME_FOLDER, STALE_SECONDS, _resume_folder
from facedub.swap import SwapConfig


def _left(root: Path, key: str, output: Path, age: float) -> Path:
    """A folder as a stopped swap into `output` leaves it, last written `age` s ago."""
    folder = root / key
    folder.mkdir(parents=True)
    (folder / JOB_FILE).write_text(json.dumps({"job_id": 5, "output": str(output)}))
    (folder / "segment-0000.mp4").write_bytes(b"\0" * 64)
    stamp = time.time() - age
    for path in (*folder.iterdir(), folder):
        os.utime(path, (stamp, stamp))
    return folder


def test_a_folder_untouched_for_a_week_is_removed_a_recent_one_kept(tmp_path: Path) -> None:
    work = tmp_path / "work"
    root = work / RESUME_FOLDER
    given_up = _left(root, "a" * 20, tmp_path / "old.mp4", STALE_SECONDS + 3600)
    recent = _left(root, "b" * 20, tmp_path / "other.mp4", STALE_SECONDS - 3600)
    config = SwapConfig(work_dir=work, config_dir=tmp_path / "config")
    folder = _resume_folder("c" * 20, tmp_path / "new.mp4", config)
    assert folder.path.is_dir() and recent.is_dir() and not given_up.exists()


def test_a_folder_written_to_lately_is_kept_however_old_the_folder(tmp_path: Path) -> None:
    """Its latest segment counts, not the folder's own time (a swap resumed after a
    month that writes a segment a minute is live)."""
    work = tmp_path / "work"
    resumed = _left(work / RESUME_FOLDER, "a" * 20, tmp_path / "old.mp4",
                    STALE_SECONDS + 3600)
    (resumed / "segment-0001.mp4").write_bytes(b"\0" * 64)  # written now
    stamp = time.time() - STALE_SECONDS - 3600
    os.utime(resumed, (stamp, stamp))
    _resume_folder("c" * 20, tmp_path / "new.mp4",
                   SwapConfig(work_dir=work, config_dir=tmp_path / "config"))
    assert resumed.is_dir()
