"""Round 39: one `facedub serve` per work folder. A second server on the same folder took
the first's running job for one left by a stopped server: it marked the job failed and
removed its staged output while the first went on swapping, and both servers then ran
the queued jobs."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path


def test_a_second_server_on_the_same_work_folder_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "serve"
    work.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The first server's hold on the folder, taken here as a server takes it.
    with open(work / "serve.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = subprocess.run(
            [sys.executable, "-m", "facedub", "serve", "--port", str(port), "--work-dir",
             str(work)], capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""  # no "open http://..." for a server that does not start
    assert done.stderr == (f"error: --work-dir {work}: another facedub serve uses this "
                           "work folder; open that one, or give this one another "
                           "--work-dir\n")
    assert sorted(p.name for p in work.iterdir()) == ["serve.lock"]  # nothing else made
