"""A small cache of the most recently used values by source face index."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    """The most recently used values by source index; the blend changes slowly, so a few
    dozen crops cover it while memory stays flat however long the source video is. Safe
    for the engine's face threads (`SourceFaces.make_ahead`): the look-up and the insert
    each hold a lock, so one thread's eviction cannot pull a key from under another's
    look-up; `make` runs outside it, in parallel."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._values: OrderedDict[int, T] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: int) -> bool:
        return key in self._values

    def get(self, key: int, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            if len(self._values) > self._capacity:
                self._values.popitem(last=False)
        return value
