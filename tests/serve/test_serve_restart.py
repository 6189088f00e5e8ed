"""A real server killed while it swaps: the next one on the same work folder shows the
finished job (its result still plays), fails the interrupted one and leaves no staged
file behind; then an evaluation of the finished job gives a report."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import Server

from facedub import media

PHOTO = "still_paul_rudd_frontal_studio.jpg"
LONG_CLIP = "clip_liveportrait_d9_man_glasses_webcam.mp4"


def _upload(url: str, path: Path) -> str:
    response = httpx.post(url + "/api/upload", content=path.read_bytes(),
                          headers={"X-Filename": path.name}, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _job(url: str, job_id: int) -> dict[str, Any]:
    return next(j for j in httpx.get(url + "/api/jobs").json() if j["id"] == job_id)


def _wait(url: str, job_id: int, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = _job(url, job_id)
        if done(job):
            return job
        time.sleep(0.3)
    raise AssertionError(_job(url, job_id))


@pytest.mark.slow
def test_killed_server_restarts_with_its_jobs(
        start_server: Callable[..., Server], faces_dir: Path,
        short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    first = start_server()
    work = first.work
    source = _upload(first.url, faces_dir / PHOTO)
    short = _upload(first.url, short_clip(LONG_CLIP, 1.0))
    long = _upload(first.url, faces_dir / LONG_CLIP)
    finished = httpx.post(first.url + "/api/jobs", json={"source": source, "target": short}
                          ).json()["id"]
    _wait(first.url, finished, lambda job: job["state"] == "done")
    running = httpx.post(first.url + "/api/jobs", json={"source": source, "target": long}
                         ).json()["id"]
    _wait(first.url, running, lambda job: job["phase"].startswith("swap") and job["done"] > 20)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    assert any(".partial" in p.name for p in (work / "results").iterdir())  # left behind

    again = start_server("--work-dir", str(work))  # the later option wins
    jobs = {job["id"]: job for job in httpx.get(again.url + "/api/jobs").json()}
    assert jobs[finished]["state"] == "done"
    assert jobs[running]["state"] == "failed" and "server stopped" in jobs[running]["message"]
    results = sorted(p.name for p in (work / "results").iterdir())
    output = jobs[finished]["output"]
    sidecar = output + ".provenance.json"
    assert results == sorted([output, sidecar])  # no staged file of the killed swap
    played = httpx.get(f"{again.url}/api/jobs/{finished}/result")
    assert played.status_code == 200
    (tmp_path / "played.mp4").write_bytes(played.content)
    assert media.probe(tmp_path / "played.mp4").frame_count > 0

    evaluation = httpx.post(f"{again.url}/api/jobs/{finished}/eval").json()["id"]
    _wait(again.url, evaluation, lambda job: job["state"] == "done")
    report = httpx.get(f"{again.url}/report/{evaluation}/index.html")
    assert report.status_code == 200 and "facedub eval" in report.text
    for escape in ("../../serve.sqlite3", "%2e%2e/%2e%2e/serve.sqlite3"):
        assert httpx.get(f"{again.url}/report/{evaluation}/{escape}").status_code == 404
