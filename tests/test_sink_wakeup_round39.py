"""A sink's thread that loses its wake-up still sees `close`'s end marker.

A stop signal's exception raised on the main thread inside `Queue.put`'s notify (after the
waiter's release, before its removal) leaves a stale, re-acquired waiter in the queue's
condition; the next notify releases that one instead of the sleeping thread's. `extract`
stopped by SIGTERM then hung in `close` (one run in about ten at load)."""

from __future__ import annotations

import threading
import time

from facedub.threads import BackgroundSink


def _waiting(sink: BackgroundSink[int]) -> bool:
    return len(sink._queue.not_empty._waiters) == 1  # type: ignore[attr-defined]


def test_close_ends_a_sink_whose_wake_up_was_lost() -> None:
    consumed: list[int] = []
    sink = BackgroundSink[int](consumed.append)
    sink.put(1)
    deadline = time.monotonic() + 30
    while not (consumed and _waiting(sink)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert consumed == [1] and _waiting(sink)
    # The interrupted notify's leftover: a waiter lock still in the list, held (its
    # thread acquired it again when it woke). The next notify releases it, not the sink's.
    stale = threading.Lock()
    stale.acquire()
    with sink._queue.mutex:  # type: ignore[attr-defined]
        sink._queue.not_empty._waiters.appendleft(stale)  # type: ignore[attr-defined]
    closer = threading.Thread(target=sink.close, daemon=True)
    closer.start()
    closer.join(timeout=20)
    assert not closer.is_alive(), "close() waits for a thread that was never woken"
    assert consumed == [1]
