"""Overlapping decode, compute and encode on a small machine.

FFmpeg, OpenCV and NumPy release Python's lock while they work, so decoding the next
frame and encoding the last one on their own threads runs beside the per-frame compute.
Queues are bounded, so memory stays flat however long the video is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Iterate `items` on a background thread, `depth` items ahead; errors re-raise here."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:
            buffer.put(_Failure(error))

    worker = threading.Thread(target=produce, name="facedub-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


class BackgroundSink(Generic[T]):
    """Hands items to `consume` on a background thread. `close` waits for the last one and
    re-raises the first error; use as a context manager."""

    def __init__(self, consume: Callable[[T], None], depth: int = 4) -> None:
        self._consume = consume
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="facedub-sink", daemon=True)
        self._worker.start()

    def put(self, item: T) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(_DONE)
        self._worker.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._consume(item)  # type: ignore[arg-type]
                except BaseException as error:
                    self._error = error

    def __enter__(self) -> BackgroundSink[T]:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._queue.put(_DONE)
            self._worker.join()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
