"""Round 45 (review): a Ctrl-C while extraction's writer waited at its close for the
explicit-content check (the analysis had ended first: a photo, a resumed run,
--max-frames) did not stop the check. The wait went on until the check had read the rest
of the video (`facedub extract` of 3 frames of a 3540-frame clip: 6.8 s from Ctrl-C to the
exit, the check's thread alive 6.2 s of it), then the frames' crops were written. And a
stopped check decoded on to its next sampled frame, a sixteenth of the clip away."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_check_stop_round44 import flat_clip

from facedub import media
from facedub.extract import run as run_module
from facedub.extract import safety as safety_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import PASSED_FILE, CheckStoppedError, sample_frames
from facedub.faceset import FACES_DIR, PROGRESS_FILE


class _SlowLooks:
    """Each look takes 0.25 s: the check of a video takes 4 s."""

    def __init__(self) -> None:
        self.looks = 0

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.looks += 1
        time.sleep(0.25)
        return {}


def _ctrl_c() -> None:
    """The user's Ctrl-C, to the main thread (interrupt_main wakes no blocked wait)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_ctrl_c_while_the_writer_waits_for_the_check_stops_the_check(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = run_module._OrderedWriter.close
    signalled: list[float] = []

    def ctrl_c_now() -> None:
        signalled.append(time.monotonic())
        _ctrl_c()

    def interrupted_close(self: Any, *args: Any) -> None:
        threading.Timer(0.3, ctrl_c_now).start()  # the user's Ctrl-C
        original(self, *args)

    monkeypatch.setattr(run_module._OrderedWriter, "close", interrupted_close)
    detector = _SlowLooks()
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        # Two frames analysed: the analysis ends long before the check's 16 looks.
        extract(faces_dir / "clip_liveportrait_d3_woman_headturn.mp4", out,
                ExtractConfig(crop_size=64, max_frames=2), detector=detector)
    # From the Ctrl-C, not from extract's start (model loads and the analysis are no part
    # of the stop): 0.67 s median here, 6.55 s when the check ran on to its end.
    stopped_after = time.monotonic() - signalled[0]
    assert detector.looks < 16, "the check looked at every frame after the Ctrl-C"
    assert stopped_after < 3.0
    # Nothing the check guarded was written, and nothing says it passed.
    assert not (out / PASSED_FILE).exists()
    assert not list((out / FACES_DIR).iterdir())
    assert (out / PROGRESS_FILE).read_text() == ""


def test_a_stopped_check_decodes_no_further_than_the_frame_in_hand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []
    original = media.iter_frames

    def counting(*args: Any, **kwargs: Any) -> Any:
        each = kwargs.get("each_decoded")

        def counted() -> None:
            decoded.append(1)
            if each is not None:
                each()
        kwargs["each_decoded"] = counted
        return original(*args, **kwargs)

    monkeypatch.setattr(safety_module.media, "iter_frames", counting)
    stop = threading.Event()
    frames = sample_frames(flat_clip(tmp_path / "clip.mp4", frames=96), 2, stop)  # frames 0 and 95
    assert next(frames).index == 0
    stop.set()
    with pytest.raises(CheckStoppedError):
        next(frames)
    assert len(decoded) == 2  # not the 95 up to the next sampled frame


def test_iter_frames_ends_where_each_decoded_raises(tmp_path: Path) -> None:
    calls: list[int] = []

    def fifth_stops() -> None:
        calls.append(1)
        if len(calls) == 5:
            raise CheckStoppedError("stopped")

    frames = media.iter_frames(flat_clip(tmp_path / "clip.mp4", frames=96), indices={0, 90},
                               each_decoded=fifth_stops)
    with pytest.raises(CheckStoppedError):
        for _ in frames:
            pass
    assert len(calls) == 5
