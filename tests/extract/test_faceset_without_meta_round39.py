"""A faceset folder whose faceset.json is gone is called that, not 'holds no photos'."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.errors import FacedubError
from facedub.extract.run import open_source
from facedub.faceset import FACES_DIR, RECORDS_FILE


def _meta_less_faceset(folder: Path) -> Path:
    (folder / FACES_DIR).mkdir(parents=True)
    (folder / RECORDS_FILE).write_text("", encoding="utf-8")
    return folder


def test_open_source_names_a_faceset_without_its_meta(tmp_path: Path) -> None:
    folder = _meta_less_faceset(tmp_path / "paul")
    with pytest.raises(FacedubError, match=r"a faceset folder without its faceset\.json"):
        open_source(folder)


def test_an_empty_folder_still_holds_no_photos(tmp_path: Path) -> None:
    with pytest.raises(FacedubError, match="holds no photos"):
        open_source(tmp_path)


def test_swap_from_it_says_to_extract_again(faces_dir: Path, tmp_path: Path) -> None:
    folder = _meta_less_faceset(tmp_path / "paul")
    target = tmp_path / "target.jpg"
    shutil.copy(faces_dir / "still_biden_frontal.jpg", target)
    result = CliRunner().invoke(app, ["swap", "--source", str(folder), "--target",
                                      str(target), "-o", str(tmp_path / "out.jpg")])
    assert result.exit_code == 2
    assert "extract it again" in result.output
    assert not (tmp_path / "out.jpg").exists()
