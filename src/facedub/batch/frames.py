"""The batch's bar in frames across all jobs (forty-ninth round): it counted jobs, so a
batch of one long and three short jobs sat at "3/4" for most of its time, and its time
left was a count of jobs times the last job's length.

Each worker writes how many frames its job has rendered to a small file in the batch's
state folder (`FrameFile`, the same folder as its running note); the driver reads those
files every `POLL_SECONDS` and advances its bar by what they add (`FrameTally`). A job's
frames that no file reported (a worker on a node that does not share the folder, a failed
job) are counted when its outcome comes back, so the bar always ends at its total.

Frames an earlier run kept are not this run's work: counted as rendered, they came in as
one step (a long job's kept segments at its start, a kept chunk as it came back) and the
speed and time left read too fast for rich's 30 s window. A chunk kept in its kept folder
is out of the total from the start; a long job's kept segments are out of its worker's
rendering bar (`resumable_swap`), whose total the file carries too, and the driver lowers
its bar's total by them as it reads it (a bar that cannot be lowered counts them as the
job's outcome comes back, as before).

A job's target analysis (`swap.analyse_target`: minutes on a long clip, before its first
frame is rendered) is work of the bar too (fiftieth round: the bar stood still through
it): a video target's frames once more per job, three analysed frames a step
(`ANALYSED_PER_STEP`), counted from the file of the worker that analyses it
(`analysis_file`; a job's chunks share one analysis, one of them makes it).
An analysis an earlier run made (whole, or the frames an interrupted one analysed) is out
of the total as that worker says so: its file's total is the frames it analyses, 0 for
an analysis it found made.

A video source's analysis (the mesh engine's, as it opens: every frame of the source, so
minutes on a long source clip) is counted the same way (fifty-first round: the bar named
it, "job 2/3: the source", and stood still through it), one analysed frame a step (a
source's frame costs 2.2 times a target's: `SOURCE_PER_STEP`), once for all the jobs of
that source (one file per source, `source_file`: planned once a job, a batch of ten jobs
of one source clip read nine analyses too many until their workers said so).

What the bar cannot count honestly it names (fiftieth round): before a job's first frame
its worker reads the source (the engine's opening, and its analysis of the source, which
is counted too for a video since the fifty-first round) and,
after the target's analysis, sets up the swap (tracks, glasses, the engine's first crop:
15 s under load), and the bar stood still through both, as if hung. Each worker writes
its stage to a file beside its frames (`note_stage`), and the driver's bar is described
by the stage of the first job still running ("job 2/3: setting up"; "job 2/3: swapping"
once it renders), where the terminal's bar can be (`progress.Described`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from facedub import media
from facedub.batch.kept_chunks import is_kept
from facedub.errors import FacedubError
from facedub.progress import Described, Progress, Retotalled

if TYPE_CHECKING:  # the worker writes with `FrameFile`: imported there at run time
    from facedub.batch.worker import JobTask

POLL_SECONDS = 0.5  # the driver's look at the workers' frame files
WRITE_SECONDS = 0.25  # a worker rewrites its file at most this often (and at the end)
RENDER_BAR = "swap "  # the rendering bar's description (`facedub.swap`, `resumable_swap`)
ANALYSIS_BAR = "extract "  # the target analysis's bar (`extract`)
# An analysed frame costs about a third of a rendered one, so three of them are one step of
# the bar, whose speed and time left then hold from the analysis into the rendering
# (counted one for one, a 25-frame clip's bar read 10.4 frames/s and 4 s left as its
# analysis ended, then rendered at 2 frames/s for 10 s). Measured: the README pair's
# analysis 4.0 s for 200 frames, its frames stage about 13 s (BENCHMARKS.md, "Where a 2-core
# README swap's wall goes", forty-ninth round); a 1 s clip's batch here under load 0.12 s
# against 0.29 s a frame (fiftieth round).
ANALYSED_PER_STEP = 3
# A source's analysed frame (the mesh engine's: crops of 512 px, its texture) costs about
# 2.2 times a target's (the README clip's 200 frames, one process, medians of 3: 10.2 s of
# CPU against 4.6 s; 57 s against 22 s of wall at load 20; fifty-first round), so about
# three quarters of a rendered frame: one a step.
SOURCE_PER_STEP = 1
# A job's stages before it renders (`note_stage`), as its bar's description says them;
# short, so that "job 12/30: setting up" fits the 22 characters an 80-column bar gives it.
SOURCE_STAGE = "the source"  # the source's analysis and the engine's opening
TARGET_STAGE = "the target"  # the target's analysis (counted too)
SETUP_STAGE = "setting up"  # the swap's set-up, before its first frame
RENDER_STAGE = "swapping"  # from its first rendered frame (the driver sees it counted)


# What the driver counts of a task: its rendering ("frames", the task's id), its job's
# target analysis ("target", the job's number: its chunks share it), or its source's
# analysis ("source", the source's path: every job of that source shares it).
Work = tuple[str, str]
PER_STEP = {"target": ANALYSED_PER_STEP, "source": SOURCE_PER_STEP}  # analysed frames a step


def frame_file(task: JobTask) -> Path | None:
    """Where the worker of `task` writes its frame count (None: nowhere)."""
    if task.status_dir is None:
        return None
    chunk = f"-{task.chunk.index}" if task.chunk else ""
    return task.status_dir / f"{task.job.number}{chunk}.frames"


def analysis_file(task: JobTask) -> Path | None:
    """Where the worker that analyses the target of `task`'s job writes its frame count
    (one file per job: its chunks share the analysis; None: nowhere)."""
    if task.status_dir is None:
        return None
    return task.status_dir / f"{task.job.number}.analysis"


def source_file(task: JobTask) -> Path | None:
    """Where the worker that analyses the source of `task`'s job (as its engine opens)
    writes its frame count: one file per source, as the analysis is one for all the jobs
    of that source (the README's jobs file gives one source to every job); None:
    nowhere."""
    if task.status_dir is None or task.job.engine != "mesh":
        return None  # the neural engine analyses no source: nothing to write
    name = hashlib.sha256(_source_key(task).encode()).hexdigest()[:20]
    return task.status_dir / f"{name}.source"


def _source_key(task: JobTask) -> str:
    """The source of `task`'s job as the worker's analysis lock names it (its path), or
    the job itself where no source is analysed: the neural engine's, even with a source
    its jobs file gives every job (`[defaults]`): keyed on that source, a neural job
    first planned the mesh jobs' shared analysis as its own 0 (a bar of 2 for 356)."""
    source = task.job.source
    if source is None or task.job.engine != "mesh":
        return f"job {task.job.number}"
    return str(Path(source).resolve())


def stage_file(task: JobTask) -> Path | None:
    """Where the worker of `task` writes its stage (None: nowhere)."""
    frames = frame_file(task)
    return None if frames is None else frames.with_suffix(".stage")


def note_stage(task: JobTask, stage: str) -> None:
    """The worker of `task` says the stage it is in (replaced whole; a stage that cannot be
    written stops nothing)."""
    path = stage_file(task)
    if path is None:
        return
    partial = path.with_name(path.name + ".partial")
    with contextlib.suppress(OSError):
        partial.write_text(stage)
        os.replace(partial, path)


def read_stage(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def planned_analysis(task: JobTask) -> int:
    """The bar's steps for the target analysis of `task`'s job: a video's frames (every
    one is analysed) in rendered frames' worth (`analysis_steps`); 0 for a photo (one
    frame, at once) or a target that cannot be read."""
    return _video_steps(task.job.target, ANALYSED_PER_STEP)


def planned_source(task: JobTask) -> int:
    """The bar's steps for the source analysis of `task`'s job: a video source's frames
    (the mesh engine analyses every one), `SOURCE_PER_STEP` a step; 0 for a photo, a
    folder of photos or a faceset (seconds), and for the neural engine (its model is
    trained: nothing to analyse)."""
    job = task.job
    if job.engine != "mesh" or job.source is None or Path(job.source).is_dir():
        return 0
    return _video_steps(job.source, SOURCE_PER_STEP)


def _video_steps(path: Path, per_step: int) -> int:
    """`path`'s analysis in the bar's steps: every frame of a video (`analysis_steps`);
    0 for a photo or a file that cannot be read."""
    if media.is_photo_path(path):
        return 0
    try:
        frames = max(0, media.probe(path).frame_count)
    except (FacedubError, OSError):
        return 0
    return analysis_steps(frames, whole=True, per_step=per_step)


def analysis_steps(frames: int, whole: bool = False,
                   per_step: int = ANALYSED_PER_STEP) -> int:
    """`frames` analysed in the bar's steps, rendered frames: `per_step` of them a step
    (a target's: `ANALYSED_PER_STEP`; rounded up for a total, `whole`; down for a count,
    which reaches the total as the analysis ends)."""
    return -(-frames // per_step) if whole else frames // per_step


def planned_frames(task: JobTask) -> int:
    """The frames `task` renders: its chunk's (0 for a chunk an earlier run kept), else
    its target's (as the header says; 1 for a photo; 0 where the target cannot be read:
    the job fails and adds nothing)."""
    if task.chunk is not None:
        if task.kept is not None and is_kept(task.kept, task.chunk):
            return 0
        return task.chunk.end - task.chunk.first
    if media.is_photo_path(task.job.target):
        return 1
    try:
        return max(0, media.probe(task.job.target).frame_count)
    except (FacedubError, OSError):
        return 0


class FrameFile:
    """facedub.progress.Progress in a worker: the frames of the rendering bar (a swap's
    "swap ..." bar; the analyses' bars are not frames of the output), or of the bar `bar`
    names (`ANALYSIS_BAR`), and its total (the frames this run renders or analyses)
    written to `path` as "frames total", replaced whole (a reader never sees half of
    it). Steps an earlier run did (`kept`, a resumed analysis's) are out of the total."""

    def __init__(self, path: Path | None, bar: str = RENDER_BAR) -> None:
        self._path = path
        self._bar = bar
        self._counting = False
        self._started = False
        self._frames = 0
        self._total: int | None = None
        self._written_at = 0.0

    def start(self, total: int | None, description: str, unit: str | None = None) -> None:
        self._counting = unit is None and description.startswith(self._bar)
        if self._counting:
            # Its total is written with the first step, or with the steps an earlier run
            # did (`kept`, told right after the start): the driver takes only a job's first
            # total, and takes kept frames out by it.
            self._started = True
            self._total = total
            self._written_at = 0.0

    def kept(self, steps: int) -> None:
        """`steps` an earlier run did (`progress.advance_kept`): out of the total."""
        if self._counting and self._total is not None:
            self._total = max(0, self._total - steps)
            self._write()

    def advance(self, steps: int = 1) -> None:
        if not self._counting:
            return
        self._frames += steps
        if time.monotonic() - self._written_at >= WRITE_SECONDS:
            self._write()

    def none_started(self) -> None:
        """The work it counts was found done (an analysis an earlier run or another
        worker made): "0 0", unless a worker wrote the file already (the one that made
        it, in this run)."""
        if self._started or self._path is None or self._path.exists():
            return
        self._total = 0
        self._write()

    def finish(self) -> None:
        if self._counting:
            self._write()
        self._counting = False

    def _write(self) -> None:
        self._written_at = time.monotonic()
        if self._path is None:
            return
        partial = self._path.with_name(self._path.name + ".partial")
        with contextlib.suppress(OSError):  # a bar that cannot be written stops nothing
            total = "" if self._total is None else f" {self._total}"
            partial.write_text(f"{self._frames}{total}")
            os.replace(partial, self._path)


def read_frames(path: Path | None) -> tuple[int, int | None]:
    """(frames rendered, the rendering bar's total or None) of a worker's file."""
    if path is None:
        return 0, None
    try:
        numbers = [max(0, int(word)) for word in path.read_text().split()]
    except (OSError, ValueError):
        return 0, None
    if not numbers:
        return 0, None
    return numbers[0], numbers[1] if len(numbers) > 1 else None


class FrameTally:
    """The driver's side: `progress` advanced by the frames the workers report, from a
    thread of its own while the jobs run (`look` every `POLL_SECONDS`); `finished(task)`
    counts the rest of a task's frames as its outcome comes back. Where `progress` can
    be described, its description names the stage of the first job still running
    (`note_stage`): "job N/`jobs`: ...", and `description` between jobs and at the end."""

    def __init__(self, tasks: Sequence[JobTask], progress: Progress, jobs: int = 0,
                 description: str = "") -> None:
        self._tasks = tuple(tasks)
        self._jobs = jobs or max((task.job.number for task in tasks), default=0)
        self._description = self._shown = description
        self._describe = progress.describe if isinstance(progress, Described) else None
        self._planned: dict[Work, int] = {}
        self._files: dict[Work, Path | None] = {}
        for task in tasks:
            for work, planned, path in (
                    (_source_work(task), planned_source, source_file),
                    (_target_work(task), planned_analysis, analysis_file),
                    (_frames_work(task), planned_frames, frame_file)):
                if work not in self._planned:  # shared: a job's chunks, a source's jobs
                    self._planned[work] = planned(task)
                    self._files[work] = path(task)
        self._counted = dict.fromkeys(self._planned, 0)
        self._open = set(self._planned)
        self._totalled: set[Work] = set()  # work whose worker has said its total
        self._progress = progress
        self._retotal = progress.retotal if isinstance(progress, Retotalled) else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="facedub-batch-frames",
                                        daemon=True)

    @property
    def total(self) -> int:
        return sum(self._planned.values())

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()
            self._show(self._description)

    def look(self) -> None:
        """Read every file of work still open and describe the bar by the stage now (what
        the driver's thread does every `POLL_SECONDS`; a test calls it where it wants a
        look, not a poll's timing)."""
        with self._lock:
            for work in list(self._open):
                self._read(work)
            self._show(self._stage_now())

    def finished(self, task: JobTask) -> None:
        """`task` ended: all its frames are counted, and its job's analyses (every task
        analyses, or waits for the analyses, before it renders)."""
        with self._lock:
            for work in (_source_work(task), _target_work(task), _frames_work(task)):
                if work in self._open:
                    self._read(work)  # ended between two polls: its kept frames
                self._open.discard(work)
                self._add(work, max(self._planned[work], self._counted[work]))
            self._show(self._stage_now())  # not the ended job's stage till the next poll

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.look()

    def _stage_now(self) -> str:
        """The bar's description now: the stage of the first job still running that
        said one, else the bar's own."""
        for task in self._tasks:
            frames = _frames_work(task)
            if frames not in self._open:
                continue
            stage = (RENDER_STAGE if self._counted[frames] > 0
                     else read_stage(stage_file(task)))
            if stage is not None:
                return f"job {task.job.number}/{self._jobs}: {stage}"
        return self._description

    def _show(self, description: str) -> None:
        if self._describe is not None and description and description != self._shown:
            self._shown = description
            self._describe(description)

    def _read(self, work: Work) -> None:
        frames, total = read_frames(self._files[work])
        per_step = PER_STEP.get(work[0])
        if per_step is not None:  # an analysis: its frames in the bar's steps
            frames = analysis_steps(frames, per_step=per_step)
            total = None if total is None else analysis_steps(total, True, per_step)
        if total is not None and work not in self._totalled:
            # Only a job's first total: a retried job's worker keeps what the failed attempt
            # rendered in this run, which the bar has counted already.
            self._totalled.add(work)
            if total < self._planned[work] and self._retotal is not None:
                # Its worker renders fewer: an earlier run kept the rest (never below what
                # the bar already counted of it, so the bar does not go back).
                self._planned[work] = max(total, self._counted[work])
                self._retotal(self.total)
        # A retried job starts again from 0: the largest count is kept (the bar does not
        # go back), capped at what the task renders.
        self._add(work, min(frames, self._planned[work]))

    def _add(self, work: Work, frames: int) -> None:
        """Count `work` up to `frames` (never back)."""
        gained = frames - self._counted[work]
        if gained > 0:
            self._counted[work] = frames
            self._progress.advance(gained)


def _frames_work(task: JobTask) -> Work:
    return ("frames", str(id(task)))


def _target_work(task: JobTask) -> Work:
    return ("target", str(task.job.number))


def _source_work(task: JobTask) -> Work:
    return ("source", _source_key(task))
