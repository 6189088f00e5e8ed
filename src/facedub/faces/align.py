"""The canonical face crop: the frontal template and how a face is aligned to it.

The template (src/facedub/data/face_template.json, built by tools/make_face_template.py) is
the mean frontal face in units where the eye centres are 1 apart, the eyes' midpoint at the
origin, y pointing down. A face is aligned by the 2D similarity (Umeyama) that maps its
rigid landmarks (eyes, brows, nose) onto the template's; the coverage decides how much of
the head around them the square crop shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from facedub.faces.geometry import apply_affine, umeyama, warp_to_face
from facedub.faces.masks import face_mask
from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template
from facedub.types import AlignedFace

Coverage = Literal["face", "whole"]
COVERAGES: tuple[Coverage, ...] = ("face", "whole")


@dataclass(frozen=True)
class CropFrame:
    """Where the crop sits on the template: its centre and half its side, in template units."""

    centre_x: float
    centre_y: float
    half_side: float


# "face": the oval from brow to chin, tight. "whole": forehead, ears' edges and chin with room
# to feather, which is what the swap and the neural engine use.
CROP_FRAMES: dict[Coverage, CropFrame] = {
    "face": CropFrame(0.0, 0.55, 1.45),
    "whole": CropFrame(0.0, 0.35, 2.0),
}


def template_in_crop(size: int, coverage: Coverage) -> np.ndarray:
    """The template's landmarks (478, 3) in pixels of a (size, size) crop."""
    frame = CROP_FRAMES[coverage]
    template = face_template()
    scale = size / (2.0 * frame.half_side)
    centre = np.array([frame.centre_x, frame.centre_y])
    points = template.copy()
    points[:, :2] = (template[:, :2] - centre) * scale + size / 2.0
    points[:, 2] = template[:, 2] * scale
    return points


def face_from_frame_matrix(frame_landmarks: np.ndarray, size: int,
                           coverage: Coverage) -> np.ndarray:
    """2x3 similarity mapping frame pixels into the (size, size) aligned crop."""
    rigid = mesh_regions().rigid
    target = template_in_crop(size, coverage)[rigid, :2]
    transform = umeyama(np.asarray(frame_landmarks)[rigid, :2], target)
    return transform[:2, :]


def landmarks_in_crop(frame_landmarks: np.ndarray, face_from_frame: np.ndarray) -> np.ndarray:
    return apply_affine(face_from_frame, frame_landmarks).astype(np.float32)


def align_face(frame: np.ndarray, frame_landmarks: np.ndarray, size: int,
               coverage: Coverage) -> AlignedFace:
    """Cut the aligned crop, its landmarks and its soft face mask out of an RGB frame."""
    face_from_frame = face_from_frame_matrix(frame_landmarks, size, coverage)
    face_landmarks = landmarks_in_crop(frame_landmarks, face_from_frame)
    return AlignedFace(
        image=warp_to_face(frame, face_from_frame, size, antialias=True),
        mask=face_mask(face_landmarks, size, forehead=True, blur=max(2, size // 32)),
        face_from_frame=face_from_frame,
        face_landmarks=face_landmarks,
    )
