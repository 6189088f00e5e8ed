"""Round 38: `facedub batch` stopped with SIGTERM (a job runner, `kill`, `timeout`) while a
worker runs a job. The driver died at once, with no line and no exit code of its own, and
its workers swapped on, orphaned, into the staging folder that the next run clears."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from batch_media import BIDEN, RUDD, alive, analysis_held, running_worker, write_jobs


def test_sigterm_ends_the_workers_and_leaves_nothing(faces_dir: Path, tmp_path: Path) -> None:
    target = faces_dir / BIDEN
    jobs = write_jobs(tmp_path, [{"target": target, "output": "rudd_biden.jpg"}],
                      defaults={"source": faces_dir / RUDD, "engine": "mesh"})
    out, work = tmp_path / "out", tmp_path / "work"
    worker_pid = None
    outlived = False
    with analysis_held(work, target):
        driver = subprocess.Popen(
            [sys.executable, "-m", "facedub", "batch", str(jobs), "-o", str(out),
             "--work-dir", str(work)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "FACEDUB_CONFIG_DIR": str(tmp_path / "config")})
        try:
            worker_pid = running_worker(driver, out)
            assert worker_pid is not None, driver.communicate()
            driver.send_signal(signal.SIGTERM)
            driver.wait(timeout=120)
        finally:
            if driver.poll() is None:
                driver.kill()
            outlived = worker_pid is not None and alive(worker_pid)
            if outlived:  # it holds the driver's pipes open too
                os.kill(worker_pid, signal.SIGKILL)  # type: ignore[arg-type]
            stdout, stderr = driver.communicate(timeout=60)
    assert driver.returncode == 143, (driver.returncode, stderr)
    assert not outlived, f"worker {worker_pid} outlived its driver"
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    assert lines == ["terminated; nothing was left half-written, run the same command again"]
    assert not out.exists()  # the batch made it, and nothing was finished in it
