"""Round 45: a faceset folder given as an input (swap --source, refine, train) was used
without any explicit-content check: a hand-made folder, an older facedub's, or one whose
crops were edited after its extraction went into the swap or the training unchecked. The
extraction's mark now names its crops (their hash); a folder whose crops it does not name
has every crop checked, the pass recorded in the work folder (never in the user's folder)
and a failure refused with the usual line (exit 2, nothing at the output)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.extract import models as models_module
from facedub.extract import workspace
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.run import extract
from facedub.extract.safety import EXPLICIT_CLASSES, PASSED_FILE, ExplicitContentError
from facedub.extract.workspace import analysed, remove_unused

PHOTO = "still_biden_frontal.jpg"
TARGET = "still_rose_leslie_frontal.jpg"


class CropDetector:
    """Scores `score` for every explicit class on a crop (64 px here; 1.0 on none of the
    photos, the target's included); stops (as Ctrl-C does, KeyboardInterrupt) at its look
    number `stop_at`; counts its looks at crops (round 46's resume tests too)."""

    def __init__(self, score: float = 0.0, stop_at: int | None = None) -> None:
        self.score = score
        self.stop_at = stop_at
        self.looks = 0

    def scores(self, image: np.ndarray) -> dict[str, float]:
        if max(image.shape[:2]) > 64:
            return {}
        self.looks += 1
        if self.looks == self.stop_at:
            raise KeyboardInterrupt
        return {label: self.score for label in EXPLICIT_CLASSES}


def _faceset(faces_dir: Path, folder: Path) -> Path:
    extract(faces_dir / PHOTO, folder, ExtractConfig(crop_size=64), detector=CropDetector())
    return folder


def _edit_a_crop(folder: Path) -> None:
    crop = sorted((folder / "faces").glob("*.png"))[0]
    image = cv2.imread(str(crop))
    image[:4, :4] = 255 - image[:4, :4]
    assert cv2.imwrite(str(crop), image)


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.read_bytes())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_faceset_whose_crops_the_mark_names_is_not_checked_again(
        faces_dir: Path, tmp_path: Path) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    detector = CropDetector(score=0.99)  # would refuse, were it asked
    faceset = analysed(folder, tmp_path / "work", ExtractConfig(), detector=detector)
    assert detector.looks == 0
    assert faceset.records


def test_a_faceset_with_an_edited_crop_is_checked_and_refused(faces_dir: Path,
                                                              tmp_path: Path) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    _edit_a_crop(folder)
    before = _snapshot(folder)
    with pytest.raises(ExplicitContentError, match=r"its crop .*refused"):  # main: used
        analysed(folder, tmp_path / "work", ExtractConfig(), detector=CropDetector(0.99))
    assert _snapshot(folder) == before  # the input is not modified
    assert not list((tmp_path / "work").glob(".faceset-*"))  # no pass recorded


@pytest.mark.parametrize("made_by", ["hand", "an older facedub"])
def test_a_faceset_without_a_valid_mark_is_checked_once_and_the_pass_kept_outside_it(
        faces_dir: Path, tmp_path: Path, made_by: str) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    if made_by == "hand":
        (folder / PASSED_FILE).write_text('{"format": "facedub-content-check", '
                                          '"passed": true}', encoding="utf-8")
    else:
        (folder / PASSED_FILE).unlink()
    before = _snapshot(folder)
    work = tmp_path / "work"
    first = CropDetector()
    analysed(folder, work, ExtractConfig(), detector=first)
    assert first.looks == len(list((folder / "faces").glob("*.png"))) >= 1  # every crop
    assert _snapshot(folder) == before
    assert len(list(work.glob(".faceset-*.json"))) == 1
    again = CropDetector(score=0.99)
    analysed(folder, work, ExtractConfig(), detector=again)  # the recorded pass
    assert again.looks == 0
    _edit_a_crop(folder)  # other crops: another verdict
    with pytest.raises(ExplicitContentError):
        analysed(folder, work, ExtractConfig(), detector=again)


def test_an_unused_recorded_pass_is_pruned_with_the_other_verdicts(faces_dir: Path,
                                                                    tmp_path: Path) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    (folder / PASSED_FILE).unlink()
    work = tmp_path / "work"
    analysed(folder, work, ExtractConfig(), detector=CropDetector())
    (record,) = work.glob(".faceset-*.json")
    (crops,) = work.glob(".crops-*.json")  # each crop's pass (round 46: resumable)
    assert remove_unused(work, record.stat().st_mtime + workspace.UNUSED_SECONDS + 1) \
        == sorted([record, crops])


def test_swap_refuses_a_faceset_source_with_an_explicit_crop(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    _edit_a_crop(folder)
    monkeypatch.setattr(models_module, "NudeNetDetector", lambda: CropDetector(0.99))
    monkeypatch.setenv("FACEDUB_CONFIG_DIR", str(tmp_path / "config"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = CliRunner().invoke(app, [
        "swap", "--source", str(folder), "--target", str(faces_dir / TARGET),
        "--work-dir", str(tmp_path / "work"), "-o", str(out_dir / "swapped.jpg")])
    assert result.exit_code == 2, result.output  # main: 0, swapped from the edited crop
    assert "refused" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(out_dir.iterdir()) == []


def test_train_refuses_a_faceset_with_an_explicit_crop(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _faceset(faces_dir, tmp_path / "faces")
    (folder / PASSED_FILE).unlink()
    monkeypatch.setattr(workspace, "NudeNetDetector", lambda: CropDetector(0.99), raising=False)
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", str(folder), str(folder), "-o", str(out)])
    assert result.exit_code == 2, result.output  # main: trained on (or "too few faces")
    assert "refused" in result.output
    assert not out.exists()


def test_a_faceset_its_mark_covers_loads_no_detector(faces_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # NudeNet's load (0.3-1 s) only where a crop is to be looked at: a swap from a marked
    # faceset whose target analysis is reused loads none.
    folder = _faceset(faces_dir, tmp_path / "faces")
    loads: list[CropDetector] = []
    monkeypatch.setattr(models_module, "NudeNetDetector",
                        lambda: loads.append(CropDetector()) or loads[-1])
    analysed(folder, tmp_path / "work", ExtractConfig(), models=AnalysisModels())
    assert loads == []
    (folder / PASSED_FILE).unlink()
    analysed(folder, tmp_path / "work", ExtractConfig(), models=AnalysisModels())
    assert len(loads) == 1 and loads[0].looks >= 1


class _RedDetector:
    """Flags an image that is mostly pure red (a stand-in for explicit content)."""

    def scores(self, image: np.ndarray) -> dict[str, float]:
        red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
        return {label: float(red.mean()) for label in EXPLICIT_CLASSES}


def test_a_crop_whose_alpha_hides_its_colours_is_checked_as_the_swap_reads_it(
        faces_dir: Path, tmp_path: Path) -> None:
    """Read as a photo, transparency is painted over white and the check saw white; the
    swap reads the crop's colours with the alpha dropped (review, forty-fifth round)."""
    folder = _faceset(faces_dir, tmp_path / "faces")
    crop = sorted((folder / "faces").glob("*.png"))[0]
    height, width = cv2.imread(str(crop)).shape[:2]
    hidden = np.zeros((height, width, 4), np.uint8)
    hidden[..., 2] = 255  # pure red in OpenCV's BGR order, wholly transparent
    assert cv2.imwrite(str(crop), hidden)
    with pytest.raises(ExplicitContentError, match=r"its crop .*refused"):
        analysed(folder, tmp_path / "work", ExtractConfig(), detector=_RedDetector())
