"""A live stream's first frame starts no thread on the event loop's thread: the stage
threads run from the moment the swapper is made (on the server's worker thread). A stop
signal's exception (SIGHUP raises Terminated on the main thread, where uvicorn's event
loop calls `submit`) landing as a pool started its worker left that worker unrecorded,
and the exit, which joins it, waited on it unless the swapper's close still ran."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh import MeshEngine
from facedub.faces.landmarks import resolve_landmarker_model
from facedub.faceset import Faceset
from facedub.serve.live import LiveConfig, LiveSwapper


class _Stopped(BaseException):
    """What a stop signal's handler raises (as cli.terminal.Terminated does)."""


def test_the_first_submit_starts_no_thread(
        faces_dir: Path, extracted: Callable[..., Faceset],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=512)
    frame = next(iter(media.iter_frames(faces_dir / "still_biden_frontal.jpg"))).image
    frame = cv2.resize(frame, (480, 480), interpolation=cv2.INTER_AREA)
    with LiveSwapper(MeshEngine(source), LiveConfig(resolve_landmarker_model())) as live:
        started: list[str] = []
        real = threading.Thread.start

        def start(thread: threading.Thread) -> None:
            real(thread)
            started.append(thread.name)
            raise _Stopped  # the signal's exception, after the thread began

        monkeypatch.setattr(threading.Thread, "start", start)
        try:
            done = [live.submit(frame, index / 25) for index in range(2)]
        finally:
            monkeypatch.undo()
        assert started == []
        assert all(future.result().swapped for future in done)
        assert isinstance(done[-1].result().image, np.ndarray)
