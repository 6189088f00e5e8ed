"""Whether a target's eyes are made up: the gate of `tone._bare_eye_bases`.

A made-up target's liner, lashes and violet eye shadow, averaged into its colour base
round the eyes, were a grey-blue band from the brows to under the eyes of a face without
them (expr-shouting: d10's base there L 60-65, b 13-17, her cheeks L 72, b 24). Moving
that base to her bare skin (`tone._bare_eye_base`) takes 2.8-2.9 ms a photo frame, and
on faces without make-up it moved pixels at the threshold of every photo pair's
likeness for nothing (BENCHMARKS.md, thirty-sixth round). So it runs only on an eye this
gate finds made up, read once per eye per frame on a small copy of the target.

A liner and made-up lashes are far darker than the face's cheek and bluer than its skin's
colour at their lightness: b under what the cheek's b / (L* + 16) gives there
(`yellowness`: L* + 16 goes as the cube root of luminance, as a and b do, so a shadow
lowers both alike and leaves it; a liner, lashes or a violet shadow lower b the more).
Each eye's band (its lid up to the brow and the skin round its opening; the opening,
brows and nose left out) is read against the cheek under it (its median lightness and
yellowness, the same light): the share of the band that is such. Natural lashes at this
scale are a thin line mixed with skin (0-1.3% of a band), a shadowed socket is as yellow
for its lightness as the cheek, a glasses lens's violet coating is not as dark; d10's
liner wings and lash lines are 16-23%. The median yellowness alone did not tell them
apart: a webcam man's lids under a warm lamp were as far under his cheek's (0.73-0.80)
as d10's made-up band (0.73-0.84)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.regions import mesh_regions

# Each eye's cheek, under it (mesh indices: the person's left, then right): the skin from
# under the lower lid's band to the nostril's height, the nose and the jaw's edge out.
CHEEKS = ((345, 346, 347, 348, 349, 329, 371, 266, 425, 411, 376, 352),
          (116, 117, 118, 119, 120, 100, 142, 36, 205, 187, 147, 123))
# Measured at this share of the crop (a 448 px crop: 112 px; a band of ~250 pixels).
GATE_SCALE = 1 / 4
# The band round the opening: grown this share of the crop (as `tone.SURROUND_GROW`).
BAND_GROW = 1 / 16
# A band pixel is liner or lashes where it is over MAKEUP_BLUE b units bluer than its
# cheek's yellowness gives at its lightness and over MAKEUP_DARK L units darker than the
# cheek; an eye is made up as far as over MADE_UP_FROM of its band is such, fully from
# MADE_UP_FULL (see `eye_makeup`'s measurements: between the bare targets' most, 0.067,
# and d10's least, 0.156). Less dark, a glasses lens's violet coating over the lid counted
# too (expr-smile-older's target: 0.21 of a band at 8 L).
MAKEUP_BLUE = 5.0
MAKEUP_DARK = 25.0
MADE_UP_FROM = 0.09
MADE_UP_FULL = 0.12
# Under this many pixels in a band or cheek (a face turned away, an eye off the crop),
# nothing is read: not made up.
GATE_PIXELS = 12


@dataclass(frozen=True)
class EyeMakeup:
    """Per eye (the person's left, then right): the share of its band that is make-up
    (`shares`, 0 where unread) and how far it is made up (`strengths` in [0, 1], 0: the
    eye's base is left as it is)."""

    shares: tuple[float, float]
    strengths: tuple[float, float]

    @property
    def any(self) -> bool:
        return max(self.strengths) > 0.0


def yellowness(lab: np.ndarray) -> np.ndarray:
    """b over L + 16 (float32, the last axis Lab)."""
    yellow: np.ndarray = (lab[..., 2] / (lab[..., 0] + 16.0)).astype(np.float32)
    return yellow


def eye_makeup(target_lab: np.ndarray, face_landmarks: np.ndarray, size: int) -> EyeMakeup:
    """Whether each eye of the target is made up. `target_lab` (s, s, 3) CIELAB float32,
    the target crop at any size (the compositor's half-size copy), `face_landmarks` at
    the crop's `size`.

    Read at GATE_SCALE of the crop in the box round the eyes, brows and cheeks only
    (0.3-0.4 ms a frame on a loaded machine). Measured (each eye's share of liner and
    lashes, every frame of the 40-frame photo pairs): d10 (expr-shouting's target; her
    liner's wings and lash lines) 0.156-0.232; the other photo pairs' targets 0.000-0.013
    but one low-resolution frame of occlusion-smoke-hand's at 0.067 (BENCHMARKS.md,
    thirty-seventh round)."""
    small = max(16, round(size * GATE_SCALE))
    regions = mesh_regions()
    landmarks = np.asarray(face_landmarks)[:, :2]
    # Only the box round the eyes, brows and cheeks is read (a sixth of the crop).
    read = landmarks[_read_points()]
    scale = target_lab.shape[0] / size  # the copy's pixels per crop pixel
    grow = max(1, round(small * BAND_GROW))
    margin = (grow + 2) * size / small
    left, top = (np.floor((read.min(axis=0) - margin) * scale)).astype(int).clip(0)
    right, bottom = (np.ceil((read.max(axis=0) + margin) * scale)).astype(int).clip(
        0, target_lab.shape[:2][::-1])
    if bottom - top < 4 or right - left < 4:
        return EyeMakeup(shares=(0.0, 0.0), strengths=(0.0, 0.0))
    shape = (max(4, round((right - left) * small / target_lab.shape[0])),
             max(4, round((bottom - top) * small / target_lab.shape[0])))
    image = cv2.resize(target_lab[top:bottom, left:right], shape, interpolation=cv2.INTER_AREA)
    # The landmarks in the box's pixels at the gate's scale.
    points = ((landmarks - np.array([left, top]) / scale)
              * np.array([shape[0] / (right - left), shape[1] / (bottom - top)]) * scale)
    height, width = image.shape[:2]
    brows = [_hull(points[brow], (height, width), 1) for brow in (regions.left_eyebrow,
                                                                   regions.right_eyebrow)]
    nose = _hull(points[regions.nose], (height, width), 1)
    shares = []
    for eye, brow, cheek in ((regions.left_eye, regions.left_eyebrow, CHEEKS[0]),
                             (regions.right_eye, regions.right_eyebrow, CHEEKS[1])):
        outline = [np.round(points[eye]).astype(np.int32)]
        lid = _hull(np.concatenate([points[eye], points[brow]]), (height, width), 0)
        around = _grown_polygon(outline, (height, width), grow)
        inside = _grown_polygon(outline, (height, width), 1)
        band = (lid | around) & ~inside & ~brows[0] & ~brows[1] & ~nose
        skin = _hull(points[list(cheek)], (height, width), 0) & ~nose & ~around
        if int(band.sum()) < GATE_PIXELS or int(skin.sum()) < GATE_PIXELS:
            shares.append(0.0)
            continue
        pixels, cheek_pixels = image[band], image[skin]
        lightness = _median(cheek_pixels[:, 0])
        blue = _median(yellowness(cheek_pixels)) * (pixels[:, 0] + 16.0) - pixels[:, 2]
        shares.append(float(np.mean((blue > MAKEUP_BLUE)
                                    & (pixels[:, 0] < lightness - MAKEUP_DARK))))
    strengths = [min(1.0, max(0.0, (share - MADE_UP_FROM) / (MADE_UP_FULL - MADE_UP_FROM)))
                 for share in shares]
    return EyeMakeup(shares=(shares[0], shares[1]), strengths=(strengths[0], strengths[1]))


@functools.cache
def _read_points() -> np.ndarray:
    """The mesh points whose box `eye_makeup` reads: the eyes, brows and cheeks."""
    regions = mesh_regions()
    return np.concatenate([regions.left_eye, regions.right_eye, regions.left_eyebrow,
                           regions.right_eyebrow, *[list(cheek) for cheek in CHEEKS]])


def _median(values: np.ndarray) -> float:
    """The median of a few hundred values (the upper one of an even count): one partition,
    without `np.median`'s generality (a tenth of the gate's time)."""
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


def _hull(points: np.ndarray, shape: tuple[int, int], grow: int) -> np.ndarray:
    """(rows, columns) bool: the points' convex hull, grown `grow` pixels."""
    return _grown_polygon([cv2.convexHull(np.round(points).astype(np.int32))], shape, grow)


def _grown_polygon(polygon: list[np.ndarray], shape: tuple[int, int], grow: int
                   ) -> np.ndarray:
    """(rows, columns) bool: the filled `polygon` (int32 points) grown `grow` pixels: its
    outline drawn 2 `grow` + 1 wide (round-ended strokes: a disc's dilation, at a tenth
    of `cv2.dilate`'s cost on these small masks under a loaded machine)."""
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, polygon, 1)
    if grow > 0:
        cv2.polylines(mask, polygon, True, 1, thickness=2 * grow + 1)
    grown: np.ndarray = mask > 0
    return grown
