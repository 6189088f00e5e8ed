"""Round 44: a Ctrl-C or stop signal during `join_through_interrupts` must not end the wait
before the worker has ended. On Python 3.11 and 3.12 an interrupted `Thread.join` releases
the running thread's state lock and marks it stopped (CPython's fix of bpo-45274), so the
old loop on `is_alive()` returned at once and the caller freed what the worker still used
(the analyser under MediaPipe's prefetch thread). Found by the round's review."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from facedub.threads import join_through_interrupts, prefetched


def _interrupt_then_release(release: threading.Event) -> None:
    """Ctrl-C the main thread while it waits, then let the worker end a moment later
    (under load the two may land the other way round: then the wait is not tested, and
    the test passes, never fails, for it)."""
    time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGINT)  # a real signal: it breaks into the wait
    time.sleep(0.3)
    release.set()


def test_an_interrupted_wait_still_waits_for_the_worker() -> None:
    release, finished, ended = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        try:
            release.wait()  # native work that a signal does not stop
            ended.set()
        finally:
            finished.set()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    threading.Thread(target=_interrupt_then_release, args=(release,), daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        join_through_interrupts(worker, finished)
    assert ended.is_set()  # raised only once the worker had ended
    assert not worker.is_alive()


def test_a_prefetch_closed_by_ctrl_c_waits_for_its_thread() -> None:
    release, produced_all = threading.Event(), threading.Event()

    def slow_items() -> object:
        yield 1
        release.wait()  # the next item's work, under way when Ctrl-C lands
        produced_all.set()
        yield 2

    items = prefetched(slow_items())
    assert next(items) == 1
    threading.Thread(target=_interrupt_then_release, args=(release,), daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        items.close()  # the consumer stops early; Ctrl-C lands while it waits
    assert produced_all.is_set()
