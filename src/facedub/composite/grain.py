"""Grain matched to the frame: a face warped from a clean photo into a grainy or noisy
frame is visibly smoother than the skin and hair around it. Luma noise is added inside
the mask until the face's fine residual matches the target's (never removed: that is
`detail.match_sharpness`'s job for sharp faces in soft frames)."""

from __future__ import annotations

import cv2
import numpy as np

FLAT_GRADIENT = 4.0  # grey levels per pixel below which skin counts as flat
# Mean |x - median3(x)| of unit Gaussian noise: converts the residual to a noise sigma.
RESIDUAL_PER_SIGMA = 0.75
MIN_MISSING = 0.3  # grey levels of missing residual below which nothing is added


def grain_level(grey: np.ndarray, mask: np.ndarray) -> float:
    """Mean |grey - its 3x3 median| over the flat pixels where `mask` > 0.5 (grey levels);
    (S, S) float32 grey in 0..255."""
    median = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3).astype(np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    flat = (mask > 0.5) & (gradient / 4.0 < FLAT_GRADIENT)
    if np.count_nonzero(flat) < 50:
        flat = mask > 0.5
    return float(np.abs(grey - median)[flat].mean()) if flat.any() else 0.0


def match_grain(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """`face` (S, S, 3) uint8 RGB with Gaussian luma noise added inside `mask` so that its
    grain level reaches the target's (fresh noise every call: grain moves)."""
    face_grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    target_grey = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
    wanted, present = grain_level(target_grey, mask), grain_level(face_grey, mask)
    if wanted - present < MIN_MISSING:
        return face
    sigma = float(np.sqrt(wanted ** 2 - present ** 2)) / RESIDUAL_PER_SIGMA
    noise = rng.normal(0.0, sigma, face.shape[:2]).astype(np.float32) * mask
    noisy = face.astype(np.float32) + noise[..., None]
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
