"""Round 42: the photos a user has today, uploaded to `facedub serve` through its HTTP
endpoints, and what the browser user is told. A HEIC was "not a photo or video"; an
animated WebP target had its first frame swapped into a still without a word; a cut-out
PNG came back as a JPEG, white around it; a one-frame GIF was listed as a video. Files are
made at test time from a shared photo."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw
from serve_support import Server
from test_serve_media_round40 import _finished, _upload

PHOTO = "still_paul_rudd_frontal_studio.jpg"


def _face(faces_dir: Path) -> Image.Image:
    with Image.open(faces_dir / PHOTO) as opened:
        return opened.convert("RGB").resize((480, 480))


def _post(url: str, data: bytes, name: str) -> httpx.Response:
    return httpx.post(url + "/api/upload", content=data, headers={"X-Filename": name},
                      timeout=60)


def _saved(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def test_new_photo_types_are_taken_or_refused_with_what_to_do(
        start_server: Callable[..., Server], faces_dir: Path) -> None:
    server = start_server()
    face = _face(faces_dir)
    refused = _post(server.url, _saved(face, format="JPEG"), "IMG_0001.HEIC")
    if ".heic" not in Image.registered_extensions():
        assert refused.status_code == 400
        assert refused.json()["error"] == (
            "'IMG_0001.HEIC': a HEIC photo, which facedub cannot read; convert it to JPEG (an "
            "iPhone saves JPEG with Settings > Camera > Formats > Most Compatible)")
    still = _post(server.url, _saved(face, format="GIF"), "still.gif")
    assert still.status_code == 200 and still.json()["kind"] == "photo", still.text
    moving = _post(server.url, _saved(face, format="GIF", save_all=True,
                                      append_images=[face.rotate(5)], duration=100),
                   "moving.gif")
    assert moving.status_code == 200 and moving.json()["kind"] == "video", moving.text
    if ".avif" in Image.registered_extensions():
        avif = _post(server.url, _saved(face, format="AVIF"), "face.avif")
        assert avif.status_code == 200 and avif.json()["kind"] == "photo", avif.text
    uploads = server.work / "uploads"
    assert len(list(uploads.iterdir())) == 2 + (".avif" in Image.registered_extensions())


def test_an_animated_webp_target_is_refused_by_its_name(
        start_server: Callable[..., Server], faces_dir: Path, tmp_path: Path) -> None:
    server = start_server()
    face = _face(faces_dir)
    webp = tmp_path / "moving.webp"
    face.save(webp, save_all=True, append_images=[face.rotate(5), face.rotate(10)],
              duration=100)
    source = _upload(server.url, faces_dir / PHOTO, PHOTO)
    target = _upload(server.url, webp, "party.webp")
    for endpoint in ("/api/jobs", "/api/preview"):
        answer = httpx.post(server.url + endpoint, json={"source": source, "target": target})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith(
            "party.webp: an animated WebP of 3 frames, which facedub reads as its first "
            "frame only; convert it to a video"), answer.text
    assert httpx.get(server.url + "/api/jobs").json() == []


@pytest.mark.parametrize("transparent", [True, False])
def test_a_cut_out_target_comes_back_as_a_png_with_its_alpha(
        start_server: Callable[..., Server], faces_dir: Path, tmp_path: Path,
        transparent: bool) -> None:
    server = start_server()
    face = _face(faces_dir).convert("RGBA")
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((60, 20, 420, 530), fill=255)
    if transparent:
        face.putalpha(mask)
    sticker = tmp_path / "sticker.png"
    face.save(sticker)
    source = _upload(server.url, faces_dir / PHOTO, PHOTO)
    target = _upload(server.url, sticker, "sticker.png")
    job_id = httpx.post(server.url + "/api/jobs", json={"source": source, "target": target}
                        ).json()["id"]
    job = _finished(server.url, job_id)
    assert job["state"] == "done", job
    result = httpx.get(server.url + f"/api/jobs/{job_id}/result", timeout=60)
    assert result.status_code == 200
    with Image.open(io.BytesIO(result.content)) as made:
        if not transparent:
            assert made.format == "JPEG" and job["message"] == "1/1 frames swapped", job
            return
        assert made.format == "PNG" and made.mode == "RGBA", (made.format, made.mode)
        alpha = np.asarray(made)[..., 3]
    assert job["output"].endswith(".png")
    assert job["message"] == ("1/1 frames swapped; transparency: kept (the target's alpha "
                              "unchanged; the visible label's box is opaque)"), job
    given = np.asarray(mask)
    assert (alpha == given).mean() > 0.95 and alpha[:40, :40].max() == 0
