"""`--cluster ray` on a local Ray with 2 CPUs: a 3-job batch completes, and the job whose
worker process is killed mid-run is retried by Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from batch_media import BIDEN, KATIE, ROSE, RUDD, write_jobs

from facedub.batch import BatchConfig, BatchResult, batch, load_jobs

ray = pytest.importorskip("ray", reason="Ray is the optional extra 'cluster'")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Path]:
    """One Ray for the module (starting it costs seconds): 2 CPUs, so 2 jobs at a time.
    Its session (sockets, logs, spilled objects) goes into a temporary folder of its own,
    removed after: left to itself Ray wrote /tmp/ray/session_* and kept it after the run.
    RAY_TMPDIR too, for what Ray writes beside the session; the workers inherit it. The
    folder is made in the system's temporary folder, not pytest's: a Unix socket path
    inside it must stay under 108 bytes, and under pytest-xdist pytest's own
    (/tmp/pytest-of-USER/pytest-N/popen-gwN/...) made Ray's plasma socket 112 long."""
    folder = Path(tempfile.mkdtemp(prefix="ray-"))
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = str(folder)
    try:
        context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                           configure_logging=False, _temp_dir=str(folder))
        try:
            yield Path(context.address_info["session_dir"])
        finally:
            ray.shutdown()
    finally:
        if saved is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = saved
        shutil.rmtree(folder, ignore_errors=True)


def test_ray_keeps_its_session_in_a_folder_of_its_own(local_ray: Path) -> None:
    assert local_ray.is_dir()
    assert local_ray.parent.name.startswith("ray-"), local_ray
    assert local_ray.parent.parent == Path(tempfile.gettempdir()), local_ray


def _kill_when_running(running: Path, note: str, result: list[int]) -> None:
    """SIGKILL the process that runs the job once its running note appears."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        path = running / note
        try:
            pid = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
            continue
        os.kill(pid, signal.SIGKILL)
        result.append(pid)
        return


def test_a_ray_batch_completes_and_retries_the_job_of_a_killed_worker(
        local_ray: Path, faces_dir: Path, short_clip: Callable[[str, float], Path],
        tmp_path: Path) -> None:
    del local_ray
    jobs_file = write_jobs(tmp_path, [
        {"target": faces_dir / BIDEN, "output": "rudd_biden.jpg"},
        {"target": short_clip(KATIE, 1.0), "output": "rudd_katie.mp4"},
        {"target": faces_dir / ROSE, "output": "rudd_rose.jpg"},
    ], defaults={"source": faces_dir / RUDD})
    out = tmp_path / "out"
    # The session's work folder: the source's analysis is shared with the other tests.
    config = BatchConfig(work_dir=Path(os.environ["FACEDUB_WORK_DIR"]),
                         config_dir=tmp_path / "config",
                         workers=2, cluster="ray", max_retries=2)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_when_running,
                              args=(out / ".facedub-batch" / "running", "2.json", killed))
    killer.start()
    result: BatchResult = batch(load_jobs(jobs_file, out), out, config)
    killer.join()

    assert killed, "the video job never started"
    assert [r.status for r in result.reports] == ["done", "done", "done"], result.reports
    assert result.reports[1].attempts == 2
    assert result.exit_code == 0
    for name in ("rudd_biden.jpg", "rudd_katie.mp4", "rudd_rose.jpg"):
        assert (out / name).is_file()
    log = (out / "logs" / "rudd_katie.mp4.log").read_text()
    assert "attempt 2" in log

    again = batch(load_jobs(jobs_file, out), out, config)
    assert [r.status for r in again.reports] == ["skipped"] * 3
