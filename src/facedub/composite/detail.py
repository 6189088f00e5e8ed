"""Matching the swapped face's sharpness to the target's.

A face taken from a sharp studio photo and pasted into a soft webcam frame shows at once:
its pores and stubble are crisper than everything around it. The face is blurred just
enough that its fine detail (Laplacian energy inside the mask) matches the target's.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMAS = (0.0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.8)


def detail_energy(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared Laplacian of the grey image where the mask is above one half."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    inside = mask > 0.5
    return float(np.mean(laplacian[inside] ** 2)) if inside.any() else 0.0


def match_sharpness(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The face, blurred with the smallest of SIGMAS that brings its detail energy down to
    the target's (never sharpened: detail that is not there cannot be made up)."""
    wanted = detail_energy(target, mask)
    if detail_energy(face, mask) <= wanted * 1.1:
        return face
    for sigma in SIGMAS[1:]:
        blurred = cv2.GaussianBlur(face, (0, 0), sigma)
        if detail_energy(blurred, mask) <= wanted * 1.1:
            return blurred
    return cv2.GaussianBlur(face, (0, 0), SIGMAS[-1])
