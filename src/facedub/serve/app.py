"""The ASGI app of `facedub serve`: the page, a JSON API over uploads and jobs, and two
WebSockets (job progress for every open tab; the live camera).

Slow work (analysis, preview, verify, each live frame) runs on worker threads, so the
event loop keeps answering; the swap and eval jobs run on the job runner's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import cv2
import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from facedub import media
from facedub.engines.mesh import MeshEngineConfig
from facedub.errors import FacedubError
from facedub.faces.landmarks import resolve_landmarker_model
from facedub.serve.library import library, pick
from facedub.serve.live import LiveConfig, LiveFrame, LiveSwapper
from facedub.serve.security import DEFAULT_MAX_UPLOAD, Guard, upload_kind
from facedub.serve.store import PERSONS, REPORTS, RESULTS, SCRATCH, Store, Upload
from facedub.serve.work import JobRunner, SwapRequest, Workbench
from facedub.swap import animated_target

log = logging.getLogger(__name__)

JOBS_POLL = 0.3  # seconds between looks at the job table for the progress socket
LIVE_HEADER = struct.Struct("<dd")  # client's capture time (ms), server's time on it (ms)
JPEG_QUALITY = 80
LIVE_PENDING = 3  # live frames waiting at most (the page keeps 2 in flight)


@dataclass(frozen=True)
class ServeConfig:
    work: Path  # the work folder: uploads, results, reports, the job database
    config_dir: Path  # the signing credentials
    token: str | None = None  # None: no token asked (loopback only)
    max_upload: int = DEFAULT_MAX_UPLOAD  # bytes
    media: Path | None = None  # a folder whose entries the page may pick (not upload)


class ClientError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


def create_app(config: ServeConfig) -> Guard:
    store = Store(config.work)
    bench = Workbench(store, config.config_dir)
    runner = JobRunner(bench)
    api = _Api(config, store, bench, runner)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        runner.start()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)

    static = Path(str(resources.files("facedub.serve") / "static"))
    routes = [
        Route("/", api.page),
        Mount("/static", StaticFiles(directory=static), name="static"),
        Route("/api/uploads", api.uploads),
        Route("/api/upload", api.upload, methods=["POST"]),
        Route("/api/library", api.library, methods=["GET", "POST"]),
        Route("/api/uploads/{upload}/persons", api.persons),
        Route("/api/persons/{target}/{person:int}.jpg", api.person_thumbnail),
        Route("/api/preview", api.preview, methods=["POST"]),
        Route("/api/jobs", api.jobs, methods=["GET", "POST"]),
        Route("/api/jobs/{job:int}/cancel", api.cancel, methods=["POST"]),
        Route("/api/jobs/{job:int}/eval", api.evaluate, methods=["POST"]),
        Route("/api/jobs/{job:int}/verify", api.verify_result, methods=["POST"]),
        Route("/api/jobs/{job:int}/result", api.result),
        Route("/api/verify", api.verify_upload, methods=["POST"]),
        Route("/report/{job:int}/{file:path}", api.report),
        WebSocketRoute("/ws/jobs", api.job_socket),
        WebSocketRoute("/ws/live", api.live_socket),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={ClientError: _client_error,
                                        FacedubError: _user_error})
    return Guard(app, config.token)


def _added(store: Store, upload: Upload) -> Response:
    """Add `upload` and answer with its entry; `already`: the same file was here, and the
    answer is that entry (its id and first name, `Store.add_upload`)."""
    entry = store.add_upload(upload)
    return JSONResponse({**entry.to_json(), "already": entry.id != upload.id})


async def _client_error(request: Request, error: Exception) -> Response:
    del request
    assert isinstance(error, ClientError)
    return JSONResponse({"error": str(error)}, status_code=error.status)


async def _user_error(request: Request, error: Exception) -> Response:
    del request
    return JSONResponse({"error": str(error)}, status_code=400)


class _Api:
    def __init__(self, config: ServeConfig, store: Store, bench: Workbench,
                 runner: JobRunner) -> None:
        self.config, self.store, self.bench, self.runner = config, store, bench, runner

    async def page(self, request: Request) -> Response:
        del request
        page = resources.files("facedub.serve") / "static" / "index.html"
        return Response(page.read_text(encoding="utf-8"), media_type="text/html",
                        headers={"cache-control": "no-store"})

    async def uploads(self, request: Request) -> Response:
        del request
        return JSONResponse([u.to_json() for u in self.store.uploads()])

    async def upload(self, request: Request) -> Response:
        """The body is the file; `X-Filename` its name (URL-encoded), kept for display."""
        name = unquote(request.headers.get("x-filename", ""))
        kind, suffix = upload_kind(name)
        upload_id, path = self.store.new_upload_file(suffix)
        size, sha256 = await self._receive(request, path)
        try:
            # On a worker thread, as all file work here: the look at a GIF's frames runs
            # Pillow, and a slow read (a large GIF, a busy disk) held every other request.
            kind = await run_in_threadpool(_checked_kind, path, kind)
        except FacedubError:
            path.unlink(missing_ok=True)
            raise
        kept = await run_in_threadpool(self.store.keep_by_content, path, sha256)
        return _added(self.store, Upload(upload_id, name, kind, kept, size))

    async def library(self, request: Request) -> Response:
        """GET: what the media folder offers; POST {"name"}: pick one (as an upload)."""
        if request.method == "GET":
            return JSONResponse([{"name": e.name, "kind": e.kind}
                                 for e in library(self.config.media)])
        entry = pick(self.config.media, str((await _json(request)).get("name", "")))
        if entry is None:
            raise ClientError(404, "no such entry in the media folder")
        upload_id, _ = self.store.new_upload_file("")
        return _added(self.store, Upload(upload_id, entry.name, entry.kind, str(entry.path), 0))

    async def _receive(self, request: Request, path: Path) -> tuple[int, str]:
        """Stream the body to `path` (server-made, in the work folder), within the limit;
        (its bytes, its sha256)."""
        limit = self.config.max_upload
        digest = hashlib.sha256()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ClientError(413, f"the file is larger than the limit of {_mb(limit)}")
        size = 0
        try:
            with path.open("wb") as file:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise ClientError(413, f"the file is larger than the limit of "
                                               f"{_mb(limit)}")
                    file.write(chunk)
                    digest.update(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if size == 0:
            path.unlink(missing_ok=True)
            raise ClientError(400, "the file is empty")
        return size, digest.hexdigest()

    async def persons(self, request: Request) -> Response:
        upload = request.path_params["upload"]
        found = await run_in_threadpool(self.bench.persons, upload)
        return JSONResponse([{**p, "thumbnail": f"/api/persons/{upload}/{p['person']}.jpg"}
                             for p in found])

    async def person_thumbnail(self, request: Request) -> Response:
        target = self.store.upload(request.path_params["target"]).id  # a known id only
        path = self.store.folder(PERSONS) / f"{target}-{int(request.path_params['person'])}.jpg"
        if not path.is_file():
            raise ClientError(404, "no such person; look for the persons first")
        return FileResponse(path, media_type="image/jpeg")

    async def preview(self, request: Request) -> Response:
        data = await _json(request)
        swap = SwapRequest.from_json(data)
        self._check_kinds(swap)
        image = await run_in_threadpool(self.bench.preview, swap, _frame_number(data))
        return Response(_jpeg(image, 90), media_type="image/jpeg")

    async def jobs(self, request: Request) -> Response:
        if request.method == "POST":
            swap = SwapRequest.from_json(await _json(request))
            self._check_kinds(swap)
            return JSONResponse({"id": self.runner.submit("swap", swap.to_json())})
        return JSONResponse(self.store.jobs())

    async def cancel(self, request: Request) -> Response:
        self.runner.cancel(request.path_params["job"])
        return JSONResponse({"ok": True})

    async def evaluate(self, request: Request) -> Response:
        job = self._finished_swap(request.path_params["job"])
        return JSONResponse({"id": self.runner.submit("eval", {"swap_job": job["id"]})})

    async def verify_result(self, request: Request) -> Response:
        job = self._finished_swap(request.path_params["job"])
        path = self.store.folder(RESULTS) / job["output"]
        return JSONResponse(await run_in_threadpool(self.bench.verify, path))

    async def result(self, request: Request) -> Response:
        job = self._finished_swap(request.path_params["job"])
        path = self.store.folder(RESULTS) / job["output"]
        download = request.query_params.get("download") == "1"
        return FileResponse(path, filename=self._download_name(job, path) if download else None,
                            content_disposition_type="attachment" if download else "inline")

    def _download_name(self, job: dict[str, Any], path: Path) -> str:
        """The downloaded result's name: the target's own name, `-swapped`, the result's
        suffix ("clip.mov" gives "clip-swapped.mp4"). It was the server's own name
        ("job1-befcf7d0825cc5be.mp4"), which says nothing of the clip it came from."""
        try:
            target = self.store.upload(str(job["params"]["target"])).name
        except (FacedubError, KeyError, TypeError):
            return path.name  # its upload is gone: the server's name still downloads
        return f"{Path(target).stem or 'result'}-swapped{path.suffix}"

    async def verify_upload(self, request: Request) -> Response:
        """Verify a dropped file: kept in scratch/ under a server-made name, then removed."""
        name = unquote(request.headers.get("x-filename", ""))
        _, suffix = upload_kind(name)
        _, path = self.store.new_upload_file(suffix)
        path = self.store.folder(SCRATCH) / path.name
        await self._receive(request, path)
        try:
            found = await run_in_threadpool(self.bench.verify, path)
        except FacedubError:
            # The reason names the server's scratch file: the page gets the verdict only.
            raise FacedubError("the file is not a readable photo or video; drop a photo or "
                               "a video that plays") from None
        finally:
            path.unlink(missing_ok=True)
        return JSONResponse({"name": name, **found})

    async def report(self, request: Request) -> Response:
        job = self.store.job(request.path_params["job"])
        if job["kind"] != "eval" or job["state"] != "done":
            raise ClientError(404, "no finished report for this job")
        folder = (self.store.folder(REPORTS) / job["output"]).resolve()
        path = (folder / request.path_params["file"]).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise ClientError(404, "no such file in the report")
        return FileResponse(path)

    def _check_kinds(self, swap: SwapRequest) -> None:
        """Both are known; the target is a photo or a video (the source may be any)."""
        self.store.upload(swap.source)
        target = self.store.upload(swap.target)
        if target.kind not in ("photo", "video"):
            raise ClientError(400, "the target must be a photo or a video")
        if target.kind == "photo":
            # An animated WebP's first frame alone was swapped into a still, silently.
            animated = animated_target(self.store.upload_path(swap.target))
            if animated:
                raise ClientError(400, f"{target.name}: {animated}")

    def _finished_swap(self, job_id: int) -> dict[str, Any]:
        job = self.store.job(job_id)
        if job["kind"] != "swap" or job["state"] != "done":
            raise ClientError(409, f"job {job_id} is not a finished swap")
        return job

    async def job_socket(self, socket: WebSocket) -> None:
        """Every tab gets the job table whenever it changes (from the database, so the
        tabs and a restarted server agree)."""
        await socket.accept()
        last = ""
        async with anyio.create_task_group() as tasks:
            async def watch_close() -> None:
                try:
                    while True:
                        await socket.receive_text()
                except WebSocketDisconnect:
                    tasks.cancel_scope.cancel()

            tasks.start_soon(watch_close)
            while True:
                jobs = json.dumps(await run_in_threadpool(self.store.jobs))
                if jobs != last:
                    last = jobs
                    await socket.send_text(jobs)
                await anyio.sleep(JOBS_POLL)

    async def live_socket(self, socket: WebSocket) -> None:
        """Binary frames in: capture time (float64 ms) + JPEG; out: the same time, the
        server's milliseconds on the frame, and the swapped, marked JPEG."""
        await socket.accept()
        try:
            source = socket.query_params.get("source", "")
            label = socket.query_params.get("label", "1") != "0"
            engine = await run_in_threadpool(self.bench.engine, source, MeshEngineConfig())
            live = await run_in_threadpool(
                LiveSwapper, engine, LiveConfig(resolve_landmarker_model(),
                                                visible_label=label))
        except FacedubError as error:
            await socket.send_text(json.dumps({"error": str(error)}))
            await socket.close()
            return
        await socket.send_text(json.dumps({"ready": True, "job_id": live.job_id}))
        try:
            await _stream(socket, live)
        finally:
            await run_in_threadpool(live.close)


async def _stream(socket: WebSocket, live: LiveSwapper) -> None:
    """Frames go into the live pipeline as they come (the page keeps a few in flight);
    the finished ones go back in order. At most LIVE_PENDING frames wait: beyond that the
    socket is not read, and the page's sending slows down with it."""
    pending: asyncio.Queue[tuple[float, asyncio.Future[LiveFrame]] | None] = asyncio.Queue(
        LIVE_PENDING)

    async def send_back() -> None:
        while (item := await pending.get()) is not None:
            stamp, future = item
            done = await future
            body = await run_in_threadpool(_jpeg, done.image, JPEG_QUALITY)
            await socket.send_bytes(LIVE_HEADER.pack(stamp, done.seconds * 1000) + body)

    sender = asyncio.create_task(send_back())
    try:
        while True:
            message = await socket.receive_bytes()
            if len(message) <= LIVE_HEADER.size:
                continue
            stamp, _ = LIVE_HEADER.unpack_from(message)
            frame = await run_in_threadpool(_decode_jpeg, message[LIVE_HEADER.size:])
            if frame is not None:
                await pending.put((stamp, asyncio.wrap_future(
                    live.submit(frame, stamp / 1000.0))))
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender


def _frame_number(data: dict[str, Any]) -> int:
    """The preview's frame: a whole number from 0 ("z" was a 500 and a traceback)."""
    frame = data.get("frame", 0)
    if isinstance(frame, bool) or not isinstance(frame, int | str) or \
            not str(frame).isdigit():
        raise ClientError(400, f"frame {frame!r}: give a frame number from 0")
    return int(frame)


def _decode_jpeg(data: bytes) -> np.ndarray | None:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _checked_kind(path: Path, kind: str) -> str:
    """The upload's kind, once its content is checked: a one-frame GIF (listed as video
    by its name) is a photo."""
    _check_media(path, kind)
    return "photo" if kind == "video" and media.is_photo_path(path) else kind


def _check_media(path: Path, kind: str) -> None:
    """The content must be what the suffix says: a photo decodes, a video has frames."""
    try:
        if kind == "photo":
            media.read_photo(path)
        elif media.probe(path).frame_count < 1:
            raise FacedubError("no frames")
    except (FacedubError, OSError, ValueError):
        # The reason would name the server's own path: the page gets the verdict only.
        raise FacedubError(f"the file is not a readable {kind}; upload a photo or a video "
                           "that plays") from None


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise ClientError(400, "send JSON") from None
    if not isinstance(data, dict):
        raise ClientError(400, "send a JSON object")
    return data


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FacedubError("could not encode the frame")
    return encoded.tobytes()


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"
