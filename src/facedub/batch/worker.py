"""One batch job, run in a worker process (local pool or Ray task): build the engine, swap
into a staging folder, and report. The job's log goes to a file beside its output.

Nothing here touches OUTDIR itself: the driver moves the staged files into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from facedub.batch.chunks import Chunk, swap_segment
from facedub.batch.frames import (
    ANALYSIS_BAR,
    SETUP_STAGE,
    SOURCE_STAGE,
    TARGET_STAGE,
    FrameFile,
    analysis_file,
    frame_file,
    note_stage,
    source_file,
)
from facedub.batch.jobs import JobSpec
from facedub.batch.kept_chunks import kept_segment
from facedub.batch.resumable import plan_segments, resumable_swap
from facedub.engines.base import EngineFacts, SwapEngine
from facedub.engines.registry import EngineRequest, open_engine
from facedub.errors import FacedubError
from facedub.progress import NoProgress, Progress
from facedub.provenance.manifest import sidecar_path
from facedub.swap import analyse_target, swap

log = logging.getLogger(__name__)

LOG_NAME = "job.log"


@dataclass(frozen=True)
class JobTask:
    """What a worker needs for one job. `status_dir`: where the worker notes its host and
    process id while it runs (None: nowhere)."""

    job: JobSpec
    key: str
    work_dir: Path
    config_dir: Path
    status_dir: Path | None = None
    chunk: Chunk | None = None  # a chunk of a long video (the driver joins them)
    # The folder a chunk's segment is kept in (`kept_chunks.kept_folder`, named by the
    # driver, which knows the job's OUTDIR); set with `chunk`.
    kept: Path | None = None


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended. `staged`: the folder holding the output, its sidecar and the log
    (None when the files travel back as bytes, or nothing was made); `reason`: one line,
    empty on success."""

    output: str
    ok: bool
    reason: str
    frames: int = 0
    frames_swapped: int = 0
    seconds: float = 0.0
    attempts: int = 1
    staged: Path | None = None
    engine_facts: EngineFacts | None = None  # what the provenance says of the engine


def failed_outcome(task: JobTask, reason: str, attempts: int) -> JobOutcome:
    return JobOutcome(task.job.output, False, reason, attempts=attempts)


def staging_for(task: JobTask, staging_root: Path) -> Path:
    """The staging folder of a job inside the driver's staging root."""
    chunk = f"-{task.chunk.index:04d}" if task.chunk else ""
    return staging_root / f"{task.job.number:04d}{chunk}"


def build_engine(job: JobSpec, work_dir: Path, progress: Progress | None = None
                 ) -> SwapEngine:
    """The job's engine, opened as `facedub swap` opens it (the source analysed into
    `work_dir`, its bar told to `progress`)."""
    return open_engine(job.engine, EngineRequest(work_dir, job.source, job.model, job.device,
                                                 job.mesh_config(),
                                                 progress=progress or NoProgress()))


def run_job(task: JobTask, staging: Path) -> JobOutcome:
    """Swap `task.job` into `staging/<output name>` (plus sidecar and job.log)."""
    job = task.job
    staging.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with _job_log(staging / LOG_NAME) as job_log, _running_note(task) as attempt:
        job_log.info("job %d (%s), attempt %d: %s engine, target %s, on %s pid %d",
                     job.number, job.output, attempt, job.engine, job.target,
                     socket.gethostname(), os.getpid())
        if task.chunk is not None:
            job_log.info("chunk %d of %d: frames %d to %d (pre-roll from %d)",
                         task.chunk.index + 1, task.chunk.count, task.chunk.first,
                         task.chunk.end - 1, task.chunk.preroll)
        try:
            outcome = replace(_swap(task, staging), attempts=attempt)
        except FacedubError as error:
            job_log.error("failed: %s", error)
            return JobOutcome(job.output, False, str(error), seconds=time.monotonic() - started,
                              attempts=attempt, staged=staging)
        except Exception as error:  # a bug: the batch goes on, the log keeps the traceback
            job_log.error("failed with an unexpected error:\n%s", traceback.format_exc())
            return JobOutcome(job.output, False, f"{type(error).__name__}: {error} (a bug; "
                              f"see the job's log)", seconds=time.monotonic() - started,
                              attempts=attempt, staged=staging)
        job_log.info("done: %d/%d frames swapped in %.1f s", outcome.frames_swapped,
                     outcome.frames, outcome.seconds)
        return outcome


def _swap(task: JobTask, staging: Path) -> JobOutcome:
    job = task.job
    started = time.monotonic()
    config = job.swap_config(task.work_dir, task.config_dir)
    bar = FrameFile(frame_file(task))  # the frames it renders, for the driver's bar
    # Jobs that share a source or target share its analysis in the work folder: one
    # worker makes it while the others wait, then all read it. The engine first: a
    # source it refuses fails the job before the target's whole analysis, not after.
    # Each stage is named on the driver's bar (`batch.frames`): it stood still through them.
    note_stage(task, SOURCE_STAGE)
    # A video source's analysis is work of the bar too, as the target's below (fifty-first
    # round: minutes on a long source clip with the bar standing still).
    sourcing = FrameFile(source_file(task), ANALYSIS_BAR)
    with _analysis_lock(task.work_dir, job.source or job.model or job.target):
        engine = build_engine(job, task.work_dir, sourcing)
        sourcing.none_started()
    try:
        # Its frames are work of the driver's bar (`batch.frames`): it stood still
        # through a long clip's analysis.
        analysing = FrameFile(analysis_file(task), ANALYSIS_BAR)
        note_stage(task, TARGET_STAGE)
        with _analysis_lock(task.work_dir, job.target):
            analyse_target(job.target, config, analysing)
            analysing.none_started()
        note_stage(task, SETUP_STAGE)  # until its first frame is counted: "swapping"
        if task.chunk is not None:
            # Kept in the work folder, so a stopped batch run again does not render a
            # finished chunk again (the driver clears the staging as it starts).
            chunk, kept = task.chunk, task.kept
            if kept is None:
                raise ValueError(f"chunk {chunk.index} of {job.output} has no kept folder")
            frames, swapped = kept_segment(
                kept, chunk, staging / chunk.segment_name,
                lambda segment: swap_segment(job.target, engine, segment, config, chunk,
                                             bar))
        else:
            # A long video renders in segments kept in the work folder, as `facedub swap`
            # does: a batch stopped (Ctrl-C, SIGTERM, a killed worker) at minute 9 of a
            # 10-minute job rendered it again from frame 0 when resumed. The staging path
            # is the job's own on every run (`staging_for`), so the segments are found.
            out = staging / Path(job.output).name
            segments = plan_segments(job.target)
            if segments is None:
                result = swap(job.target, engine, out, config, bar)
            else:
                result = resumable_swap(job.target, engine, out, config, segments, bar,
                                        say=log.info)
            frames, swapped = result.frames, result.frames_swapped
    finally:
        engine.close()  # a chunk's end does not end the tracks that go on past it
    return JobOutcome(job.output, True, "", frames, swapped, time.monotonic() - started,
                      staged=staging, engine_facts=engine.facts)


def staged_files(job: JobSpec, staging: Path, chunk: Chunk | None = None) -> dict[str, Path]:
    """The files a finished job (or chunk) leaves in its staging folder, by role."""
    if chunk is not None:
        return {"segment": staging / chunk.segment_name, "log": staging / LOG_NAME}
    out = staging / Path(job.output).name
    return {"output": out, "sidecar": sidecar_path(out), "log": staging / LOG_NAME}


@contextlib.contextmanager
def _analysis_lock(work_dir: Path, media: Path) -> Iterator[None]:
    """An exclusive lock (across processes, and across nodes where the filesystem keeps
    fcntl locks, as NFS does) on the analysis of `media` in `work_dir`."""
    folder = work_dir / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(Path(media).resolve()).encode()).hexdigest()[:20]
    with open(folder / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _job_log(path: Path) -> Iterator[logging.Logger]:
    """Everything logged at INFO and above while the job runs also goes to `path`."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield log
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


@contextlib.contextmanager
def _running_note(task: JobTask) -> Iterator[int]:
    """`status_dir/<job number>[-<chunk>].json`: host, pid and attempt of the process running the
    job, while it runs (to find a stuck job's process). A note left behind by a process
    that died counts as an attempt: yields this attempt's number (1 if unknown)."""
    note = None
    attempt = 1
    if task.status_dir is not None and task.status_dir.is_dir():
        chunk = f"-{task.chunk.index}" if task.chunk else ""
        note = task.status_dir / f"{task.job.number}{chunk}.json"
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            attempt = int(json.loads(note.read_text())["attempt"]) + 1
        with contextlib.suppress(OSError):
            note.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                                        "output": task.job.output, "attempt": attempt}))
    try:
        yield attempt
    finally:
        if note is not None:
            note.unlink(missing_ok=True)
