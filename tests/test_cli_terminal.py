"""The command in a real (pseudo-)terminal: the progress bar is only drawn there, so a bar
that crashes is invisible to every test that captures output through a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub import __version__
from facedub.cli import app

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# A bound for a loaded machine, not a timing (the run returns as it exits): 120 s was
# tight for the real swaps some callers run, at load 30 on a machine 3x slower than ours.
TERMINAL_TIMEOUT = 600.0


def run_in_terminal(args: list[str], columns: int = 80,
                    timeout: float = TERMINAL_TIMEOUT) -> tuple[int, str]:
    """Run `python -m facedub ARGS` with stdin, stdout and stderr on a pseudo-terminal of
    `columns` columns; returns the exit code and everything it drew, escapes removed."""
    return run_python_in_terminal(["-m", "facedub", *args], columns, timeout)


def run_python_in_terminal(python_args: list[str], columns: int = 80,
                           timeout: float = TERMINAL_TIMEOUT, *,
                           extra_env: dict[str, str] | None = None,
                           interrupt_when: Callable[[], bool] | None = None
                           ) -> tuple[int, str]:
    """`run_in_terminal` for `python PYTHON_ARGS` (a script, `-c CODE`). With
    `interrupt_when`, the child gets the pty as its controlling terminal and ^C is typed
    there once `interrupt_when()` is true (the terminal's SIGINT, as at a shell); a run that
    ended before it was typed fails the test."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns),
                   **(extra_env or {})}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, *python_args], stdin=follower,
                               stdout=follower, stderr=follower, env=environment,
                               close_fds=True,
                               preexec_fn=None if interrupt_when is None else _controlling_terminal)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    typed = interrupt_when is None
    try:
        # Read until the process has exited and nothing is left to read (EIO once the
        # follower side is closed and drained).
        exited = False
        while time.monotonic() < deadline:
            if not typed and interrupt_when is not None and interrupt_when():
                os.write(leader, b"\x03")  # Ctrl-C, through the terminal's line discipline
                typed = True
            ready, _, _ = select.select([leader], [], [], 0.5 if typed else 0.05)
            if not ready:
                if exited:
                    break  # exited, and a later look found nothing more
                exited = process.poll() is not None
                continue
            chunk = read_drawn(leader)
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert typed, "the command ended before ^C could be typed: " + text
    return code, ANSI_ESCAPE.sub("", text).replace("\r", "\n")


def read_drawn(leader: int) -> bytes:
    """What the pseudo-terminal's leader side has to read now (`select` said it is
    ready); empty once the follower side is closed and everything was read (an OSError,
    EIO, on Linux; an empty read elsewhere)."""
    try:
        return os.read(leader, 65536)
    except OSError:
        return b""


def _controlling_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pty on its
    stdin, so that ^C typed there is the terminal's SIGINT."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_extract_draws_a_progress_bar_in_a_terminal(short_clip: object,
                                                    tmp_path: Path) -> None:
    clip = short_clip("clip_liveportrait_d3_woman_headturn.mp4", 0.5)  # type: ignore[operator]
    code, drawn = run_in_terminal(["extract", str(clip), "-o", str(tmp_path / "faces"),
                                   "--size", "64", "--max-frames", "6"])
    assert code == 0, drawn
    assert "Traceback" not in drawn and "Error" not in drawn, drawn
    bar_lines = [line for line in drawn.splitlines() if "━" in line]
    assert bar_lines, drawn
    final = bar_lines[-1]
    assert "6/6" in final and "frames/s" in final and "left" in final, final
    assert len(final.rstrip()) <= 80, final  # one line of an 80-column terminal
    assert "6 faces in 6/6 frames" in drawn


def test_version_prints_the_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"facedub {__version__}"


def test_help_at_80_columns_shows_whole_option_names() -> None:
    result = CliRunner().invoke(app, ["swap", "--help"], terminal_width=80,
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "--keep-target-mouth / --no-keep-target-mouth" in result.output
    assert "--visible-label / --no-visible-label" in result.output
    assert "<bool>" not in result.output and "…" not in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_first_swap_says_once_where_the_signing_key_is(faces_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEDUB_CONFIG_DIR", str(tmp_path / "config"))
    said = []
    for name in ("first.jpg", "second.jpg"):
        result = CliRunner().invoke(app, [
            "swap", "--source", str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
            "--target", str(faces_dir / "still_rose_leslie_frontal.jpg"),
            "-o", str(tmp_path / name), "--work-dir", str(tmp_path / "work")])
        assert result.exit_code == 0, result.output
        said.append("created a local signing key" in result.output)
        if said[-1]:
            assert str(tmp_path / "config") in result.output
    assert said == [True, False]
