"""`facedub batch`'s bar counts frames across all jobs (forty-ninth round): it counted jobs,
so a photo and a clip drew "1/2" as the photo ended and sat there for the clip's whole
swap, its time left one job's length. Now the workers' rendered frames come to the
driver (`batch.frames`); a resumed batch's total is the frames of the jobs it runs, so
its speed and time left are this run's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from batch_media import BIDEN, KATIE, RUDD, AnalysisHold, remuxed_excerpt, write_jobs
from held_terminal import run_held_in_terminal
from test_swap_resume_round40 import SEGMENT_SECONDS, Recorded, StopAfterFirstSegment, _swap

from facedub import media
from facedub.batch import worker as batch_worker
from facedub.batch.chunks import plan_chunks
from facedub.batch.frames import (
    RENDER_BAR,
    TARGET_STAGE,
    FrameFile,
    FrameTally,
    analysis_steps,
    frame_file,
    planned_frames,
    planned_source,
)
from facedub.batch.jobs import load_jobs
from facedub.batch.kept_chunks import kept_segment
from facedub.batch.worker import JobTask, run_job
from facedub.cli.terminal import RichProgress
from facedub.progress import Retotalled


class DriverBar(Recorded):
    """The driver's Progress as the terminal's: a total that can be lowered."""

    def retotal(self, total: int) -> None:
        self.totals.append(total)


def started_tally(tasks: list[JobTask]) -> tuple[DriverBar, FrameTally]:
    """The driver's bar and its tally of `tasks`, the bar started at the tally's total
    (as `facedub batch` starts it)."""
    bar = DriverBar()
    tally = FrameTally(tasks, bar)
    bar.start(tally.total, "batch")
    return bar, tally


def _task(tmp_path: Path, target: Path) -> JobTask:
    jobs = load_jobs(write_jobs(tmp_path, [{"target": target, "output": "out.mp4"}],
                                {"source": target, "engine": "mesh"}), tmp_path / "out")
    status = tmp_path / "running"
    status.mkdir(exist_ok=True)
    return JobTask(jobs.jobs[0], "key", tmp_path / "work", tmp_path / "config", status)


def _counts(drawn: str, total: int) -> list[int]:
    """Every count the bar drew against `total`, in order."""
    return [int(done) for done in re.findall(rf"\b(\d+)/{total}\b", drawn)]


def test_the_bar_counts_frames_across_jobs_and_a_resumed_batch_its_own(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    jobs = [{"target": faces_dir / BIDEN, "output": "biden.jpg"},
            {"target": clip, "output": "katie.mp4"}]
    defaults = {"source": faces_dir / RUDD, "engine": "mesh"}
    out, work = tmp_path / "out", tmp_path / "work"
    command = ["batch", str(write_jobs(tmp_path, jobs, defaults)), "-o", str(out),
               "--work-dir", str(work)]

    # Each job held before its target's analysis until the bar has named it: which of a
    # job's short stages a 0.5 s poll catches varies with the machine (CI's caught none of
    # job 2's source and set-up, each under a poll there; the fiftieth round's test
    # failed on it), what the bar says while a job waits does not.
    photo, video = AnalysisHold(work, faces_dir / BIDEN), AnalysisHold(work, clip)
    # The photo's one frame, the clip's frames, and the clip's analysis before them
    # (fiftieth round: test_batch_analysis_bar_round50.py).
    total = 1 + frames + analysis_steps(frames, whole=True)
    code, drawn, _ = run_held_in_terminal(command, [
        (rf"job 1/2: {TARGET_STAGE}", photo.release),
        # Job 1's frame counted as it ended, the bar on job 2, which waits.
        (rf"job 2/2: {TARGET_STAGE}[^\n]*\b1/{total}\b", video.release)])
    assert code == 0, drawn
    counts = _counts(drawn, total)
    assert counts and counts[-1] == total, drawn
    # Counted within a job, not only as each job ended: the next test (a real worker's
    # rendering file looked at after its first frame; the clip's few seconds of
    # rendering here may fall between two polls on a fast machine).
    assert "frames/s" in drawn and "/2 " not in drawn, drawn

    # One job more, the same clip at another quality: its frames alone are the bar (its
    # target's analysis was made by the first run).
    jobs.append({"target": clip, "output": "katie-small.mp4", "crf": 30})
    command[1] = str(write_jobs(tmp_path, jobs, defaults))
    video = AnalysisHold(work, clip)
    code, drawn, _ = run_held_in_terminal(command, [
        (rf"job 3/3: {TARGET_STAGE}", video.release)])
    assert code == 0, drawn
    assert "resuming: 2 of 3 jobs finished before" in drawn, drawn
    counts = _counts(drawn, frames)
    assert counts and counts[-1] == frames, drawn
    assert "/3 " not in drawn and f"/{total + frames}" not in drawn, drawn


def test_a_jobs_rendered_frames_reach_the_driver_while_it_renders(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted within a job, not only as it ends (forty-ninth round): a real worker's
    rendering file read by the driver's look after the job's first rendered frame, the
    job not ended. The terminal test above cannot ask it on any machine (the clip's few
    seconds of rendering may fall between two 0.5 s polls on a fast one), so a file that
    reached the driver only at the job's end passed it."""
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    jobs = load_jobs(write_jobs(tmp_path, [{"target": clip, "output": "katie.mp4"}],
                                {"source": faces_dir / RUDD, "engine": "mesh"}),
                     tmp_path / "out")
    status = tmp_path / "running"
    status.mkdir()
    task = JobTask(jobs.jobs[0], "key", tmp_path / "work", tmp_path / "config", status)
    driver = DriverBar()
    tally = FrameTally([task], driver)
    driver.start(tally.total, "batch")
    counted: list[int] = []  # the driver's count as the rendering starts, then after a frame

    class LookedAt(FrameFile):
        """The worker's files (`worker._swap` makes them): the driver looks as its
        rendering bar starts and after its first frame, in the worker's own thread."""

        def __init__(self, path: Path | None, bar: str = RENDER_BAR) -> None:
            super().__init__(path, bar)
            self.path, self.rendering = path, False

        def start(self, total: int | None, description: str, unit: str | None = None
                  ) -> None:
            super().start(total, description, unit)
            self.rendering = (description.startswith(RENDER_BAR) and unit is None
                              and self.path == frame_file(task))
            if self.rendering:
                tally.look()
                counted.append(sum(driver.steps))

        def advance(self, steps: int = 1) -> None:
            super().advance(steps)
            if self.rendering and len(counted) == 1:
                tally.look()
                counted.append(sum(driver.steps))

    monkeypatch.setattr(batch_worker, "FrameFile", LookedAt)
    outcome = run_job(task, tmp_path / "staging")
    assert outcome.ok and outcome.frames == frames > 1, outcome
    # One frame more on the driver's bar, of the job still rendering (its worker writes
    # its first frame at once, then at most every WRITE_SECONDS).
    assert len(counted) == 2 and counted[1] - counted[0] == 1, counted
    tally.finished(task)
    assert sum(driver.steps) == tally.total, (driver.steps, tally.total)


@pytest.fixture(scope="module")
def three_segments(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return remuxed_excerpt(faces_dir / KATIE, 2.5, tmp_path_factory.mktemp("clip") / "k.mp4")


def test_a_long_jobs_kept_segments_are_out_of_the_bar(
        faces_dir: Path, three_segments: Path, tmp_path: Path) -> None:
    """A long job stopped after its first segment, resumed: its worker's bar is the other
    segments' frames, and the driver's total is lowered by the kept ones, never counted as
    rendered (they came in as one step, and the speed and time left read too fast)."""
    assert isinstance(RichProgress(), Retotalled)  # the CLI's bar: its total is lowered
    assert isinstance(DriverBar(), Retotalled)
    work, out = tmp_path / "work", tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        _swap(faces_dir, three_segments, out / "k.mp4", work,
              progress=StopAfterFirstSegment(work))
    task = _task(tmp_path, three_segments)
    frames = planned_frames(task)
    bar, tally = started_tally([task])
    resumed = _swap(faces_dir, three_segments, out / "k.mp4", work,
                    progress=FrameFile(frame_file(task)))  # type: ignore[arg-type]
    tally.finished(task)
    kept = plan_chunks(three_segments, SEGMENT_SECONDS, 0)[0].end
    assert resumed.frames == frames == 63 and 0 < kept < frames
    # (Its analyses, made by the stopped run, are work of the bar until its worker says
    # so: this test is the rendering's. Its source is the clip too: fifty-first round.)
    analysis = analysis_steps(frames, whole=True) + planned_source(task)
    assert bar.totals == [frames + analysis, frames + analysis - kept], bar.totals
    assert sum(bar.steps) == frames + analysis - kept, bar.steps


def test_a_kept_chunk_is_out_of_the_total(faces_dir: Path, three_segments: Path,
                                          tmp_path: Path) -> None:
    chunks = plan_chunks(three_segments, SEGMENT_SECONDS, 0)
    kept = tmp_path / "kept"
    task = _task(tmp_path, three_segments)
    first, second = (JobTask(task.job, task.key, task.work_dir, task.config_dir,
                             task.status_dir, chunk, kept) for chunk in chunks[:2])

    def render(path: Path) -> tuple[int, int]:  # an earlier run's chunk 0
        path.write_bytes(b"segment")
        return chunks[0].end - chunks[0].first, 0

    kept_segment(kept, chunks[0], tmp_path / "staged.mp4", render)
    assert planned_frames(first) == 0
    assert planned_frames(second) == chunks[1].end - chunks[1].first


def test_a_retried_job_keeps_its_first_total(faces_dir: Path, three_segments: Path,
                                             tmp_path: Path) -> None:
    """A worker that dies after rendering part of a job in this run: the retry's worker
    keeps those segments and says a smaller total, which is not an earlier run's kept
    frames (the bar counted them): the total stays, every frame is counted by the end."""
    task = _task(tmp_path, three_segments)
    path = frame_file(task)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = planned_frames(task)
    bar, tally = started_tally([task])
    for written in (f"0 {frames}", f"40 {frames}", f"0 {frames - 24}",
                    f"{frames - 24} {frames - 24}"):  # attempt 1 dies at 40; the retry
        path.write_text(written)
        tally.look()  # the driver reads each (a poll slower than the writes missed the
        # first total on a loaded machine and took the retry's for kept frames)
    tally.finished(task)
    # Its rendering and its analyses (its source is the clip too: fifty-first round).
    total = frames + analysis_steps(frames, whole=True) + planned_source(task)
    assert bar.totals == [total], bar.totals
    assert sum(bar.steps) == total, bar.steps
