"""Looks that are skin and must stay unmarked, for tools/occluder_synthesis.py: strongly
coloured lipstick, stage-light highlights, forehead furrows (a quarter of the faces each).
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.regions import mesh_regions

RES = 128
CHEEKS = (50, 280, 205, 425, 187, 411)
FOREHEAD = (10, 151, 9, 67, 297)


def _lipstick(rng: np.random.Generator, image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Strongly coloured lips (red, pink, plum, with gloss): the face's own, not an object."""
    outer = points[mesh_regions().lips_outer]
    inner = points[mesh_regions().lips_inner]
    lips = np.zeros((RES, RES), np.uint8)
    cv2.fillPoly(lips, [np.round(outer).astype(np.int32)], 255, cv2.LINE_AA)
    cv2.fillPoly(lips, [np.round(inner).astype(np.int32)], 0, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(lips.astype(np.float32) / 255, (0, 0), rng.uniform(0.5, 1.2))
    alpha = alpha * rng.uniform(0.5, 0.95)
    colour = np.array([[0.75, 0.05, 0.1], [0.85, 0.3, 0.45], [0.45, 0.05, 0.15],
                       [0.9, 0.15, 0.2], [0.6, 0.2, 0.25]])[rng.integers(5)]
    shade = image.mean(axis=2, keepdims=True) / max(float(image.mean()), 1e-3)
    painted = np.clip(colour * np.clip(shade, 0.3, 1.6), 0, 1)
    return image * (1 - alpha[..., None]) + painted * alpha[..., None]


def _stage_light(rng: np.random.Generator, image: np.ndarray, points: np.ndarray
                 ) -> np.ndarray:
    """Specular highlights on the nose, cheeks and forehead and a hard spot light."""
    ys, xs = np.indices((RES, RES)).astype(np.float32)
    glow = np.zeros((RES, RES), np.float32)
    spots = [4, 4, 1, *CHEEKS[:2], *FOREHEAD[:3]]  # the nose tip twice: lit most often
    for _ in range(int(rng.integers(1, 4))):
        centre = points[rng.choice(spots)] + rng.normal(0, 3, 2)
        sigma = rng.uniform(2, 8)
        glow += np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma ** 2))
    glow = np.clip(glow * rng.uniform(0.3, 0.9), 0, 1)[..., None]
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (xs * np.cos(direction) + ys * np.sin(direction)) / RES
    light = np.clip(1 + rng.uniform(0, 0.6) * ramp, 0.5, 1.6)[..., None]
    tint = np.clip(rng.uniform(0.9, 1.0, 3), 0, 1)
    return np.clip(image * light * (1 - glow) + glow * tint, 0, 1)


def _furrows(rng: np.random.Generator, image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Forehead lines (raised brows): dark creases with a lit edge above each."""
    top, brow = points[10], points[9]
    shade = np.zeros((RES, RES), np.float32)
    for _ in range(int(rng.integers(2, 5))):
        y = rng.uniform(top[1], brow[1])
        half = rng.uniform(10, 25)
        xs = np.linspace(top[0] - half, top[0] + half, 16)
        bend = rng.normal(0, 2)
        curve = np.stack([xs, y + bend * ((xs - top[0]) / half) ** 2], axis=1)
        line = np.zeros((RES, RES), np.uint8)
        cv2.polylines(line, [np.round(curve).astype(np.int32)], False, 255, 1, cv2.LINE_AA)
        dark = line.astype(np.float32) / 255
        shade -= dark * rng.uniform(0.1, 0.3)
        shade += np.roll(dark, -1, axis=0) * rng.uniform(0.0, 0.2)
    shade = cv2.GaussianBlur(shade, (0, 0), rng.uniform(0.4, 1.0))
    return np.clip(image * (1 + shade[..., None]), 0, 1)


LOOKS = (_lipstick, _stage_light, _furrows)
