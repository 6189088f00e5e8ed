"""Round 45 (review): a resumed or reused extraction trusted an output folder as checked
for explicit content when it was finished or held a progress line. A folder written by an
older facedub (one that never checked, or checked nothing it recorded) skipped the check.
The check now leaves its own mark (content_check.json) as it passes, and only that is
trusted; a folder without it is checked again, not refused."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from facedub.extract import run as run_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import (
    FRAMES_PER_VIDEO,
    PASSED_FILE,
    ExplicitContentError,
    marked_passed,
)
from facedub.faceset import PROGRESS_FILE, read_meta
from facedub.progress import NoProgress

PHOTO = "still_biden_frontal.jpg"
CLIP = "clip_liveportrait_d3_woman_headturn.mp4"


class _Passing:
    """`looked_all`: set at the last look of a video's check."""

    def __init__(self, looked_all: threading.Event | None = None) -> None:
        self.looks = 0
        self.looked_all = looked_all

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.looks += 1
        if self.looked_all is not None and self.looks == FRAMES_PER_VIDEO:
            self.looked_all.set()
        return {}


class _Explicit:
    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        return {"FEMALE_GENITALIA_EXPOSED": 0.99}


class _StopAtThirdFrame(NoProgress):
    """Ctrl-C as the third frame is analysed, once the check has passed."""

    def __init__(self, check_done: threading.Event) -> None:
        self.frames = 0
        self.check_done = check_done

    def advance(self, count: int = 1) -> None:
        self.frames += count
        if self.frames >= 3:
            self.check_done.wait(60)
            raise KeyboardInterrupt


def _as_an_older_facedub_left_it(folder: Path) -> None:
    (folder / PASSED_FILE).unlink()


def test_a_finished_faceset_without_the_mark_is_checked_again(faces_dir: Path,
                                                              tmp_path: Path) -> None:
    photo, out = faces_dir / PHOTO, tmp_path / "out"
    config = ExtractConfig(crop_size=64)
    extract(photo, out, config, detector=_Passing())
    assert marked_passed(out, read_meta(out).source_sha256)
    _as_an_older_facedub_left_it(out)
    with pytest.raises(ExplicitContentError):
        extract(photo, out, config, detector=_Explicit())  # on main: reused unchecked
    assert read_meta(out).complete  # the earlier run's faceset is left as it was


def test_an_interrupted_folder_without_the_mark_is_checked_again(faces_dir: Path,
                                                                 tmp_path: Path) -> None:
    clip, out = faces_dir / CLIP, tmp_path / "out"
    config = ExtractConfig(crop_size=64, max_frames=6)
    checked = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        extract(clip, out, config, _StopAtThirdFrame(checked), _Passing(checked))
    progress_lines = (out / PROGRESS_FILE).read_text().splitlines()
    assert progress_lines and (out / PASSED_FILE).is_file()
    _as_an_older_facedub_left_it(out)
    with pytest.raises(ExplicitContentError):
        extract(clip, out, config, detector=_Explicit())  # on main: resumed unchecked
    # Checked again, not refused for the missing mark: with a passing check it resumes.
    detector = _Passing()
    result = extract(clip, out, config, detector=detector)
    assert detector.looks > 0 and result.frames_resumed == len(progress_lines)
    assert marked_passed(out, result.faceset.meta.source_sha256)


def test_an_old_folder_passes_the_check_again_and_then_holds_the_mark(
        faces_dir: Path, tmp_path: Path) -> None:
    photo, out = faces_dir / PHOTO, tmp_path / "out"
    config = ExtractConfig(crop_size=64)
    extract(photo, out, config, detector=_Passing())
    _as_an_older_facedub_left_it(out)
    again = _Passing()
    extract(photo, out, config, detector=again)
    assert again.looks == 1 and marked_passed(out, read_meta(out).source_sha256)
    reused = _Passing()
    extract(photo, out, config, detector=reused)
    assert reused.looks == 0  # the mark is trusted: no second check


@pytest.mark.parametrize("edit", [
    lambda raw: {**raw, "source_sha256": "0" * 64},  # another input's
    lambda raw: {**raw, "passed": False},
    lambda raw: {**raw, "threshold": 0.9},  # judged by another threshold
    lambda raw: [raw],  # not an object
])
def test_a_mark_that_does_not_say_this_input_passed_is_not_trusted(
        faces_dir: Path, tmp_path: Path, edit: object) -> None:
    photo, out = faces_dir / PHOTO, tmp_path / "out"
    config = ExtractConfig(crop_size=64)
    extract(photo, out, config, detector=_Passing())
    mark = out / PASSED_FILE
    mark.write_text(json.dumps(edit(json.loads(mark.read_text()))))  # type: ignore[operator]
    with pytest.raises(ExplicitContentError):
        extract(photo, out, config, detector=_Explicit())


def test_the_mark_is_written_before_any_crop_or_progress_line(faces_dir: Path,
                                                              tmp_path: Path) -> None:
    """What the writer thread writes first, once the check has passed."""
    written: list[str] = []
    original = run_module.write_png

    def recording_png(path: Path, image: np.ndarray) -> None:
        written.append("png" if (path.parent.parent / PASSED_FILE).is_file() else "png-unmarked")
        original(path, image)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(run_module, "write_png", recording_png)
    try:
        extract(faces_dir / PHOTO, tmp_path / "out", ExtractConfig(crop_size=64),
                detector=_Passing())
    finally:
        monkeypatch.undo()
    assert written and "png-unmarked" not in written


class _Bars(NoProgress):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished = 0

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        del total, unit
        self.started.append(description)

    def finish(self) -> None:
        self.finished += 1


def test_a_finished_folder_checked_again_shows_a_bar_while_it_waits(faces_dir: Path,
                                                                    tmp_path: Path) -> None:
    photo, out = faces_dir / PHOTO, tmp_path / "out"
    config = ExtractConfig(crop_size=64)
    extract(photo, out, config, detector=_Passing())
    _as_an_older_facedub_left_it(out)
    bars = _Bars()
    extract(photo, out, config, bars, _Passing())
    assert bars.started == [f"check {PHOTO}"] and bars.finished == 1
