"""An engine's target made from a frame, as the swap makes it: the tests of the engines
built it field by field in about ten places (fifty-third round: one helper)."""

from __future__ import annotations

import numpy as np

from facedub.engines.base import TargetFace
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.types import HeadPose


def target_from_frame(image: np.ndarray, frame_landmarks: np.ndarray, size: int,
                      pose: HeadPose, blendshapes: np.ndarray, time: float = 0.0,
                      person: np.ndarray | None = None) -> TargetFace:
    """The face whose landmarks (frame pixels) are `frame_landmarks` in the frame `image`,
    aligned at `size` px ("whole" coverage) as the swap aligns it, as an engine's target
    (track 0); `person`: its identity descriptor as the target person."""
    face_from_frame = face_from_frame_matrix(frame_landmarks, size, "whole")
    return TargetFace(image=warp_to_face(image, face_from_frame, size),
                      face_landmarks=landmarks_in_crop(frame_landmarks, face_from_frame),
                      face_from_frame=face_from_frame, pose=pose, blendshapes=blendshapes,
                      time=time, track=0, person=person)
