"""Jobs on a local pool of worker processes (`--workers N`).

Workers are started with "spawn": MediaPipe, PyTorch and FFmpeg keep threads and native
state that a fork would copy half-made. A job whose worker process dies (killed, out of
memory) breaks the whole pool; the jobs it was running are run again in a fresh pool, up
to `max_retries` times each.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
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
                                 mp_context=context, initializer=end_with_driver) as pool:
            try:
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
                            yield task, failed_outcome(
                                task, f"its worker process died {tries} times (out of "
                                "memory? see the job's log)", tries)
                        else:
                            log.warning("job %d (%s): worker process lost; running it again",
                                        task.job.number, task.job.output)
                            lost.append(task)
            except BaseException:
                # Stopped (SIGTERM, Ctrl-C) or closed early: the pool's exit would wait for
                # every running job to end, minutes; and a driver that died at once left
                # its workers swapping on, orphaned, into the staging folder that the next
                # run clears.
                _stop_workers(pool)
                raise
        remaining = lost


# How often a worker looks whether its driver is still there.
DRIVER_CHECK_SECONDS = 0.5


def end_with_driver() -> None:
    """Run in each worker as it starts: end the worker once the driver that started it is
    gone. A driver killed outright (SIGKILL, the OOM killer) runs none of its clean-up,
    and its workers swapped on for minutes, orphaned, into the staging folder that the
    next run (the resume) clears and fills again; they also held the CPUs it needed."""
    driver = os.getppid()

    def watch() -> None:
        while os.getppid() == driver:  # re-parented once the driver has died
            time.sleep(DRIVER_CHECK_SECONDS)
        os._exit(1)  # the job's staging is cleared by the next run: nothing to keep

    threading.Thread(target=watch, name="facedub-driver-watch", daemon=True).start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's worker processes now, their jobs unfinished; returns once they are
    gone, so that nothing writes into the staging folder after it. (Python 3.11 has no
    public way: `terminate_workers()` came in 3.14.)"""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=30)
