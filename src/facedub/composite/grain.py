"""Grain matched to the frame: a face warped from a clean photo into a grainy or noisy
frame is visibly smoother than the skin and hair around it. Luma noise is added inside
the mask until the face's fine residual matches the target's (never removed: that is
`detail.match_sharpness`'s job for sharp faces in soft frames)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.masks import three_channels

FLAT_GRADIENT = 4.0  # grey levels per pixel below which skin counts as flat
# Mean |x - median3(x)| of unit Gaussian noise: converts the residual to a noise sigma.
RESIDUAL_PER_SIGMA = 0.75
MIN_MISSING = 0.3  # grey levels of missing residual below which nothing is added


def grain_level(grey: np.ndarray, mask: np.ndarray) -> float:
    """Mean |grey - its 3x3 median| over the flat pixels where `mask` > 0.5 (grey levels);
    (S, S) float32 grey in 0..255."""
    median = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3).astype(np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0)
    inside = mask > 0.5
    flat = _flat(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    flat &= inside
    if np.count_nonzero(flat) < 50:
        flat = inside
    if not flat.any():
        return 0.0
    residual = np.subtract(grey, median, out=median)
    return float(np.abs(residual, out=residual)[flat].mean())


# The flat test's margin on the squared gradient: far above float32's rounding of the
# squares' sum (a few 1e-7) and of any libm's hypot (under 1e-6).
_SQUARED_MARGIN = 1e-5


def _flat(gradient_x: np.ndarray, gradient_y: np.ndarray) -> np.ndarray:
    """hypot(gradient_x, gradient_y) / 4 < FLAT_GRADIENT, the same booleans: the hypot
    (libm's, one element at a time) was half of `grain_level`'s time. The squared
    gradient in float32 decides every pixel but those within _SQUARED_MARGIN of the
    threshold, which take np.hypot itself (a float32 divided by 4 is exact, so that is
    hypot < 4 * FLAT_GRADIENT)."""
    limit = np.float32(4.0 * FLAT_GRADIENT)
    squared = np.multiply(gradient_x, gradient_x)
    squared += np.square(gradient_y)
    flat: np.ndarray = squared < np.float32(limit * limit * (1.0 - _SQUARED_MARGIN))
    near = (squared <= np.float32(limit * limit * (1.0 + _SQUARED_MARGIN))) & ~flat
    if near.any():
        flat[near] = np.hypot(gradient_x[near], gradient_y[near]) < limit
    return flat


@dataclass(frozen=True)
class GrainLevels:
    """Grain of the target and of the face (grey levels, see `grain_level`), measured
    `age` frames ago: grain changes slowly, so a video measures it every REMEASURE."""

    target: float
    face: float
    age: int = 0


REMEASURE = 8  # frames between grain measurements on a video track


def grain_levels(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                 previous: GrainLevels | None = None) -> GrainLevels:
    """The levels of (S, S, 3) uint8 RGB `face` and `target` inside `mask`; `previous` is
    reused (one frame older) until it is REMEASURE frames old."""
    if previous is not None and previous.age + 1 < REMEASURE:
        return GrainLevels(previous.target, previous.face, previous.age + 1)
    face_grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    target_grey = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return GrainLevels(grain_level(target_grey, mask), grain_level(face_grey, mask))


def match_grain(face: np.ndarray, target: np.ndarray, mask: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """`face` (S, S, 3) uint8 RGB with Gaussian luma noise added inside `mask` so that its
    grain level reaches the target's (fresh noise every call: grain moves)."""
    return add_grain(face, grain_levels(face, target, mask), mask, rng)


def add_grain(face: np.ndarray, levels: GrainLevels, mask: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """`face` with the luma noise the levels say is missing, inside `mask`."""
    wanted, present = levels.target, levels.face
    if wanted - present < MIN_MISSING:
        return face
    sigma = float(np.sqrt(wanted ** 2 - present ** 2)) / RESIDUAL_PER_SIGMA
    noise = rng.standard_normal(face.shape[:2], dtype=np.float32) * (sigma * mask)
    noisy = face.astype(np.float32) + three_channels(noise)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
