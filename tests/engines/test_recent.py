"""The small per-face caches under the engine's face threads: a look-up is never undone
by another thread's insert and eviction between its check and its read."""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections import OrderedDict

from facedub.engines.recent import Recent

# Only ends a test that would otherwise hang (the evictor neither done nor waiting): each
# wait below returns as soon as its state is there, in milliseconds on any machine.
BOUND_SECONDS = 120.0


class _PausingValues(OrderedDict[int, str]):
    """The cache's own dict, pausing inside a look-up's `move_to_end` until the test lets
    it go on (once the other thread has had its turn: done, or waiting on the cache's lock)."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = threading.Event()
        self.go_on = threading.Event()

    def move_to_end(self, key: int, last: bool = True) -> None:
        self.paused.set()
        assert self.go_on.wait(timeout=BOUND_SECONDS), "the test never let the look-up go on"
        super().move_to_end(key, last)


def _waits_on_the_lock(thread: threading.Thread) -> bool:
    """Whether `thread` stands in `Recent.get` on a `with self._lock:` line (the look-up
    holds the lock, so standing there is waiting for it)."""
    frame = sys._current_frames().get(thread.ident or 0)
    if frame is None or frame.f_code is not Recent.get.__code__:
        return False
    lines, first = inspect.getsourcelines(Recent.get)
    return lines[frame.f_lineno - first].strip() == "with self._lock:"


def _wait_until_done_or_waiting_on_the_lock(thread: threading.Thread) -> None:
    """The other thread's turn, read from its state, not given a time: it ran through
    (no lock: the bug, the look-up then fails) or it waits on the lock (the fix)."""
    deadline = time.monotonic() + BOUND_SECONDS
    while thread.is_alive() and not _waits_on_the_lock(thread):
        assert time.monotonic() < deadline, "the evictor neither finished nor waited on the lock"
        time.sleep(0.001)


def test_another_threads_eviction_waits_for_a_look_up_to_finish() -> None:
    cache: Recent[str] = Recent(1)
    values = _PausingValues()
    cache._values = values
    cache.get(1, lambda: "one")  # an insert: no look-up, no pause
    failures: list[BaseException] = []

    def look_up() -> None:
        try:
            assert cache.get(1, lambda: "made again") == "one"
        except BaseException as error:  # a thread's failure, asserted below
            failures.append(error)

    reader = threading.Thread(target=look_up)
    reader.start()
    assert values.paused.wait(timeout=BOUND_SECONDS)
    evictor = threading.Thread(target=lambda: cache.get(2, lambda: "two"))
    evictor.start()  # inserts 2 and, at capacity 1, evicts the oldest: 1, being read
    _wait_until_done_or_waiting_on_the_lock(evictor)
    values.go_on.set()
    reader.join(timeout=BOUND_SECONDS)
    evictor.join(timeout=BOUND_SECONDS)
    assert not reader.is_alive() and not evictor.is_alive()
    assert not failures
    assert list(values) == [2]  # the insert went on once the look-up was done
