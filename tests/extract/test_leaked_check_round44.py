"""Round 44: `extract` refused its output folder and left its content check running.

The check starts on a thread of its own before the output folder is looked at. A refusal
there ("not empty and holds no faceset", "holds a faceset of another input") raised at
once and the check went on reading the input after `extract` had returned: in the test
run it opened Biden's shared photo during a later test of the same worker (which counted
Pillow's opens: 1 fresh-clone run in 4 failed)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from facedub.errors import FacedubError
from facedub.extract import run as run_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import CheckStoppedError, check_media_is_allowed


class _SlowClean:
    """Finds nothing; each look takes a while, so a check left running is still running
    when `extract` returns (the wait makes a leak show, it is not what the test reads)."""

    def __init__(self) -> None:
        self.began = threading.Event()
        self.looks = 0
        self.ended = 0

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.looks += 1
        self.began.set()
        threading.Event().wait(0.5)
        self.ended += 1
        return {}


def test_a_refused_folder_ends_the_content_check_before_extract_raises(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    detector = _SlowClean()
    prepare = run_module._prepare_output

    def prepare_once_the_check_looks(*args: object) -> object:
        detector.began.wait(30)  # the refusal lands while the check is reading the photo
        return prepare(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "_prepare_output", prepare_once_the_check_looks)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FacedubError, match="not empty and holds no faceset"):
        extract(faces_dir / "still_biden_frontal.jpg", other, ExtractConfig(crop_size=64),
                detector=detector)
    assert detector.looks == detector.ended == 1, "the check was still reading the photo"
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_a_stopped_check_reads_no_further_file(tmp_path: Path) -> None:
    class Counting:
        looks = 0

        def scores(self, image: np.ndarray) -> dict[str, float]:
            del image
            Counting.looks += 1
            return {}

    stop = threading.Event()
    stop.set()
    with pytest.raises(CheckStoppedError):
        check_media_is_allowed([tmp_path / "never-read.jpg"], Counting(), stop)
    assert Counting.looks == 0
