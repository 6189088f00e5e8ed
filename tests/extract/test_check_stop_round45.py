"""Round 45 (review): a Ctrl-C while extraction's writer waited at its close for the
explicit-content check (the analysis had ended first: a photo, a resumed run,
--max-frames) did not stop the check. The wait went on until the check had read the rest
of the video (`facedub extract` of 3 frames of a 3540-frame clip: 6.8 s from Ctrl-C to the
exit, the check's thread alive 6.2 s of it), then the frames' crops were written. And a
stopped check decoded on to its next sampled frame, a sixteenth of the clip away."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_check_stop_round44 import flat_clip

from ctrl_c_support import BOUND_SECONDS, ctrl_c_once_main_waits_in, waiting_in
from facedub import media
from facedub.extract import run as run_module
from facedub.extract import safety as safety_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import PASSED_FILE, CheckStoppedError, sample_frames
from facedub.faceset import FACES_DIR, PROGRESS_FILE
from facedub.threads import join_through_interrupts


class _LooksUntilStopped:
    """The first look lasts until the Ctrl-C's stop has been told to the check
    (`stopped`), the others are at once: a check that did not stop looks at all 16
    frames. Before: 0.25 s a look and a bound of 3 s on the exit after the Ctrl-C, which
    a loaded machine could pass."""

    def __init__(self) -> None:
        self.looks = 0
        self.stopped = threading.Event()

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.looks += 1
        if self.looks == 1:
            self.stopped.wait(BOUND_SECONDS)  # a bound for a loaded machine, not a timing
        return {}


def test_ctrl_c_while_the_writer_waits_for_the_check_stops_the_check(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = run_module._OrderedWriter.close
    detector = _LooksUntilStopped()

    def interrupted_close(self: Any, on_interrupt: Callable[[], None] | None = None) -> None:
        def stop_told() -> None:
            if on_interrupt is not None:
                on_interrupt()  # what stops the check
            detector.stopped.set()

        # The user's Ctrl-C once the writer waits for the check, which is looking.
        ctrl_c_once_main_waits_in(waiting_in(join_through_interrupts),
                                  also=lambda: detector.looks > 0)
        original(self, stop_told)

    monkeypatch.setattr(run_module._OrderedWriter, "close", interrupted_close)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        # Two frames analysed: the analysis ends long before the check's 16 looks.
        extract(faces_dir / "clip_liveportrait_d3_woman_headturn.mp4", out,
                ExtractConfig(crop_size=64, max_frames=2), detector=detector)
    # Stopped at the look in hand: 6.55 s when the check ran on to its end, 0.67 s median
    # from the Ctrl-C once it stopped (round 45, 0.25 s looks).
    assert detector.stopped.is_set()
    assert detector.looks == 1, "the check looked on after the Ctrl-C"
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
