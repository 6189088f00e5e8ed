"""Marked media shared by the provenance tests, made once per session in temp folders.

The marked clip is 2.5 s of a real shared clip, marked and written as the swap stage
would (H.264 CRF 18); tests then edit it the way shared video gets edited.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from provenance_media import CLIP, PAYLOAD, SECONDS, unchanged, write_video

from facedub.provenance.watermark import WatermarkEmbedder


@pytest.fixture(scope="session")
def marked_video(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("marked") / "marked.mp4"
    return write_video(faces_dir / CLIP, out, unchanged, crf=18, seconds=SECONDS,
                       embedder=WatermarkEmbedder(PAYLOAD))


@pytest.fixture(scope="session")
def unmarked_video(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("unmarked") / "unmarked.mp4"
    return write_video(faces_dir / CLIP, out, unchanged, crf=18, seconds=SECONDS)
