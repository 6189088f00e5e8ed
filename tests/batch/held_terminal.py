"""`facedub` in a pseudo-terminal, its work held until the test has seen the bar draw what
it expects (fifty-first round: a terminal test that asserted which short stage the bar's
0.5 s poll caught failed on a faster machine). Each step is a pattern and what to do once
the drawn output matches it (let a held job go: `batch_media.AnalysisHold`), so what the
bar shows while a job waits is drawn however fast or slow the machine is."""

from __future__ import annotations

import codecs
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

from test_cli_terminal import ANSI_ESCAPE, read_drawn

Step = tuple[str, Callable[[], None]]  # (a regex of what was drawn, what to do then)
# An escape whose end has not been read yet (the rest comes with the next read).
UNFINISHED_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*)?\Z")


class Drawn:
    """What a pseudo-terminal drew, escapes removed and each redraw a line, added read by
    read. A character split across two reads (a bar's '━' is 3 bytes) or an escape split
    across them is added once whole, so the text drawn before never changes and a step's
    offset into it stays put (decoded whole at each look, a split '━' read first as
    replacement characters, then as one, moved every later offset)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self.text = ""

    def add(self, chunk: bytes, final: bool = False) -> None:
        self._pending += self._decoder.decode(chunk, final)
        unfinished = None if final else UNFINISHED_ESCAPE.search(self._pending)
        whole = len(self._pending) if unfinished is None else unfinished.start()
        self.text += ANSI_ESCAPE.sub("", self._pending[:whole]).replace("\r", "\n")
        self._pending = self._pending[whole:]


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
    drawn = Drawn()
    matched: list[str] = []
    since = 0  # each step's pattern is looked for in what was drawn after the last match
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                chunk = read_drawn(leader)
                if not chunk:  # the follower side closed and everything was read
                    break
                drawn.add(chunk)
            elif process.poll() is not None:
                break
            while len(matched) < len(steps):
                found = re.compile(steps[len(matched)][0]).search(drawn.text, since)
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
    drawn.add(b"", final=True)
    assert len(matched) == len(steps), (
        f"never drawn: {steps[len(matched)][0]!r}\n{drawn.text}")
    return code, drawn.text, matched
