"""What the web app does with the files: the persons of a target, a one-frame preview, the
swap and eval jobs (run one at a time by `JobRunner`), and verify. Every option of
`facedub swap`'s compositing comes from the page as JSON and is checked by the same
frozen configs the command line builds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facedub import media
from facedub.composite.compositor import CompositeConfig
from facedub.engines.base import SwapEngine
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_source_cache import cache_folder
from facedub.engines.registry import SOURCE_CROP
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed, still_used
from facedub.faceset import Faceset
from facedub.fsutil import remove_stale_partials
from facedub.progress import Progress
from facedub.provenance import new_job_id
from facedub.provenance import verify as run_verify
from facedub.provenance.mark import OutputMarks
from facedub.serve.store import ANALYSES, PERSONS, REPORTS, RESULTS, Store
from facedub.swap import SwapConfig, frame_swapper, swap

log = logging.getLogger(__name__)

KEPT_FRAMES = 8  # decoded target frames kept for previews
THUMBNAIL = 256  # pixels, the longer side of a person's thumbnail


def target_analysis() -> ExtractConfig:
    """The swap's own target analysis (`swap.analyse_target`) less the person reference:
    the same cache key, so the swap finds what the page's analysis made."""
    return ExtractConfig(write_crops=False, identity_every=25)


class JobCancelledError(Exception):
    """Raised inside a job's progress callback when the page asked to cancel it."""


@dataclass(frozen=True)
class SwapRequest:
    """A swap as the page asks for it: uploads by id, the person by number (None: the
    one with the most screen time), and the options of `facedub swap`."""

    source: str
    target: str
    person: int | None
    composite: CompositeConfig
    mesh: MeshEngineConfig
    visible_label: bool

    @staticmethod
    def from_json(data: dict[str, Any]) -> SwapRequest:
        options = data.get("options") or {}
        if not isinstance(options, dict):  # a list here was a 500 and a traceback
            raise FacedubError("a swap's options are a JSON object of option: value")
        try:
            composite = CompositeConfig(
                color=str(options.get("color", "detail")),
                blend=str(options.get("blend", "feather")),
                mask_erode=int(options.get("mask_erode", 5)),
                mask_blur=int(options.get("mask_blur", 15)),
                relight=float(options.get("relight", 0.8)),
                occlusion=str(options.get("occlusion", "auto")))
            mesh = MeshEngineConfig(
                neighbours=int(options.get("neighbours", 3)),
                keep_target_eyes=bool(options.get("keep_target_eyes", True)),
                keep_target_mouth=bool(options.get("keep_target_mouth", True)),
                stubble=str(options.get("stubble", "hair")))
            person = data.get("person")
            return SwapRequest(str(data["source"]), str(data["target"]),
                               None if person in (None, "") else int(person), composite, mesh,
                               bool(options.get("visible_label", True)))
        except (KeyError, TypeError, ValueError) as error:
            raise FacedubError(f"a swap needs a source, a target and valid options ({error})"
                               ) from None

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"source": self.source, "target": self.target, "person": self.person,
                "options": {**asdict(self.composite), **asdict(self.mesh),
                            "visible_label": self.visible_label}}


class Workbench:
    """The file side of the app, over one `Store`. Source analyses are kept in memory
    (a preview then costs one frame); engines are made fresh per use, since they keep
    per-track state."""

    def __init__(self, store: Store, config_dir: Path) -> None:
        self.store = store
        self.config_dir = config_dir
        self._sources: dict[str, Faceset] = {}
        self._lock = threading.Lock()  # source analyses, kept frames
        self._frames: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._analysis_lock = threading.Lock()  # target analyses: one at a time per server

    @property
    def analyses(self) -> Path:
        return self.store.folder(ANALYSES)

    def engine(self, source: str, config: MeshEngineConfig) -> SwapEngine:
        with given_names(self.store, source):  # the live socket says it as it is
            return self._engine(source, config)

    def _engine(self, source: str, config: MeshEngineConfig) -> SwapEngine:
        path = self.store.upload_path(source)
        with self._lock:
            # By the upload's file, which is by content (`Store.keep_by_content`): the
            # same photo uploaded again is the analysis in hand, not another.
            faceset = self._sources.get(str(path))
            # Kept in memory, the analysis was never stamped: after 30 days another
            # analysis pruned its folder and the next preview failed 'faces/...: missing;
            # the faceset is damaged'. Stamped at each use; made again where it is gone.
            if faceset is not None and not still_used(faceset, self.analyses):
                faceset = None
            if faceset is None:
                faceset = analysed(path, self.analyses, ExtractConfig(crop_size=SOURCE_CROP))
                self._sources[str(path)] = faceset
        return MeshEngine(faceset, config, source_path=path,
                          cache_dir=cache_folder(faceset.root, self.analyses))

    def target(self, upload_id: str, progress: Progress | None = None) -> Faceset:
        """The target's analysis (made once, in the work folder), read with no person
        reference: choosing a person here never rewrites the cached analysis."""
        with self._analysis_lock:
            return analysed(self.store.upload_path(upload_id), self.analyses,
                            target_analysis(), progress)

    def swap_config(self, request: SwapRequest) -> SwapConfig:
        """The swap's config. With several persons in the target the chosen one (default:
        person 0, the most screen time) goes to the swap as its thumbnail, a reference
        photo: the cached analysis keeps the last choice made, so it is always made."""
        faceset = self.target(request.target)
        person = 0 if request.person is None else request.person
        if person not in {p.id for p in faceset.meta.persons}:
            raise FacedubError(f"person {person}: the target has persons "
                               f"{', '.join(str(p.id) for p in faceset.meta.persons)}")
        reference = None
        if len(faceset.meta.persons) > 1:
            reference = self._thumbnail(request.target, faceset, person)
        return SwapConfig(work_dir=self.analyses, config_dir=self.config_dir,
                          composite=request.composite, visible_label=request.visible_label,
                          target_person=reference)

    def persons(self, target: str) -> list[dict[str, Any]]:
        """The persons of a target, most screen time first, each with a thumbnail (in
        persons/; also the reference photo a swap of that person uses)."""
        with given_names(self.store, target):
            faceset = self.target(target)
        return [{"person": person.id, "frames": person.frames, "chosen": person.id == 0}
                for person in faceset.meta.persons
                if self._thumbnail(target, faceset, person.id) is not None]

    def _thumbnail(self, target: str, faceset: Faceset, person: int) -> Path | None:
        path = self.store.folder(PERSONS) / f"{target}-{person}.jpg"
        records = faceset.faces_of(person)
        if not records:
            return None
        if not path.is_file():
            best = max(records, key=lambda r: (r.box[2] - r.box[0]) * r.sharpness)
            frame = _frame_at(self.store.upload_path(target), best.frame)
            media.write_photo(path, _face_thumbnail(frame, best.box))
        return path

    def preview(self, request: SwapRequest, frame_index: int) -> np.ndarray:
        """One frame of the target swapped with these settings, marked like the output."""
        with given_names(self.store, request.source, request.target):
            return self._preview(request, frame_index)

    def _preview(self, request: SwapRequest, frame_index: int) -> np.ndarray:
        # The engine first: a source it refuses (a profile photo) is said before the
        # target is analysed, not after.
        engine = self.engine(request.source, request.mesh)
        try:
            config = self.swap_config(request)
            faceset = self.target(request.target)
            if request.person is not None:  # chosen here, in memory only
                faceset = replace(faceset, meta=replace(faceset.meta, person=request.person))
            swapper = frame_swapper(self.store.upload_path(request.target), faceset, engine,
                                    config)
            chosen = sorted(swapper.by_frame)
            if not chosen:
                raise FacedubError("the chosen person is in no frame of the target")
            # The frame asked for, else the nearest one that shows the person.
            index = min(chosen, key=lambda i: abs(i - frame_index))
            frame = media.Frame(index, swapper.by_frame[index].time,
                                self._frame(request.target, index))
            marked = OutputMarks(new_job_id(), request.visible_label)
            return marked.mark(swapper.finish(swapper.engine_face(frame)))
        finally:
            engine.close()  # one frame: its track is not ended

    def _frame(self, target: str, index: int) -> np.ndarray:
        """A decoded target frame; the last few are kept, since a preview is mostly redone
        on the same frame with other settings (video is decoded from its start)."""
        key = (target, index)
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        image = _frame_at(self.store.upload_path(target), index)
        with self._lock:
            self._frames[key] = image
            while len(self._frames) > KEPT_FRAMES:
                self._frames.popitem(last=False)
        return image

    def run_swap(self, job_id: int, request: SwapRequest, progress: JobProgress
                 ) -> tuple[str, str]:
        """Swap into results/; (what was done, the output's file name)."""
        # The engine first: a source it refuses (every face turned 45 degrees or more)
        # was said after the whole target's analysis (14.5 s on a 40-frame cut).
        engine = self.engine(request.source, request.mesh)
        try:
            self.target(request.target, progress)  # analysed here, under the lock
            config = self.swap_config(request)
            out = self.result_path(job_id, request.target)
            result = swap(self.store.upload_path(request.target), engine, out, config, progress)
        finally:
            engine.close()  # a cancelled or failed swap ends no track: not left to GC
        said = f"{result.frames_swapped}/{result.frames} frames swapped"
        return (f"{said}; {result.transparency}" if result.transparency else said), out.name

    def result_path(self, job_id: int, target: str) -> Path:
        """Where a swap job writes: results/job<N>-<target id> with the target's kind: .mp4,
        .jpg, or .png for a photo with transparency (a cut-out came back white around it)."""
        path = self.store.upload_path(target)
        suffix = ".mp4"
        if media.is_photo_path(path):
            suffix = ".png" if media.read_transparency(path) is not None else ".jpg"
        return self.store.folder(RESULTS) / f"job{job_id}-{target}{suffix}"

    def report_path(self, job_id: int) -> Path:
        return self.store.folder(REPORTS) / f"eval{job_id}"

    def discard(self, job: dict[str, Any]) -> None:
        """Remove what a job that did not finish left: a swap's staged files (a killed
        server leaves them), an evaluation's report folder."""
        try:
            if job["kind"] == "swap":
                remove_stale_partials(self.result_path(job["id"], job["params"]["target"]))
            else:
                shutil.rmtree(self.report_path(job["id"]), ignore_errors=True)
        except FacedubError:  # its upload is gone: nothing of it can be left either
            pass

    def run_eval(self, job_id: int, swap_job: dict[str, Any], progress: JobProgress) -> str:
        from facedub.evaluate import EvalConfig, evaluate

        request = SwapRequest.from_json(swap_job["params"])
        config = self.swap_config(request)
        out = self.report_path(job_id)
        report = evaluate(self.store.upload_path(request.source),
                          self.store.upload_path(request.target),
                          self.store.folder(RESULTS) / swap_job["output"], out,
                          EvalConfig(target_person=config.target_person), progress,
                          self.analyses)  # a faceset source's content check kept there
        return report.summary_lines()[0] if report.summary_lines() else "evaluated"

    def verify(self, path: Path) -> dict[str, Any]:
        """verify's findings and one verdict: marked / not marked / changed since signing."""
        result = run_verify(path, max_frames=60)
        manifest = result.manifest
        broken = manifest.present and (manifest.tampered or not manifest.valid)
        sidecar = result.sidecar
        if broken or (sidecar is not None and sidecar.readable and not sidecar.matches):
            verdict = "changed since signing"
        else:
            verdict = "marked by facedub" if result.marked else "not marked"
        return {"verdict": verdict, "marked": result.marked, "lines": result.summary_lines()}


class JobProgress:
    """facedub's Progress written to the job's row: phase, frames, fps, time left; raises
    `JobCancelledError` at the next frame once the job is asked to stop."""

    WRITE_EVERY = 0.25  # seconds between database writes

    def __init__(self, store: Store, job_id: int, cancelled: threading.Event) -> None:
        self.store, self.job_id, self.cancelled = store, job_id, cancelled
        self._total: int | None = None
        self._done = 0
        self._started = time.monotonic()
        self._written = 0.0

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        del unit  # the web page shows the phase and its count, not a speed's unit
        self._check()
        self._total, self._done, self._started = total, 0, time.monotonic()
        self.store.update_job(self.job_id, phase=description, done=0, total=total or 0,
                              fps=0.0, eta=None)

    def advance(self, steps: int = 1) -> None:
        self._check()
        self._done += steps
        now = time.monotonic()
        if now - self._written >= self.WRITE_EVERY or self._done == self._total:
            self._written = now
            fps = self._done / max(now - self._started, 1e-6)
            eta = (self._total - self._done) / fps if self._total and fps > 0 else None
            self.store.update_job(self.job_id, done=self._done, fps=round(fps, 2),
                                  eta=None if eta is None else round(eta, 1))

    def finish(self) -> None:
        pass

    def _check(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelledError


STOPPED_REQUEUED = ("the server stopped while this job ran; nothing was kept, it runs again "
                    "when the server starts")


class JobRunner:
    """Runs the queued jobs one after another on a thread of its own."""

    STOP_WAIT = 10.0  # seconds `stop` waits for the job's step to end before settling it

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.store = bench.store
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancels: dict[int, threading.Event] = {}
        # The jobs the user cancelled. `stop` sets every job's event too, so the event
        # alone cannot tell a Cancel clicked in a step with no progress check (an engine
        # load, the content check, encoding) from the server stopping after it.
        self._user_cancelled: set[int] = set()
        # Held by whoever writes a job's final state: `_run`, or `stop` for a job whose
        # step outlasts STOP_WAIT, so the two never interleave a read and a write.
        self._settling = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="facedub-jobs", daemon=True)

    def start(self) -> None:
        for job in self.store.jobs():
            # A job `stop` settled while its step still ran (queued again, or cancelled)
            # left its staged files too; the writer is gone now, so they can go.
            if job["state"] == "running" or job["message"] in (STOPPED_REQUEUED, "cancelled"):
                self.bench.discard(job)
        failed = self.store.fail_interrupted()
        if failed:
            log.warning("%d job(s) were running when the server stopped: marked failed", failed)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for event in list(self._cancels.values()):  # the job thread pops from it
            event.set()
        self._wake.set()
        self._thread.join(timeout=self.STOP_WAIT)
        if self._thread.is_alive():
            self._settle_unfinished()

    def _settle_unfinished(self) -> None:
        """Write the fate of each job still in a step with no progress check (an engine
        load, the content check, encoding) when `stop` gives up waiting: the process exits
        with it mid-step, and its row, left 'running', read "failed" on the next start,
        whether the server stopped it or the user had cancelled it."""
        with self._settling:
            for job_id in list(self._cancels):
                if self.store.job(job_id)["state"] != "running":
                    continue  # `_run` settled it meanwhile
                self._write_stopped(job_id)

    def _write_stopped(self, job_id: int) -> None:
        """A stopped job's row: cancelled if the user cancelled it, else queued again (it
        runs first on the next start) with none of the stopped run's progress."""
        if job_id in self._user_cancelled:
            self.store.update_job(job_id, state="cancelled", message="cancelled")
        else:
            self.store.update_job(job_id, state="queued", message=STOPPED_REQUEUED,
                                  phase="", done=0, total=0, fps=0.0, eta=None)

    def submit(self, kind: str, params: dict[str, Any]) -> int:
        job_id = self.store.add_job(kind, params)
        self._wake.set()
        return job_id

    def cancel(self, job_id: int) -> None:
        job = self.store.job(job_id)
        if job["state"] == "queued":
            self.store.update_job(job_id, state="cancelled", message="cancelled")
        elif job["state"] == "running" and job_id in self._cancels:
            self._user_cancelled.add(job_id)  # before the event: `_run` reads it then
            self._cancels[job_id].set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.next_queued()
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: dict[str, Any]) -> None:
        job_id = job["id"]
        cancelled = self._cancels.setdefault(job_id, threading.Event())
        self.store.update_job(job_id, state="running", message="")
        progress = JobProgress(self.store, job_id, cancelled)
        try:
            if job["kind"] == "swap":
                message, output = self.bench.run_swap(
                    job_id, SwapRequest.from_json(job["params"]), progress)
                self._settle(job_id, state="done", message=message, output=output)
            else:
                swap_job = self.store.job(int(job["params"]["swap_job"]))
                message = self.bench.run_eval(job_id, swap_job, progress)
                self._settle(job_id, state="done", message=message,
                             output=self.bench.report_path(job_id).name)
        except JobCancelledError:
            self.bench.discard(job)
            if self._stop.is_set():
                # The server stops (Ctrl-C, SIGTERM): unless the user cancelled it, the job
                # was not theirs to cancel. It read "cancelled" on the next start, as if
                # they had, and was never run again; queued again, it runs first when the
                # server starts, with none of the stopped run's progress (it read "swap,
                # 0 of 400 frames, 4.2 s left").
                with self._settling:
                    self._write_stopped(job_id)
            else:
                self._settle(job_id, state="cancelled", message="cancelled")
        except FacedubError as error:
            self.bench.discard(job)
            self._settle(job_id, state="failed",
                         message=_under_given_names(str(error), self.store, job))
        except Exception as error:  # a bug must not stop the queue; it is logged in full
            log.exception("job %d failed", job_id)
            self.bench.discard(job)
            self._settle(job_id, state="failed", message=f"internal error: {error}")
        finally:
            self._cancels.pop(job_id, None)
            self._user_cancelled.discard(job_id)

    def _settle(self, job_id: int, **fields: Any) -> None:
        """Write a job's final state (a late one after `stop` settled it is still true:
        the job did finish, fail, or stop as `stop` said)."""
        with self._settling:
            self.store.update_job(job_id, **fields)


def _under_given_names(message: str, store: Store, job: dict[str, Any]) -> str:
    """`message` with the server's files of the job's uploads named as the user named them:
    a cut-short video failed as "/srv/work/uploads/0f96f59fabba5533.mp4: only 11 of the 45
    frames ...", a file the user never saw, and the server's own path."""
    params = job["params"]
    if job["kind"] != "swap":  # an evaluation: of the swap's uploads
        with contextlib.suppress(FacedubError, KeyError, TypeError, ValueError):
            params = store.job(int(params["swap_job"]))["params"]
    return _without_server_folders(
        under_given_names(message, store, *(str(params[role]) for role in ("source", "target")
                                            if role in params)), store)


def _without_server_folders(message: str, store: Store) -> str:
    """`message` with the server's results and reports folders left out: an evaluation
    whose swap result was removed failed as "/srv/work/results/job3-0f96f59fabba5533.mp4:
    no such file"; the browser knows the result as "job3-0f96f59fabba5533.mp4"."""
    for name in (RESULTS, REPORTS):
        message = message.replace(f"{store.folder(name)}{os.sep}", "")
    return message


def under_given_names(message: str, store: Store, *upload_ids: str) -> str:
    """`message` with these uploads' server files named as the user named them."""
    for upload_id in upload_ids:
        with contextlib.suppress(FacedubError):
            upload = store.upload(upload_id)
            message = message.replace(str(store.upload_path(upload.id)), upload.name)
    return message


@contextlib.contextmanager
def given_names(store: Store, *upload_ids: str) -> Iterator[None]:
    """A FacedubError raised inside names these uploads as the user named them: the
    preview, the persons and the live socket answered the browser with the server's path
    ("/srv/work/uploads/9e5c3593d11a288c.jpg: its face is turned 55 degrees"); only the
    jobs' messages were renamed. The same error, its type and traceback kept."""
    try:
        yield
    except FacedubError as error:
        error.args = (under_given_names(str(error), store, *upload_ids),)
        raise


def _frame_at(path: Path, index: int) -> np.ndarray:
    for frame in media.iter_frames(path):
        if frame.index >= index:
            return frame.image
    raise FacedubError(f"{path.name}: has no frame {index}")


def _face_thumbnail(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The face with a margin, as a photo the identity matcher finds the face in again."""
    x0, y0, x1, y1 = box
    side = 1.8 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = frame.shape[:2]
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    crop = frame[top:bottom, left:right]
    scale = THUMBNAIL / max(crop.shape[:2])
    if scale < 1:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)
