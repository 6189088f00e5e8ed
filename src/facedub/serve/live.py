"""Live swapping: one camera frame in, the swapped and marked frame out, at once.

The file swap analyses the whole target first (tracks, the chosen person) and then swaps;
a camera has no whole clip. `LiveSwapper` does the same work per frame from the pieces
the file swap uses: MediaPipe's landmarker in video mode (it follows the face from frame
to frame), the compositor's landmark smoothing and colour easing (one track), the mesh
engine, paste-back, then the watermark and, by default, the visible label. The largest
face is swapped; a frame without a face passes through, marked all the same.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwapEngine, SwappedFace, TargetFace
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import crop_in_frame, paste_back, warp_to_face
from facedub.faces.landmarks import FaceAnalyser
from facedub.provenance import new_job_id
from facedub.provenance.mark import OutputMarks

LIVE_TRACK = 0  # a camera shows one person: one track for the smoothing and colour state
LIVE_CROP = 256  # crop the live face is composited at: a webcam face is rarely larger


@dataclass(frozen=True)
class LiveConfig:
    landmarker: Path
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    visible_label: bool = True  # the watermark cannot be turned off
    crop_size: int = LIVE_CROP


@dataclass(frozen=True)
class LiveFrame:
    """A finished frame (H, W, 3) uint8 RGB; `swapped`: a face was found and replaced;
    `seconds`: the time the server spent on it."""

    image: np.ndarray
    swapped: bool
    seconds: float


@dataclass(frozen=True)
class _Prepared:
    image: np.ndarray
    target: TargetFace | None  # None: no face in this frame
    swapped: SwappedFace | None
    started: float  # perf_counter when the frame came in


class LiveSwapper:
    """Per-frame swapping of a camera stream; one instance per stream. Call either `swap`
    (one thread) or `submit` (pipelined), not both. Use as a context manager (it holds
    MediaPipe's landmarker and the stage threads)."""

    def __init__(self, engine: SwapEngine, config: LiveConfig) -> None:
        self.engine = engine
        self.config = config
        self.job_id = new_job_id()
        self._marks = OutputMarks(self.job_id, visible_label=config.visible_label)
        self._compositor = Compositor(config.composite)
        # One face, discovery (the tiled detector) only when the face is lost: a webcam
        # face fills the frame, and the tiles would cost more than the swap.
        self._analyser = FaceAnalyser(max_faces=1, video=True, discover_every=1_000_000,
                                      model_path=config.landmarker)
        self._last_time = -1.0
        # Each stage keeps its own state (landmark filter, engine blend; colour easing),
        # as the file swap's two stages do, so each runs on one thread of its own.
        self._stage_one = ThreadPoolExecutor(1, thread_name_prefix="facedub-live-face")
        self._stage_two = ThreadPoolExecutor(1, thread_name_prefix="facedub-live-finish")
        # Their threads started here, where the server makes a swapper (a worker thread),
        # not by the first `submit`, which runs on the event loop's thread: a stop
        # signal's exception (SIGHUP raises Terminated there) landing as a pool starts its
        # worker leaves the worker unrecorded, and only a `close` that still runs wakes it
        # for the interpreter's exit, which joins it. A pool of one never starts another.
        for stage in (self._stage_one, self._stage_two):
            stage.submit(int).result()

    def swap(self, image: np.ndarray, time_seconds: float) -> LiveFrame:
        """Swap the largest face of one RGB frame taken at `time_seconds` (stream time,
        increasing), on this thread."""
        return self._finish(self._prepare(image, time_seconds, time.perf_counter()))

    def submit(self, image: np.ndarray, time_seconds: float) -> Future[LiveFrame]:
        """`swap` on the two stage threads: frames are finished in the order submitted,
        and a frame's landmarks and engine face overlap the compositing of the one
        before. `LiveFrame.seconds` counts from here."""
        started = time.perf_counter()
        prepared = self._stage_one.submit(self._prepare, image, time_seconds, started)
        return self._stage_two.submit(lambda: self._finish(prepared.result()))

    def _prepare(self, image: np.ndarray, time_seconds: float, started: float) -> _Prepared:
        """Stage one: landmarks, their smoothing, the aligned crop and the engine's face."""
        # MediaPipe and the filters need increasing times; a camera's may repeat.
        time_seconds = max(time_seconds, self._last_time + 1e-3)
        self._last_time = time_seconds
        faces = self._analyser.analyse(image, time_seconds)
        if not faces:
            return _Prepared(image, None, None, started)
        face = faces[0]
        size = self.config.crop_size
        landmarks = self._compositor.smooth_landmarks(LIVE_TRACK, time_seconds,
                                                      face.landmarks)
        face_from_frame = face_from_frame_matrix(landmarks, size, self.engine.coverage)
        height, width = image.shape[:2]
        target = TargetFace(
            image=warp_to_face(image, face_from_frame, size, antialias=True),
            in_frame=crop_in_frame(face_from_frame, size, (width, height)),
            face_landmarks=landmarks_in_crop(landmarks, face_from_frame),
            face_from_frame=face_from_frame, pose=face.pose, blendshapes=face.blendshapes,
            time=time_seconds, track=LIVE_TRACK)
        return _Prepared(image, target, self.engine.swap_face(target), started)

    def _finish(self, prepared: _Prepared) -> LiveFrame:
        """Stage two: compositing (colour easing), paste-back, label and watermark."""
        image, target = prepared.image, prepared.target
        if target is not None and prepared.swapped is not None:
            composited = self._compositor.composite(target, prepared.swapped)
            image = paste_back(image, composited.image, composited.alpha,
                               target.face_from_frame)
        return LiveFrame(self._marks.mark(image), target is not None,
                         time.perf_counter() - prepared.started)

    def close(self) -> None:
        """The stage threads stopped; the landmarker and the engine's closed (the live
        track never ends)."""
        self._stage_one.shutdown(wait=True)
        self._stage_two.shutdown(wait=True)
        self._analyser.close()
        self.engine.close()

    def __enter__(self) -> LiveSwapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
