"""`facedub` in a pseudo-terminal, its work held until the test has seen the bar draw what
it expects (fifty-first round: a terminal test that asserted which short stage the bar's
0.5 s poll caught failed on a faster machine). Each step is a pattern and what to do once
the drawn output matches it (let a held job go: `batch_media.AnalysisHold`), so what the
bar shows while a job waits is drawn however fast or slow the machine is."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence

from test_cli_terminal import ANSI_ESCAPE

Step = tuple[str, Callable[[], None]]  # (a regex of what was drawn, what to do then)


def run_held_in_terminal(args: list[str], steps: Sequence[Step], columns: int = 100,
                         timeout: float = 600.0) -> tuple[int, str, list[str]]:
    """Run `python -m facedub ARGS` on a pseudo-terminal of `columns` columns; once what
    it drew so far (escapes removed, each redraw a line) matches a step's pattern, that
    step's action runs, the steps in order. Returns the exit code, everything drawn, and
    the text each step's pattern matched. A step never matched fails the test (its
    action is run then, so that a held job ends and the command exits)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "facedub", *args], stdin=follower,
                               stdout=follower, stderr=follower, env=environment,
                               close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    matched: list[str] = []
    since = 0  # each step's pattern is looked for in what was drawn after the last match
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the follower side closed and everything was read
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
            while len(matched) < len(steps):
                found = re.compile(steps[len(matched)][0]).search(_drawn(chunks), since)
                if found is None:
                    break
                since = found.end()
                matched.append(found.group(0))
                steps[len(matched) - 1][1]()
        for _, release in steps[len(matched):]:  # never drawn: the test fails below
            release()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    drawn = _drawn(chunks)
    assert len(matched) == len(steps), (
        f"never drawn: {steps[len(matched)][0]!r}\n{drawn}")
    return code, drawn, matched


def _drawn(chunks: list[bytes]) -> str:
    text = b"".join(chunks).decode("utf-8", "replace")
    return ANSI_ESCAPE.sub("", text).replace("\r", "\n")
