"""Round 38: `facedub serve` on an address it cannot listen on, and stopped by a signal.
uvicorn printed the link, then its own "ERROR: [Errno 98] ..." and exited with 3; it
swallowed Ctrl-C (exit 0) and, after its graceful stop, re-raised SIGTERM with no
handler left (killed, -15, no line)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app


def test_a_busy_port_is_one_line_before_the_link(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port),
                                          "--work-dir", str(tmp_path / "serve")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"error: --port {port}: cannot listen on 127.0.0.1:{port} (address already in use); "
        "choose another --port, or stop what listens there")


@pytest.mark.parametrize(("stop", "code", "said"), [
    (signal.SIGTERM, 143, "terminated; nothing was left half-written, run the same command "
                          "again"),
    # Round 48: a hang-up (the terminal closed) was raised inside uvicorn's event loop,
    # which printed "ERROR: Traceback" and 30 lines of asyncio's cancellation.
    (signal.SIGHUP, 129, "terminated; nothing was left half-written, run the same command "
                         "again"),
    # Round 48: "run the same command again to resume", every command's line; a server
    # resumes nothing of its own.
    (signal.SIGINT, 130, "stopped; the same command again serves this work folder and runs "
                         "the jobs still queued"),
])
def test_a_signal_stops_the_server_with_one_line(stop: signal.Signals, code: int, said: str,
                                                 tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "facedub", "serve", "--port", str(port), "--work-dir",
         str(tmp_path / "serve")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "open http" in banner, banner
        _wait_listening(port, process)
        process.send_signal(stop)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, rest
    assert [line for line in rest.splitlines() if line.strip()] == [said]


def _wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the server never listened")
