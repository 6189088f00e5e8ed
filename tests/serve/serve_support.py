"""What the serve tests share besides fixtures."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from facedub.serve.store import Store
from facedub.serve.work import JobProgress, SwapRequest

REQUEST = SwapRequest.from_json({"source": "s", "target": "t"}).to_json()


@dataclass
class Server:
    """A running `facedub serve`: its address, work folder and first line printed."""

    url: str
    work: Path
    banner: str
    process: subprocess.Popen[str]


class FakeBench:
    """Stands in for the Workbench: a swap of `frames` frames, each reported after `pause`
    seconds, or, with `hold`, once `hold` is set (a step with no progress check that
    lasts until the test lets it end, whatever the machine's speed)."""

    def __init__(self, store: Store, frames: int = 5, pause: float = 0.0,
                 hold: threading.Event | None = None) -> None:
        self.store, self.frames, self.pause, self.hold = store, frames, pause, hold
        self.started = threading.Event()
        self.discarded: list[int] = []

    def discard(self, job: dict[str, Any]) -> None:
        self.discarded.append(job["id"])

    def run_swap(self, job_id: int, request: SwapRequest, progress: JobProgress
                 ) -> tuple[str, str]:
        del request
        progress.start(self.frames, "swap")
        self.started.set()
        for _ in range(self.frames):
            if self.hold is not None:
                self.hold.wait()
            else:
                time.sleep(self.pause)
            progress.advance()
        return f"{self.frames}/{self.frames} frames swapped", f"job{job_id}.mp4"


def wait_for(store: Store, job_id: int, state: str) -> dict[str, Any]:
    """The job's row once it reaches `state`."""
    return wait_until(store, job_id, lambda job: job["state"] == state,
                      f"state {state}")


def wait_until(store: Store, job_id: int, condition: Callable[[dict[str, Any]], bool],
               what: str) -> dict[str, Any]:
    """The job's row once `condition(row)` holds (120 s at most: a bound for a loaded
    machine, not a timing; it returns as soon as the row says so)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = store.job(job_id)
        if condition(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never came to {what}: {store.job(job_id)}")


def send_request(app: Any, method: str, path: str, **request: Any) -> httpx.Response:
    """One request to the ASGI `app` in process, its exceptions as 500s, as a browser
    on the same machine sends it."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://127.0.0.1:7860") as client:
            return await client.request(method, path, **request)

    return anyio.run(send)
