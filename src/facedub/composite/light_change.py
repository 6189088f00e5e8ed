"""The target's light as it changes: a torch sweeping over the face.

The compositor's tone (`tone.carry_detail`) takes the target's light only coarser than
its split (a 16th of the crop) and the source's detail finer, so a moving light's finer
marks (the nose's cast shadow across the cheek, the lit nose tip, the lit / dark split
down the chin) were the source's flat photo light: self-photo's face SSIM 0.95-0.96 with
the torch off, 0.88-0.90 with it on (BENCHMARKS.md, fifty-first round). At that band the
target's own features (its nose's and cheeks' relief under its usual light, its folds)
are who it is and must not come in; what changes from frame to frame where the coarse
light changes is the light's. So, per track, the target's band and coarse light of its
last frames are kept, the usual light read from the darkest of them (this frame
included), and where the coarse light has moved far from it the band's change from it
is added to the face's: the torch's marks on the source's own relief, off the features
the source owns (brows, eyes, lips, nostrils). Only a light that is added: a frame whose
bare skin rose in mean light by about as much as it is lit unevenly; a camera's exposure
(an even rise, bent a little by its tone curve) and a head's own shading moved by a tilt
or a turn are not followed (BENCHMARKS.md, fifty-fourth round).

The usual light is read from the last `REFERENCE_FRAMES` frames only, so a segment's
pre-roll (`batch.chunks.PREROLL_FRAMES`, at least as long) brings a segmented or resumed
render to the unsplit one's; and from the darkest of them, this frame included, so a
track that starts under the torch takes its first unlit frame as its usual light at once
(an eased reference took the lit start as usual and put the torch's marks inverted on
the unlit frames after it; BENCHMARKS.md, fifty-third round).

Reading the usual light from the darkest frames follows only a light that is added (a
torch, a lamp switched on): a light that dims (a passing shadow, a cloud) makes the
frame the darkest, so it is the usual light itself and nothing is added; issue 9's
shadows are not followed. The window counts the track's composited frames, not the
video's: a frame with no bare skin (`light_change` returns the history unchanged) or with
no face is not added, so on a track with such gaps the window reaches back further than
`REFERENCE_FRAMES` video frames, a segment's pre-roll may not cover it, and a segmented
render there may differ from the unsplit one.

Everything here is at the tone's half size, CIELAB L units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.color import blur_factor
from facedub.faces.regions import mesh_regions

BAND_DIVISOR = 4.0  # the band between the tone's sigma / this and its sigma (tone.FINE_DIVISOR)
# L units the coarse light may move from the track's reference (beyond the face's even
# gain) unnoticed, and at how many the band's whole change is the light's: on
# self-photo's torch frames (before the even gain and the frame's spread were read;
# easing 0.1) 3 .. 8 took the face SSIM 0.897 -> 0.918, 6 .. 12 to 0.911.
CHANGE_FROM = 3.0
CHANGE_FULL = 8.0
# The frames the usual light is read from, this one included: within the batch's pre-roll
# (30 frames), so a segment's render is the unsplit one's.
REFERENCE_FRAMES = 30
# ... from those whose bare skin's mean light is within this of the darkest's (a torch
# adds light: the torch clip's unlit frames 22.4-24.5 L, its lit ones 26-42).
DARKEST_WITHIN = 1.5
# A light that stays on becomes the usual light when the last frame before it leaves the
# window; its marks fade out over the frames before that (the reference's newest frame
# from this many frames old to the window's end), so nothing jumps.
FADE_FROM_AGE = 20
# The gain a whole face takes evenly: its 5th percentile inside the face. The median
# left half the torch's light out where it lights most of the face (self-photo's torch
# frames 0.904 against 0.918; the 10th 0.916, the 2nd moved self-split-webcam and
# self-split-headturn frames, the 5th none).
EVEN_PERCENTILE = 5.0
# The frame's bare skin must be lit unevenly: at its 90th percentile from SPREAD_FROM
# to SPREAD_FULL L (self-photo's torch 7-15 L, the webcam clip's moving head 3-6 L,
# d3's turning head 2-3.4 L). From 5.5, not 5: hair-band-photo's swaying head read 5.0
# on one frame, the torch's faintest frames 5.7-6.3 (they add under half a level).
SPREAD_PERCENTILE = 90.0
SPREAD_FROM = 5.5
SPREAD_FULL = 9.0
# That spread over the bare skin's rise in mean light from the usual light's: a torch
# adds light, 0.92-2.87 times as uneven as it raises the face's mean (self-photo's
# torch frames). A camera's exposure raises the face evenly and its tone curve bends a
# 14-23 L rise by 5-6 L (the webcam clip's first seconds: 0.23-0.42); a head that tilts
# or turns moves its shading about, its mean hardly (occlusion-mic 36-39: 4.1-10.9, d3
# turning 3.5-7.1). Followed from RISE_FROM to RISE_FULL, and back to none from
# MOVED_FROM to MOVED_FULL.
RISE_FROM = 0.5
RISE_FULL = 0.8
MOVED_FROM = 3.0
MOVED_FULL = 4.0
# Degrees the head may turn (yaw or pitch) from the pose of every frame the usual light
# is read from, and at how many the frame takes none: Katie Hill tilting back 15-20
# degrees (headturn-woman 28-39) spread her bare skin's light 7-10 L, the torch clip's
# head moves up to 7.5 degrees from the farthest. Every frame's, not their mean's: d3
# turning 16 degrees is 4-9 from the mean of the frames across her turn and still 12-17
# from the farthest of them, whose shading lies elsewhere in the crop (border-photo,
# ball-photo 22-26).
POSE_FROM = 8.0
POSE_FULL = 12.0
# Where the face's measured share round a pixel (the mask's Gaussian average at sigma)
# changed from the reference's by this much, nothing is added, and from this much on
# none: an occluder that moved (a hand rising to the chin, occlusion-mic 36-39) moved
# the masked low-pass and band at its edge, and its edge came in as a light's mark, a
# pale crescent up to 84 levels on the chin.
COVERAGE_FROM = 0.02
COVERAGE_FULL = 0.08
# The features the source owns (`owned_features`): their outlines grown this share of
# the crop, and softened over this share (Gaussian sigma).
FEATURE_GROW = 1 / 96
FEATURE_SOFT = 1 / 64
# The nostrils without the nose tip (4): its lit tip is the torch's.
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 48, 64)
# L* + this is the cube root of luminance (up to a factor): a light's gain on a pixel's
# luminance is a gain on its L* + 16, whatever its reflectance.
LIGHT_OFFSET = 16.0


@dataclass(frozen=True)
class LightFrame:
    """One frame's target light at the tone's half size: its band between sigma /
    BAND_DIVISOR and sigma (`band`) and its low-pass at sigma (`low`), (s, s) L units
    (float16: a track keeps REFERENCE_FRAMES of them), the head's pose (yaw, pitch in
    degrees), `level`, the mean of `low` on its bare skin, and `coverage` (s, s), the
    mask's Gaussian average at sigma (how much of the face `low` was measured on)."""

    band: np.ndarray
    low: np.ndarray
    pose: tuple[float, float]
    level: float
    coverage: np.ndarray


@dataclass(frozen=True)
class LightChange:
    """`lightness` (s, s) L units to add to the target's base (0 where the light is
    steady; None: nowhere), and the track's last frames after this one (oldest first, at
    most REFERENCE_FRAMES - 1: the next frame's window with it)."""

    lightness: np.ndarray | None
    history: tuple[LightFrame, ...]


def light_change(target_lightness: np.ndarray, mask: np.ndarray, weight: np.ndarray,
                 skin: np.ndarray, owned: np.ndarray, pose: tuple[float, float],
                 sigma: float, history: tuple[LightFrame, ...],
                 owned_brows: np.ndarray | None = None) -> LightChange:
    """The target's band change from the track's usual light (`usual_light` of
    `history` and this frame) where its coarse light moved from it beyond the face's even
    gain (`CHANGE_FROM` .. `CHANGE_FULL` L), in a frame whose bare `skin` (s, s) is lit
    unevenly (`SPREAD_FROM` .. `SPREAD_FULL`) by about as much as its mean light rose
    (`RISE_FROM` .. `MOVED_FULL` times: a light added, not an exposure nor a head's own
    shading moved), while the head's `pose` (yaw, pitch in degrees) is within
    `POSE_FROM` .. `POSE_FULL` of every reference frame's, times `weight`
    (s, s: where the face is shown whole), 1 - `owned` (s, s: the source's own features,
    `owned_features`), and as far as the face was measured round each pixel as in the
    reference (`COVERAGE_FROM` .. `COVERAGE_FULL`). `target_lightness` (s, s) L, `mask`
    (s, s) where the face is measured, `sigma` the tone's low-pass at this size;
    `history` empty: the track's first frame.
    On `owned_brows` (s, s: the brows' part of `owned`; None: none), where the band's
    change is kept off, the light's gain at the band's finer scale is taken instead
    (`_brows_lift`): the torch's light on the source's own brows, not the target's."""
    low = _masked_plane_blur(target_lightness, mask, sigma)
    band = _masked_plane_blur(target_lightness, mask, sigma / BAND_DIVISOR) - low
    inner, bare = weight > 0.5, (skin > 0.5) & (weight > 0.5)
    if not bare.any():
        return LightChange(None, history)
    coverage = _masked_plane_blur(mask, np.ones_like(mask), sigma)
    frame = LightFrame(band.astype(np.float16), low.astype(np.float16), pose,
                       float(low[bare].mean()), coverage.astype(np.float16))
    kept = (*history, frame)[-(REFERENCE_FRAMES - 1):]
    if not history or history[-1].low.shape != low.shape:
        return LightChange(None, (frame,))
    chosen, age = usual_light((*history, frame))
    if age == 0:  # this frame is as dark as the darkest: its light is the usual one
        return LightChange(None, kept)
    reference_low = np.mean([f.low for f in chosen], axis=0, dtype=np.float32)
    # The light's gain on each pixel, and the face's least (a camera's exposure: the
    # webcam clip's face 17-20 L lighter over its first 40 frames, evenly; a torch
    # lights a part of the face and leaves the rest as it was).
    gain = low / np.maximum(reference_low, 1.0)
    even = float(np.percentile(gain[inner], EVEN_PERCENTILE))
    uneven = np.abs(low - reference_low * even)
    # A light that moves over the face moves its bare skin's light unevenly; a head
    # that turns or moves in the crop moves it at the outline, eyes and mouth.
    spread = float(np.percentile(uneven[bare], SPREAD_PERCENTILE))
    frame_share = _ramp(spread, SPREAD_FROM, SPREAD_FULL)
    # A light added raises the face's mean light by about its unevenness; an exposure
    # raises it far more, a head's own shading moved hardly at all.
    rise = frame.level - float(np.mean([f.level for f in chosen]))
    uneven_per_rise = spread / rise if rise > 0.0 else np.inf
    frame_share *= (_ramp(uneven_per_rise, RISE_FROM, RISE_FULL)
                    * (1.0 - _ramp(uneven_per_rise, MOVED_FROM, MOVED_FULL)))
    # A head that turned from any reference frame's pose moves its own shading in the crop.
    turned = float(np.abs(np.asarray(pose) - np.array([f.pose for f in chosen])).max())
    frame_share *= 1.0 - _ramp(turned, POSE_FROM, POSE_FULL)
    # A light that stayed on: its marks fade before it becomes the usual light.
    frame_share *= 1.0 - _ramp(age, FADE_FROM_AGE, REFERENCE_FRAMES - 1)
    # Where an occluder or the frame's edge moved the face's measured share, the low-pass
    # and band there moved with it, not with the light.
    reference_coverage = np.mean([f.coverage for f in chosen], axis=0, dtype=np.float32)
    measured_alike = 1.0 - np.clip((np.abs(coverage - reference_coverage) - COVERAGE_FROM)
                                   / (COVERAGE_FULL - COVERAGE_FROM), 0.0, 1.0)
    followed = (frame_share * np.clip((uneven - CHANGE_FROM) / (CHANGE_FULL - CHANGE_FROM),
                                      0.0, 1.0) * weight * measured_alike).astype(np.float32)
    share = followed * (1.0 - owned)
    brows = None if owned_brows is None else followed * owned_brows
    if not share.any() and (brows is None or not brows.any()):
        return LightChange(None, kept)
    # The band's change beyond its reference under the new light's gain: the light's
    # own marks, not the target's features brightened.
    reference_band = np.mean([f.band for f in chosen], axis=0, dtype=np.float32)
    lightness = share * (band - reference_band * gain)
    if brows is not None:
        # (np.asarray: np.mean's result typed as an array, which it is here)
        lightness += brows * _brows_lift(low, band, np.asarray(reference_low),
                                         np.asarray(reference_band))
    return LightChange(lightness.astype(np.float32), kept)


def _brows_lift(low: np.ndarray, band: np.ndarray, reference_low: np.ndarray,
                reference_band: np.ndarray) -> np.ndarray:
    """L units the base under the owned brows takes beyond `low` (the coarse light it has
    already): the usual coarse light `reference_low` under the light's gain at the band's
    finer scale. The torch lights the brow ridge more than the coarse light says (its
    band's change), and the brows the source owns keep the band's change off (on
    self-photo's torch frames the output's brow hair 6.2 L darker than the target's, the
    skin round it as light; BENCHMARKS.md, fifty-sixth round)."""
    # The gain on a pixel's L* + 16 (`low` + `band` over their usual values): the target's
    # own reflectance cancels in it as long as its brows sit where they sat in the usual
    # frames; a brow raise under the light moves the band at the brows' edges and reads as
    # light there (the frame's gate, `followed`, is all that limits it).
    fine_gain = ((low + band + LIGHT_OFFSET)
                 / np.maximum(reference_low + reference_band + LIGHT_OFFSET, 1.0))
    lift: np.ndarray = (reference_low + LIGHT_OFFSET) * fine_gain - (low + LIGHT_OFFSET)
    return lift


def usual_light(frames: Sequence[LightFrame]) -> tuple[list[LightFrame], int]:
    """The `frames` (oldest first, the current one last) whose `level` is within
    DARKEST_WITHIN of the darkest's, and the newest of them's age in frames (0: the
    current one)."""
    darkest = min(frame.level for frame in frames)
    chosen = [n for n, frame in enumerate(frames) if frame.level <= darkest + DARKEST_WITHIN]
    return [frames[n] for n in chosen], len(frames) - 1 - chosen[-1]


def owned_features(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the brows, eyes, lips and nostrils (not the nose
    tip) of `face_landmarks` (478, 2+, in pixels of a crop `size` wide), grown
    FEATURE_GROW of the crop and softened."""
    regions = mesh_regions()
    return _owned(face_landmarks, size, (regions.left_eyebrow, regions.right_eyebrow,
                                         regions.left_eye, regions.right_eye,
                                         regions.lips_outer, np.array(NOSTRILS)))


def owned_brows(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """`owned_features`' brows alone."""
    regions = mesh_regions()
    return _owned(face_landmarks, size, (regions.left_eyebrow, regions.right_eyebrow))


def _owned(face_landmarks: np.ndarray, size: int, groups: Sequence[np.ndarray]
           ) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the hulls of `groups` of `face_landmarks`' points,
    grown FEATURE_GROW of the crop and softened."""
    points = np.asarray(face_landmarks)[:, :2]
    features = np.zeros((size, size), np.uint8)
    for group in groups:
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(points[group]).astype(np.int32)), 1)
    grow = max(1, round(size * FEATURE_GROW))
    grown = cv2.dilate(features, cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))).astype(np.float32)
    soft: np.ndarray = cv2.GaussianBlur(grown, (0, 0), max(0.5, size * FEATURE_SOFT))
    return soft


def _ramp(value: float, start: float, full: float) -> float:
    """0 at or below `start`, 1 at or above `full`, linear between."""
    return min(max((value - start) / (full - start), 0.0), 1.0)


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
