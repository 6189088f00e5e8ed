"""Jobs as Ray Core tasks (`--cluster ray`), on the cluster at `--address` or on a Ray
started here for the batch.

Each task asks for `cpus_per_job` CPUs, and one GPU for the neural engine when the
cluster has GPUs. A task whose worker process or node dies is retried by Ray
(`max_retries`); an error inside the job is not (it would fail again) and comes back as a
failed outcome. Inputs and the work folder (cached analyses) must be at the same paths on
every node (a shared filesystem); the outputs come back through the object store, and the
driver writes them into OUTDIR.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from facedub.batch.worker import (
    JobOutcome,
    JobTask,
    failed_outcome,
    run_job,
    staged_files,
    staging_for,
)
from facedub.errors import FacedubError
from facedub.fsutil import write_bytes_atomic

log = logging.getLogger(__name__)
JOB_FOLDER_PREFIX = "facedub-job-"  # each job's temporary folder on its worker's node


def ray_outcomes(tasks: Sequence[JobTask], config: Any,
                 staging_root: Path) -> Iterator[tuple[JobTask, JobOutcome]]:
    """Each task's outcome, in the order they finish. `config` is the BatchConfig."""
    try:
        import ray
        import ray.exceptions
    except ImportError as error:
        raise FacedubError("--cluster ray needs Ray: pip install 'facedub[cluster]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        _start_ray(ray, config.address, config.workers * config.cpus_per_job)
    # The jobs' temporary folders are named after this batch, so that the driver can
    # remove those of workers that died before their own clean-up ran (a killed worker
    # left /tmp/facedub-job-* with its job log about once a test-suite run).
    mark = job_folder_mark()
    pending: dict[Any, JobTask] = {}
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        remote = ray.remote(run_job_remotely)
        for task in tasks:
            options = {"num_cpus": config.cpus_per_job,
                       "num_gpus": gpus if task.job.engine == "neural" else 0,
                       "max_retries": config.max_retries, "retry_exceptions": False,
                       "name": f"facedub job {task.job.number}"}
            pending[remote.options(**options).remote(task, mark)] = task
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(done[0])
            try:
                outcome, files = ray.get(done[0])
            except ray.exceptions.RayError as error:  # lost more often than max_retries
                tries = config.max_retries + 1
                yield task, failed_outcome(task, f"lost with its Ray worker {tries} times "
                                     f"({type(error).__name__})", tries)
                continue
            yield task, _unpacked(task, outcome, files, staging_root)
    finally:
        if started_here:
            ray.shutdown()
        if started_here or not pending:  # else jobs stopped early may still run in theirs
            removed_job_folders(mark)


def _start_ray(ray: Any, address: str | None, cpus: float) -> None:
    if address is not None:
        check_reachable(address)
    try:
        if address is None:
            ray.init(num_cpus=max(1, round(cpus)), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = address or "this machine"
        raise FacedubError(f"cannot start or reach Ray on {where} ({error}); check "
                           "--address (`ray status` there shows it)") from error


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on a HOST:PORT that nothing answers (Ray itself retries for minutes);
    other forms ("auto", "ray://...") are left to Ray."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "/" in address:
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise FacedubError(f"--address {address}: nothing answers there ({error}); start the "
                           "head node with `ray start --head` or check the address") from None


def job_folder_mark() -> str:
    """The start of the name of each temporary folder of one batch's Ray jobs."""
    return f"{JOB_FOLDER_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-"


def removed_job_folders(mark: str) -> None:
    """Remove the temporary folders named `mark...` on this machine: those a worker made
    and did not remove, because it was killed (SIGKILL, lost node) mid-job. Called once
    the batch's jobs are done (or Ray is shut down), so none of them is still in use;
    folders on other nodes are left to their temporary-file clean-up."""
    for folder in Path(tempfile.gettempdir()).glob(f"{mark}*"):
        shutil.rmtree(folder, ignore_errors=True)


def run_job_remotely(task: JobTask, mark: str
                     ) -> tuple[JobOutcome, dict[str, bytes]]:
    """The Ray task: run the job in a private temporary folder on the worker's node (named
    `mark...`, see `removed_job_folders`) and return its outcome and files (output,
    sidecar, log) by role."""
    with tempfile.TemporaryDirectory(prefix=mark) as folder:
        staging = Path(folder)
        outcome = run_job(task, staging)
        files = {role: path.read_bytes()
                 for role, path in staged_files(task.job, staging, task.chunk).items()
                 if path.is_file()}
    return replace(outcome, staged=None), files


def _unpacked(task: JobTask, outcome: JobOutcome, files: dict[str, bytes],
              staging_root: Path) -> JobOutcome:
    """Write the files a remote job returned into its staging folder here."""
    staging = staging_for(task, staging_root)
    staging.mkdir(parents=True, exist_ok=True)
    targets = staged_files(task.job, staging, task.chunk)
    for role, data in files.items():
        write_bytes_atomic(targets[role], data)
    return replace(outcome, staged=staging)
