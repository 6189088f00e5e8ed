"""Blending the swapped face into the target crop: feathered alpha or Poisson cloning."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.masks import three_channels

BLEND_METHODS = ("feather", "poisson")


def feather_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Alpha blend of uint8 images: `mask` (S, S) float32 in [0, 1] is the face's share.
    Computed only inside the box where the mask is not 0; outside it the result is the
    target (the kept eyes and mouth are a small part of the crop)."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    result = np.array(target, dtype=np.uint8)
    if not rows.size:
        return result
    box = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
    part, alpha = target[box], three_channels(mask[box])
    blended = part.astype(np.float32) + alpha * (face[box].astype(np.float32) - part)
    result[box] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return result


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
