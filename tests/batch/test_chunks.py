"""Long videos in chunks: cut at keyframes, and joined into the frames, times and audio
of an unsplit swap."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt, write_jobs

from facedub import media
from facedub.batch import BatchConfig, batch, load_jobs
from facedub.batch.chunks import PREROLL_FRAMES, frame_times, plan_chunks


@pytest.fixture(scope="module")
def katie_4s(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of a clip with a keyframe every 0.48 s, audio included."""
    return remuxed_excerpt(faces_dir / KATIE, 4.0, tmp_path_factory.mktemp("clip") / "k.mp4")


def test_chunks_start_at_keyframes_and_cover_every_frame_once(katie_4s: Path) -> None:
    times, keyframes = frame_times(katie_4s)
    decoded = [frame.time for frame in media.iter_frames(katie_4s)]
    assert times == pytest.approx(decoded, abs=1e-6)
    plan = plan_chunks(katie_4s, 2.0, job_id=7)
    assert [(c.first, c.end) for c in plan] == [(0, 60), (60, 100)]
    assert all(c.first in keyframes for c in plan)
    assert [c.preroll for c in plan] == [0, 60 - PREROLL_FRAMES]
    assert plan[1].start_time == pytest.approx(times[60])
    assert {c.job_id for c in plan} == {7} and {c.count for c in plan} == {2}
    assert len(plan_chunks(katie_4s, 10.0, job_id=7)) == 1


def test_a_jobs_own_job_id_is_every_chunks(katie_4s: Path, faces_dir: Path,
                                           tmp_path: Path) -> None:
    """A job's `job_id` (as swap's `--job-id`) is what its chunks' marks carry; a job
    without one draws its own; an id beyond the watermark's range names its line."""
    from facedub.batch.run import _tasks
    from facedub.batch.worker import JobTask
    from facedub.errors import FacedubError

    jobs = load_jobs(write_jobs(tmp_path, [
        {"target": katie_4s, "source": faces_dir / RUDD, "output": "a.mp4",
         "chunk_seconds": 2.0, "job_id": 321},
        {"target": katie_4s, "source": faces_dir / RUDD, "output": "b.mp4",
         "chunk_seconds": 2.0}]), tmp_path / "out")
    fixed, drawn = ([task.chunk.job_id
                     for task in _tasks(JobTask(job, f"k{job.number}", tmp_path, tmp_path),
                                        tmp_path / "out")
                     if task.chunk is not None] for job in jobs.jobs)
    assert fixed == [321, 321] and len(drawn) == 2 and len(set(drawn)) == 1
    with pytest.raises(FacedubError, match="job_id"):
        load_jobs(write_jobs(tmp_path, [{"target": katie_4s, "source": faces_dir / RUDD,
                                         "output": "c.mp4", "job_id": 65536}]),
                  tmp_path / "out")


def _audio_packets(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as container:
        return [(int(p.pts), bytes(p)) for p in container.demux(container.streams.audio[0])
                if p.pts is not None]


@pytest.mark.slow
def test_a_chunked_swap_has_the_frames_times_and_audio_of_an_unsplit_one(
        faces_dir: Path, katie_4s: Path, tmp_path: Path) -> None:
    jobs_file = write_jobs(tmp_path, [
        {"target": katie_4s, "output": "whole.mp4"},
        {"target": katie_4s, "output": "chunked.mp4", "chunk_seconds": 2},
    ], defaults={"source": faces_dir / RUDD})
    out = tmp_path / "out"
    config = BatchConfig(work_dir=tmp_path / "work", config_dir=tmp_path / "config",
                         workers=2)
    result = batch(load_jobs(jobs_file, out), out, config)
    assert result.exit_code == 0, result.summary_lines()

    whole = list(media.iter_frames(out / "whole.mp4"))
    chunked = list(media.iter_frames(out / "chunked.mp4"))
    assert [f.time for f in chunked] == pytest.approx([f.time for f in whole], abs=1e-4)
    assert _audio_packets(out / "chunked.mp4") == _audio_packets(out / "whole.mp4")
    # The two outputs carry different watermark ids, so they differ a little everywhere;
    # the frames at the join differ no more than the others.
    differences = [float(np.abs(a.image.astype(np.int16) - b.image).mean())
                   for a, b in zip(whole, chunked, strict=True)]
    typical = float(np.median(differences))
    assert max(differences[58:63]) < 2.0 * typical + 0.5
    assert typical < 4.0  # the watermarks differ: about 2.5 grey levels here
    assert (out / "chunked.mp4.provenance.json").is_file()
    assert "joined 2 chunks" in (out / "logs" / "chunked.mp4.log").read_text()
