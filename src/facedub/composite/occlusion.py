"""Hair, fringes and hats at the edges of the face: not skin, so not swapped.

The mask reaches above the landmark oval towards the hairline and out to the temples, but
hair often falls there, on the target (pasting skin over a fringe is a giveaway) and on
the source (its sideburns pasted onto the target's temples are another). In that outer
zone, pixels that do not look like the face's own skin (a colour model from its cheeks
and nose) are left out of the swap.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.faces.masks import hair_zone

# Cheek and nose landmarks whose hull is almost always bare skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
LIGHTNESS_SLACK = 3.0  # lighting changes lightness across a face far more than hue
SKIN_DISTANCE = 3.0  # Mahalanobis distance beyond which a pixel is not skin


def edge_occluders(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: 1 where something other than skin covers the forehead
    or the temples.

    `image` is a face crop, RGB uint8, `face_landmarks` in crop pixels. Judged in CIELAB at
    quarter resolution (hair is not a fine detail) and returned at full size.
    """
    full_size = image.shape[0]
    size = max(32, full_size // 4)
    lab = to_lab(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    face_landmarks = face_landmarks * (size / full_size)
    reference = _hull_mask(face_landmarks[list(SKIN_REFERENCE), :2], size)
    pixels = lab[reference > 0].reshape(-1, 3).astype(np.float64)
    if len(pixels) < 20:
        return np.zeros((full_size, full_size), dtype=np.float32)
    mean = pixels.mean(axis=0)
    covariance = np.cov(pixels, rowvar=False) + np.diag([4.0, 1.0, 1.0])
    covariance[0] *= LIGHTNESS_SLACK
    covariance[:, 0] *= LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance)
    zone = hair_zone(face_landmarks, size)
    rows = int(np.flatnonzero(zone.any(axis=1)).max()) + 1 if zone.any() else 0
    region = lab[:rows].reshape(-1, 3).astype(np.float64) - mean
    distance = np.sqrt(np.einsum("pi,ij,pj->p", region, inverse, region))
    occluded = np.zeros((size, size), dtype=np.float32)
    occluded[:rows] = np.clip((distance - SKIN_DISTANCE) / 1.5, 0.0, 1.0).reshape(rows, size)
    occluded *= zone
    # Open then blur: isolated pixels (freckles, shine) are not hair.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    opened = cv2.morphologyEx(occluded, cv2.MORPH_OPEN, kernel)
    blurred = cv2.GaussianBlur(opened, (0, 0), size / 128.0 + 0.5)
    return cv2.resize(blurred, (full_size, full_size), interpolation=cv2.INTER_LINEAR)


def _hull_mask(points: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 255)
    return mask
