"""An unreadable video's message is FFmpeg's words, not PyAV's error number and the path twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub import media


def test_a_text_file_named_mp4_is_one_plain_reason(tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video\n" * 50, encoding="utf-8")
    with pytest.raises(media.DecodeError) as raised:
        media.probe(fake)
    message = str(raised.value)
    assert message.startswith(f"{fake}: not a readable video or photo (")
    assert "Errno" not in message
    assert message.count(str(fake)) == 1
