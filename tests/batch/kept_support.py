"""Kept-chunk test helpers shared by the round-47 sweep and owner tests: a chunked job's
batch stopped as its first chunk starts, and the kept folders it leaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt, write_jobs

from facedub.batch import BatchConfig, batch, load_jobs
from facedub.batch.kept_chunks import KEPT_FOLDER


def stopped(*args: Any, **kwargs: Any) -> Any:
    raise KeyboardInterrupt  # Ctrl-C as the first chunk starts


def stopped_batch(tmp_path: Path, faces_dir: Path, out: Path, crf: int) -> None:
    """A chunked job's batch into `out`, stopped as its chunks start."""
    clip = tmp_path / "k.mp4"
    if not clip.exists():
        remuxed_excerpt(faces_dir / KATIE, 4.5, clip)
    jobs = load_jobs(write_jobs(tmp_path, [{"target": clip, "source": faces_dir / RUDD,
                                            "output": "k.mp4", "chunk_seconds": 2.0,
                                            "crf": crf}]), out)
    with pytest.raises(KeyboardInterrupt):
        batch(jobs, out, BatchConfig(work_dir=tmp_path / "work",
                                     config_dir=tmp_path / "config"))


def kept_folders(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "work" / KEPT_FOLDER).iterdir())
