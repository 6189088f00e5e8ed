"""A chunked batch job's finished chunks, kept in the work folder until the job is joined.

The driver clears its staging folder as it starts (a killed run's half-made files must not
be joined), so the segments of the chunks a stopped batch had finished went with it and a
rerun rendered a 10-minute job from its first chunk again. Each chunk's segment is now
encoded into a folder of the work folder (never OUTDIR), atomically, with a note written
after it that names the chunk (frames, pre-roll, start time, watermark id): a chunk is
finished when both are there and the note names the chunk planned now. The folder is named
by the job's key (its inputs' content and its settings, `manifest.job_key`) and facedub's
version, so a changed input or option renders every chunk again. A job id that was drawn
is kept there too, so a resumed output carries one id. The driver removes the folder once
the job's output is in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from facedub import __version__
from facedub.batch.chunks import Chunk
from facedub.fsutil import atomic_path, write_json_atomic

KEPT_FOLDER = "batch-chunks"  # under the work folder
JOB_FILE = "job.json"


def kept_folder(work_dir: Path, key: str) -> Path:
    """Where the finished chunks of the job with `key` are kept."""
    name = hashlib.sha256(f"{key} {__version__}".encode()).hexdigest()[:24]
    return Path(work_dir) / KEPT_FOLDER / name


def kept_job_id(work_dir: Path, key: str, draw: Callable[[], int]) -> int:
    """The watermark id an earlier run of this job drew for its chunks, else a new one
    (`draw`), kept for the next run."""
    path = kept_folder(work_dir, key) / JOB_FILE
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(path.read_text(encoding="utf-8"))["job_id"])
    job_id = draw()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"job_id": job_id})
    return job_id


def kept_segment(folder: Path, chunk: Chunk, segment: Path,
                 render: Callable[[Path], tuple[int, int]]) -> tuple[int, int]:
    """(frames written, frames swapped) of `chunk`, whose segment is put at `segment`:
    the one kept in `folder` by an earlier run, else `render(path)`'s, kept first."""
    counts = _finished(folder, chunk)
    if counts is None:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / chunk.segment_name) as staged:
            counts = render(staged)
        write_json_atomic(_note(folder, chunk), {"chunk": dataclasses.asdict(chunk),
                                                 "frames": counts[0], "swapped": counts[1]})
    _place(folder / chunk.segment_name, segment)
    return counts


def _note(folder: Path, chunk: Chunk) -> Path:
    """Written after the segment: the chunk it holds and its counts; it marks it finished."""
    return folder / f"segment-{chunk.index:04d}.json"


def _finished(folder: Path, chunk: Chunk) -> tuple[int, int] | None:
    try:
        note = json.loads(_note(folder, chunk).read_text(encoding="utf-8"))
        segment = folder / chunk.segment_name
        if note["chunk"] != dataclasses.asdict(chunk) or not segment.is_file():
            return None  # planned otherwise now (another cut, another id): rendered again
        return int(note["frames"]), int(note["swapped"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, torn or foreign: rendered again


def _place(kept: Path, segment: Path) -> None:
    """A link to the kept segment (a copy across filesystems) at `segment`, atomically."""
    segment.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(segment, durable=False) as staged:
        staged.unlink(missing_ok=True)
        try:
            os.link(kept, staged)
        except OSError:
            shutil.copyfile(kept, staged)
