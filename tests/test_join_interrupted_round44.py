"""Round 44: a Ctrl-C or stop signal during `join_through_interrupts` must not end the wait
before the worker has ended. On Python 3.11 and 3.12 an interrupted `Thread.join` releases
the running thread's state lock and marks it stopped (CPython's fix of bpo-45274), so the
old loop on `is_alive()` returned at once and the caller freed what the worker still used
(the analyser under MediaPipe's prefetch thread). Found by the round's review.

Fifty-second round: the Ctrl-C is sent once the main thread waits in the join, and the
worker is let go only once the join waits again after it (the fix's state), not 0.1 s and
0.4 s after the test started (under load the two landed the other way round: then the wait
was not tested, and the test passed). A join that returns at the Ctrl-C is never waited
again: its worker is still held when the KeyboardInterrupt is raised (fails, checked)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ctrl_c_support import BOUND_SECONDS, ctrl_c_once_main_waits_in
from facedub.threads import join_through_interrupts, prefetched


@pytest.fixture
def join_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], int]]:
    """`join_waits()`: how many waits on an Event the main thread began inside
    `join_through_interrupts` (every Event's `wait` counted while the test runs)."""
    started = [0]
    wait = threading.Event.wait

    def counted(self: threading.Event, timeout: float | None = None) -> bool:
        caller = threading.current_thread() is threading.main_thread() and \
            sys._getframe(1).f_code is join_through_interrupts.__code__
        if caller:
            started[0] += 1
        return wait(self, timeout)

    monkeypatch.setattr(threading.Event, "wait", counted)
    yield lambda: started[0]


def _release_once_it_waits_again(release: threading.Event, join_waits: Callable[[], int]
                                 ) -> threading.Thread:
    """Ctrl-C the main thread once it waits in the join, then let the worker end once the
    join waits again after it (a bound only ends a hang: the worker is let go then too)."""
    ctrl_c_once_main_waits_in((join_through_interrupts.__code__,), also=lambda: join_waits() >= 1)

    def let_go() -> None:
        deadline = time.monotonic() + BOUND_SECONDS
        while join_waits() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()

    thread = threading.Thread(target=let_go, daemon=True)
    thread.start()
    return thread


def test_an_interrupted_wait_still_waits_for_the_worker(join_waits: Callable[[], int]) -> None:
    release, finished, ended = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        try:
            release.wait()  # native work that a signal does not stop
            ended.set()
        finally:
            finished.set()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    _release_once_it_waits_again(release, join_waits)
    try:
        with pytest.raises(KeyboardInterrupt):
            join_through_interrupts(worker, finished)
        assert ended.is_set()  # raised only once the worker had ended
        assert not worker.is_alive()
    finally:
        release.set()


def test_a_prefetch_closed_by_ctrl_c_waits_for_its_thread(join_waits: Callable[[], int]
                                                          ) -> None:
    release, produced_all = threading.Event(), threading.Event()

    def slow_items() -> Iterator[int]:
        yield 1
        release.wait()  # the next item's work, under way when Ctrl-C lands
        produced_all.set()
        yield 2

    items = prefetched(slow_items())
    assert next(items) == 1
    _release_once_it_waits_again(release, join_waits)
    try:
        with pytest.raises(KeyboardInterrupt):
            items.close()  # the consumer stops early; Ctrl-C lands while it waits
        assert produced_all.is_set()
    finally:
        release.set()
