"""Round 46: a faceset folder's explicit-content check (a folder given as an input whose
mark does not name its crops) could not be resumed: Ctrl-C after 300 of 354 crops started
the next run at crop 0. Each crop's pass is now kept in the work folder (atomically, never
in the user's folder): a rerun looks only at the crops not yet passed, and again at a crop
whose content changed since it passed."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_faceset_check_round45 import CropDetector

from facedub.extract.config import ExtractConfig
from facedub.extract.run import extract
from facedub.extract.safety import PASSED_FILE, ExplicitContentError
from facedub.extract.workspace import checked_faceset, remove_unused

CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"
FRAMES = 8


@pytest.fixture(scope="module")
def made(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("made") / "faces"
    extract(faces_dir / CLIP, folder, ExtractConfig(crop_size=64, max_frames=FRAMES),
            detector=CropDetector())
    return folder


def _unmarked(made: Path, tmp_path: Path) -> Path:
    """A copy of the faceset without its mark (a hand-made or older facedub's folder)."""
    import shutil

    folder = Path(shutil.copytree(made, tmp_path / "faces"))
    (folder / PASSED_FILE).unlink()
    return folder


def _crops(folder: Path) -> list[Path]:
    return sorted((folder / "faces").glob("*.png"))


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.read_bytes())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_stopped_check_resumes_at_the_crops_not_yet_passed(made: Path,
                                                            tmp_path: Path) -> None:
    folder = _unmarked(made, tmp_path)
    total = len(_crops(folder))
    assert total == FRAMES
    before = _snapshot(folder)
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        checked_faceset(folder, work, detector=CropDetector(stop_at=6))  # 5 passed
    assert _snapshot(folder) == before  # nothing written into the input
    again = CropDetector()
    checked_faceset(folder, work, detector=again)
    assert again.looks == total - 5  # main: total, the check started over at crop 0
    assert len(list(work.glob(".faceset-*.json"))) == 1  # then the whole pass, as before
    assert _snapshot(folder) == before


def test_a_crop_changed_since_its_pass_is_checked_again(made: Path, tmp_path: Path) -> None:
    folder = _unmarked(made, tmp_path)
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        checked_faceset(folder, work, detector=CropDetector(stop_at=4))  # crops 0-2 passed
    crop = _crops(folder)[1]
    image = cv2.imread(str(crop))
    image[:4, :4] = 255 - image[:4, :4]
    assert cv2.imwrite(str(crop), image)
    refusing = CropDetector(score=0.99)
    with pytest.raises(ExplicitContentError, match=rf"its crop {crop.name}: refused"):
        checked_faceset(folder, work, detector=refusing)
    assert refusing.looks == 1  # the changed crop, the first not passed as it is now


def test_a_refusal_keeps_the_passes_before_it_and_records_no_whole_pass(
        made: Path, tmp_path: Path) -> None:
    folder = _unmarked(made, tmp_path)
    work = tmp_path / "work"

    class _RefusesFourth(CropDetector):
        def scores(self, image: np.ndarray) -> dict[str, float]:
            found = super().scores(image)
            return {k: 0.99 for k in found} if self.looks == 4 else found

    with pytest.raises(ExplicitContentError):
        checked_faceset(folder, work, detector=_RefusesFourth())
    (kept,) = work.glob(".crops-*.json")
    assert len(json.loads(kept.read_text())["passed"]) == 3
    assert not list(work.glob(".faceset-*.json"))
    again = CropDetector(score=0.99)
    with pytest.raises(ExplicitContentError):  # the refused crop is looked at again
        checked_faceset(folder, work, detector=again)
    assert again.looks == 1


def test_the_kept_passes_are_written_as_the_check_goes(made: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """A process killed outright (SIGKILL: no finally runs) keeps what was saved."""
    from facedub.extract import crop_verdicts  # new this round: imported here, so that
    # the other tests run (and fail) on main

    folder = _unmarked(made, tmp_path)
    work = tmp_path / "work"
    monkeypatch.setattr(crop_verdicts, "SAVE_SECONDS", 0.0)
    seen: list[int] = []

    class _Peeks(CropDetector):
        def scores(self, image: np.ndarray) -> dict[str, float]:
            files = list(work.glob(".crops-*.json"))
            seen.append(len(json.loads(files[0].read_text())["passed"]) if files else 0)
            return super().scores(image)

    checked_faceset(folder, work, detector=_Peeks())
    assert seen[-1] == FRAMES - 1


def test_the_kept_passes_are_pruned_when_unused(made: Path, tmp_path: Path) -> None:
    folder = _unmarked(made, tmp_path)
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        checked_faceset(folder, work, detector=CropDetector(stop_at=3))
    (kept,) = work.glob(".crops-*.json")
    from facedub.extract import workspace

    assert remove_unused(work, kept.stat().st_mtime + workspace.UNUSED_SECONDS + 1) == [kept]
