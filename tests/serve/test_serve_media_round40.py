"""Round 40: a swap job of `facedub serve` that fails on the user's file names that file as
the user named it, not as the server's own path to its id-named copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from serve_support import Server

from test_hostile_media_round40 import _cut, _write_clip

PHOTO = "still_paul_rudd_frontal_studio.jpg"


def _upload(url: str, path: Path, name: str) -> str:
    response = httpx.post(url + "/api/upload", content=path.read_bytes(),
                          headers={"X-Filename": name}, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _finished(url: str, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = next(j for j in httpx.get(url + "/api/jobs").json() if j["id"] == job_id)
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end")


def test_a_cut_short_upload_fails_its_job_under_its_own_name(
        start_server: Callable[..., Server], faces_dir: Path, tmp_path: Path) -> None:
    # The page said "/srv/work/uploads/0f96f59fabba5533.mp4: only 11 of the 45 frames its
    # index lists could be decoded ...": a name the user never saw.
    server = start_server()
    whole = tmp_path / "clip.mp4"
    _write_clip(whole)
    source = _upload(server.url, faces_dir / PHOTO, PHOTO)
    target = _upload(server.url, _cut(whole, 0.5), "holiday.mp4")
    job_id = httpx.post(server.url + "/api/jobs", json={"source": source, "target": target}
                        ).json()["id"]
    job = _finished(server.url, job_id)
    assert job["state"] == "failed", job
    assert job["message"].startswith("holiday.mp4: only "), job["message"]
    assert "re-export or re-download it" in job["message"]
    assert str(server.work) not in job["message"]
