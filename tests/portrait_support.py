"""A real face for tests that need one and no analysis: the middle of a frontal portrait."""

from pathlib import Path

import cv2
import numpy as np


def portrait_middle(photo: Path, size: int) -> np.ndarray:
    """(size, size, 3) uint8 RGB: the square round a frontal portrait's face (half the
    photo's shorter side, an eighth of it above the centre), resized."""
    image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    side = min(height, width) // 2
    top, left = height // 2 - side // 2 - side // 8, width // 2 - side // 2
    return cv2.resize(image[top:top + side, left:left + side], (size, size),
                      interpolation=cv2.INTER_AREA)
