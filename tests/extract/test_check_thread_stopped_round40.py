"""Round 40: a stop signal landing while `extract` starts its content check's thread.

The check ran on a one-worker ThreadPoolExecutor, whose `submit` starts the worker and
only then records it for the interpreter's exit. A signal's exception raised while the
start waited (the handler runs on the main thread) skipped the record and the shutdown:
the worker, its check done, slept on the pool's queue forever, and the exit, which joins
every non-daemon thread, never came (`refine` stopped by SIGTERM as its analysis began:
its one line, then a hang; caught in CI)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract


class _Clean:
    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        return {}


def _check_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("facedub-safety")]


def test_a_stop_as_the_check_thread_starts_leaves_no_thread_behind(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = threading.Thread.start

    def start_then_stop(thread: threading.Thread) -> None:
        start(thread)
        if thread.name.startswith("facedub-safety"):
            raise KeyboardInterrupt  # the signal lands as `start` returns

    monkeypatch.setattr(threading.Thread, "start", start_then_stop)
    # Kept, as the command's error handling keeps it: the traceback holds extract's frame
    # (and so a pool, whose collection would have woken its worker).
    with pytest.raises(KeyboardInterrupt) as stopped:
        extract(faces_dir / "still_biden_frontal.jpg", tmp_path / "faces",
                ExtractConfig(crop_size=64), detector=_Clean())
    monkeypatch.undo()
    deadline = time.monotonic() + 30  # a generous wait for the check itself, not a timing
    while _check_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _check_threads()
    for thread in left:  # wake an old-style pool worker, so the test run itself can end
        queue = getattr(thread, "_args", (None, None))[1]
        if queue is not None:
            queue.put(None)
    assert not left, "the check's thread outlived its check: the exit would wait for it"
    assert stopped.tb is not None
