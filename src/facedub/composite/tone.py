"""Shading apart from albedo: the swapped face keeps the source's detail, and takes its
colour and light from the target.

A face image is roughly low-frequency light and skin tone times fine detail. The source's
light (its nostril shadows, forehead shine, a colourised photo's blotches) and its skin
tone sit in the low frequencies; its identity's texture (brows, lid creases, lip edges,
pores) in the high ones. So the result is the target's own low-pass (its light, its skin
tone, which is also its neck's, its lips' and brows' colour at their places) plus the
source's high-pass, with the source's lightness detail softly limited to about what the
target's skin shows nearby (a deep source shadow or a stubble field on a smooth chin
would read as dirt) and its chroma detail damped (colour detail is where invented hues
come from).

All in CIELAB float32 (L 0..100), masks (S, S) float32 in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import masked_blur

CHROMA_DETAIL = 0.5  # share of the source's chroma detail kept
DETAIL_GAIN = 2.0  # source lightness detail may reach this times the target's nearby ...
DETAIL_FLOOR = 20.0  # ... plus this many L units, softly (tanh): only extremes are tamed


def carry_detail(face_lab: np.ndarray, target_lab: np.ndarray, mask: np.ndarray,
                 sigma: float, chroma_detail: float = CHROMA_DETAIL) -> np.ndarray:
    """The target's low-pass (Gaussian `sigma` pixels, inside `mask`) plus the face's
    high-pass, lightness detail limited and chroma detail scaled by `chroma_detail`."""
    face_low = masked_blur(face_lab, mask, sigma)
    target_low = masked_blur(target_lab, mask, sigma)
    detail = face_lab - face_low
    limit = DETAIL_GAIN * _local_detail(target_lab[..., 0] - target_low[..., 0], sigma) \
        + DETAIL_FLOOR
    result = np.empty_like(face_lab)
    result[..., 0] = target_low[..., 0] + limit * np.tanh(detail[..., 0] / limit)
    result[..., 1:] = target_low[..., 1:] + chroma_detail * detail[..., 1:]
    return result


def _local_detail(detail: np.ndarray, sigma: float) -> np.ndarray:
    """(S, S) mean |detail| around each pixel (radius about sigma / 2), at quarter size."""
    size = detail.shape[0]
    small = max(8, size // 4)
    magnitude = cv2.resize(np.abs(detail), (small, small), interpolation=cv2.INTER_AREA)
    smooth = cv2.GaussianBlur(magnitude, (0, 0), max(0.5, sigma / 2 * small / size))
    local: np.ndarray = cv2.resize(smooth, (size, size), interpolation=cv2.INTER_LINEAR)
    return local
