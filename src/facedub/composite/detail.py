"""Matching the swapped face's sharpness to the target's.

A face taken from a sharp studio photo and pasted into a soft webcam frame shows at once:
its pores and stubble are crisper than everything around it. The face is blurred just
enough that its fine detail (Laplacian energy inside the mask) matches the target's.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SIGMAS = (0.0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.8)
# Pixels around the mask's box that the widest trial blur (OpenCV's uint8 kernel reaches
# 3 sigma) and the Laplacian read: inside the box they see what they see in the whole crop.
_MARGIN = math.ceil(3 * SIGMAS[-1]) + 2


def detail_energy(image: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared Laplacian of the grey image where the mask is above one half."""
    return _energy(image, mask > 0.5)


def _energy(image: np.ndarray, inside: np.ndarray, weight: np.ndarray | None = None
            ) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    if not inside.any():
        return 0.0
    if weight is None:
        return float(np.mean(laplacian[inside] ** 2))
    return float(np.average(laplacian[inside] ** 2, weights=weight[inside]))


def match_sharpness(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The face, blurred with the smallest of SIGMAS that brings its detail energy down to
    the target's (never sharpened: detail that is not there cannot be made up);
    `sharpness_sigma` chooses it."""
    sigma = sharpness_sigma(face, target, mask)
    return cv2.GaussianBlur(face, (0, 0), sigma) if sigma > 0 else face


def sharpness_sigma(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                    weighted: bool = False) -> float:
    """The smallest of SIGMAS (0: none) whose Gaussian blur brings the face's detail
    energy inside `mask` down to the target's (within 10%), else the largest. `weighted`:
    measured wherever `mask` is above 0.01, each pixel by its `mask` (a share of an image
    that never reaches one half, the source's eyes as the target's close, is measured
    too), else where it is above one half.

    The energies are measured on the box around the mask (plus _MARGIN), which gives the
    same values as on the whole crop at a fraction of the cost."""
    inside = mask > (0.01 if weighted else 0.5)
    rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not rows.size:
        return 0.0
    height, width = inside.shape
    box = (slice(max(0, rows[0] - _MARGIN), min(height, rows[-1] + 1 + _MARGIN)),
           slice(max(0, columns[0] - _MARGIN), min(width, columns[-1] + 1 + _MARGIN)))
    inside, part = inside[box], face[box]
    weight = mask[box] if weighted else None
    wanted = _energy(target[box], inside, weight)
    if _energy(part, inside, weight) <= wanted * 1.1:
        return 0.0
    for sigma in SIGMAS[1:]:
        if _energy(cv2.GaussianBlur(part, (0, 0), sigma), inside, weight) <= wanted * 1.1:
            return sigma
    return SIGMAS[-1]
