"""Stubble as dirt: dark fine texture in the beard zone (below the nose, round the mouth,
the chin and jaw) that the target does not have there. A source's ginger stubble warped
onto a smooth chin read as a brown moustache band and a mottled chin; the blob measure
(`realism.blob_share`) does not see it: its specks and strands are finer than its band
and fainter than its contrast.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.masks import polygon_mask
from facedub.faces.regions import BEARD_ZONE, mesh_regions

STUBBLE_CONTRAST = 3.0  # L* a pixel's fine band is darker than 0 and than the target's


def beard_region(points: np.ndarray, size: int, valid: np.ndarray) -> np.ndarray:
    """(size, size) bool: the beard zone of the landmarks `points` (478, 2+) in crop
    pixels, without the lips and a margin round them, inside the frame (`valid`)."""
    points = np.asarray(points)[:, :2]
    zone = polygon_mask(points[list(BEARD_ZONE)], size) > 0.5
    lips = (polygon_mask(points[mesh_regions().lips_outer], size) > 0.5).astype(np.uint8)
    unit = max(2, size // 64)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * unit + 1,) * 2)
    result: np.ndarray = zone & ~cv2.dilate(lips, kernel).astype(bool) & valid
    return result


def dark_texture(target_lightness: np.ndarray, swapped_lightness: np.ndarray,
                 beard: np.ndarray) -> float:
    """Share of `beard` (S, S) bool where the swapped face's fine band of lightness (L*,
    from about 1/512 to 1/64 of the crop) is darker than STUBBLE_CONTRAST and darker by
    as much than the target's darkest within a pixel: specks and strands of hair the
    target does not have. NaN where the region is empty."""
    if not beard.any():
        return float("nan")
    band_t = _fine_band(target_lightness)
    band_s = _fine_band(swapped_lightness)
    darkest_t = cv2.erode(band_t, np.ones((3, 3), dtype=np.uint8))
    dark = (band_s < -STUBBLE_CONTRAST) & (band_s - darkest_t < -STUBBLE_CONTRAST)
    return float(np.count_nonzero(dark & beard) / np.count_nonzero(beard))


def _fine_band(lightness: np.ndarray) -> np.ndarray:
    size = lightness.shape[0]
    fine = cv2.GaussianBlur(lightness, (0, 0), max(0.5, size / 512))
    band: np.ndarray = fine - cv2.GaussianBlur(lightness, (0, 0), size / 64)
    return band
