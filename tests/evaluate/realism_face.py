"""The real face crop the realism measures' tests paint their artifacts on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facedub import media
from facedub.evaluate.realism import RealismRegions, realism_regions
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

SIZE = 256


class Face:
    def __init__(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        self.image = image
        self.landmarks = landmarks
        self.regions: RealismRegions = realism_regions(landmarks, SIZE,
                                                       np.ones((SIZE, SIZE), dtype=bool))


def d18_frame_10(faces_dir: Path) -> Face:
    """Frame 10 of the frontal d18 clip, aligned to a SIZE px crop."""
    clip = faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4"
    frame = next(f for f in media.iter_frames(clip) if f.index == 10)
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        found = analyser.analyse(frame.image, 0.0)
    aligned = align_face(frame.image, found[0].landmarks, SIZE, "whole")
    return Face(aligned.image, aligned.face_landmarks)
