"""The composited-stage refiner's light augmentation: a training patch's shown crop and
its truth relit together, by the same smooth field in linear light, so that the network
learns to keep the light it is handed.

Trained on one recording's evenly lit faces (the webcam man's, 66 to 72 L*), the network
drew that recording's dark lines (the face's outline, lids, brows, nostrils) on the same
man's faces under a torch (20 to 40 L*) and lowered their face SSIM on every frame
(BENCHMARKS.md, Refiner, twenty-ninth round). A relit patch shows it the same face in
another light: an overall gain (log-uniform, down to a face about 45 L* darker), a
directional slope across the patch, and a bright blob (a torch's spot); the field
multiplies linear light (sRGB decoded), the result is encoded and rounded to the 8-bit
levels again (a dark recording's own quantisation), and clipped where it saturates.
Shown and truth get the same field, so what the network must add is still the truth's
detail, now in the relit light.

Off by default (`CropRefineConfig.relight` 0): at half and all of the patches relit it
lowered the torch-lit faces' face SSIM less (-0.00087 and -0.00063 against -0.00165),
still on all 40 frames, so the swap's light gate stays (BENCHMARKS.md, Refiner,
thirtieth round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The overall gain of linear light, log-uniform between these: 0.07 takes a 70 L* face
# to about 24 L*, the torch clip's faces are 20 to 40 L*; 1.3 a little brighter.
GAIN_RANGE = (0.07, 1.3)
SLOPE = 1.2  # the most the log gain changes across a patch, corner to corner
BLOB_GAIN = 2.0  # a blob's most extra gain at its centre (x3 there)
BLOB_SIGMA = (12.0, 48.0)  # px: its Gaussian's sigma


@dataclass(frozen=True)
class LightField:
    """A patch's relight: (H, W) float32 multipliers of linear light."""

    gain: np.ndarray


def light_field(side: int, rng: np.random.Generator) -> LightField:
    """A random smooth field over a `side` px patch: overall gain times a directional
    slope times one bright blob."""
    low, high = (math.log(value) for value in GAIN_RANGE)
    overall = rng.uniform(low, high)
    angle = rng.uniform(0.0, 2.0 * math.pi)
    tilt = rng.uniform(0.0, SLOPE) / (side * math.sqrt(2.0))
    centre = rng.uniform(0.0, side, size=2)
    sigma = rng.uniform(*BLOB_SIGMA)
    lift = rng.uniform(0.0, BLOB_GAIN)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    half = side / 2.0
    log_gain = overall + tilt * ((x - half) * math.cos(angle) + (y - half) * math.sin(angle))
    blob = np.exp(-((y - centre[0]) ** 2 + (x - centre[1]) ** 2) / (2.0 * sigma * sigma))
    return LightField((np.exp(log_gain) * (1.0 + lift * blob)).astype(np.float32))


def relit(image: np.ndarray, field: LightField) -> np.ndarray:
    """(H, W, 3) uint8 RGB under `field` in linear light, back in 8-bit sRGB."""
    linear = _SRGB_LINEAR[image] * field.gain[..., None]
    return np.take(_ENCODED, np.clip(np.rint(linear * (_LEVELS - 1)), 0, _LEVELS - 1)
                   .astype(np.int32))


# sRGB's 256 levels as linear light (IEC 61966-2-1), and a fine table of linear light
# (_LEVELS steps in 0..1) back to the nearest 8-bit sRGB level.
_LEVELS = 4096
_SRGB = np.arange(256) / 255.0
_SRGB_LINEAR = np.where(_SRGB <= 0.04045, _SRGB / 12.92,
                        ((_SRGB + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LINEAR = np.linspace(0.0, 1.0, _LEVELS)
_ENCODED = np.clip(np.rint(255.0 * np.where(_LINEAR <= 0.0031308, 12.92 * _LINEAR,
                                            1.055 * _LINEAR ** (1 / 2.4) - 0.055)),
                   0, 255).astype(np.uint8)
