"""Round 45: hostile inputs, tried as a new user would, in a real (pseudo-)terminal: one
line saying what to do, exit code 2, nothing left at the output, inputs untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from facedub import media
from test_cli_terminal import run_in_terminal


def _screen_lines(drawn: str) -> list[str]:
    return [line.strip() for line in drawn.splitlines() if line.strip()]


@pytest.mark.parametrize(("kind", "named", "told"), [
    ("PNG", "holiday.mp4", "a PNG photo, not a video, though named .mp4; rename it to end in "
                           ".png"),
    ("JPEG", "holiday.mov", "a JPEG photo, not a video, though named .mov; rename it to end in "
                            ".jpg"),
    ("PNG", "holiday", "a PNG photo, not a video, though named without an extension; rename it "
                       "to end in .png"),
])
def test_a_photo_named_as_a_video_is_refused_with_its_name(
        faces_dir: Path, tmp_path: Path, kind: str, named: str, told: str) -> None:
    # A PNG renamed .mp4 went to FFmpeg, which reads it as a video of one frame: the swap
    # wrote a 0.04 s .mp4 of the swapped photo, and extract a faceset of it, without a word.
    photo = tmp_path / named
    with Image.open(faces_dir / "still_biden_frontal.jpg") as image:
        image.save(photo, format=kind)
    before = hashlib.sha256(photo.read_bytes()).hexdigest()
    with pytest.raises(media.DecodeError, match="rename it"):
        media.probe(photo)
    out = tmp_path / "out"
    out.mkdir()
    code, drawn = run_in_terminal(["swap", "--source",
                                   str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                                   "--target", str(photo), "-o", str(out / "swapped.mp4")])
    assert code == 2, drawn
    assert _screen_lines(drawn) == [f"error: {photo}: {told}"], drawn
    assert list(out.iterdir()) == []
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == before
