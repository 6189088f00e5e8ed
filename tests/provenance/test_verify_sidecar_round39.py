"""verify: a damaged sidecar is called unreadable, not evidence that the file was edited."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.errors import FacedubError
from facedub.provenance.manifest import sidecar_path
from facedub.provenance.verify import verify


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x00\xffgarbage", "not text"),
    (b"{not json", "not valid JSON"),
    (b'{"media_sha256": "00"}', "no 'facts' field"),
    (b"[1, 2]", "not a provenance record"),
])
def test_a_damaged_sidecar_is_named_unreadable(marked_video: Path, tmp_path: Path,
                                               content: bytes, reason: str) -> None:
    copy = tmp_path / "side.mp4"
    shutil.copy(marked_video, copy)
    sidecar_path(copy).write_bytes(content)
    result = verify(copy, max_frames=10)
    assert result.sidecar is not None and not result.sidecar.readable
    text = "\n".join(result.summary_lines())
    assert f"unreadable ({reason})" in text
    assert "does NOT match" not in text
    # The watermark alone still marks it.
    assert result.exit_code == 0
    assert result.to_json()["sidecar"]["unreadable"] == reason


def test_junk_beside_a_damaged_sidecar_is_still_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is text, not a photo")
    sidecar_path(junk).write_bytes(b"{not json")
    with pytest.raises(FacedubError):
        verify(junk, max_frames=10)


def test_an_unmarked_photo_with_a_damaged_sidecar_is_unmarked(tmp_path: Path) -> None:
    photo = tmp_path / "plain.png"
    media.write_photo(photo, np.full((64, 64, 3), 128, np.uint8))
    sidecar_path(photo).write_text("{}", encoding="utf-8")
    result = verify(photo, max_frames=10)
    assert result.exit_code == 1
    assert "unreadable (no 'facts' field)" in "\n".join(result.summary_lines())
