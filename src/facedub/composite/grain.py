"""Grain matched to the frame: a face warped from a clean photo into a grainy or noisy
frame is visibly smoother than the skin and hair around it. Luma noise is added inside
the mask until the face's fine residual matches the target's (never removed: that is
`detail.match_sharpness`'s job for sharp faces in soft frames)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.geometry import apply_affine, invert_affine, warp_to_face
from facedub.faces.masks import three_channels

FLAT_GRADIENT = 4.0  # grey levels per pixel below which skin counts as flat
# Mean |x - median3(x)| of unit Gaussian noise: converts the residual to a noise sigma.
RESIDUAL_PER_SIGMA = 0.75
MIN_MISSING = 0.3  # grey levels of missing residual below which nothing is added
# Below this crop scale (crop pixels per frame pixel) the grain is drawn in crop pixels:
# the cut averages several frame pixels into each crop pixel, which leaves the frame's
# grain nearly independent from pixel to pixel, and drawing it in frame pixels would cost
# the square of the frame's larger footprint.
FRAME_GRAIN_MIN_SCALE = 0.5


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
                rng: np.random.Generator, face_from_frame: np.ndarray | None = None
                ) -> np.ndarray:
    """`face` (S, S, 3) uint8 RGB with Gaussian luma noise added inside `mask` so that its
    grain level reaches the target's (fresh noise every call: grain moves); see
    `add_grain` for `face_from_frame`."""
    return add_grain(face, grain_levels(face, target, mask), mask, rng, face_from_frame)


def add_grain(face: np.ndarray, levels: GrainLevels, mask: np.ndarray,
              rng: np.random.Generator, face_from_frame: np.ndarray | None = None
              ) -> np.ndarray:
    """`face` with the luma noise the levels say is missing, inside `mask`.

    With the crop's `face_from_frame` (2x3), the noise is the frame's kind of grain: drawn
    in frame pixels and cut into the crop with the target's own warp (`frame_grain`), so
    that the paste back treats it as it treats the target's grain. Drawn in crop pixels
    (None), it was matched to the target's grain after the cut's interpolation had taken
    a third of it, and it lost less on the way back: in the written frame the smoker's
    GIF dither read 1.6 times the face's grain (BENCHMARKS.md, thirtieth round)."""
    wanted, present = levels.target, levels.face
    if wanted - present < MIN_MISSING:
        return face
    if face_from_frame is None:
        unit, per_sigma = rng.standard_normal(face.shape[:2], dtype=np.float32), RESIDUAL_PER_SIGMA
    else:
        unit = frame_grain(face.shape[0], face_from_frame, rng)
        per_sigma = _residual_per_sigma(unit, mask)
    sigma = float(np.sqrt(wanted ** 2 - present ** 2)) / per_sigma
    noise = unit * (sigma * mask)
    noisy = face.astype(np.float32) + three_channels(noise)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def frame_grain(size: int, face_from_frame: np.ndarray, rng: np.random.Generator
                ) -> np.ndarray:
    """(size, size) float32: unit Gaussian noise drawn independently in each frame pixel
    of the crop's footprint and cut into the crop as the target crop is (`warp_to_face`,
    antialiased, linear): correlated between crop pixels as the frame's own grain is
    there. A crop under FRAME_GRAIN_MIN_SCALE of the frame's scale gets noise drawn in
    its own pixels."""
    scale = math.sqrt(abs(float(np.linalg.det(face_from_frame[:, :2]))))
    if scale < FRAME_GRAIN_MIN_SCALE:
        return rng.standard_normal((size, size), dtype=np.float32)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    footprint = apply_affine(invert_affine(face_from_frame), corners)
    x0, y0 = math.floor(footprint[:, 0].min()) - 2, math.floor(footprint[:, 1].min()) - 2
    x1, y1 = math.ceil(footprint[:, 0].max()) + 3, math.ceil(footprint[:, 1].max()) + 3
    noise = rng.standard_normal((y1 - y0, x1 - x0), dtype=np.float32)
    # A point of the footprint is frame = local + (x0, y0): crop = M @ local + M @ (x0, y0).
    from_local = np.asarray(face_from_frame, dtype=np.float64).copy()
    from_local[:, 2] += from_local[:, :2] @ np.array([x0, y0], dtype=np.float64)
    cut: np.ndarray = warp_to_face(noise, from_local, size, antialias=True)
    return cut


def _residual_per_sigma(unit: np.ndarray, mask: np.ndarray) -> float:
    """Mean |x - median3(x)| of the unit noise where `mask` > 0.5 (all of it if empty):
    what one grey level of its sigma adds to `grain_level`."""
    residual = np.abs(unit - cv2.medianBlur(unit, 3))
    inside = mask > 0.5
    return float(residual[inside].mean() if inside.any() else residual.mean())

