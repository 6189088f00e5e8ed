"""Round 40: `facedub batch` killed outright (SIGKILL, the OOM killer) while a worker runs a
job. No clean-up of the driver's runs, so its workers swapped on, orphaned, for minutes:
into the staging folder the resume clears and fills again, and on the CPUs it needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from batch_media import BIDEN, RUDD, alive, analysis_held, running_worker, write_jobs


def test_a_killed_driver_takes_its_workers_and_the_rerun_resumes(faces_dir: Path,
                                                                 tmp_path: Path) -> None:
    target = faces_dir / BIDEN
    jobs = write_jobs(tmp_path, [{"target": target, "output": "rudd_biden.jpg"}],
                      defaults={"source": faces_dir / RUDD, "engine": "mesh"})
    out, work = tmp_path / "out", tmp_path / "work"
    command = [sys.executable, "-m", "facedub", "batch", str(jobs), "-o", str(out),
               "--work-dir", str(work)]
    environment = {**os.environ, "FACEDUB_CONFIG_DIR": str(tmp_path / "config")}
    worker_pid = None
    outlived = False
    with analysis_held(work, target):
        driver = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=environment)
        try:
            worker_pid = running_worker(driver, out)
            assert worker_pid is not None, driver.returncode
            driver.send_signal(signal.SIGKILL)
            driver.wait(timeout=60)
            # A generous wait, not a timing: the worker looks twice a second.
            deadline = time.monotonic() + 60
            while alive(worker_pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            if driver.poll() is None:
                driver.kill()
            outlived = worker_pid is not None and alive(worker_pid)
            if outlived:
                os.kill(worker_pid, signal.SIGKILL)  # type: ignore[arg-type]
    assert driver.returncode == -signal.SIGKILL
    assert not outlived, f"worker {worker_pid} outlived its killed driver"
    # The same command resumes: the job runs again and nothing of the killed run is left.
    rerun = subprocess.run(command, capture_output=True, text=True, env=environment,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert (out / "rudd_biden.jpg").is_file()
    assert not list((out / ".facedub-batch").glob("staging/**/*"))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "batch-manifest.json", "logs", "rudd_biden.jpg", "rudd_biden.jpg.provenance.json"]
