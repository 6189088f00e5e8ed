"""Round 45 (review): `BackgroundSink.close` waited for every queued item through any
number of Ctrl-Cs, and nothing told the item in hand to end: `extract`'s writer, whose
first item waits for the explicit-content check, kept the process on the whole check.
A Ctrl-C during the close now drops the items not begun and calls `on_interrupt`."""

from __future__ import annotations

import threading

import pytest

from ctrl_c_support import ctrl_c_once_main_waits_in, waiting_in
from facedub.threads import BackgroundSink, join_through_interrupts


def test_ctrl_c_during_close_drops_the_rest_and_calls_on_interrupt() -> None:
    release = threading.Event()
    consumed: list[int] = []

    def consume(item: int) -> None:
        if item == 0:
            release.wait(120)  # an item that waits on something stoppable (the check)
        consumed.append(item)

    sink = BackgroundSink[int](consume, depth=8)
    for item in range(4):
        sink.put(item)
    # Sent once close waits (before: a 0.3 s timer, which a loaded machine could fire
    # before close, raising outside it, or after item 0's 10 s wait).
    ctrl_c_once_main_waits_in(waiting_in(join_through_interrupts))
    with pytest.raises(KeyboardInterrupt):
        sink.close(on_interrupt=release.set)
    assert consumed == [0]  # items 1-3 dropped; item 0 ended at the Ctrl-C, not after 120 s


def test_a_close_without_interruption_still_consumes_everything() -> None:
    consumed: list[int] = []
    sink = BackgroundSink[int](consumed.append, depth=8)
    for item in range(4):
        sink.put(item)
    sink.close(on_interrupt=lambda: None)
    assert consumed == [0, 1, 2, 3]
