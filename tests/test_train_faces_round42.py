"""`facedub train` on a faceset of one photo (forty-second round): it trained on the one
face without a word, an autoencoder that learns that picture, not the person. Too few
faces are refused, in the terminal, with how many and where to get them, before any
work: no run folder, inputs unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.train import MIN_FACES, check_faces
from test_cli_terminal import run_in_terminal

PHOTO = "still_biden_frontal.jpg"


def _digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for item in sorted(folder.rglob("*")):
        hasher.update(str(item.relative_to(folder)).encode())
        if item.is_file():
            hasher.update(item.read_bytes())
    return hasher.hexdigest()


def test_train_refuses_a_faceset_of_one_photo_in_the_terminal(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    one = extracted(PHOTO, max_frames=1, crop_size=64)
    assert len(one.faces_of()) == 1
    before = _digest(one.root)
    run = tmp_path / "run"
    code, drawn = run_in_terminal(["train", str(one.root), str(one.root), "-o", str(run),
                                   "--steps", "1", "--threads", "1"], columns=400)
    lines = [line for line in drawn.splitlines() if line.strip()]
    assert code == 2, drawn
    assert len(lines) == 1 and "Traceback" not in drawn, drawn
    assert lines[0].startswith(f"error: {one.root}: 1 face of the chosen person; training "
                               f"learns a person from at least {MIN_FACES}"), drawn
    assert "facedub extract MEDIA -o FOLDER" in lines[0]
    assert not run.exists() and sorted(tmp_path.iterdir()) == []
    assert _digest(one.root) == before


def test_too_few_faces_of_either_person_are_refused(
        extracted: Callable[..., Faceset]) -> None:
    one = extracted(PHOTO, max_frames=1, crop_size=64)
    many = extracted("clip_liveportrait_d3_woman_headturn.mp4", max_frames=60, crop_size=128)
    check_faces(many, many)
    for pair in ((one, many), (many, one)):
        with pytest.raises(FacedubError, match=rf"^{one.root}: 1 face of the chosen person"):
            check_faces(*pair)
