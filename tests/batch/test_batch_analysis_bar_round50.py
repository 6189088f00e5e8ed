"""Round 50: `facedub batch`'s bar counted the frames the jobs render, not the target
analysis each job runs before its first frame (minutes on a long clip): the bar stood
still through it. The analysis's frames are work of the bar now (`batch.frames`), and an
analysis an earlier run made, whole or in part, is out of the total."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from batch_media import KATIE
from test_batch_frames_bar_round49 import DriverBar, _task, started_tally

from facedub import media
from facedub.batch.frames import (
    ANALYSIS_BAR,
    POLL_SECONDS,
    SETUP_STAGE,
    SOURCE_STAGE,
    FrameFile,
    FrameTally,
    analysis_file,
    analysis_steps,
    frame_file,
    note_stage,
    planned_analysis,
    planned_frames,
    planned_source,
)
from facedub.cli.terminal import RichProgress
from facedub.faceset import PROGRESS_FILE
from facedub.progress import Described, NoProgress
from facedub.swap import analyse_target

STOP_AFTER = 5  # frames the interrupted analysis made


class _StopAfter(NoProgress):
    """Ctrl-C after `STOP_AFTER` analysed frames, once they are kept in `work` (their
    lines wait for the explicit-content check that runs beside them)."""

    def __init__(self, work: Path) -> None:
        self.frames = 0
        self.work = work

    def advance(self, steps: int = 1) -> None:
        self.frames += steps
        if self.frames < STOP_AFTER:
            return
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(
                path.read_text().count("\n") for path in self.work.glob(
                    f"*/{PROGRESS_FILE}")) < STOP_AFTER:
            time.sleep(0.02)
        raise KeyboardInterrupt


def _worker_analysis(task: object) -> None:
    """What a batch worker does before it renders (`worker._swap`)."""
    job = task.job  # type: ignore[attr-defined]
    config = job.swap_config(task.work_dir, task.config_dir)  # type: ignore[attr-defined]
    analysing = FrameFile(analysis_file(task), ANALYSIS_BAR)  # type: ignore[arg-type]
    analyse_target(job.target, config, analysing)
    analysing.none_started()


def test_a_jobs_analysis_is_work_of_the_bar_and_a_resumed_ones_kept_frames_are_not(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    task = _task(tmp_path, clip)
    config = task.job.swap_config(task.work_dir, task.config_dir)
    with pytest.raises(KeyboardInterrupt):  # an earlier run stopped in the analysis
        analyse_target(clip, config, _StopAfter(task.work_dir))  # type: ignore[arg-type]

    analysis = analysis_steps(frames, whole=True)
    assert planned_frames(task) == frames and planned_analysis(task) == analysis > 0
    source = planned_source(task)  # its source is the clip too (fifty-first round)
    bar, tally = started_tally([task])
    assert tally.total == source + analysis + frames  # its analyses, then its rendering
    _worker_analysis(task)
    tally.look()  # the driver's look at its file, after its end (not a poll's timing)
    # This run's analysed frames only (a step every three; the last part-step as the job
    # ends), out of a total lowered by the interrupted run's.
    left = analysis_steps(frames - STOP_AFTER, whole=True)
    assert sum(bar.steps) == analysis_steps(frames - STOP_AFTER) and left < analysis, \
        bar.steps
    assert bar.totals == [source + analysis + frames, source + left + frames], bar.totals
    tally.finished(task)
    assert sum(bar.steps) == source + left + frames


def test_an_analysis_made_before_is_out_of_the_total(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    task = _task(tmp_path, clip)
    analyse_target(clip, task.job.swap_config(task.work_dir, task.config_dir), NoProgress())
    bar, tally = started_tally([task])
    _worker_analysis(task)
    path = analysis_file(task)
    assert path is not None and path.read_text() == "0 0"
    tally.finished(task)
    source = planned_source(task)  # its source is the clip too (fifty-first round)
    assert bar.totals == [source + analysis_steps(frames, whole=True) + frames,
                          source + frames], bar.totals
    assert sum(bar.steps) == source + frames


class DescribedBar(DriverBar):
    """The driver's Progress as the terminal's: its description can change."""

    def __init__(self) -> None:
        super().__init__()
        self.descriptions: list[str] = []

    def describe(self, description: str) -> None:
        self.descriptions.append(description)


def _shown(bar: DescribedBar, description: str) -> bool:
    """Whether the bar comes to say `description` (the driver's thread looks every
    `POLL_SECONDS`; a generous bound for a loaded machine, not a timing: it returns as
    soon as the bar says it)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if bar.descriptions and bar.descriptions[-1] == description:
            return True
        time.sleep(POLL_SECONDS / 5)
    return False


def test_the_bar_names_the_stage_it_cannot_count(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """The source's reading and the swap's set-up are not frames the bar counts: it stood
    still through them (15 s under load), as if hung. Its description names the stage of
    the job running, then "swapping" from its first counted frame, and the bar's own
    again as the job ends."""
    assert isinstance(RichProgress(), Described)  # the CLI's bar can be described
    task = _task(tmp_path, short_clip(KATIE, 0.2))
    bar = DescribedBar()
    tally = FrameTally([task], bar, jobs=3, description="batch jobs.toml")
    bar.start(tally.total, "batch jobs.toml")
    with tally.running():
        note_stage(task, SOURCE_STAGE)
        assert _shown(bar, f"job 1/3: {SOURCE_STAGE}"), bar.descriptions
        note_stage(task, SETUP_STAGE)
        assert _shown(bar, f"job 1/3: {SETUP_STAGE}"), bar.descriptions
        rendering = FrameFile(frame_file(task))
        rendering.start(planned_frames(task), "swap out.mp4")
        rendering.advance()
        assert _shown(bar, "job 1/3: swapping"), bar.descriptions
        tally.finished(task)
        assert _shown(bar, "batch jobs.toml"), bar.descriptions
    assert bar.descriptions == [f"job 1/3: {SOURCE_STAGE}", f"job 1/3: {SETUP_STAGE}",
                                "job 1/3: swapping", "batch jobs.toml"], bar.descriptions
