"""threads.py: items arrive in order, errors re-raise where the caller waits, nothing
hangs when the consumer stops early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from facedub.threads import BackgroundSink, prefetched


def test_prefetched_yields_every_item_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))
    assert list(prefetched(iter([]))) == []


def test_prefetched_reraises_its_producers_error_after_the_items_before_it() -> None:
    def producer() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    received = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetched(producer()):
            received.append(item)
    assert received == [1, 2]


def test_prefetched_stops_its_producer_when_the_consumer_stops() -> None:
    produced = []

    def endless() -> Iterator[int]:
        count = 0
        while True:
            produced.append(count)
            yield count
            count += 1

    for item in prefetched(endless(), depth=2):
        if item == 5:
            break
    settled = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) == settled <= 5 + 2 + 2  # depth ahead, then stopped


def test_background_sink_consumes_in_order_on_another_thread() -> None:
    seen: list[int] = []
    threads: set[int] = set()

    def consume(item: int) -> None:
        seen.append(item)
        threads.add(threading.get_ident())

    with BackgroundSink[int](consume, depth=2) as sink:
        for item in range(50):
            sink.put(item)
    assert seen == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_background_sink_reraises_the_first_error_and_drops_the_rest() -> None:
    seen: list[int] = []

    def consume(item: int) -> None:
        if item == 3:
            raise ValueError("frame 3 would not encode")
        seen.append(item)

    sink = BackgroundSink[int](consume, depth=100)
    for item in range(10):
        sink.put(item)
    with pytest.raises(ValueError, match="frame 3"):
        sink.close()
    assert seen == [0, 1, 2]


def test_background_sink_refuses_new_items_after_an_error() -> None:
    failed = threading.Event()

    def consume(item: int) -> None:
        failed.set()
        raise RuntimeError("broken")

    sink = BackgroundSink[int](consume)
    sink.put(0)
    # Until the sink's thread has stored the error (not 50 ms after `consume` raised: a
    # thread not scheduled in that time failed the test); the bound only ends a hang.
    deadline = time.monotonic() + 120
    while sink._error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert failed.is_set() and sink._error is not None, "no error stored in 120 s"
    with pytest.raises(RuntimeError, match="broken"):
        sink.put(1)
    with pytest.raises(RuntimeError, match="broken"):
        sink.close()


def test_opencv_threads_are_set_inside_the_block_and_restored_after() -> None:
    import cv2

    from facedub.threads import opencv_threads, reuse_freed_memory

    before = cv2.getNumThreads()
    with opencv_threads(1):
        assert cv2.getNumThreads() == 1
    assert cv2.getNumThreads() == before
    assert reuse_freed_memory() in (True, False)  # once per process; False off glibc
