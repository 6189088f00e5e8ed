"""Colour transfer and relighting of the swapped face towards the target, in CIELAB.

All functions take float32 LAB images (L in [0, 100], a and b around 0) and float32 masks
in [0, 1]; `to_lab` and `from_lab` convert from and to RGB uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.masks import channels_of

COLOR_METHODS = ("detail", "reinhard", "histogram", "none")  # detail: composite/tone.py
HISTOGRAM_BINS = 128
STATS_SIZE = 128
CHROMA_FLOOR = 3.0  # |mean a or b| below which a face counts as colourless
# Value ranges of the LAB channels, for histograms.
_LAB_RANGES = ((0.0, 100.0), (-128.0, 128.0), (-128.0, 128.0))


def to_lab(image: np.ndarray) -> np.ndarray:
    # One pass to float32 / 255 (the values of astype, then / 255.0), converted in place.
    rgb = np.divide(image, np.float32(255.0), dtype=np.float32)
    lab: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB, dst=rgb)
    return lab


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb: np.ndarray = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    np.multiply(rgb, np.float32(255.0), out=rgb)  # in place: the values of rgb * 255 + 0.5
    np.add(rgb, np.float32(0.5), out=rgb)
    return np.clip(rgb, 0, 255, out=rgb).astype(np.uint8)


@dataclass(frozen=True)
class ColorStats:
    """Per-channel mean and standard deviation inside a mask, (3,) each."""

    mean: np.ndarray
    std: np.ndarray

    def eased(self, previous: ColorStats | None, rate: float) -> ColorStats:
        """Exponential moving average towards these stats, so colour does not flicker."""
        if previous is None:
            return self
        return ColorStats(previous.mean + rate * (self.mean - previous.mean),
                          previous.std + rate * (self.std - previous.std))


def masked_stats(lab: np.ndarray, mask: np.ndarray) -> ColorStats:
    """Statistics of the pixels where the mask is above one half (computed on a copy of
    at most STATS_SIZE pixels a side: means and spreads need no more)."""
    if lab.shape[0] > STATS_SIZE:
        shape = (STATS_SIZE, STATS_SIZE)
        lab = cv2.resize(lab, shape, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, shape, interpolation=cv2.INTER_AREA)
    weights = (mask > 0.5).astype(np.float32)
    total = max(float(weights.sum()), 1.0)
    mean = np.einsum("hwc,hw->c", lab, weights) / total
    variance = np.einsum("hwc,hw->c", (lab - mean) ** 2, weights) / total
    return ColorStats(mean.astype(np.float32), np.sqrt(variance).astype(np.float32) + 1e-3)


def reinhard_transfer(lab: np.ndarray, source: ColorStats, target: ColorStats) -> np.ndarray:
    """Reinhard et al., "Color Transfer between Images" (2001), adapted to faces.

    Each channel's mean is moved to the target's. Lightness spread is matched (the ratio
    bounded). Chroma deviations are scaled by the ratio of the means, bounded to [3/4, 4/3]:
    a pure shift pushes low-chroma pixels (shadowed eye sockets, brows) past neutral into
    blue when the target is paler, and a pure scale turns lips red when it is warmer.
    """
    result = lab.copy()
    lightness_ratio = np.clip(target.std[0] / source.std[0], 0.6, 1.6)
    result[..., 0] = (lab[..., 0] - source.mean[0]) * lightness_ratio + target.mean[0]
    for channel in (1, 2):
        gain = 1.0
        if abs(float(source.mean[channel])) > CHROMA_FLOOR:
            gain = float(np.clip(target.mean[channel] / source.mean[channel], 0.75, 1.33))
        result[..., channel] = (lab[..., channel] - source.mean[channel]) * gain + \
            target.mean[channel]
    return result


def histogram_lut(source_lab: np.ndarray, source_mask: np.ndarray, target_lab: np.ndarray,
                  target_mask: np.ndarray) -> np.ndarray:
    """(3, HISTOGRAM_BINS) look-up tables mapping each source channel's bin centres to the
    target value with the same cumulative share inside the masks."""
    source_in = source_mask > 0.5
    target_in = target_mask > 0.5
    tables = []
    for channel, (low, high) in enumerate(_LAB_RANGES):
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        source_cdf = _cdf(source_lab[..., channel][source_in], edges)
        target_cdf = _cdf(target_lab[..., channel][target_in], edges)
        tables.append(np.interp(source_cdf, target_cdf, centres))
    return np.array(tables, dtype=np.float32)


def apply_lut(lab: np.ndarray, lut: np.ndarray) -> np.ndarray:
    result = np.empty_like(lab)
    for channel, (low, high) in enumerate(_LAB_RANGES):
        position = (lab[..., channel] - low) / (high - low) * HISTOGRAM_BINS - 0.5
        result[..., channel] = np.interp(position, np.arange(HISTOGRAM_BINS), lut[channel])
    return result


def relight(face_lab: np.ndarray, target_lab: np.ndarray, mask: np.ndarray, sigma: float,
            strength: float) -> np.ndarray:
    """Carry the target's low-frequency shading onto the face: the difference of the two
    images' masked low-pass (shadows, light direction, coloured light) is added to the face,
    which keeps its own fine detail. Chroma is carried at a quarter strength: skin colour is
    the source's, the colour of the light is the target's."""
    face_low = masked_blur(face_lab, mask, sigma)
    target_low = masked_blur(target_lab, mask, sigma)
    weights = np.array([strength, strength / 4, strength / 4], dtype=np.float32)
    return (face_lab + (target_low - face_low) * weights).astype(np.float32)


def masked_blur(lab: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that averages only pixels inside the mask (normalised convolution).
    `lab` (H, W, C) float32 with C 3 or 4 (any planes blurred alike: one weight blur
    serves them all), `mask` (H, W) float32.

    Computed at reduced resolution: what survives a blur this wide has no detail to lose,
    and a 400 px crop blurred at full size costs a hundred times more.
    """
    (height, width), channels = lab.shape[:2], lab.shape[2]
    factor = blur_factor(sigma)
    small = (max(8, width // factor), max(8, height // factor))  # OpenCV's (width, height)
    same = small == (width, height)  # resized to its own size: a copy, left out
    small_lab = lab * channels_of(mask, channels)
    small_mask = mask
    if not same:
        small_lab = cv2.resize(small_lab, small, interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
    small_sigma = sigma * small[1] / height
    weights = cv2.GaussianBlur(small_mask, (0, 0), small_sigma) + 1e-6
    blurred = cv2.GaussianBlur(small_lab, (0, 0), small_sigma) / channels_of(weights, channels)
    if same:
        return blurred
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def blur_factor(sigma: float) -> int:
    """How many times smaller than the image `masked_blur` blurs by `sigma` (1: at its
    own size)."""
    return max(1, int(sigma // 3))


def _cdf(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values, bins=edges)
    cumulative = np.cumsum(counts).astype(np.float64)
    # Small uniform prior: a channel with few pixels still maps monotonically.
    cumulative += np.linspace(1.0, len(counts), len(counts)) * 1e-3
    return cumulative / cumulative[-1]
