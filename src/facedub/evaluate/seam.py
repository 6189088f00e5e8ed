"""The seam measure: colour steps and gradients at the face mask's border, swapped against
the target's own, in the target face's aligned crop (`metrics.FaceCrops`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.evaluate.metrics import NAN, FaceCrops

SEAM_SECTORS = 16  # the border is compared sector by sector, so one bad side shows
SEAM_RINGS = 4  # one ring outside the landmark oval, three inside: where blend edges sit


@dataclass(frozen=True)
class SeamMeasure:
    color: float  # ΔE of the swapped frame at the border where the excess is largest
    color_excess: float
    gradient: float  # grey/px of the swapped frame in the ring where the excess is largest
    gradient_excess: float


def seam_measure(crops: FaceCrops) -> SeamMeasure:
    """Colour steps and gradients near the face mask's border, swapped vs the target's own.

    A swap's blend edge sits somewhere near the landmark oval: on it, or a few pixels
    inside where the compositor eroded and feathered its mask. So the border region is cut
    into SEAM_RINGS rings `crops.band` pixels wide (one outside the oval, the rest inside),
    each split into SEAM_SECTORS angular sectors. The colour step between neighbouring
    rings is the CIE76 ΔE of their mean Lab colours per sector; its excess over the
    target's own step (clipped at 0 per sector, so one bad side shows) is taken at the
    ring boundary where it is largest. The gradient excess is the same for the mean
    gradient magnitude per ring.
    """
    ring = _rings(crops.inside, crops.valid, crops.band)
    sector = _sectors(crops.inside)
    steps_t = _colour_steps(crops.target, ring, sector)  # (SEAM_RINGS - 1, SEAM_SECTORS)
    steps_s = _colour_steps(crops.swapped, ring, sector)
    with np.errstate(all="ignore"):
        excess = np.nanmean(np.maximum(steps_s - steps_t, 0.0), axis=1)
        colour = np.nanmean(steps_s, axis=1)
    gradient_t = _ring_gradients(crops.target_grey, ring)
    gradient_s = _ring_gradients(crops.swapped_grey, ring)
    if not np.isfinite(excess).any() or not np.isfinite(gradient_s).any():
        return SeamMeasure(NAN, NAN, NAN, NAN)
    at_colour = int(np.nanargmax(excess))
    at_gradient = int(np.nanargmax(gradient_s - gradient_t))
    return SeamMeasure(color=float(colour[at_colour]), color_excess=float(excess[at_colour]),
                       gradient=float(gradient_s[at_gradient]),
                       gradient_excess=float(gradient_s[at_gradient] - gradient_t[at_gradient]))


def _rings(inside: np.ndarray, valid: np.ndarray, width: int) -> np.ndarray:
    """(S, S) int ring index: 0 for the band just outside the mask, 1.. going inwards,
    -1 elsewhere (deeper inside, farther out, or outside the frame)."""
    hard = inside.astype(np.uint8)
    depth = (cv2.distanceTransform(hard, cv2.DIST_L2, 3)
             - cv2.distanceTransform(1 - hard, cv2.DIST_L2, 3))  # > 0 inside
    ring = np.floor(depth / width).astype(np.int64) + 1
    ring[(ring < 0) | (ring >= SEAM_RINGS) | ~valid] = -1
    return ring


def _sectors(inside: np.ndarray) -> np.ndarray:
    """(S, S) int sector index of each pixel, by angle around the mask's centroid."""
    ys, xs = np.nonzero(inside)
    size = inside.shape[0]
    cy, cx = (float(ys.mean()), float(xs.mean())) if ys.size else (size / 2.0, size / 2.0)
    grid_y, grid_x = np.mgrid[0:size, 0:size]
    angle = np.arctan2(grid_y - cy, grid_x - cx)
    sector: np.ndarray = np.minimum((angle + math.pi) / (2 * math.pi) * SEAM_SECTORS,
                                    SEAM_SECTORS - 1).astype(np.int64)
    return sector


def _colour_steps(image: np.ndarray, ring: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """(SEAM_RINGS - 1, SEAM_SECTORS) ΔE between the mean Lab colours of neighbouring
    rings, per sector; NaN where a side holds too few pixels to be a border."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    used = ring >= 0
    cell = ring[used] * SEAM_SECTORS + sector[used]
    cells = SEAM_RINGS * SEAM_SECTORS
    counts = np.bincount(cell, minlength=cells).astype(np.float64)
    sums = np.stack([np.bincount(cell, weights=lab[..., c][used], minlength=cells)
                     for c in range(3)], axis=1)
    means = (sums / np.maximum(counts, 1.0)[:, None]).reshape(SEAM_RINGS, SEAM_SECTORS, 3)
    means[counts.reshape(SEAM_RINGS, SEAM_SECTORS) < 8] = np.nan
    steps: np.ndarray = np.linalg.norm(means[1:] - means[:-1], axis=2)
    return steps


def _ring_gradients(grey: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """(SEAM_RINGS,) mean gradient magnitude per ring, grey levels per pixel."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    used = ring >= 0
    # Sobel's 3x3 kernel weighs 4 pixels: /4 gives grey levels per pixel.
    magnitude = np.hypot(gx, gy)[used] / 4.0
    counts = np.bincount(ring[used], minlength=SEAM_RINGS)
    sums = np.bincount(ring[used], weights=magnitude, minlength=SEAM_RINGS)
    means: np.ndarray = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means
