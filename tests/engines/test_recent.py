"""The small per-face caches under the engine's face threads: a look-up is never undone
by another thread's insert and eviction between its check and its read."""

from __future__ import annotations

import threading
from collections import OrderedDict

from facedub.engines.recent import Recent


class _PausingValues(OrderedDict[int, str]):
    """The cache's own dict, pausing inside a look-up's `move_to_end` until another thread
    has had its turn (or a short wait has passed: the other thread is held by a lock)."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = threading.Event()
        self.other_done = threading.Event()

    def move_to_end(self, key: int, last: bool = True) -> None:
        self.paused.set()
        self.other_done.wait(timeout=0.3)
        super().move_to_end(key, last)


def test_another_threads_eviction_waits_for_a_look_up_to_finish() -> None:
    cache: Recent[str] = Recent(1)
    values = _PausingValues()
    cache._values = values
    cache.get(1, lambda: "one")
    failures: list[BaseException] = []

    def look_up() -> None:
        try:
            assert cache.get(1, lambda: "made again") == "one"
        except BaseException as error:  # a thread's failure, asserted below
            failures.append(error)

    reader = threading.Thread(target=look_up)
    reader.start()
    assert values.paused.wait(timeout=5)
    evictor = threading.Thread(target=lambda: cache.get(2, lambda: "two"))
    evictor.start()  # inserts 2 and, at capacity 1, evicts the oldest: 1, being read
    evictor.join(timeout=0.2)
    values.other_done.set()
    reader.join(timeout=5)
    evictor.join(timeout=5)
    assert not failures
    assert list(values) == [2]  # the insert went on once the look-up was done
