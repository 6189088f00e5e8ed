"""`facedub serve` security: where it listens, the token, and what uploads are refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from serve_support import Server
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp (IPv4, as the kernel
    sees them)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_default_bind_is_loopback_and_open_without_token(
        start_server: Callable[..., Server]) -> None:
    server = start_server()
    port = int(server.url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"127.0.0.1"}
    assert "token" not in server.banner and "this machine only" in server.banner
    assert httpx.get(server.url + "/").status_code == 200
    assert httpx.get(server.url.replace("127.0.0.1", "localhost") + "/").status_code == 200
    # A web site that rebinds its own name to 127.0.0.1 is not this machine's page.
    rebound = httpx.get(server.url + "/api/jobs", headers={"Host": "evil.example:80"})
    assert rebound.status_code == 403


def test_other_host_without_token_gets_401_everywhere(
        start_server: Callable[..., Server]) -> None:
    server = start_server("--host", "0.0.0.0")
    port = int(server.url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0.0.0.0"}
    token = server.banner.split("?token=")[1].split()[0]
    assert len(token) >= 24  # generated and printed once
    for path in ("/", "/api/jobs", "/api/uploads", "/static/app.js"):
        response = httpx.get(server.url + path)
        assert response.status_code == 401, path
        assert "token" in response.text
    assert httpx.post(server.url + "/api/upload", content=b"x",
                      headers={"X-Filename": "a.jpg"}).status_code == 401
    assert httpx.get(server.url + "/?token=wrong" + "x" * 30).status_code == 401
    with pytest.raises(InvalidStatus):
        # proxy=None: importing MediaPipe points https_proxy at a closed port (offline).
        connect(server.url.replace("http", "ws") + "/ws/jobs", proxy=None).close()
    # With the token: the link sets a cookie the page then uses; scripts use a bearer.
    with httpx.Client() as client:
        page = client.get(f"{server.url}/?token={token}")
        assert page.status_code == 200 and "facedub" in page.text
        assert client.get(server.url + "/api/jobs").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(server.url + "/api/jobs", headers=headers).status_code == 200


def test_given_token_too_short_is_refused(start_server: Callable[..., Server],
                                          tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "facedub", "serve", "--host", "0.0.0.0",
                           "--token", "short", "--work-dir", str(tmp_path / "w")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--token" in done.stderr


def test_bad_uploads_get_a_clear_error_and_nothing_is_written_outside(
        start_server: Callable[..., Server], faces_dir: Path, tmp_path: Path) -> None:
    server = start_server("--max-upload", "1")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    def upload(name: str, body: bytes, origin: str | None = None) -> httpx.Response:
        headers = {"X-Filename": name}
        if origin:
            headers["Origin"] = origin
        return httpx.post(server.url + "/api/upload", content=body, headers=headers)

    text = upload("notes.txt", b"hello")
    assert text.status_code == 400 and "not a photo or video" in text.json()["error"]
    disguised = upload("photo.jpg", b"this is not an image at all" * 100)
    assert disguised.status_code == 400
    assert "not a readable photo" in disguised.json()["error"]
    assert str(server.work) not in disguised.json()["error"]  # no server paths shown
    big = upload("big.jpg", b"\xff" * (2 * 1024 * 1024))
    assert big.status_code == 413 and "limit of 1 MB" in big.json()["error"]
    for name in ("../escape.jpg", "..%2F..%2Fescape.jpg", "a/b.jpg", "..\\x.jpg"):
        climbing = upload(name, (faces_dir / "still_biden_frontal.jpg").read_bytes())
        assert climbing.status_code == 400, name
        assert "may not contain" in climbing.json()["error"]
    elsewhere = upload("x.jpg", b"x", origin="http://evil.example")
    assert elsewhere.status_code == 403
    # Nothing landed anywhere: the uploads folder is empty, the rest is as it was.
    assert not any((server.work / "uploads").iterdir())
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                   if not p.is_relative_to(server.work))
    assert after == [p for p in before if not (tmp_path / p).is_relative_to(server.work)]
    assert not list(tmp_path.parent.glob("escape.jpg"))
    # A good photo still goes through, under a name the server made (of its content:
    # the same file uploaded again is the same file, `Store.keep_by_content`).
    photo = (faces_dir / "still_biden_frontal.jpg").read_bytes()
    good = upload("my face.jpg", photo)
    assert good.status_code == 200, good.text
    stored = list((server.work / "uploads").iterdir())
    assert len(stored) == 1
    assert stored[0].name == f"{hashlib.sha256(photo).hexdigest()[:32]}.jpg"


def test_media_folder_entries_are_picked_by_name_from_the_servers_listing(
        start_server: Callable[..., Server], faces_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "media"
    (folder / "photos").mkdir(parents=True)
    (folder / "face.jpg").symlink_to(faces_dir / "still_biden_frontal.jpg")
    (folder / "photos" / "a.jpg").symlink_to(faces_dir / "still_rose_leslie_frontal.jpg")
    (folder / "notes.txt").write_text("not media")
    server = start_server("--media", str(folder))
    listed = httpx.get(server.url + "/api/library").json()
    assert listed == [{"name": "face.jpg", "kind": "photo"},
                      {"name": "photos", "kind": "folder"}]
    for name in ("../media/face.jpg", "/etc/passwd", "notes.txt", "photos/a.jpg"):
        assert httpx.post(server.url + "/api/library", json={"name": name}).status_code == 404
    picked = httpx.post(server.url + "/api/library", json={"name": "photos"})
    assert picked.status_code == 200 and picked.json()["kind"] == "folder"
    uploads = httpx.get(server.url + "/api/uploads").json()
    assert [u["name"] for u in uploads] == ["photos"]
    # A folder is a source, never a target.
    job = httpx.post(server.url + "/api/jobs", json={"source": uploads[0]["id"],
                                                     "target": uploads[0]["id"]})
    assert job.status_code == 400 and "target must be a photo or a video" in job.text
