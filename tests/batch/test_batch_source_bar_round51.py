"""Round 51: `facedub batch`'s bar named a video source's analysis ("job 2/3: the source")
but did not count it: minutes on a long source clip with the bar standing still. The
source's analysed frames are work of the bar now, as the target's are (`batch.frames`),
and an analysis an earlier run made, whole or in part, is out of the total."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from batch_media import BIDEN, KATIE, ROSE, RUDD, AnalysisHold, write_jobs
from held_terminal import run_held_in_terminal
from test_batch_analysis_bar_round50 import STOP_AFTER, _StopAfter
from test_batch_frames_bar_round49 import _counts, _task, started_tally

from facedub import media
from facedub.batch.frames import (
    ANALYSIS_BAR,
    TARGET_STAGE,
    FrameFile,
    planned_analysis,
    planned_source,
    source_file,
)
from facedub.batch.jobs import load_jobs
from facedub.batch.worker import JobTask, build_engine
from facedub.engines.registry import SOURCE_CROP
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed


def _worker_opens_the_engine(task: JobTask) -> None:
    """What a batch worker does first (`worker._swap`): the engine opened, the source's
    analysis told to the source's frame file."""
    sourcing = FrameFile(source_file(task), ANALYSIS_BAR)
    build_engine(task.job, task.work_dir, sourcing).close()
    sourcing.none_started()


def test_a_video_source_is_planned_and_nothing_else_is(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    task = _task(tmp_path, clip)  # the clip onto itself
    # One analysed frame a step (a source's frame costs 2.2 times a target's).
    assert planned_source(task) == media.probe(clip).frame_count > 0
    for other in (replace(task.job, source=faces_dir / RUDD),  # a photo: at once
                  replace(task.job, source=tmp_path),  # a folder: photos or a faceset
                  replace(task.job, engine="neural", source=None, model=tmp_path)):
        assert planned_source(replace(task, job=other)) == 0, other


def test_a_sources_analysis_is_work_of_the_bar_and_a_resumed_ones_kept_frames_are_not(
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    task = _task(tmp_path, clip)
    with pytest.raises(KeyboardInterrupt):  # an earlier run stopped in the analysis
        analysed(clip, task.work_dir, ExtractConfig(crop_size=SOURCE_CROP),
                 _StopAfter(task.work_dir))  # type: ignore[arg-type]

    source, target = planned_source(task), planned_analysis(task)
    bar, tally = started_tally([task])
    assert tally.total == source + target + frames  # its analyses, then its rendering
    _worker_opens_the_engine(task)
    tally.look()  # the driver's look at the file, after the analysis (not a poll's timing)
    # This run's analysed frames only, out of a total lowered by the interrupted run's.
    left = frames - STOP_AFTER
    assert sum(bar.steps) == left > 0, bar.steps
    assert bar.totals == [source + target + frames, left + target + frames], bar.totals
    tally.finished(task)
    assert sum(bar.steps) == left + target + frames

    # The next run, two jobs of that source: its analysis is planned once (not once a
    # job), and, made by the run before, is out of the total as the first worker says so.
    status = tmp_path / "next-run"
    status.mkdir()
    first = replace(task, status_dir=status)
    second = replace(first, job=replace(task.job, number=2))
    assert source_file(first) == source_file(second)  # one file for the source
    bar, tally = started_tally([first, second])
    assert tally.total == source + 2 * (target + frames)
    _worker_opens_the_engine(first)
    path = source_file(first)
    assert path is not None and path.read_text() == "0 0"
    _worker_opens_the_engine(second)  # finds it made too: the file stays the first's
    tally.look()
    assert bar.totals == [source + 2 * (target + frames), 2 * (target + frames)], bar.totals
    assert bar.steps == []


def test_a_neural_job_given_the_mesh_jobs_source_shares_nothing_of_its_analysis(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """A jobs file's `[defaults] source` reaches a neural job too (it analyses no source):
    keyed on that source, a neural job first planned the mesh job's analysis as 0 (a bar
    of 2 where 356 was the work), and its worker's "0 0" in the shared file, read first,
    lowered the mesh job's plan to 0 whichever job came first."""
    clip = short_clip(KATIE, 0.6)
    model = tmp_path / "model"
    model.mkdir()
    jobs = load_jobs(write_jobs(tmp_path, [
        {"target": faces_dir / BIDEN, "output": "neural.jpg", "engine": "neural",
         "model": model},
        {"target": faces_dir / BIDEN, "output": "mesh.jpg"}], {"source": clip}),
        tmp_path / "out")
    status = tmp_path / "running"
    status.mkdir()
    neural, mesh = (JobTask(job, "key", tmp_path / "work", tmp_path / "config", status)
                    for job in jobs.jobs)
    assert (neural.job.engine, neural.job.source, mesh.job.engine) == ("neural", clip, "mesh")
    source = planned_source(mesh)
    assert source == media.probe(clip).frame_count > 0
    assert source_file(neural) is None  # its worker writes no source count

    bar, tally = started_tally([neural, mesh])
    assert tally.total == source + 2  # the mesh job's source analysis, two photo frames
    # The neural worker first, as `worker._swap` tells its (no) source analysis...
    FrameFile(source_file(neural), ANALYSIS_BAR).none_started()
    _worker_opens_the_engine(mesh)  # ...then the mesh job's analysis of the clip
    tally.look()
    assert bar.totals == [source + 2], bar.totals
    assert sum(bar.steps) == source, bar.steps


def test_the_terminal_bar_counts_the_sources_analysis_while_the_job_waits(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """In a terminal, as a user sees it. Each job is held before its target's analysis
    (its lock held by the test) until the bar has drawn what it must say then: so what a
    0.5 s poll catches of a short stage does not decide the test on any machine."""
    clip = short_clip(KATIE, 0.6)
    source = media.probe(clip).frame_count  # one analysed frame a step
    out, work = tmp_path / "out", tmp_path / "work"
    jobs = [{"target": faces_dir / BIDEN, "output": "biden.jpg"}]
    defaults = {"source": clip, "engine": "mesh"}
    command = ["batch", str(write_jobs(tmp_path, jobs, defaults)), "-o", str(out),
               "--work-dir", str(work)]

    # The photo's one frame after the clip's analysis as the source (a photo target has
    # no analysis of the bar's: one frame, at once).
    total = source + 1
    held = AnalysisHold(work, faces_dir / BIDEN)
    code, drawn, matched = run_held_in_terminal(command, [
        (rf"job 1/1: {TARGET_STAGE}[^\n]*\b{source}/{total}\b", held.release)])
    assert code == 0, drawn
    # Drawn mid-job: the source's analysis counted whole while the job waited at its
    # target (before: 0/{total}, its only count until the job ended).
    assert f"{source}/{total}" in matched[0], matched
    counts = _counts(drawn, total)
    assert counts[-1] == total and 0 < source < total, drawn
    assert "frames/s" in drawn, drawn

    # One job more, of the same source: its analysis, made by the first run, is out of
    # the total (1 frame) as the worker says so, before the job's target.
    jobs.append({"target": faces_dir / ROSE, "output": "rose.jpg"})
    command[1] = str(write_jobs(tmp_path, jobs, defaults))
    held = AnalysisHold(work, faces_dir / ROSE)
    code, drawn, matched = run_held_in_terminal(command, [
        (rf"job 2/2: {TARGET_STAGE}[^\n]*\b0/1\b", held.release)])
    assert code == 0, drawn
    assert "resuming: 1 of 2 jobs finished before" in drawn, drawn
    assert _counts(drawn, 1)[-1] == 1, drawn
    assert not re.search(rf"\b[1-9]\d*/{total}\b", drawn), drawn  # none of it counted
