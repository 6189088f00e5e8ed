"""A real `facedub serve` in a subprocess, and headless Chromium (Debian's `chromium`)
driven by Playwright's Python API; nothing is downloaded at test time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serve_support import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
START_TIMEOUT = 120.0  # seconds; the first import of MediaPipe is slow on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`start_server("--host", "0.0.0.0")`: a server on a free port with its own work
    folder, stopped at the end of the test."""
    started: list[Server] = []

    def start(*options: str) -> Server:
        port = free_port()
        work = tmp_path / f"work{len(started)}"
        command = [sys.executable, "-m", "facedub", "serve", "--port", str(port),
                   "--work-dir", str(work), *options]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env)
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "open http" in banner, banner + process.stdout.read()
        server = Server(f"http://127.0.0.1:{port}", work, banner, process)
        started.append(server)
        _wait_listening(port, process)
        return server

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()


def _wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start listening")


@pytest.fixture
def launch_browser(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """`launch_browser(*extra_args)`: headless Chromium with a fresh profile."""
    if not CHROMIUM.is_file():
        pytest.skip("Debian's chromium is not installed (`apt-get install chromium`; "
                    ".ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    manager = sync_api.sync_playwright().start()
    contexts: list[object] = []

    def launch(*extra: str) -> object:
        profile = tmp_path / f"profile{len(contexts)}"
        context = manager.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, *extra], viewport={"width": 1200, "height": 1000})
        contexts.append(context)
        return context

    yield launch
    for context in contexts:
        context.close()  # type: ignore[attr-defined]
    manager.stop()
