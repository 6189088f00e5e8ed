"""The driver's side of a chunked job: collect its chunks' segments as they finish, and
once all are in, join them with the target's audio, sign the result and describe it, as
`swap` does for an unsplit output."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from facedub import media
from facedub.batch.chunks import Chunk, join_segments
from facedub.batch.worker import LOG_NAME, JobOutcome, JobTask, staging_for
from facedub.errors import FacedubError
from facedub.provenance import write_sidecar
from facedub.provenance.mark import OutputMarks, job_facts, sign_output
from facedub.swap import recorded_settings


class ChunkedJobs:
    """Chunks of jobs, by job number, until every chunk of a job has come back."""

    def __init__(self, tasks: Sequence[JobTask], staging_root: Path) -> None:
        self.staging_root = staging_root
        self.expected = {t.job.number: t.chunk.count for t in tasks if t.chunk is not None}
        self.done: dict[int, list[tuple[JobTask, JobOutcome]]] = {}

    def add(self, task: JobTask, outcome: JobOutcome) -> JobOutcome | None:
        """The job's outcome once its last chunk is in (joined, or failed); else None."""
        assert task.chunk is not None
        parts = self.done.setdefault(task.job.number, [])
        parts.append((task, outcome))
        if len(parts) < self.expected[task.job.number]:
            return None
        parts.sort(key=lambda part: part[0].chunk.index if part[0].chunk else 0)
        staging = staging_for(JobTask(task.job, task.key, task.work_dir, task.config_dir),
                              self.staging_root)
        staging.mkdir(parents=True, exist_ok=True)
        _combine_logs(parts, staging / LOG_NAME)
        failed = [o for _, o in parts if not o.ok]
        frames = sum(o.frames for _, o in parts)
        work = sum(o.seconds for _, o in parts)
        attempts = max(o.attempts for _, o in parts)
        if failed:
            return JobOutcome(task.job.output, False, failed[0].reason, frames, 0, work,
                              attempts, staging)
        try:
            self._join(parts, staging)
        except FacedubError as error:
            return JobOutcome(task.job.output, False, str(error), frames, 0, work, attempts,
                              staging)
        return JobOutcome(task.job.output, True, "", frames,
                          sum(o.frames_swapped for _, o in parts), work, attempts, staging)

    def _join(self, parts: list[tuple[JobTask, JobOutcome]], staging: Path) -> None:
        task = parts[0][0]
        job = task.job
        chunks: list[Chunk] = [t.chunk for t, _ in parts if t.chunk is not None]
        segments = [o.staged / c.segment_name for (_, o), c in zip(parts, chunks, strict=True)
                    if o.staged is not None]
        out = staging / Path(job.output).name
        started = time.monotonic()
        join_segments(segments, chunks, job.target, out)
        config = job.swap_config(task.work_dir, task.config_dir)
        record = parts[0][1].engine_facts
        if record is None:
            raise FacedubError(f"{job.output}: its chunks did not say which engine made them")
        marks = OutputMarks(chunks[0].job_id, visible_label=config.visible_label)
        audio = media.plan_audio(job.target, media.output_format_for(out))
        settings = {"engine": dict(record.settings), "swap": recorded_settings(config),
                    "audio": [track.to_json() for track in audio],
                    "chunks": {"count": len(chunks), "seconds": job.chunk_seconds}}
        facts = job_facts(record.name, settings, (*record.inputs, ("target", job.target)),
                          marks.payload.job_id, marks.payload)
        sign_output(out, facts, config.config_dir)
        write_sidecar(out, facts)
        with open(staging / LOG_NAME, "a", encoding="utf-8") as log_file:
            log_file.write(f"joined {len(chunks)} chunks with the target's audio and signed "
                           f"in {time.monotonic() - started:.1f} s\n")


def _combine_logs(parts: list[tuple[JobTask, JobOutcome]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as combined:
        for task, outcome in parts:
            log = outcome.staged / LOG_NAME if outcome.staged else None
            if log is not None and log.is_file() and task.chunk is not None:
                combined.write(f"--- chunk {task.chunk.index + 1} of {task.chunk.count}\n")
                combined.write(log.read_text(encoding="utf-8", errors="replace"))
