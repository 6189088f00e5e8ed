"""Round 43's review: every swap or extract with a photo-folder source decoded every
photo to sort the readable from the skipped, even where the folder's analysis was reused
(12 MP: 47 ms a JPEG, 307 ms a WebP; 15-90 s a run for 300 photos). Each photo's verdict
is kept in the work folder by its stamp: a second run decodes none, a changed photo is
decoded again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facedub.extract import folder as folder_module
from facedub.extract.config import ExtractConfig
from facedub.extract.run import open_source
from facedub.extract.workspace import analysed, photo_verdicts


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The names of the test's own files Pillow opens, from here on. (Pillow's `open` is
    the module's, for every thread of the process: a thread an earlier test left running
    opened a shared photo during this one, 1 run in 4 on a fresh clone.)"""
    names: list[str] = []
    real = Image.open

    def counted(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(file)).is_relative_to(tmp_path):
            names.append(Path(str(file)).name)
        return real(file, *args, **kwargs)

    monkeypatch.setattr(folder_module.Image, "open", counted)
    return names


def _folder(tmp_path: Path, faces_dir: Path | None = None) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    if faces_dir is None:
        face = Image.new("RGB", (64, 48), (120, 100, 90))
    else:
        with Image.open(faces_dir / "still_paul_rudd_frontal_studio.jpg") as photo:
            face = photo.convert("RGB").resize((320, 320))
    face.save(folder / "a.jpg")
    face.save(folder / "b.png")
    (folder / "c.jpg").write_bytes(b"not a photo")
    return folder


def test_a_folder_read_before_is_not_decoded_again(tmp_path: Path,
                                                   opened: list[str]) -> None:
    folder = _folder(tmp_path)
    verdicts = tmp_path / "work" / "verdicts.json"
    verdicts.parent.mkdir()
    first = open_source(folder, verdicts)
    assert sorted(opened) == ["a.jpg", "b.png", "c.jpg"]
    opened.clear()
    second = open_source(folder, verdicts)
    assert opened == []
    assert second.files == first.files and second.skipped == first.skipped
    assert [p.name for p in second.files] == ["a.jpg", "b.png"]
    assert [p.name for p in second.skipped] == ["c.jpg"]
    assert second.sha256 == first.sha256


def test_a_changed_photo_is_decoded_again(tmp_path: Path, opened: list[str]) -> None:
    folder = _folder(tmp_path)
    verdicts = tmp_path / "verdicts.json"
    open_source(folder, verdicts)
    opened.clear()
    Image.new("RGB", (64, 48)).save(folder / "c.jpg")  # the bad file fixed in place
    source = open_source(folder, verdicts)
    assert opened == ["c.jpg"]
    assert [p.name for p in source.files] == ["a.jpg", "b.png", "c.jpg"]
    opened.clear()
    (folder / "b.png").write_bytes((folder / "b.png").read_bytes()[:60])  # cut short
    stat = (folder / "b.png").stat()
    os.utime(folder / "b.png", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert [p.name for p in open_source(folder, verdicts).files] == ["a.jpg", "c.jpg"]
    assert opened == ["b.png"]


def test_a_torn_verdicts_file_is_read_again(tmp_path: Path, opened: list[str]) -> None:
    folder = _folder(tmp_path)
    verdicts = tmp_path / "verdicts.json"
    verdicts.write_text('{"reader": ', encoding="utf-8")
    assert [p.name for p in open_source(folder, verdicts).files] == ["a.jpg", "b.png"]
    assert sorted(opened) == ["a.jpg", "b.png", "c.jpg"]


def test_a_second_analysis_of_a_folder_decodes_none_of_its_photos(
        tmp_path: Path, faces_dir: Path, opened: list[str]) -> None:
    """Through the work folder's analysis, as every swap with a folder source runs it."""
    folder = _folder(tmp_path, faces_dir)
    work = tmp_path / "work"
    first = analysed(folder, work, ExtractConfig(crop_size=64))
    verdicts = photo_verdicts(folder, work)
    assert verdicts is not None and verdicts.is_file()
    opened.clear()
    second = analysed(folder, work, ExtractConfig(crop_size=64))
    assert second.root == first.root
    assert not {"a.jpg", "b.png", "c.jpg"} & set(opened), opened
