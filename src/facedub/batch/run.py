"""batch: a jobs file's swaps on a local process pool or a Ray cluster.

The driver (this process) decides what to run (the manifest says what is done), hands
jobs to workers, and, as each ends, moves its staged files into place (rename within
OUTDIR: atomic), records it in the manifest and keeps its log in OUTDIR/logs/. Workers
never write to OUTDIR's final paths, so a crash anywhere leaves finished outputs or none.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from facedub import media
from facedub.batch.chunks import plan_chunks
from facedub.batch.frames import FrameTally
from facedub.batch.jobs import (  # STATE_DIR: staging, notes
    LOGS_DIR,
    MANIFEST_FILE,
    STATE_DIR,
    Jobs,
)
from facedub.batch.joining import ChunkedJobs
from facedub.batch.kept_chunks import Owner, kept_folder, kept_job_id, sweep_kept
from facedub.batch.local import local_outcomes
from facedub.batch.manifest import FinishedJob, Manifest, job_key
from facedub.batch.worker import JobOutcome, JobTask, staged_files
from facedub.errors import FacedubError
from facedub.fsutil import sha256_file
from facedub.progress import NoProgress, Progress
from facedub.provenance import load_or_create_credentials, new_job_id
from facedub.provenance.mark import CREDENTIALS_FOLDER

log = logging.getLogger(__name__)


Cluster = Literal["local", "ray"]


@dataclass(frozen=True)
class BatchConfig:
    work_dir: Path  # cached analyses, shared by all jobs (and, on a cluster, all nodes)
    config_dir: Path  # the signing credentials
    workers: int = 1  # local pool size; on a local Ray, its CPUs (times cpus_per_job)
    cluster: Cluster = "local"
    address: str | None = None  # Ray cluster address; None: start Ray on this machine
    cpus_per_job: float = 1.0  # CPUs each Ray task asks for
    max_retries: int = 2  # times a job lost with its worker process is run again

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise FacedubError("--workers must be at least 1")
        if self.cluster not in ("local", "ray"):
            raise FacedubError(f"--cluster {self.cluster}: use 'ray' (or leave it out for a "
                               "local process pool)")
        if self.address is not None and self.cluster != "ray":
            raise FacedubError("--address needs --cluster ray")
        if self.cpus_per_job <= 0:
            raise FacedubError("--cpus-per-job must be above 0")
        if self.max_retries < 0:
            raise FacedubError("--retries must not be negative")


@dataclass(frozen=True)
class JobReport:
    number: int
    output: str
    status: Literal["done", "skipped", "failed"]
    frames: int = 0
    seconds: float = 0.0
    attempts: int = 0
    reason: str = ""


@dataclass(frozen=True)
class BatchResult:
    reports: tuple[JobReport, ...]
    seconds: float

    @property
    def failed(self) -> tuple[JobReport, ...]:
        return tuple(r for r in self.reports if r.status == "failed")

    @property
    def exit_code(self) -> int:
        """0 when every job is done (now or before), 1 when some failed."""
        return 1 if self.failed else 0

    def summary_lines(self) -> list[str]:
        width = max([len("output"), *(len(r.output) for r in self.reports)])
        lines = [f"{'job':>4}  {'output':<{width}}  {'status':<7}  {'frames':>6}  "
                 f"{'seconds':>7}  {'tries':>5}"]
        for r in self.reports:
            lines.append(f"{r.number:>4}  {r.output:<{width}}  {r.status:<7}  {r.frames:>6}  "
                         f"{r.seconds:>7.1f}  {r.attempts:>5}")
        counts = {s: sum(r.status == s for r in self.reports)
                  for s in ("done", "skipped", "failed")}
        lines.append(f"{counts['done']} done, {counts['skipped']} skipped (finished "
                     f"before), {counts['failed']} failed, in {self.seconds:.1f} s")
        lines.extend(f"job {r.number} ({r.output}) failed: {r.reason}" for r in self.failed)
        return lines


def batch(jobs: Jobs, out_dir: Path, config: BatchConfig,
          progress: Progress | None = None,
          say: Callable[[str], None] | None = None) -> BatchResult:
    """Run every job of `jobs` not already finished in `out_dir`; see the module doc.
    `say`: where a resumed batch says so (the command's terminal)."""
    progress = progress or NoProgress()
    started = time.monotonic()
    out_dir = Path(out_dir)
    if config.cluster == "ray" and config.address is not None:
        from facedub.batch.ray_cluster import check_reachable

        check_reachable(config.address)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _run(jobs, out_dir, config, progress, started, say)
    except BaseException:
        if created and [p.name for p in out_dir.iterdir()] == [STATE_DIR]:
            shutil.rmtree(out_dir, ignore_errors=True)  # nothing was made: leave nothing
        raise


def _run(jobs: Jobs, out_dir: Path, config: BatchConfig, progress: Progress,
         started: float, say: Callable[[str], None] | None) -> BatchResult:
    with _only_batch_in(out_dir) as state:
        manifest = Manifest(out_dir)
        reports: dict[int, JobReport] = {}
        to_run = []
        for job in jobs.jobs:
            key = job_key(job)
            if manifest.is_done(job, key, out_dir):
                reports[job.number] = JobReport(job.number, job.output, "skipped")
            else:
                to_run.append(JobTask(job, key, config.work_dir, config.config_dir,
                                      state / "running"))
        _sweep_kept_chunks(jobs, to_run, out_dir, config.work_dir)
        tasks = [task for job in to_run for task in _tasks(job, out_dir)]
        if tasks:  # made once here, not by several workers at the same moment
            load_or_create_credentials(config.config_dir / CREDENTIALS_FOLDER)
        log.info("%d jobs: %d finished before, %d to run", len(jobs.jobs), len(reports),
                 len(tasks))
        # A resumed batch said nothing of it until its summary: its bar counted only the
        # jobs left ("0/2" of three), and one with nothing left drew an empty "0/0" bar.
        if reports and to_run and say is not None:
            say(f"resuming: {len(reports)} of {len(jobs.jobs)} jobs finished before "
                f"({MANIFEST_FILE}); running the other {len(to_run)}")
        # Frames across the jobs left to run (`batch.frames`): the finished ones are not
        # in it, so its speed and time left are this run's.
        description = f"batch {jobs.path.name}"
        tally = FrameTally(tasks, progress, len(jobs.jobs), description)
        if tasks:
            progress.start(tally.total, description)
        chunked = ChunkedJobs(tasks, state / "staging")
        outcomes = _outcomes(tasks, config, state / "staging")
        try:
            with tally.running():
                for task, outcome in outcomes:
                    tally.finished(task)
                    whole = outcome if task.chunk is None else chunked.add(task, outcome)
                    if whole is not None:
                        reports[task.job.number] = _finish(task, whole, out_dir, manifest)
        finally:
            # Closed before the staging folder is removed: a local pool ends its workers
            # there (stopped while moving a finished job, they swapped on).
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
            progress.finish()
    ordered = tuple(reports[job.number] for job in jobs.jobs)
    return BatchResult(ordered, time.monotonic() - started)


def _chunked(task: JobTask) -> bool:
    return task.job.chunk_seconds is not None and not media.is_photo_path(task.job.target)


def _tasks(task: JobTask, out_dir: Path) -> list[JobTask]:
    """The job as one task, or as one task per chunk."""
    job = task.job
    if job.chunk_seconds is None or not _chunked(task):
        return [task]
    # a job's own id, else the one drawn for its chunks (kept for a rerun)
    owner = Owner.of(out_dir, job.output)
    job_id = kept_job_id(task.work_dir, task.key, owner, job.swap.get("job_id"), new_job_id)
    chunks = plan_chunks(job.target, job.chunk_seconds, job_id)
    log.info("job %d (%s): %d chunks", job.number, job.output, len(chunks))
    kept = kept_folder(task.work_dir, task.key, owner)
    return [replace(task, chunk=chunk, kept=kept) for chunk in chunks]


def _sweep_kept_chunks(jobs: Jobs, to_run: Sequence[JobTask], out_dir: Path,
                      work_dir: Path) -> None:
    """The kept chunks no job will use again (`kept_chunks.sweep_kept`): called with
    OUTDIR's lock held, before the jobs to run claim their folders."""
    planned: dict[str, str | None] = {job.output: None for job in jobs.jobs}
    planned.update({task.job.output: kept_folder(
        task.work_dir, task.key, Owner.of(out_dir, task.job.output)).name
        for task in to_run if _chunked(task)})
    for folder in sweep_kept(work_dir, out_dir, planned, _batch_live):
        log.info("removed the kept chunks of an earlier run that no job uses now: %s",
                 folder)


def _batch_live(out_dir: Path) -> bool:
    """Whether a batch holds `out_dir`'s lock now (this one included)."""
    try:
        lock = os.open(out_dir / STATE_DIR / "lock", os.O_RDONLY)
    except OSError:
        return False  # no lock file: no batch there
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(lock)  # closing releases a lock taken here
    return False


def _outcomes(tasks: Sequence[JobTask], config: BatchConfig,
              staging: Path) -> Iterator[tuple[JobTask, JobOutcome]]:
    if not tasks:
        return iter(())
    if config.cluster == "ray":
        from facedub.batch.ray_cluster import ray_outcomes

        return ray_outcomes(tasks, config, staging)
    return local_outcomes(tasks, config.workers, config.max_retries, staging)


def _finish(task: JobTask, outcome: JobOutcome, out_dir: Path,
            manifest: Manifest) -> JobReport:
    """Move a job's staged files into place and record it; the report for the summary."""
    job = task.job
    staged = staged_files(job, outcome.staged) if outcome.staged else {}
    try:
        if "log" in staged and staged["log"].is_file():
            logs = out_dir / LOGS_DIR
            logs.mkdir(exist_ok=True)
            os.replace(staged["log"], logs / f"{job.output.replace('/', '__')}.log")
        if not outcome.ok:
            log.warning("job %d (%s) failed: %s", job.number, job.output, outcome.reason)
            return JobReport(job.number, job.output, "failed", outcome.frames,
                             outcome.seconds, outcome.attempts, outcome.reason)
        final = out_dir / job.output
        final.parent.mkdir(parents=True, exist_ok=True)
        sidecar = final.with_name(staged["sidecar"].name)
        os.replace(staged["sidecar"], sidecar)
        os.replace(staged["output"], final)  # the output last: it is what a rerun checks
        manifest.record(job.output, FinishedJob(
            key=task.key, output_sha256=sha256_file(final), frames=outcome.frames,
            frames_swapped=outcome.frames_swapped, seconds=round(outcome.seconds, 2),
            attempts=outcome.attempts,
            finished=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")))
        if task.kept is not None:  # joined and in place: its kept chunks are done with
            shutil.rmtree(task.kept, ignore_errors=True)
            # And the kept chunks' folder when it is left empty: a finished batch left an
            # empty batch-chunks/ in the work folder.
            with contextlib.suppress(OSError):
                task.kept.parent.rmdir()
        return JobReport(job.number, job.output, "done", outcome.frames, outcome.seconds,
                         outcome.attempts)
    finally:
        if outcome.staged is not None:
            shutil.rmtree(outcome.staged, ignore_errors=True)


@contextlib.contextmanager
def _only_batch_in(out_dir: Path) -> Iterator[Path]:
    """OUTDIR's state folder, locked for this batch (a second batch in the same OUTDIR is
    refused); staging left by a killed run is cleared first."""
    state = out_dir / STATE_DIR
    state.mkdir(exist_ok=True)
    with open(state / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise FacedubError(f"{out_dir}: another `facedub batch` is writing there; wait "
                               "for it or choose another -o folder") from None
        for leftover in ("staging", "running"):
            shutil.rmtree(state / leftover, ignore_errors=True)
            (state / leftover).mkdir()
        try:
            yield state
        finally:
            shutil.rmtree(state / "staging", ignore_errors=True)
