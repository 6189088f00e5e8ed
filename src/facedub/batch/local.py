"""Jobs on a local pool of worker processes (`--workers N`).

Workers are started with "spawn": MediaPipe, PyTorch and FFmpeg keep threads and native
state that a fork would copy half-made. A job whose worker process dies (killed, out of
memory) breaks the whole pool; the jobs it was running are run again in a fresh pool, up
to `max_retries` times each.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from facedub.batch.worker import JobOutcome, JobTask, failed_outcome, run_job, staging_for

log = logging.getLogger(__name__)


def local_outcomes(tasks: Sequence[JobTask], workers: int, max_retries: int,
                   staging_root: Path) -> Iterator[tuple[JobTask, JobOutcome]]:
    """Each task's outcome, in the order they finish."""
    attempts: Counter[int] = Counter()
    remaining = list(tasks)
    context = multiprocessing.get_context("spawn")
    while remaining:
        lost: list[JobTask] = []
        with ProcessPoolExecutor(max_workers=min(workers, len(remaining)),
                                 mp_context=context) as pool:
            futures: dict[Future[JobOutcome], JobTask] = {}
            for task in remaining:
                attempts[task.job.number] += 1
                futures[pool.submit(run_job, task, staging_for(task, staging_root))] = task
            for future in as_completed(futures):
                task = futures[future]
                tries = attempts[task.job.number]
                try:
                    outcome = future.result()
                    yield task, replace(outcome, attempts=max(outcome.attempts, tries))
                except BrokenProcessPool:
                    if tries > max_retries:
                        yield task, failed_outcome(task, f"its worker process died {tries} times "
                                             "(out of memory? see the job's log)", tries)
                    else:
                        log.warning("job %d (%s): worker process lost; running it again",
                                    task.job.number, task.job.output)
                        lost.append(task)
        remaining = lost
