"""Nouns that cross stage boundaries.

Conventions, said once for the whole package:
- Images are numpy arrays (H, W, 3), uint8, RGB. Masks are (H, W) float32 in [0, 1]
  unless a docstring says uint8.
- Points are (N, 2) or (N, 3) float32 in pixels of the image they are named after:
  `frame_landmarks` are in frame pixels, `face_landmarks` in aligned-crop pixels.
  z (the third column) is depth in the same pixel scale, smaller is nearer the camera.
- A matrix named `b_from_a` maps points of space a into space b: a 2x3 float64 affine
  for images, applied as `b = M[:, :2] @ a + M[:, 2]`.
- Angles are degrees. yaw > 0: the face turns towards the image's right; pitch > 0: the
  face looks up; roll > 0: the head tilts clockwise as seen in the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) in pixels of its image


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class FaceObservation:
    """One face found in one frame by the landmark model.

    `landmarks` (478, 3) float32 in frame pixels; `blendshapes` (52,) float32 in [0, 1]
    in the order of `faces.landmarks.BLENDSHAPE_NAMES`; `box` (x0, y0, x1, y1) in frame
    pixels, the bounds of the landmarks.
    """

    landmarks: np.ndarray
    blendshapes: np.ndarray
    pose: HeadPose
    box: Box


@dataclass(frozen=True)
class AlignedFace:
    """A face cut out of a frame into the canonical crop.

    `image` (S, S, 3) uint8 RGB, `mask` (S, S) float32 in [0, 1] (soft face region),
    `face_from_frame` 2x3 float64 mapping frame pixels to crop pixels,
    `face_landmarks` (478, 3) float32 in crop pixels.
    """

    image: np.ndarray
    mask: np.ndarray
    face_from_frame: np.ndarray
    face_landmarks: np.ndarray
