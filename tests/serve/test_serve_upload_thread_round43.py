"""Round 43: the upload handler's look at a GIF's frames (Pillow) ran on the event loop,
so a slow read held every other request; it runs on a worker thread now, and the
handler still answers with the kind."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image
from test_serve_requests_round39 import Client

from facedub import media
from facedub.serve import app as serve_app


def _gif(frames: int) -> bytes:
    images = [Image.new("RGB", (64, 64), (40 * i, 90, 160)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=100)
    return buffer.getvalue()


def test_the_gif_frame_check_runs_off_the_event_loop(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    on_the_loop: list[str] = []
    is_photo_path = media.is_photo_path

    def watched(path: Path) -> bool:
        try:
            asyncio.get_running_loop()
            on_the_loop.append(Path(path).name)
        except RuntimeError:  # a worker thread has no running loop
            pass
        return is_photo_path(path)

    monkeypatch.setattr(serve_app.media, "is_photo_path", watched)
    client = Client(tmp_path / "work", tmp_path / "config")
    for frames, kind in ((1, "photo"), (3, "video")):
        answer = client.post("/api/upload", content=_gif(frames),
                             headers={"x-filename": f"{frames}.gif"})
        assert answer.status_code == 200 and answer.json()["kind"] == kind, answer.text
    assert on_the_loop == []
