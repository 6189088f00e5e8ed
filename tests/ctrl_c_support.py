"""The user's Ctrl-C sent once the main thread waits where the test means it to (fifty-first
round): a `threading.Timer(0.3, ...)` fired before that wait on a loaded machine (the
KeyboardInterrupt then came from outside the code under test) and after the work it was
to interrupt on a fast one."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType

BOUND_SECONDS = 120.0  # a bound for a loaded machine, not a timing: it sends at once


def main_thread_in(*codes: CodeType) -> bool:
    """Whether the main thread runs each of `codes` now (one calling the next, or further
    down)."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    running = set()
    while frame is not None:
        running.add(frame.f_code)
        frame = frame.f_back
    return all(code in running for code in codes)


def waiting_in(function: Callable[..., object]) -> tuple[CodeType, CodeType]:
    """The codes of `function` waiting on a `threading.Event` (inside its `try`, where a
    wait is interrupted: not on the bytecodes before it)."""
    return function.__code__, threading.Event.wait.__code__  # type: ignore[attr-defined]


def ctrl_c_once_main_waits_in(codes: tuple[CodeType, ...],
                              also: Callable[[], bool] = lambda: True) -> threading.Thread:
    """A thread that sends SIGINT to the main thread once it runs `codes` (its stack read
    every 10 ms) and `also()` holds. `pthread_kill`: `interrupt_main` wakes no blocked
    wait."""

    def send() -> None:
        deadline = time.monotonic() + BOUND_SECONDS
        while time.monotonic() < deadline:
            if main_thread_in(*codes) and also():
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=send, name="test-ctrl-c", daemon=True)
    thread.start()
    return thread
