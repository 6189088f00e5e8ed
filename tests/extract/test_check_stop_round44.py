"""Round 44 (review): the content check's stop flag rarely stopped it.

On an error or Ctrl-C in the analysis, the writer's close waited for the check before the
flag was set, and the flag was read only between files: a video's 16 looks all ran
(raised at 0.33 s, `extract` raised at 4.27 s). Waiting for it, eight Ctrl-Cs were
swallowed. And a run stopped during the check left faceset.json, whose input the next
run took as checked: it skipped the check."""

from __future__ import annotations

import threading
from concurrent import futures
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from facedub.errors import FacedubError
from facedub.extract import run as run_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract, open_source
from facedub.extract.safety import ExplicitContentError, scan_media
from facedub.progress import NoProgress
from facedub.threads import started


def flat_clip(path: Path, frames: int = 64) -> Path:
    """A 64 px H.264 clip of `frames` flat grey frames at `path` (also round 45's tests)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            image = np.full((64, 64, 3), index * 3 % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class _Counting:
    def __init__(self, on_look: threading.Event | None = None) -> None:
        self.looks = 0
        self.on_look = on_look

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.looks += 1
        if self.on_look is not None:
            self.on_look.set()
        return {}


def test_a_stopped_scan_looks_at_no_further_frame(tmp_path: Path) -> None:
    stop = threading.Event()
    detector = _Counting(on_look=stop)  # stopped as its first look ends
    with pytest.raises(run_module.CheckStoppedError):
        scan_media(flat_clip(tmp_path / "clip.mp4"), detector, stop=stop)
    assert detector.looks == 1


class _FailsAtSecondFrame(NoProgress):
    def __init__(self, looked: threading.Event, failed: threading.Event) -> None:
        self.looked = looked
        self.failed = failed
        self.frames = 0

    def advance(self, count: int = 1) -> None:
        if count:
            self.frames += 1
        if self.frames == 2:
            self.looked.wait(30)  # the check is under way when the analysis fails
            self.failed.set()
            raise FacedubError("the disk is full")


class _SlowAfterFirst(_Counting):
    """Its second look ends only once the analysis has failed (or after 30 s)."""

    def __init__(self, looked: threading.Event, failed: threading.Event) -> None:
        super().__init__(on_look=looked)
        self.failed = failed

    def scores(self, image: np.ndarray) -> dict[str, float]:
        if self.looks == 1:
            self.failed.wait(30)
        return super().scores(image)


def test_a_failed_analysis_stops_the_check_before_waiting_for_it(tmp_path: Path) -> None:
    looked, failed = threading.Event(), threading.Event()
    detector = _SlowAfterFirst(looked, failed)
    with pytest.raises(FacedubError, match="the disk is full"):
        extract(flat_clip(tmp_path / "clip.mp4"), tmp_path / "out", ExtractConfig(crop_size=64),
                _FailsAtSecondFrame(looked, failed), detector)
    assert detector.looks < 16  # all 16 of the video's looks ran


def test_an_interrupt_while_waiting_for_the_check_raises_at_once(
        faces_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    began = threading.Event()

    class Stuck:
        def scores(self, image: np.ndarray) -> dict[str, float]:
            del image
            began.set()
            release.wait(120)  # one long look (till the test ends it): a stop lands only after it
            return {}

    class Models:
        def detector(self) -> Any:
            return Stuck()

    stop = threading.Event()
    safety: Future[object] = Future()
    started(lambda: run_module._check((faces_dir / "still_biden_frontal.jpg",), Models(),
                                      stop), "facedub-safety", safety)  # type: ignore[arg-type]
    began.wait(30)
    calls = []

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the user's next Ctrl-C
        return futures.wait(*args, **kwargs)

    monkeypatch.setattr(run_module.futures, "wait", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_module._end_check(safety, stop)
        assert not safety.done(), "the Ctrl-C waited for the check's look to end"
    finally:
        release.set()
        monkeypatch.undo()
        futures.wait([safety])


def test_a_folder_left_during_the_check_is_checked_again(faces_dir: Path,
                                                         tmp_path: Path) -> None:
    class Explicit:
        def scores(self, image: np.ndarray) -> dict[str, float]:
            del image
            return {"FEMALE_GENITALIA_EXPOSED": 0.99}

    photo = faces_dir / "still_biden_frontal.jpg"
    out = tmp_path / "out"
    config = ExtractConfig(crop_size=64)
    # What a run stopped (or killed) while its check looked leaves: faceset.json only.
    run_module._prepare_output(out, open_source(photo), config)
    with pytest.raises(ExplicitContentError):
        extract(photo, out, config, detector=Explicit())
