"""Round 46: `facedub eval --source FACESET_FOLDER` read the faceset's crops (the source's
colours on the realism measures) without the explicit-content check that swap --source,
train and refine give a faceset folder whose mark does not name its crops. Now it is
checked the same way: refused with the usual line (exit 2, no report folder), the pass
kept in the work folder, never in the user's folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.extract import workspace
from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import EXPLICIT_CLASSES

PHOTO = "still_biden_frontal.jpg"
TARGET = "still_rose_leslie_frontal.jpg"


class _Detector:
    """Scores `score` for every explicit class on a 64 px crop (none of the photos);
    counts its looks at crops."""

    def __init__(self, score: float = 0.0) -> None:
        self.score = score
        self.looks = 0

    def scores(self, image: np.ndarray) -> dict[str, float]:
        if max(image.shape[:2]) > 64:
            return {}
        self.looks += 1
        return {label: self.score for label in EXPLICIT_CLASSES}


def _edited_faceset(faces_dir: Path, folder: Path) -> Path:
    """A faceset of the photo whose one crop was edited after its extraction (its mark no
    longer names its crops)."""
    extract(faces_dir / PHOTO, folder, ExtractConfig(crop_size=64), detector=_Detector())
    crop = sorted((folder / "faces").glob("*.png"))[0]
    image = cv2.imread(str(crop))
    image[:4, :4] = 255 - image[:4, :4]
    assert cv2.imwrite(str(crop), image)
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.read_bytes())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _eval(faces_dir: Path, source: Path, out: Path) -> list[str]:
    return ["eval", "--source", str(source), "--target", str(faces_dir / TARGET),
            "--swapped", str(faces_dir / TARGET), "-o", str(out), "--strip", "0",
            "--worst", "0"]


def test_eval_refuses_a_faceset_source_with_an_explicit_crop(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _edited_faceset(faces_dir, tmp_path / "faces")
    before = _snapshot(folder)
    monkeypatch.setattr(workspace, "NudeNetDetector", lambda: _Detector(0.99))
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, _eval(faces_dir, folder, out))
    assert result.exit_code == 2, result.output  # main: 0, measured from the crops
    assert "its crop" in result.output and "refused" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    assert _snapshot(folder) == before


def test_eval_checks_a_faceset_source_once_and_keeps_the_pass_in_the_work_folder(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _edited_faceset(faces_dir, tmp_path / "faces")
    before = _snapshot(folder)
    detectors: list[_Detector] = []
    monkeypatch.setattr(workspace, "NudeNetDetector",
                        lambda: detectors.append(_Detector()) or detectors[-1])
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    result = CliRunner().invoke(app, _eval(faces_dir, folder, tmp_path / "first"))
    assert result.exit_code == 0, result.output
    assert [d.looks for d in detectors] == [len(list((folder / "faces").glob("*.png")))]
    assert len(list((tmp_path / "work").glob(".faceset-*.json"))) == 1  # main: none
    assert _snapshot(folder) == before
    result = CliRunner().invoke(app, _eval(faces_dir, folder, tmp_path / "again"))
    assert result.exit_code == 0, result.output
    assert len(detectors) == 1  # the recorded pass: not looked at again



def test_eval_refuses_a_faceset_source_whose_crop_file_is_missing(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review R: intended, and said in README. A missing crop cannot be checked, and swap
    --source, train and refine refuse such a faceset the same way. Main's eval read it
    unchecked (check_files=False) and measured it, unless the missing crop was one of the
    eight evenly spaced ones its colour measure reads (then "missing or unreadable")."""
    import shutil

    from facedub.faceset import load_faceset

    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(10):
        shutil.copy(faces_dir / PHOTO, photos / f"{index:02d}.jpg")
    folder = tmp_path / "faces"
    extract(photos, folder, ExtractConfig(crop_size=64), detector=_Detector())
    records = load_faceset(folder).faces_of()
    assert len(records) == 10
    missing = records[2].image  # not among the crops read: 0 1 3 4 5 6 8 9 and 0 3 6 9
    (folder / missing).unlink()
    monkeypatch.setattr(workspace, "NudeNetDetector", lambda: _Detector())
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, _eval(faces_dir, folder, out))
    assert result.exit_code == 2, result.output  # main: 0, measured
    assert result.output.strip().splitlines() == [
        f"error: {folder / 'faces.jsonl'}: line 3: {missing} is missing; the faceset is "
        "damaged, extract again"], result.output
    assert not out.exists()
