"""A chunked batch job's finished chunks, kept in the work folder until the job is joined.

The driver clears its staging folder as it starts (a killed run's half-made files must not
be joined), so the segments of the chunks a stopped batch had finished went with it and a
rerun rendered a 10-minute job from its first chunk again. Each chunk's segment is now
encoded into a folder of the work folder (never OUTDIR), atomically, with a note written
after it that names the chunk (frames, pre-roll, start time, watermark id): a chunk is
finished when both are there and the note names the chunk planned now. The folder is named
by the job's key (its inputs' content and its settings, `manifest.job_key`), facedub's
version and its owner's OUTDIR and output (not its host), so a changed input or option
renders every chunk again, and the same job run into two OUTDIRs keeps two folders (a batch
resumed from a moved OUTDIR renders its chunks again), while a batch stopped on one host
and rerun on another (a requeued cluster node, a laptop whose host name follows the
network) finds its chunks. A job id that was drawn is kept there too, so a resumed output
carries one id. The driver removes the folder once the job's output is in place.

A batch stopped and run again with a changed input or option left its old folder behind (a
new key, a new folder): orphans grew in the work folder, up to a gigabyte of segments for a
10-minute job. Each folder's `job.json` now names its owner (OUTDIR, output, and the host
that last wrote it, for whoever looks), and a batch sweeps, as it starts and holds OUTDIR's
lock (`sweep_kept`), the folders of its own OUTDIR's outputs that no job of it will use
now; a folder of its own OUTDIR for an output no job of it writes (a job dropped from the
list) that nothing has written to for a week; and any other folder nothing has written to
for a week whose OUTDIR no batch holds (an OUTDIR given up). A folder is its OUTDIR's
whatever host wrote it: one OUTDIR has one lock, so one batch at a time. A live job's
folder is never swept: its batch holds its OUTDIR's lock, and the folder is its own (the
owner is in its name).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facedub import __version__
from facedub.batch.chunks import Chunk
from facedub.fsutil import atomic_path, last_written, write_json_atomic

KEPT_FOLDER = "batch-chunks"  # under the work folder
JOB_FILE = "job.json"
# A folder nothing has written to for this long, of no live batch, is swept (as the resume
# folders of `facedub swap` are, `resumable.STALE_SECONDS`): a live chunk writes its
# segment within minutes.
STALE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Owner:
    """Whose kept folder it is: the job writing `output` (relative, as in the jobs file)
    into `out_dir` (resolved). `host` (the one that last drove it) is only noted in
    `job.json`: neither the folder's name nor the sweep goes by it."""

    host: str
    out_dir: str
    output: str

    @classmethod
    def of(cls, out_dir: Path, output: str) -> Owner:
        return cls(socket.gethostname(), str(Path(out_dir).resolve()), output)


def kept_folder(work_dir: Path, key: str, owner: Owner) -> Path:
    """Where the finished chunks of the job with `key` writing `owner`'s output are kept.

    The owner is in the name: the same job run into two OUTDIRs shared one folder, whose
    `job.json` named the last writer, so one OUTDIR's batch, rerun with changed inputs,
    swept the folder the other's live batch was writing into. The host is not: a batch
    rerun on another host (a requeued node) resumes its chunks."""
    owned = f"{key} {__version__} {owner.out_dir} {owner.output}"
    name = hashlib.sha256(owned.encode()).hexdigest()[:24]
    return Path(work_dir) / KEPT_FOLDER / name


def kept_job_id(work_dir: Path, key: str, owner: Owner, job_id: int | None,
                draw: Callable[[], int]) -> int:
    """The watermark id of the job's chunks: `job_id` when the job gives one, else the
    one an earlier run drew (kept), else a new one (`draw`), kept for the next run. The
    folder's `job.json` names `owner` (what `sweep_kept` goes by)."""
    path = kept_folder(work_dir, key, owner) / JOB_FILE
    note = _job_note(path)
    kept = note.get("job_id")
    if job_id is None:
        job_id = kept if isinstance(kept, int) and not isinstance(kept, bool) else draw()
    noted = {"job_id": job_id, **dataclasses.asdict(owner)}
    if note != noted:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, noted)
    return job_id


def sweep_kept(work_dir: Path, owner_dir: Path, planned: Mapping[str, str | None],
               live: Callable[[Path], bool], now: float | None = None) -> list[Path]:
    """Remove the kept folders no batch will use again; the folders removed.

    Called by a batch that holds `owner_dir`'s lock, as it starts. `planned`: each output
    of its jobs file, with the kept folder's name its job uses now (None: the job is not
    chunked now, or finished). Removed: a folder a batch in `owner_dir` (on any host) left for
    one of those outputs under another name (its inputs or options changed since: its
    chunks are stale); a folder of `owner_dir` for an output no job of `planned` writes
    (a job dropped from the list) nothing has written to for `STALE_SECONDS` (not asked
    whether `owner_dir` is `live`: this batch holds its lock); and any other folder
    nothing has written to for `STALE_SECONDS` whose OUTDIR is not `live` (no batch
    holds its lock) or that names none (an older facedub's). Never a folder a job of
    `planned` uses now. Listed: the folders that are gone (a removal can fail)."""
    root = Path(work_dir) / KEPT_FOLDER
    here = Owner.of(owner_dir, "")
    now = time.time() if now is None else now
    removed = []
    in_use = set(planned.values())
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        if not folder.is_dir() or folder.name in in_use:
            continue  # a job of this batch uses it, whatever its note says
        note = _job_note(folder / JOB_FILE)
        ours = note.get("out_dir") == here.out_dir  # whatever host wrote it
        output = note.get("output")
        old = now - last_written(folder) > STALE_SECONDS
        if ours and isinstance(output, str) and output in planned:
            stale = planned[output] != folder.name
        elif ours:
            stale = old  # live, but by this batch, none of whose jobs writes its output
        else:
            out_dir = note.get("out_dir")
            stale = old and not (isinstance(out_dir, str) and live(Path(out_dir)))
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():  # a read-only or busy folder stays: not said removed
                removed.append(folder)
    return removed


def is_kept(folder: Path, chunk: Chunk) -> bool:
    """Whether an earlier run finished `chunk` into `folder` (`kept_segment` uses it)."""
    return _finished(folder, chunk) is not None


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


def _job_note(path: Path) -> dict[str, Any]:
    """A kept folder's `job.json`; {} when missing, torn or foreign."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
