"""Fingers of hands held together in front of the chin, for tools/occluder_synthesis.py.

Clip 11's stage shot (kept for checking, never trained on) has them over the chin and the
lower lip: skin on skin, lit from above, so a finger is lighter along its back and darker
at its sides, with dark creases where it lies on the next and a faint shadow on the face
beside it. The earlier `_fingertips` drew flat strokes of cheek skin; the net gave the real
ones 0.1-0.35. Here each finger is a capsule with a rounded tip, shaded across as a
cylinder, from one or two hands whose fingers cross, textured with real hand skin (cut
from a shared photo that no check uses) or another face's cheek, brightened and warmed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

RES = 128
# Boxes (x0, y0, x1, y1) inside the hands of multi_group_of_six_sitcom_cast.jpg (1200 x 630):
# the fist at a chin, its wrist, the back of a hand and a palm of the hands clasped at the
# bottom. Skin within the hands (a few pixels of sleeve or shadow at some edges): their
# texture, not their outlines.
HAND_PHOTO = "multi_group_of_six_sitcom_cast.jpg"
HAND_BOXES = ((483, 210, 512, 247), (463, 257, 493, 297), (657, 450, 687, 483),
              (620, 483, 667, 507))


def hand_patches(photo: Path) -> tuple[np.ndarray, ...]:
    """The skin inside the photo's hands (HAND_BOXES), RGB uint8 patches."""
    image = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return tuple(np.ascontiguousarray(image[y0:y1, x0:x1]) for x0, y0, x1, y1 in HAND_BOXES)


def patch_texture(rng: np.random.Generator, patch: np.ndarray) -> np.ndarray:
    """A hand patch, turned and magnified 1.5-3x, mirrored out to fill the crop:
    (RES, RES, 3) float32."""
    turned = np.ascontiguousarray(np.rot90(patch, int(rng.integers(4))))
    scale = rng.uniform(1.5, 3.0)
    grown = cv2.resize(turned, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    rows, columns = max(0, RES - grown.shape[0]), max(0, RES - grown.shape[1])
    filled = cv2.copyMakeBorder(grown, 0, rows, 0, columns, cv2.BORDER_REFLECT_101)
    return filled[:RES, :RES].astype(np.float32) / 255


def skin_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The median colour of the face's skin round the given landmarks (RGB in [0, 1])."""
    box = np.round(points).astype(int).clip(0, RES - 1)
    pixels = np.concatenate([image[max(0, y - 3):y + 4, max(0, x - 3):x + 4].reshape(-1, 3)
                             for x, y in box])
    return np.median(pixels, axis=0)


def clasped_fingers(rng: np.random.Generator, texture: np.ndarray, skin: np.ndarray,
                    anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rgb (RES, RES, 3), alpha and label of 1-8 fingers whose tips lie about `anchor`
    (the chin or the lower lip, crop pixels), rising from below the crop. Their colour is
    near the face's `skin` (the same person's hands): the texture's detail, the face's
    tone, lighter (lit from above) and a little warmer or cooler."""
    ys, xs = np.indices((RES, RES)).astype(np.float32)
    detail = texture / np.maximum(texture.mean(axis=(0, 1)), 1e-3)
    detail = 1 + (detail - 1) * rng.uniform(0.3, 1.0)
    tone = skin * rng.uniform(0.9, 1.45) * np.array([1.0, *rng.uniform(0.9, 1.05, 2)])
    colour = np.clip(detail * tone, 0, 1)
    rgb = np.zeros((RES, RES, 3), np.float32)
    alpha = np.zeros((RES, RES), np.float32)
    width = rng.uniform(7, 14)
    lit = rng.uniform(-0.6, 0.6)  # which side of a finger the light catches
    for side in rng.permutation([-1, 1])[: int(rng.integers(1, 3))]:
        angle = -np.pi / 2 + side * rng.uniform(0.0, 1.1)  # pointing up, leaning inwards
        along = np.array([np.cos(angle), np.sin(angle)])
        across = np.array([-along[1], along[0]])
        count = int(rng.integers(1, 5))
        start = anchor + rng.normal(0, 4, 2) - across * width * (count - 1) / 2
        for finger in range(count):
            tip = start + across * finger * width * rng.uniform(0.8, 1.0) \
                + along * rng.normal(0, width * 0.5)
            root = tip - along * rng.uniform(40, 90)
            shape, offset = _capsule(xs, ys, tip, root, width / 2 * rng.uniform(0.85, 1.1))
            # Across the finger: lit on its back, dark at its sides and in the creases.
            dome = np.sqrt(np.clip(1 - offset ** 2, 0, 1))
            depth = rng.uniform(0.2, 0.45)
            shade = 1 - depth + depth * dome + 0.15 * lit * offset
            rgb = rgb * (1 - shape[..., None]) + colour * shade[..., None] * shape[..., None]
            alpha = np.maximum(alpha, shape)
    # A faint shadow on the face beside the fingers, away from the light.
    shift = np.float32([[1, 0, rng.normal(0, 2)], [0, 1, rng.uniform(1, 3)]])
    shadow = cv2.warpAffine(cv2.GaussianBlur(alpha, (0, 0), rng.uniform(1, 3)), shift,
                            (RES, RES)) * rng.uniform(0.0, 0.35) * (1 - alpha)
    total = alpha + shadow
    rgb = rgb * (alpha / np.maximum(total, 1e-3))[..., None]  # the shadow adds black
    if rng.random() < 0.5:  # a hand in motion, or a soft small face
        sigma = rng.uniform(0.3, 1.0)
        rgb, total = cv2.GaussianBlur(rgb, (0, 0), sigma), cv2.GaussianBlur(total, (0, 0), sigma)
    return np.clip(rgb, 0, 1).astype(np.float32), np.clip(total, 0, 1), (alpha > 0.5).astype(
        np.float32)


def _capsule(xs: np.ndarray, ys: np.ndarray, tip: np.ndarray, root: np.ndarray,
             radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased coverage of the capsule from `tip` to `root`, and each pixel's signed
    distance across it in radii (-1 to 1; rounded at the tip)."""
    axis = root - tip
    length = float(np.dot(axis, axis))
    t = np.clip(((xs - tip[0]) * axis[0] + (ys - tip[1]) * axis[1]) / length, 0, 1)
    dx, dy = xs - (tip[0] + t * axis[0]), ys - (tip[1] + t * axis[1])
    distance = np.sqrt(dx ** 2 + dy ** 2)
    cover = np.clip(radius - distance + 0.5, 0, 1)
    sign = np.sign(dx * axis[1] - dy * axis[0])
    return cover.astype(np.float32), (sign * distance / radius).astype(np.float32)
