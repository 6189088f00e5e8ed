"""MediaPipe's start-up notes are hidden by pointing file descriptor 2 at /dev/null; two
threads loading models at once (serve's job thread and a live session) must leave it as
it was, or every later message of the process is lost."""

from __future__ import annotations

import os
import threading

from facedub.faces.landmarks import _native_stderr_silenced

WAIT_S = 10.0


def _same_file(fd: int, stat: os.stat_result) -> bool:
    now = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (stat.st_dev, stat.st_ino)


def test_overlapping_silences_leave_stderr_as_it_was() -> None:
    """The interleaving that lost it: one thread in, a second in, the first out, the
    second out (the second had saved the first's /dev/null)."""
    before = os.fstat(2)
    keep = os.dup(2)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    silenced_inside: list[bool] = []

    def first() -> None:
        with _native_stderr_silenced():
            first_in.set()
            second_in.wait(WAIT_S)
        first_out.set()

    def second() -> None:
        first_in.wait(WAIT_S)
        with _native_stderr_silenced():
            second_in.set()
            first_out.wait(WAIT_S)
            silenced_inside.append(not _same_file(2, before))  # still hidden: one is inside

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        assert silenced_inside == [True]
        assert _same_file(2, before)
    finally:
        os.dup2(keep, 2)
        os.close(keep)
