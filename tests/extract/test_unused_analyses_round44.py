"""Round 44: the work folder grew by an analysis for every input ever swapped.

Every changed input is a new analysis (a photo folder with a photo added, a clip
re-exported); nothing removed the old ones. An analysis nothing has used for a month is
removed as the next analysis starts, unless another facedub holds its lock; a user's own
folder in the work folder is never touched."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import numpy as np
import pytest

from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import UNUSED_SECONDS, analysed, remove_unused

KEY = "0123456789abcdef0123"


class _Clean:
    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        return {}


def _analysis(work: Path, name: str, age: float) -> Path:
    folder = work / f"{name}-{KEY}"
    (folder / "faces").mkdir(parents=True)
    (folder / "faceset.json").write_text('{"format": "facedub-faceset", "tool": "facedub 0"}')
    _age(folder, age)
    return folder


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_analyses_unused_for_a_month_are_removed_as_the_next_one_starts(
        faces_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    old = _analysis(work, "clip.mp4", UNUSED_SECONDS + 3600)
    recent = _analysis(work, "other.mp4", UNUSED_SECONDS - 3600)
    mine = work / "my-notes"  # the user's own, however old
    mine.mkdir()
    _age(mine, 10 * UNUSED_SECONDS)
    verdicts = work / f".photos-{KEY}.json"
    verdicts.write_text("{}")
    _age(verdicts, UNUSED_SECONDS + 3600)
    analysed(faces_dir / "still_biden_frontal.jpg", work, ExtractConfig(crop_size=64),
             detector=_Clean())
    names = {p.name for p in work.iterdir()}
    assert old.name not in names and verdicts.name not in names
    assert {recent.name, mine.name} <= names
    made = [p for p in work.iterdir() if p.name.startswith("still_biden_frontal.jpg-")]
    assert len(made) == 1
    # A reuse stamps the analysis: a month on from its making it is still there.
    _age(made[0], UNUSED_SECONDS + 3600)
    analysed(faces_dir / "still_biden_frontal.jpg", work, ExtractConfig(crop_size=64),
             detector=_Clean())
    assert time.time() - made[0].stat().st_mtime < UNUSED_SECONDS
    assert remove_unused(work, time.time()) == []


def test_an_analysis_whose_lock_is_held_is_left(tmp_path: Path) -> None:
    work = tmp_path / "work"
    old = _analysis(work, "clip.mp4", UNUSED_SECONDS + 3600)
    fd = os.open(work / f".{old.name}.lock", os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another facedub analysing it, or waiting to
        assert remove_unused(work, time.time()) == []
    finally:
        os.close(fd)
    assert remove_unused(work, time.time()) == [old]
    assert not old.exists() and (work / f".{old.name}.lock").exists()


def test_the_analysis_in_hand_is_reused_not_pruned_first(faces_dir: Path,
                                                          tmp_path: Path) -> None:
    """Pruned before the lookup, a month-old analysis this very call reused was deleted
    and made again from scratch."""
    work = tmp_path / "work"
    photo = faces_dir / "still_biden_frontal.jpg"
    made = analysed(photo, work, ExtractConfig(crop_size=64), detector=_Clean()).root
    marker = made / "faces" / "kept.txt"  # gone if the folder is made again
    marker.write_text("x")
    _age(made, UNUSED_SECONDS + 3600)
    assert analysed(photo, work, ExtractConfig(crop_size=64), detector=_Clean()).root == made
    assert marker.exists()
    assert time.time() - made.stat().st_mtime < UNUSED_SECONDS


def test_only_what_facedub_made_is_pruned_and_never_through_a_symlink(
        tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    old = UNUSED_SECONDS + 3600
    user = work / "holiday-photos-abcdef0123456789abcd"  # the user's backup: the pattern
    (user / "faces").mkdir(parents=True)
    (user / "faces" / "me.jpg").write_text("x")
    _age(user, old)
    foreign = work / f"notes-{KEY}"  # a faceset.json that is not facedub's
    (foreign / "faces").mkdir(parents=True)
    (foreign / "faceset.json").write_text('{"format": "something else"}')
    _age(foreign, old)
    target = _analysis(tmp_path, "elsewhere.mp4", old)
    link = work / f"linked.mp4-{KEY}"
    link.symlink_to(target)
    killed = work / f"killed.mp4-{KEY}"  # an analysis killed as it began: empty folders
    (killed / "faces").mkdir(parents=True)
    (killed / "masks").mkdir()
    _age(killed, old)
    assert remove_unused(work, time.time()) == [killed]
    assert (user / "faces" / "me.jpg").exists() and foreign.exists()
    assert link.is_symlink() and (target / "faceset.json").exists()


def test_an_unreadable_folder_is_left(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    old = _analysis(work, "clip.mp4", UNUSED_SECONDS + 3600)

    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", refused)
    assert remove_unused(work, time.time()) == []
    monkeypatch.undo()
    assert old.exists()
