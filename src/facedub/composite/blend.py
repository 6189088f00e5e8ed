"""Blending the swapped face into the target crop: feathered alpha or Poisson cloning."""

from __future__ import annotations

import cv2
import numpy as np

BLEND_METHODS = ("feather", "poisson")


def feather_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Alpha blend: `mask` (S, S) float32 in [0, 1] is the face's share."""
    alpha = mask[..., None]
    blended = target.astype(np.float32) + alpha * (face.astype(np.float32) - target)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def poisson_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Seamless cloning (Pérez et al., "Poisson Image Editing", 2003): the face's
    gradients inside the mask, the target's colours on its border. Falls back to the
    feathered blend when the mask touches the crop's edge (cloning needs a border)."""
    hard = (mask > 0.5).astype(np.uint8) * 255
    hard[:2, :] = hard[-2:, :] = 0
    hard[:, :2] = hard[:, -2:] = 0
    if not hard.any():
        return target.copy()
    x, y, width, height = cv2.boundingRect(hard)
    centre = (x + width // 2, y + height // 2)
    cloned = cv2.seamlessClone(face, target, hard, centre, cv2.NORMAL_CLONE)
    # seamlessClone fills the whole mask; the soft edge still comes from the feather.
    return feather_blend(cloned, target, mask)
