"""Overlapping decode, compute and encode on a small machine.

FFmpeg, OpenCV and NumPy release Python's lock while they work, so decoding the next
frame and encoding the last one on their own threads runs beside the per-frame compute.
Queues are bounded, so memory stays flat however long the video is.
"""

from __future__ import annotations

import ctypes
import functools
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Generic, TypeVar

import cv2

from facedub.errors import Terminated

T = TypeVar("T")
# glibc's mallopt parameters, and what they are set to: freed blocks up to the largest
# mmap threshold allowed on 64-bit (a 1080p float32 RGB frame is 25 MB) come from and go
# back to the heap, which keeps up to TRIM_THRESHOLD of free memory instead of returning it.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 128 * 1024 * 1024
_DONE = object()


def started(call: Callable[[], T], name: str, future: Future[T] | None = None) -> Future[T]:
    """`call` on a thread of its own, started now; its result or error in the future
    (`future` when given: the caller holds it even if a stop signal interrupts the start,
    and may cancel it then, or wait for the call).

    Not a ThreadPoolExecutor: `submit` starts the pool's worker and only then records it
    for the interpreter's exit. A stop signal's exception raised on the main thread while
    `start` waited for the worker (`extract`'s content check, as `refine`'s analysis began)
    skipped the record, and the worker, its call done, slept on the pool's queue for a
    wake-up nothing would send: the command printed its line and never exited (the exit
    joins every worker). This thread waits on nothing: it runs `call` and ends. The exit
    still waits for it, so the call is never cut off in native code."""
    made: Future[T] = future if future is not None else Future()

    def run() -> None:
        if not made.set_running_or_notify_cancel():
            return
        try:
            made.set_result(call())
        except BaseException as error:
            made.set_exception(error)

    threading.Thread(target=run, name=name).start()
    return made


def prefetched(items: Iterable[T], depth: int = 4) -> Generator[T, None, None]:
    """Iterate `items` on a background thread, `depth` items ahead; errors re-raise here.
    Closed early (the consumer stops, an error, Ctrl-C), it stops the thread after the
    item in hand and waits for it (`join_through_interrupts`): the caller may then free
    what the items are made with (an engine's landmarker, a video's decoder)."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    finished = threading.Event()  # the thread's last step (`join_through_interrupts`)

    def put(item: object) -> bool:
        """Queue `item` unless the reader stops first (it no longer empties a full queue)."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:
            put(_Failure(error))
        finally:
            # A generator stopped early is closed here, on the thread that ran it: its own
            # clean-up (a decoder's container) then runs before the reader's join returns,
            # not on whichever thread the garbage collector happens to run.
            try:
                close = getattr(iterator, "close", None)
                if callable(close):
                    close()
            finally:
                finished.set()

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
        # No time limit: a join that gave up after 5 s (a frame's work on a loaded machine)
        # let the caller close the engine, and the process exit, under a thread still in
        # native code (MediaPipe, OpenCV): a crash instead of Ctrl-C's exit 130.
        join_through_interrupts(worker, finished)


def join_through_interrupts(worker: threading.Thread, finished: threading.Event,
                            on_interrupt: Callable[[], None] | None = None) -> None:
    """Wait for `worker` to end even if Ctrl-C or a stop signal interrupts the wait; the
    first such interruption is raised once it has. What follows a join frees what the
    worker uses, so a second Ctrl-C during shutdown must not cut the wait short.
    `on_interrupt` (quick: it sets flags) is called at the first interruption, to tell the
    worker to end sooner.

    Waited for on `finished`, which the worker sets as its last step, not on the thread's
    own join: on Python 3.11 and 3.12 a join interrupted by a signal releases the running
    thread's state lock and marks it stopped (CPython's fix of bpo-45274), so `is_alive()`
    read False and the caller closed the analyser under a thread still in MediaPipe: the
    rare crash (exit -11) on a stop signal, probably."""
    interrupted: BaseException | None = None
    while not finished.is_set():
        try:
            finished.wait()
        except BaseException as error:  # KeyboardInterrupt, errors.Terminated
            if interrupted is None and on_interrupt is not None:
                try:
                    _call_through_interrupts(on_interrupt)
                except Exception as broken:  # a bug in it: raised (from the stop) once joined
                    interrupted = broken
            interrupted = interrupted or error
    while worker.is_alive():  # its last bytecodes after `finished` was set
        try:
            worker.join()
        except BaseException as error:
            interrupted = interrupted or error
    if interrupted is not None:
        raise interrupted


def _call_through_interrupts(call: Callable[[], None]) -> None:
    """`call` (one that may run again: it sets flags) to its end, however often a stop
    signal's exception lands in it. Any other error it raises is raised: retried, a
    callback that fails every time spun forever at a full core."""
    while True:
        try:
            call()
            return
        except (KeyboardInterrupt, Terminated):  # a second stop: the first is the caller's
            continue


# How often a sink's thread looks at its queue without being woken (see `BackgroundSink._next`).
WAKE_CHECK_SECONDS = 0.25


class BackgroundSink(Generic[T]):
    """Hands items to `consume` on a background thread. `close` waits for the last one and
    re-raises the first error; use as a context manager. Left by an error (or Ctrl-C),
    the items still queued are dropped, and the thread is waited for before the block
    ends: what `consume` writes to (an encoder) is closed after it."""

    def __init__(self, consume: Callable[[T], None], depth: int = 4) -> None:
        self._consume = consume
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._dropping = threading.Event()
        self._finished = threading.Event()  # the thread's last step (`join_through_interrupts`)
        self._worker = threading.Thread(target=self._run, name="facedub-sink", daemon=True)
        self._worker.start()

    def put(self, item: T) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def close(self, on_interrupt: Callable[[], None] | None = None) -> None:
        """Wait for the items queued, then re-raise the first error. A Ctrl-C or stop
        signal during the wait drops the items not yet begun and calls `on_interrupt`
        (which ends the one in hand sooner, where it waits on something that can be
        stopped); it is raised once the thread has ended. The items' work was waited for to
        the last, a Ctrl-C or two notwithstanding: `extract`'s writer, whose first item
        waits for the explicit-content check, read the whole video for a check nothing
        would use (seconds a minute of video)."""
        self._queue.put(_DONE)

        def stop() -> None:
            self._dropping.set()
            if on_interrupt is not None:
                on_interrupt()

        join_through_interrupts(self._worker, self._finished, stop)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while (item := self._next()) is not _DONE:
                if self._error is None and not self._dropping.is_set():
                    try:
                        self._consume(item)  # type: ignore[arg-type]
                    except BaseException as error:
                        self._error = error
        finally:
            self._finished.set()

    def _next(self) -> object:
        """The next item, the queue looked at again every WAKE_CHECK_SECONDS. A stop
        signal's exception, raised on the main thread inside `Queue.put`'s notify (after it
        released this thread's waiter, before it removed it: CPython's gh-92530 window),
        leaves that waiter in the condition's list; this thread re-acquires it as it wakes,
        so the next notify (`close`'s) released that stale lock, not this thread's new
        one. The thread then slept on a queue that held `close`'s _DONE, and `close` joined
        it forever: `extract` stopped by SIGTERM hung in about one run of ten at load."""
        while True:
            try:
                return self._queue.get(timeout=WAKE_CHECK_SECONDS)
            except queue.Empty:
                continue

    def __enter__(self) -> BackgroundSink[T]:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._dropping.set()
            self._queue.put(_DONE)
            join_through_interrupts(self._worker, self._finished)


@functools.cache
def reuse_freed_memory() -> bool:
    """Have glibc's malloc reuse freed image-sized blocks (see MMAP_THRESHOLD) instead of
    mapping fresh pages from the kernel for every new array. Per frame the swap makes
    dozens of crop-sized float32 arrays; by default each one above the mmap threshold is
    a fresh mapping whose pages the kernel faults in and zeroes, which took more CPU than
    the arithmetic on them (a float32 copy of a 440 px crop: 2 ms against 0.1 ms).
    Process-wide and once; False where the C library has no mallopt (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


@contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's own thread pool at `count` threads inside the block, as it was after it.
    Where a pipeline of stages already keeps every core busy, OpenCV splitting each call
    over the cores as well only adds hand-offs: about 5% more CPU time for the swap's
    frames on two cores. (Process-wide: a second pipeline running beside this one in the
    same process is set too.)"""
    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
