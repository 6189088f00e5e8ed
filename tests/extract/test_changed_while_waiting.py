"""An input replaced while its analysis waits for the work folder's lock is hashed again.

`analysed` hashes the input to find its folder, then waits for the folder's lock (another
facedub analysing it). A file replaced during that wait kept the old hash: the old
analysis was reused, and the new content skipped the explicit-content check."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from facedub.extract import workspace
from facedub.extract.config import ExtractConfig
from facedub.extract.run import open_source
from facedub.extract.safety import EXPLICIT_CLASSES, ExplicitContentError
from facedub.extract.workspace import analysed
from facedub.fsutil import sha256_file

FIRST, SECOND = "still_biden_frontal.jpg", "still_rose_leslie_frontal.jpg"


class _Scores:
    def __init__(self, score: float) -> None:
        self.score = score
        self.checked = 0

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        self.checked += 1
        return {label: self.score for label in EXPLICIT_CLASSES}


def _replaced_on_first_lock(monkeypatch: pytest.MonkeyPatch, path: Path, new: Path
                            ) -> list[int]:
    """While the first lock is taken (the wait for another facedub), `path` is replaced
    by a copy of `new`, as a user or a download would."""
    taken: list[int] = []
    lock = workspace.exclusive_lock

    @contextlib.contextmanager
    def replacing(lock_file: Path, on_wait: object = None) -> Iterator[None]:
        with lock(lock_file):
            if not taken:
                staged = path.with_suffix(".new.jpg")
                shutil.copyfile(new, staged)
                os.replace(staged, path)
            taken.append(1)
            yield

    monkeypatch.setattr(workspace, "exclusive_lock", replacing)
    return taken


def test_a_file_replaced_while_waiting_is_checked_again(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, config = tmp_path / "work", ExtractConfig(crop_size=64)
    photo = tmp_path / "input.jpg"
    shutil.copyfile(faces_dir / FIRST, photo)
    analysed(photo, work, config, detector=_Scores(0.0))  # the first content, checked
    taken = _replaced_on_first_lock(monkeypatch, photo, faces_dir / SECOND)
    refusing = _Scores(0.9)  # the new content is explicit (so says this detector)
    with pytest.raises(ExplicitContentError, match="refused"):
        analysed(photo, work, config, detector=refusing)
    assert refusing.checked == 1
    assert len(taken) == 2  # the lock of the old hash, then of the new


def test_a_file_replaced_while_waiting_is_analysed_as_it_is_now(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "input.jpg"
    shutil.copyfile(faces_dir / FIRST, photo)
    _replaced_on_first_lock(monkeypatch, photo, faces_dir / SECOND)
    faceset = analysed(photo, tmp_path / "work", ExtractConfig(crop_size=64),
                       detector=_Scores(0.0))
    assert faceset.meta.source_sha256 == sha256_file(faces_dir / SECOND)


def test_an_unchanged_source_says_so_and_a_rewritten_one_does_not(
        faces_dir: Path, tmp_path: Path) -> None:
    photo = tmp_path / "input.jpg"
    shutil.copyfile(faces_dir / FIRST, photo)
    source = open_source(photo)
    assert source.unchanged()
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not source.unchanged()


def test_a_folder_source_notices_a_photo_added(faces_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(faces_dir / FIRST, folder / "a.jpg")
    source = open_source(folder)
    assert source.unchanged()
    shutil.copyfile(faces_dir / SECOND, folder / "b.jpg")
    assert not source.unchanged()
