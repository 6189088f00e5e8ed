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


UNSHARP_SIGMA = 1.0
MAX_UNSHARP = 1.5


def restore_sharpness(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The face sharpened (unsharp mask) toward the target's detail energy when it is
    clearly softer: warping resamples the source twice (into the crop, back into the
    frame), which softens what the source had. The amount comes from the energy ratio
    (the Laplacian is linear, so sharpening by k scales the fine band's energy by about
    (1 + k)^2), at most MAX_UNSHARP."""
    wanted, present = detail_energy(target, mask), detail_energy(face, mask)
    if present <= 0.0 or present >= 0.8 * wanted:
        return face
    amount = min(MAX_UNSHARP, float(np.sqrt(wanted / present)) - 1.0)
    soft = cv2.GaussianBlur(face, (0, 0), UNSHARP_SIGMA).astype(np.float32)
    sharp = face.astype(np.float32) + amount * (face.astype(np.float32) - soft)
    return np.clip(sharp + 0.5, 0, 255).astype(np.uint8)
