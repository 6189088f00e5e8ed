"""Round 39: `evaluate` (the library, as serve and the benchmarks call it) refuses a photo
measured against a video target before any analysis. Only the command checked it; a
library caller got the refusal after the source's and the target's analyses (minutes),
naming the evaluation's temporary file."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest

from facedub.errors import FacedubError
from facedub.evaluate import EvalConfig, evaluate
from facedub.evaluate import run as evaluate_run

PHOTO = "still_biden_frontal.jpg"
CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"


def _no_analysis(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("an input was analysed before the kinds were compared")


@pytest.mark.parametrize(("target", "swapped", "said"), [
    (CLIP, PHOTO, "is a photo but the target is a video"),
    (PHOTO, CLIP, "is a video but the target is a photo"),
])
def test_a_swapped_file_of_the_other_kind_is_refused_before_any_analysis(
        target: str, swapped: str, said: str, faces_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate_run, "source_identity", _no_analysis)
    monkeypatch.setattr(evaluate_run, "analyse_target", _no_analysis)
    out = tmp_path / "report"
    with pytest.raises(FacedubError, match=said):
        evaluate(faces_dir / PHOTO, faces_dir / target, faces_dir / swapped, out,
                 EvalConfig())
    assert not out.exists()  # nothing made for a refused evaluation


def test_a_folder_target_is_refused_before_any_analysis(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate_run, "source_identity", _no_analysis)
    monkeypatch.setattr(evaluate_run, "analyse_target", _no_analysis)
    out = tmp_path / "report"
    with pytest.raises(FacedubError, match="the target must be one video or photo, not a "
                                           "folder"):
        evaluate(faces_dir / PHOTO, faces_dir, faces_dir / PHOTO, out, EvalConfig())
    assert not out.exists()
