"""Round 39: malformed requests to `facedub serve`'s API get a 400 with a line for the page,
never a 500 with a traceback in the server's log, and never the server's own paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from facedub.serve.app import ServeConfig, create_app


class Client:
    """The app in this process, without its job runner (nothing here runs a job)."""

    def __init__(self, work: Path, config: Path) -> None:
        self.app = create_app(ServeConfig(work, config))

    def post(self, path: str, **request: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            # The loopback name: without a token the app answers this machine's only.
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://127.0.0.1:7860") as client:
                return await client.post(path, **request)

        return anyio.run(send)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(tmp_path / "work", tmp_path / "config")


def _upload(client: Client, path: Path) -> str:
    response = client.post("/api/upload", content=path.read_bytes(),
                           headers={"x-filename": path.name})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_options_that_are_not_an_object_are_a_400(client: Client) -> None:
    # A list here was an AttributeError: 500, "Internal Server Error", a traceback.
    response = client.post("/api/jobs", json={"source": "a", "target": "b", "options": [1]})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "a swap's options are a JSON object of option: "
                                        "value"}


def test_a_preview_frame_that_is_not_a_number_is_a_400(client: Client,
                                                       faces_dir: Path) -> None:
    photo = _upload(client, faces_dir / "still_biden_frontal.jpg")
    for frame in ("z", -1, 1.5, None):
        response = client.post("/api/preview", json={"source": photo, "target": photo,
                                                     "frame": frame})
        assert response.status_code == 400, (frame, response.text)
        assert response.json() == {"error": f"frame {frame!r}: give a frame number from 0"}


def test_verify_of_an_unreadable_drop_names_no_server_path(client: Client,
                                                           tmp_path: Path) -> None:
    # It answered "/WORK/scratch/f849d72376140cbf.jpg: not a readable image (...)".
    response = client.post("/api/verify", content=b"hello",
                           headers={"x-filename": "notes.jpg"})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "the file is not a readable photo or video; drop a "
                                        "photo or a video that plays"}
    assert not list((tmp_path / "work" / "scratch").iterdir())
