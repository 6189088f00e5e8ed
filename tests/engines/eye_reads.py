"""The landmarker's reading of a shared photo or clip frame, for the eye tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedub import media


def photo_read(faces_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(blendshapes, landmarks) of the one face in a photo."""
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
    image = cv2.cvtColor(cv2.imread(str(faces_dir / name)), cv2.COLOR_BGR2RGB)
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        face = analyser.analyse(np.ascontiguousarray(image))[0]
    return face.blendshapes.astype(np.float64), face.landmarks


def frame_read(faces_dir: Path, name: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(blendshapes, landmarks) of the largest face in frame `index` of a clip."""
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
    frames = media.iter_frames(faces_dir / name)
    frame = next(frame for number, frame in enumerate(frames) if number == index)
    with FaceAnalyser(max_faces=2, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        faces = analyser.analyse(frame.image)
    face = max(faces, key=lambda f: float(f.box[2] - f.box[0]))
    return face.blendshapes.astype(np.float64), face.landmarks
