"""Round 46: a batch job with `chunk_seconds` lost its finished chunks when a stopped batch
was run again: the driver clears its staging folder as it starts, and the segments were only
there. They are now kept in the work folder (`batch/kept_chunks.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt, write_jobs

from facedub.batch import kept_chunks, load_jobs
from facedub.batch import run as batch_run
from facedub.batch import worker as batch_worker
from facedub.batch.joining import ChunkedJobs
from facedub.batch.manifest import Manifest, job_key
from facedub.batch.worker import JobTask, run_job, staging_for


def _chunk_tasks(jobs: Any, tmp_path: Path) -> list[JobTask]:
    job = jobs.jobs[0]
    return batch_run._tasks(JobTask(job, job_key(job), tmp_path / "work", tmp_path / "config"),
                            tmp_path / "out")


@pytest.mark.parametrize("job_id", [None, 4242])  # drawn (kept for the rerun), or given
def test_a_rerun_of_a_stopped_batch_keeps_a_jobs_finished_chunks(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        job_id: int | None) -> None:
    clip = remuxed_excerpt(faces_dir / KATIE, 2.5, tmp_path / "k.mp4")
    spec: dict[str, object] = {"target": clip, "source": faces_dir / RUDD, "output": "k.mp4",
                               "chunk_seconds": 2.0}
    if job_id is not None:
        spec["job_id"] = job_id
    jobs = load_jobs(write_jobs(tmp_path, [spec]), tmp_path / "out")
    tasks = _chunk_tasks(jobs, tmp_path)
    assert len(tasks) >= 2
    rendered: list[int] = []
    render = batch_worker.swap_segment

    def counted(target: Path, engine: Any, segment: Path, config: Any, chunk: Any,
                progress: Any = None) -> Any:
        rendered.append(chunk.index)
        if chunk.index == 1 and stop[0]:
            raise KeyboardInterrupt  # Ctrl-C as the second chunk renders
        return render(target, engine, segment, config, chunk, progress)

    stop = [True]
    monkeypatch.setattr(batch_worker, "swap_segment", counted)
    staging_root = tmp_path / "staging"
    assert run_job(tasks[0], staging_for(tasks[0], staging_root)).ok
    with pytest.raises(KeyboardInterrupt):
        run_job(tasks[1], staging_for(tasks[1], staging_root))
    shutil.rmtree(staging_root)  # as the driver's next run does

    stop[0] = False
    rendered.clear()
    again = _chunk_tasks(jobs, tmp_path)
    assert [t.chunk for t in again] == [t.chunk for t in tasks]  # one drawn watermark id
    chunked = ChunkedJobs(again, staging_root)
    whole = None
    for task in again:
        outcome = run_job(task, staging_for(task, staging_root))
        assert outcome.ok, outcome.reason
        whole = chunked.add(task, outcome)
    assert rendered == list(range(1, len(again)))  # main: chunk 0 was rendered again
    assert whole is not None and whole.ok, whole
    assert whole.frames == sum(t.chunk.end - t.chunk.first for t in again if t.chunk)
    assert whole.staged is not None and (whole.staged / "k.mp4").is_file()
    # Nothing kept beside the output: the kept chunks are in the work folder only.
    assert not (tmp_path / "out").exists()
    kept = tmp_path / "work" / kept_chunks.KEPT_FOLDER
    assert list(kept.glob("*/segment-0000.mp4"))
    out = tmp_path / "out"
    out.mkdir()
    report = batch_run._finish(again[-1], whole, out, Manifest(out))
    assert report.status == "done" and (out / "k.mp4").is_file()
    # Joined and in place: the kept chunks are removed, and their folder left empty
    # (fiftieth round: an empty batch-chunks/ stayed in the work folder).
    assert not kept.exists()


def test_a_kept_chunk_planned_otherwise_now_is_rendered_again(tmp_path: Path) -> None:
    from facedub.batch.chunks import Chunk

    chunk = Chunk(0, 2, 0, 50, 0, 0.0, 7)
    folder = tmp_path / "kept"
    made: list[Chunk] = []

    def render(path: Path) -> tuple[int, int]:
        path.write_bytes(b"segment")
        made.append(chunk)
        return 50, 40

    assert kept_chunks.kept_segment(folder, chunk, tmp_path / "a" / "s.mp4", render) == (50, 40)
    assert kept_chunks.kept_segment(folder, chunk, tmp_path / "b" / "s.mp4", render) == (50, 40)
    assert len(made) == 1 and (tmp_path / "b" / "s.mp4").read_bytes() == b"segment"
    moved = Chunk(0, 2, 0, 60, 0, 0.0, 7)  # another cut: its frames changed
    assert kept_chunks.kept_segment(folder, moved, tmp_path / "c" / "s.mp4", render) == (50, 40)
    assert len(made) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["segment-0000.json", "segment-0000.mp4"]
