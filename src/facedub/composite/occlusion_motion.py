"""What moves unlike the face: a cue for hands over the face (see
facedub.composite.occlusion), where colour fails (skin over skin).

Consecutive frames of a track are compared in the face's canonical crop (64 px, CIELAB),
the previous one warped by the landmarks' own motion (talking moves the lips and the jaw,
and the landmarks follow them), with a pixel of slack for the landmarks' jitter. What is
left is what the mesh does not explain: a hand sweeping across the face, fingers moving
over the chin. A region of it counts when it is large enough, lies mostly outside the
eyes, brows and mouth, and reaches in across the face's outline (`from_outside`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import cv2
import numpy as np

from facedub.composite.occlusion_objects import FaceZones, face_zones
from facedub.faces.glasses_cues import eyes_and_brows, order_median
from facedub.faces.masks import face_mask

# A pixel moves unlike the face when it differs from the previous frame's (warped by the
# mesh, within a pixel) by MOTION_LEVEL (CIELAB, L* halved: light flickers) or more.
MOTION_LEVEL = 8.0
LIGHTNESS_WEIGHT = 0.5
# A moving region counts with MOTION_AREA of the crop or more outside the eyes, brows and
# mouth (grown by MOTION_MARGIN of the crop), where the mesh moves itself.
MOTION_AREA, MOTION_MARGIN = 0.0025, 0.03
# Moving pixels that fill MOTION_DENSITY of a DENSITY_BOX square around a pixel make a
# region (a line through it fills 1 / DENSITY_BOX of it).
MOTION_DENSITY, DENSITY_BOX = 0.25, 5
# ... and DEEP of the crop inside the outline, OUTSIDE_AREA of it beyond the outline.
DEEP, OUTSIDE_AREA = 0.06, 0.002
# ... or, WIDE_AREA of the crop inside the face (less on the eyes, brows and mouth than
# off them), only SHALLOW_AREA of it that deep.
SHALLOW_AREA, WIDE_AREA = 0.001, 0.005
# A held region whose pixels changed by this (median) since has moved on.
STILL_LEVEL = 3.0
FLOW_SIGMA = 0.04  # the mesh's motion is spread from the landmarks by this share of the crop


def mesh_flow(points: np.ndarray, previous: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 2) float32: where each pixel of the current crop was in the previous
    one, from the landmarks' motion (`points` now, `previous` then, in the crop's pixels),
    spread smoothly between them; no motion far from any landmark."""
    motion = (np.asarray(previous)[:, :2] - np.asarray(points)[:, :2]).astype(np.float32)
    at = np.clip(np.round(points[:, :2]).astype(int), 0, size - 1)
    summed = np.zeros((size, size, 2), np.float32)
    np.add.at(summed, (at[:, 1], at[:, 0]), motion)
    # The landmarks in each pixel, counted (whole numbers: the same float32 values as
    # adding 1.0 at each, which NumPy's add.at does several times slower).
    weight = np.bincount(at[:, 1] * size + at[:, 0], minlength=size * size
                         ).reshape(size, size).astype(np.float32)
    sigma = FLOW_SIGMA * size
    spread = np.asarray(cv2.GaussianBlur(summed, (0, 0), sigma))
    density = np.asarray(cv2.GaussianBlur(weight, (0, 0), sigma))
    flow = spread / np.maximum(density, 1e-4)[..., None]
    # Far from the landmarks (beyond the face) the weight fades, and the motion with it.
    fade = np.clip(density / (0.5 * float(density.max()) + 1e-6), 0.0, 1.0)
    flow *= fade[..., None]  # in place: float32 already, the values of the product
    return flow.astype(np.float32, copy=False)


def motion_residual(lab: np.ndarray, points: np.ndarray, previous_lab: np.ndarray,
                    previous_points: np.ndarray) -> np.ndarray:
    """(R, R) float32: how far each pixel of `lab` (R, R, 3) lies outside the range of the
    previous frame's 3x3 neighbourhood there, once warped by `mesh_flow`."""
    size = lab.shape[0]
    flow = mesh_flow(points, previous_points, size)
    rows, columns = _pixel_grid(size)
    # The crops are float32 already (CIELAB): read as they are, not copied.
    warped = cv2.remap(np.asarray(previous_lab, np.float32), columns + flow[..., 0],
                       rows + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    kernel = np.ones((3, 3), np.uint8)
    current = np.asarray(lab, np.float32)
    beyond = np.maximum(0.0, np.maximum(current - cv2.dilate(warped, kernel),
                                        cv2.erode(warped, kernel) - current))
    return (LIGHTNESS_WEIGHT * beyond[..., 0] + beyond[..., 1] + beyond[..., 2]
            ).astype(np.float32, copy=False)


@functools.cache
def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(size, size) float32 rows and columns of every pixel (made once a size)."""
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float32)
    rows.flags.writeable = False  # cached and shared: read only
    columns.flags.writeable = False
    return rows, columns


class Moved(NamedTuple):
    """`regions` (R, R) float32 in {0, 1}: what moved unlike the face, in front of it;
    `residual` (R, R) float32: how far every pixel moved unlike the face (see
    `motion_residual`)."""

    regions: np.ndarray
    residual: np.ndarray


def still_regions(held: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """`held` (R, R), marks of what moved in earlier frames, without those whose pixels
    changed since (their median `residual` STILL_LEVEL or more): a hand that paused, or a
    frame the clip repeats, stays; where it moved on, its old place is the face again."""
    count, labels = cv2.connectedComponents((held > 0).astype(np.uint8), connectivity=8)
    if count <= 1:
        return held
    order = np.argsort(labels, axis=None, kind="stable")
    bounds = np.searchsorted(labels.ravel()[order], np.arange(count + 1))
    flat = residual.ravel()[order]
    # `np.median`'s values, without its argument handling (`order_median`).
    still = np.array([True] + [float(order_median(flat[bounds[k]:bounds[k + 1]]))
                               < STILL_LEVEL for k in range(1, count)])
    return np.where(still[labels], held, 0.0).astype(np.float32)


def moving_objects(lab: np.ndarray, points: np.ndarray, previous_lab: np.ndarray,
                   previous_points: np.ndarray, shown: np.ndarray,
                   zones: FaceZones | None = None) -> Moved:
    """Regions of the face in `lab` (R, R, 3) that moved unlike the face since
    `previous_lab` (see `motion_residual`), with `points` and `previous_points` the
    landmarks in their pixels; `shown` (R, R) bool, the pixels inside the frame;
    `zones` the frame's `face_zones`, when already made."""
    size = lab.shape[0]
    if zones is None:
        zones = face_zones(points, size, shown)
    # The oval is 0 or 255: over half of 255 where it is not 0.
    face = zones.whole & shown
    # Judged a little beyond the outline too: a hand's edges there make it a region.
    near = cv2.dilate(face.astype(np.uint8), np.ones((DENSITY_BOX, DENSITY_BOX), np.uint8))
    residual = motion_residual(lab, points, previous_lab, previous_points)
    moved = (residual > MOTION_LEVEL) & (near > 0) & shown
    none = np.zeros((size, size), np.float32)
    if not (moved & face).any():
        return Moved(none, residual)
    # A moving hand leaves many such pixels close together (its fingers' edges, its
    # smear); the landmarks' jitter leaves thin lines along the face's own edges.
    density = cv2.blur(moved.astype(np.float32), (DENSITY_BOX, DENSITY_BOX))
    blobs = ((density >= MOTION_DENSITY) & (near > 0) & shown).astype(np.uint8)
    count, labels = cv2.connectedComponents(blobs, connectivity=8)
    if count <= 1:
        return Moved(none, residual)
    margin = max(1, round(MOTION_MARGIN * size))
    features = eyes_and_brows(points, size, grow=margin) | cv2.dilate(
        zones.mouth.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)).astype(bool)
    # A hand moves inside the face (beyond a strip along its outline, which a quick head
    # turn moves more than the mesh says) and beyond the outline as well (its wrist, the
    # rest of its fingers); light sweeping over the cheeks moves inside only.
    erode = max(1, round(DEEP * size))
    deep = (zones.inner if zones.erode == erode
            else face_mask(points, size, forehead=False, erode=erode) > 0.5)
    area = np.bincount(labels[deep & ~features & (blobs > 0)], minlength=count)
    inside = np.bincount(labels[face & ~features & (blobs > 0)], minlength=count)
    on_features = np.bincount(labels[features & (blobs > 0)], minlength=count)
    out = np.bincount(labels[(near > 0) & ~face & (blobs > 0)], minlength=count)
    pixels = size * size
    # Fingers held at the chin's edge move little, and barely deep inside; a region of
    # that kind mostly over the mouth is as likely the mouth coming out from behind a
    # hand that moved on (clip 11's stage shot, frame 53) and does not count.
    shallow = ((area >= SHALLOW_AREA * pixels) & (inside >= WIDE_AREA * pixels)
               & (on_features <= inside))
    keep = ((area >= MOTION_AREA * pixels) | shallow) & (out >= OUTSIDE_AREA * pixels)
    keep[0] = False
    # The smear of a fast hand leaves gaps where it is even; it covers them all the same.
    kept = cv2.morphologyEx(keep[labels].astype(np.uint8), cv2.MORPH_CLOSE,
                            np.ones((3, 3), np.uint8))
    return Moved((kept & face).astype(np.float32), residual)
