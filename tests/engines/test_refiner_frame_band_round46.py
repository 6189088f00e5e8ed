"""The refined face's finest band strengthened by up to a quarter of itself (twenty-first
round of the refiner, BENCHMARKS.md): with the refiners trained on today's main a tenth
left both split clips' faces softer in the frame than the mesh engine's, over four job
ids; without a limit d3's faces took a gain of 0.22 on average (the webcam's 0.16)."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines import refiner as refiner_module
from facedub.engines.refiner import to_frame_sharpness


def _texture(size: int, seed: int, strength: float, blur: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), blur)
    grey = np.clip(128 + strength * noise / noise.std(), 0, 255)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)


def _energy(image: np.ndarray, inside: np.ndarray) -> float:
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float(np.mean(cv2.Laplacian(grey, cv2.CV_32F)[inside] ** 2))


def test_a_face_wanting_a_fifth_more_of_its_band_gets_it() -> None:
    """A face whose frame is its own texture with the finest band a fifth stronger (a
    gain d3's faces asked for): the face comes to the frame's energy (within 3%), where
    a tenth's limit left it short by more than that."""
    size = 240
    face = _texture(size, 8, 20.0, 1.0)
    band = face - cv2.GaussianBlur(face, (0, 0), refiner_module.FRAME_BAND_SIGMA)
    target = np.clip(np.rint(face + 0.2 * band), 0, 255).astype(np.uint8)
    mask = np.zeros((size, size), dtype=np.float32)
    mask[30:-30, 30:-30] = 1.0
    inside = mask > 0.5
    wanted = _energy(target, inside)
    out = to_frame_sharpness(face.copy(), target, mask)
    assert abs(_energy(out, inside) - wanted) < 0.03 * wanted
    short = face + 0.1 * band
    assert _energy(short, inside) < 0.97 * wanted
