"""Round 45 (review): `BackgroundSink.close` waited for every queued item through any
number of Ctrl-Cs, and nothing told the item in hand to end: `extract`'s writer, whose
first item waits for the explicit-content check, kept the process on the whole check.
A Ctrl-C during the close now drops the items not begun and calls `on_interrupt`."""

from __future__ import annotations

import signal
import threading

import pytest

from facedub.threads import BackgroundSink


def _ctrl_c() -> None:
    """The user's Ctrl-C, to the main thread (interrupt_main wakes no blocked wait)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_ctrl_c_during_close_drops_the_rest_and_calls_on_interrupt() -> None:
    release = threading.Event()
    consumed: list[int] = []

    def consume(item: int) -> None:
        if item == 0:
            release.wait(10)  # an item that waits on something stoppable (the check)
        consumed.append(item)

    sink = BackgroundSink[int](consume, depth=8)
    for item in range(4):
        sink.put(item)
    threading.Timer(0.3, _ctrl_c).start()
    with pytest.raises(KeyboardInterrupt):
        sink.close(on_interrupt=release.set)
    assert consumed == [0]  # items 1-3 dropped; item 0 ended at the Ctrl-C, not after 10 s


def test_a_close_without_interruption_still_consumes_everything() -> None:
    consumed: list[int] = []
    sink = BackgroundSink[int](consumed.append, depth=8)
    for item in range(4):
        sink.put(item)
    sink.close(on_interrupt=lambda: None)
    assert consumed == [0, 1, 2, 3]
