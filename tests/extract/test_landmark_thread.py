"""The look-ahead landmark thread of extraction (`facedub.extract.run._landmarked`): when
the caller stops (an error, Ctrl-C, SIGTERM), the thread stops too, before the landmarker
it uses is closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np
import pytest

from facedub import media
from facedub.extract import run
from facedub.extract.config import ExtractConfig
from facedub.progress import NoProgress

EVERY = 20  # the frames between two analysed ones take longer than `prefetched`'s join
FRAMES = EVERY + 1
SKIPPED_FRAME_SECONDS = 0.3


class _Analyser:
    """FaceAnalyser's stand-in: finds no face, records a call made once it is closed."""

    def __init__(self, **_: object) -> None:
        self.closed = False
        self.used_closed = threading.Event()

    def __enter__(self) -> _Analyser:
        analysers.append(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.closed = True

    def analyse(self, image: np.ndarray, time_seconds: float = 0.0,
                new_shot: bool = False) -> list[object]:
        if self.closed:
            self.used_closed.set()
        return []


analysers: list[_Analyser] = []


class _SlowSource(run.MediaSource):
    def frames(self) -> Iterator[tuple[media.Frame, str]]:
        _ENDED.clear()
        try:
            for index in range(FRAMES):
                if index % EVERY:
                    time.sleep(SKIPPED_FRAME_SECONDS)
                yield media.Frame(index, index / 25, np.zeros((8, 8, 3), np.uint8)), "clip.mp4"
        finally:
            _ENDED.set()


_ENDED = threading.Event()  # the source's frames were read to the end, or closed


class _Stop(NoProgress):
    def advance(self, steps: int = 1) -> None:
        if steps == 1:
            raise KeyboardInterrupt


def test_a_stopped_extraction_stops_its_landmark_thread(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "FaceAnalyser", _Analyser)
    source = _SlowSource(tmp_path / "clip.mp4", "video", (), FRAMES, "")
    before = set(threading.enumerate())
    with pytest.raises(KeyboardInterrupt):
        run._analyse(source, tmp_path, ExtractConfig(every=EVERY), encoder=None,  # type: ignore[arg-type]
                     progress=_Stop())
    # Every thread the extraction started has ended by the time the stop leaves it, the
    # source closed: none can use the landmarker after. (A sleep of 0.2 s let a thread
    # that ran on show itself: on a loaded machine it did not, and the test passed.)
    running = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not running, f"threads still running after the stop: {running}"
    assert _ENDED.is_set()
    assert not analysers[-1].used_closed.is_set(), "the landmarker was used after closing"
