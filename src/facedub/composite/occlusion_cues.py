"""The target's reflections on its glasses lenses, put back on top of the swapped eyes
(`lens_highlights`). The glasses cues themselves (frames, bridge, lens zones) are read
on a face's crop by facedub.faces.glasses_cues.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.glasses_cues import lens_zones
from facedub.faces.regions import mesh_regions

REFLECTION_THRESHOLD = 8.0  # luminance above the lens's surroundings that is a reflection


def with_lens_highlights(composited: np.ndarray, image: np.ndarray,
                         face_landmarks: np.ndarray, alpha: np.ndarray, glasses: float
                         ) -> np.ndarray:
    """`composited` (S, S, 3) uint8 with the target's reflections on its glasses added
    back on top where the swapped face shows (`alpha`, see `lens_highlights`); unchanged
    without glasses."""
    if glasses < 0.5:
        return composited
    highlights = lens_highlights(image, face_landmarks) * alpha
    if not highlights.any():
        return composited
    return np.clip(composited + highlights[..., None], 0, 255).astype(np.uint8)


def lens_highlights(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float32, luminance in 0..255 units to add over the swapped face: the target's
    reflections on its glasses lenses, so they stay on top of the swapped eyes.

    A reflection is where the lens is clearly brighter than its surroundings (a high-pass
    of the luminance); the eye openings themselves are left out (whites and catch-lights
    are bright too). `image` (S, S, 3) uint8 RGB, the target crop."""
    size = image.shape[0]
    regions = mesh_regions()
    eyes = [np.asarray(face_landmarks)[loop, :2] for loop in (regions.right_eye,
                                                              regions.left_eye)]
    spacing = float(np.linalg.norm(eyes[1].mean(axis=0) - eyes[0].mean(axis=0)))
    lens = lens_zones(face_landmarks, size)
    # Only the box around the lenses is worked on: a full-crop blur costs far more.
    x, y, width, height = cv2.boundingRect(lens)
    box = (slice(y, y + height), slice(x, x + width))
    openings = np.zeros((size, size), np.uint8)
    for eye in eyes:
        cv2.fillPoly(openings, [np.round(eye).astype(np.int32)], 255)
    around_eyes = cv2.dilate(openings[box], np.ones((3, 3), np.uint8),
                             iterations=max(1, round(0.06 * spacing)))
    luminance = cv2.cvtColor(image[box], cv2.COLOR_RGB2GRAY).astype(np.float32)
    surround = cv2.GaussianBlur(luminance, (0, 0), max(1.0, spacing / 8.0))
    highlight = np.clip(luminance - surround - REFLECTION_THRESHOLD, 0.0, None)
    highlights = np.zeros((size, size), np.float32)
    highlights[box] = highlight * ((lens[box] > 0) & (around_eyes == 0))
    return highlights
