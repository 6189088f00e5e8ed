"""The target's light as it changes: a torch sweeping over the face.

The compositor's tone (`tone.carry_detail`) takes the target's light only coarser than
its split (a 16th of the crop) and the source's detail finer, so a moving light's finer
marks (the nose's cast shadow across the cheek, the lit nose tip, the lit / dark split
down the chin) were the source's flat photo light: self-photo's face SSIM 0.95-0.96 with
the torch off, 0.88-0.90 with it on (BENCHMARKS.md, fifty-first round). At that band the
target's own features (its nose's and cheeks' relief under its usual light, its folds)
are who it is and must not come in; what changes from frame to frame where the coarse
light changes is the light's. So, per track, the target's band and coarse light are
kept as a slow reference, and where the coarse light has moved far from it the band's
change from its reference is added to the face's: the torch's marks on the source's own
relief. Where the light is steady nothing is added; the gate still opened on frames of
several other pairs' targets (not traced), and on self-photo's torch frames the output read
nearer the lit target than the photo, so the compositor leaves it off by default
(`CompositeConfig.follow_light`; BENCHMARKS.md, fifty-second round).

Everything here is at the tone's half size, CIELAB L units.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.color import blur_factor

BAND_DIVISOR = 4.0  # the band between the tone's sigma / this and its sigma (tone.FINE_DIVISOR)
# L units the coarse light may move from the track's reference (beyond the face's even
# gain) unnoticed, and at how many the band's whole change is the light's: on
# self-photo's torch frames (before the even gain and the frame's spread were read;
# easing 0.1) 3 .. 8 took the face SSIM 0.897 -> 0.918, 6 .. 12 to 0.911.
CHANGE_FROM = 3.0
CHANGE_FULL = 8.0
# The reference's share of a steady frame, and of a changed one (so a light that stays on
# becomes the reference in about a hundred frames): 0.1 let the torch's 13-18 lit frames
# into it (SSIM 0.918 against 0.920 at 0.03).
EASING = 0.03
# The gain a whole face takes evenly: its 5th percentile inside the face. The median
# left half the torch's light out where it lights most of the face (self-photo's torch
# frames 0.904 against 0.918; the 10th 0.916, the 2nd moved self-split-webcam and
# self-split-headturn frames, the 5th none).
EVEN_PERCENTILE = 5.0
# The frame's bare skin must be lit unevenly: at its 90th percentile from SPREAD_FROM
# to SPREAD_FULL L (self-photo's torch 7-15 L, the webcam clip's moving head 3-6 L,
# d3's turning head 2-3.4 L).
SPREAD_PERCENTILE = 90.0
SPREAD_FROM = 5.0
SPREAD_FULL = 9.0
# Degrees the head may turn (yaw or pitch) from the reference's pose, and at how many the
# frame takes none: Katie Hill tilting back 15-20 degrees (headturn-woman 28-39) spread
# her bare skin's light 7-10 L, the torch clip's head moves 4-6 degrees.
POSE_FROM = 8.0
POSE_FULL = 12.0
EASING_FLOOR = 0.01


@dataclass(frozen=True)
class LightReference:
    """A track's target light at the tone's half size: its band between sigma /
    BAND_DIVISOR and sigma (`band`) and its low-pass at sigma (`low`), (s, s) L units,
    and the head's pose they were read at, eased alike."""

    band: np.ndarray
    low: np.ndarray
    pose: tuple[float, float]  # the head's yaw and pitch (degrees) it was read at


@dataclass(frozen=True)
class LightChange:
    """`lightness` (s, s) L units to add to the target's base (0 where the light is
    steady; None: nowhere), and the track's reference after this frame."""

    lightness: np.ndarray | None
    reference: LightReference


def light_change(target_lightness: np.ndarray, mask: np.ndarray, weight: np.ndarray,
                 skin: np.ndarray, pose: tuple[float, float], sigma: float,
                 reference: LightReference | None) -> LightChange:
    """The target's band change where its coarse light moved from the track's
    `reference` beyond the face's even gain (`CHANGE_FROM` .. `CHANGE_FULL` L), in a
    frame whose bare `skin` (s, s) is lit unevenly (`SPREAD_FROM` .. `SPREAD_FULL`),
    while the head's `pose` (yaw, pitch in degrees) is within `POSE_FROM` .. `POSE_FULL`
    of the reference's, times `weight` (s, s: where the face is shown whole), and the
    reference eased
    toward this frame where its light did not move. `target_lightness` (s, s) L, `mask`
    (s, s) where the face is measured, `sigma` the tone's low-pass at this size;
    `reference` None: the track's first frame (its own)."""
    low = _masked_plane_blur(target_lightness, mask, sigma)
    band = _masked_plane_blur(target_lightness, mask, sigma / BAND_DIVISOR) - low
    if reference is None or reference.low.shape != low.shape:
        return LightChange(None, LightReference(band, low, pose))
    inner, bare = weight > 0.5, skin > 0.5
    if not inner.any() or not bare.any():
        return LightChange(None, reference)
    # The light's gain on each pixel, and the face's least (a camera's exposure: the
    # webcam clip's face 17-20 L lighter over its first 40 frames, evenly; a torch
    # lights a part of the face and leaves the rest as it was).
    gain = low / np.maximum(reference.low, 1.0)
    even = float(np.percentile(gain[inner], EVEN_PERCENTILE))
    uneven = np.abs(low - reference.low * even)
    # A light that moves over the face moves its bare skin's light unevenly; a head
    # that turns or moves in the crop moves it at the outline, eyes and mouth.
    spread = float(np.percentile(uneven[bare], SPREAD_PERCENTILE))
    frame_share = min(max((spread - SPREAD_FROM) / (SPREAD_FULL - SPREAD_FROM), 0.0), 1.0)
    # A head that turned from the reference's pose moves its own shading in the crop.
    turned = max(abs(pose[0] - reference.pose[0]), abs(pose[1] - reference.pose[1]))
    frame_share *= min(max((POSE_FULL - turned) / (POSE_FULL - POSE_FROM), 0.0), 1.0)
    moved = frame_share * np.clip((uneven - CHANGE_FROM) / (CHANGE_FULL - CHANGE_FROM),
                                  0.0, 1.0).astype(np.float32)
    easing = EASING_FLOOR + (EASING - EASING_FLOOR) * (1.0 - moved)
    eased = LightReference(reference.band + easing * (band - reference.band),
                           reference.low + easing * (low - reference.low),
                           (reference.pose[0] + EASING * (pose[0] - reference.pose[0]),
                            reference.pose[1] + EASING * (pose[1] - reference.pose[1])))
    share = moved * weight
    if not share.any():
        return LightChange(None, eased)
    # The band's change beyond its reference under the new light's gain: the light's
    # own marks, not the target's features brightened.
    return LightChange((share * (band - reference.band * gain)).astype(np.float32), eased)


def _masked_plane_blur(plane: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """`color.masked_blur` of one (s, s) plane: its Gaussian average over `mask` only,
    computed at the reduced size `blur_factor` gives."""
    size = plane.shape[0]
    small = max(8, size // blur_factor(sigma))
    weighted: np.ndarray = (plane * mask).astype(np.float32)
    weights: np.ndarray = mask.astype(np.float32)
    if small != size:
        weighted = cv2.resize(weighted, (small, small), interpolation=cv2.INTER_AREA)
        weights = cv2.resize(weights, (small, small), interpolation=cv2.INTER_AREA)
    small_sigma = sigma * small / size
    blurred: np.ndarray = (cv2.GaussianBlur(weighted, (0, 0), small_sigma)
                           / (cv2.GaussianBlur(weights, (0, 0), small_sigma) + 1e-6))
    if small != size:
        blurred = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
    return blurred
