"""What covers the face in the target stays in front of the swapped face.

Two sources, both in the pixels of the target's aligned crop:

- `OcclusionMasks`: OccluderNet (facedub.models.occluder), a small network trained on face
  crops with hands, glasses frames, microphones, cups, pens and hair drawn over them
  (tools/train_occluder.py). The crop is warped to the net's canonical 128 px face, the
  result (64 px) warped back and eased over time per track, so a still occluder does not
  flicker while a moving one is followed at once. Glasses lenses are not occluders: the
  swapped eyes show through them, and `lens_highlights` puts the target's reflections back
  on top.
- `edge_occluders`: hair, fringes and hats at the forehead and temples. The mask reaches
  above the landmark oval towards the hairline and out to the temples, but hair often
  falls there, on the target (pasting skin over a fringe is a giveaway) and on the source
  (its sideburns pasted onto the target's temples are another). In that outer zone, pixels
  that do not look like the face's own skin (a colour model from its cheeks and nose) are
  left out of the swap.
"""

from __future__ import annotations

import importlib.resources
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from safetensors.torch import load_file

from facedub.align import template_in_crop
from facedub.composite.color import to_lab
from facedub.errors import FacedubError
from facedub.faces.regions import mesh_regions
from facedub.geometry import umeyama
from facedub.models.occluder import OCCLUDER_OUT, OCCLUDER_RES, OccluderNet, occluder_onnx

log = logging.getLogger(__name__)

OCCLUSION_MODES = ("auto", "off")
WEIGHTS_FILE = "occluder.safetensors"
# The net's probability is mapped to an occlusion alpha by this ramp; below 0.5, so that
# an occluder's soft edge stays in front rather than being swapped over.
RAMP_LOW, RAMP_HIGH = 0.25, 0.55
# Easing: a pixel whose probability moves by EASE_FULL or more follows at once (a moving
# hand); smaller changes (the net's frame-to-frame noise) are eased by EASE_MIN at least.
EASE_MIN, EASE_FULL = 0.3, 0.35
MAX_GAP_SECONDS = 0.25  # a longer gap (a cut, the face lost) starts the easing afresh
GLASSES_FRAME_SHARE = 0.08  # mean occlusion in the ring around the eyes that means frames
REFLECTION_THRESHOLD = 8.0  # luminance above the lens's surroundings that is a reflection


def occluder_weights() -> Path:
    """The shipped OccluderNet weights (inside the package: nothing is downloaded)."""
    return Path(str(importlib.resources.files("facedub") / "data" / WEIGHTS_FILE))


class OcclusionModel(Protocol):
    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        """(128, 128, 3) uint8 RGB canonical crop -> (64, 64) float32 in [0, 1]."""
        ...


class OccluderModel:
    """OccluderNet on onnxruntime, one thread (the swap runs its stages on the others).

    `probabilities(canonical)` takes (128, 128, 3) uint8 RGB aligned to the template at
    the "whole" coverage and returns (64, 64) float32 in [0, 1].
    """

    def __init__(self, weights: Path | None = None) -> None:
        import onnxruntime as ort  # only the occlusion mask needs it here

        path = weights or occluder_weights()
        if not path.is_file():
            raise FacedubError(f"{path}: occluder weights missing; reinstall facedub, or "
                               "swap with --occlusion off")
        net = OccluderNet()
        missing, unexpected = net.load_state_dict(load_file(str(path)), strict=False)
        if unexpected or [name for name in missing if "num_batches" not in name]:
            raise FacedubError(f"{path}: not OccluderNet weights; reinstall facedub")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(occluder_onnx(net.eval()), options,
                                             providers=["CPUExecutionProvider"])

    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        batch = canonical.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        (logits,) = self._session.run(None, {"image": batch})
        return (1.0 / (1.0 + np.exp(-logits[0, 0]))).astype(np.float32)


def canonical_from_crop(face_landmarks: np.ndarray) -> np.ndarray:
    """2x3 similarity from a face crop's pixels to OccluderNet's 128 px canonical crop,
    fitted on the rigid landmarks like facedub.align, so any engine's crop size and
    coverage works."""
    rigid = mesh_regions().rigid
    canonical = template_in_crop(OCCLUDER_RES, "whole")[rigid, :2]
    return umeyama(np.asarray(face_landmarks)[rigid, :2], canonical)[:2, :]


@dataclass
class _Eased:
    probabilities: np.ndarray  # (64, 64) in the canonical frame, which moves with the face
    time: float


@dataclass
class OcclusionMasks:
    """Per-track occlusion masks: `model` plus the eased state of every target track."""

    model: OcclusionModel
    _tracks: dict[int, _Eased] = field(default_factory=dict)

    def __call__(self, track: int, time: float, image: np.ndarray,
                 face_landmarks: np.ndarray) -> np.ndarray:
        """(S, S) float32 in [0, 1], 1 where something in front hides the face.

        `image` (S, S, 3) uint8 RGB, a target face crop; `face_landmarks` in its pixels;
        `time` in seconds orders the frames of a track.
        """
        size = image.shape[0]
        matrix = canonical_from_crop(face_landmarks)
        canonical = _warp_down(image, matrix)
        fresh = self.model.probabilities(canonical)
        eased = self._ease(track, time, fresh)
        # Output pixel u covers canonical pixels 2u and 2u + 1: centre 2u + 0.5.
        half_from_crop = matrix * (OCCLUDER_OUT / OCCLUDER_RES)
        half_from_crop[:, 2] -= 0.25
        back = cv2.warpAffine(eased, half_from_crop, (size, size),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return np.clip((back - RAMP_LOW) / (RAMP_HIGH - RAMP_LOW), 0.0, 1.0)

    def _ease(self, track: int, time: float, fresh: np.ndarray) -> np.ndarray:
        state = self._tracks.get(track)
        if state is None or not 0 < time - state.time <= MAX_GAP_SECONDS:
            self._tracks[track] = _Eased(fresh, time)
            return fresh
        change = fresh - state.probabilities
        share = np.clip(np.abs(change) / EASE_FULL, EASE_MIN, 1.0)
        state.probabilities = (state.probabilities + share * change).astype(np.float32)
        state.time = time
        return state.probabilities


def lens_highlights(image: np.ndarray, face_landmarks: np.ndarray,
                    occluded: np.ndarray) -> np.ndarray:
    """(S, S) float32, luminance in 0..255 units to add over the swapped face: the target's
    reflections on its glasses lenses, so they stay on top of the swapped eyes.

    Zero unless the occlusion mask found frames around both eyes. A reflection is where the
    lens is clearly brighter than its surroundings (a high-pass of the luminance); the eye
    openings themselves are left out (whites and catch-lights are bright too).
    `image` (S, S, 3) uint8 RGB, the target crop; `occluded` (S, S) from `OcclusionMasks`.
    """
    size = image.shape[0]
    regions = mesh_regions()
    eyes = [np.asarray(face_landmarks)[loop, :2] for loop in (regions.right_eye,
                                                              regions.left_eye)]
    centres = [eye.mean(axis=0) for eye in eyes]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    tilt = float(np.degrees(np.arctan2(centres[1][1] - centres[0][1],
                                       centres[1][0] - centres[0][0])))
    lens, ring = np.zeros((size, size), np.uint8), np.zeros((size, size), np.uint8)
    for centre in centres:
        point = (round(float(centre[0])), round(float(centre[1])))
        cv2.ellipse(ring, point, (round(0.62 * spacing), round(0.48 * spacing)), tilt, 0, 360,
                    255, -1)
        cv2.ellipse(lens, point, (round(0.42 * spacing), round(0.32 * spacing)), tilt, 0, 360,
                    255, -1)
    frames = occluded[(ring > 0) & (lens == 0)]
    if frames.size == 0 or float(frames.mean()) < GLASSES_FRAME_SHARE:
        return np.zeros((size, size), np.float32)
    # Only the box around the lenses is worked on: a full-crop blur costs far more.
    x, y, width, height = cv2.boundingRect(lens)
    box = (slice(y, y + height), slice(x, x + width))
    openings = np.zeros((size, size), np.uint8)
    for eye in eyes:
        cv2.fillPoly(openings, [np.round(eye).astype(np.int32)], 255)
    around_eyes = cv2.dilate(openings[box], np.ones((3, 3), np.uint8),
                             iterations=max(1, round(0.06 * spacing)))
    luminance = cv2.cvtColor(image[box], cv2.COLOR_RGB2GRAY).astype(np.float32)
    surround = cv2.GaussianBlur(luminance, (0, 0), max(1.0, spacing / 8.0))
    highlight = np.clip(luminance - surround - REFLECTION_THRESHOLD, 0.0, None)
    keep = (lens[box] > 0) & (around_eyes == 0)
    highlights = np.zeros((size, size), np.float32)
    highlights[box] = highlight * keep * (1.0 - occluded[box])
    return highlights


def _warp_down(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The canonical 128 px crop; large crops are first shrunk by area averaging, since a
    bilinear warp alone would alias."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        original = image.shape[0]
        small = max(OCCLUDER_RES, round(original * 2.0 * scale))
        image = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
        factor = original / small  # small pixel p sits at (p + 0.5) * factor - 0.5
        offset = 0.5 * factor - 0.5
        matrix = matrix.copy()
        matrix[:, 2] += matrix[:, :2] @ np.array([offset, offset])
        matrix[:, :2] *= factor
    return cv2.warpAffine(image, matrix, (OCCLUDER_RES, OCCLUDER_RES), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)

# Cheek and nose landmarks whose hull is almost always bare skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
LIGHTNESS_SLACK = 3.0  # lighting changes lightness across a face far more than hue
SKIN_DISTANCE = 3.0  # Mahalanobis distance beyond which a pixel is not skin


def edge_occluders(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: 1 where something other than skin covers the forehead
    or the temples.

    `image` is a face crop, RGB uint8, `face_landmarks` in crop pixels. Judged in CIELAB at
    quarter resolution (hair is not a fine detail) and returned at full size.
    """
    full_size = image.shape[0]
    size = max(32, full_size // 4)
    lab = to_lab(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    face_landmarks = face_landmarks * (size / full_size)
    reference = _hull_mask(face_landmarks[list(SKIN_REFERENCE), :2], size)
    pixels = lab[reference > 0].reshape(-1, 3).astype(np.float64)
    if len(pixels) < 20:
        return np.zeros((full_size, full_size), dtype=np.float32)
    mean = pixels.mean(axis=0)
    covariance = np.cov(pixels, rowvar=False) + np.diag([4.0, 1.0, 1.0])
    covariance[0] *= LIGHTNESS_SLACK
    covariance[:, 0] *= LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance)
    zone = _outer_zone(face_landmarks, size)
    rows = int(np.flatnonzero(zone.any(axis=1)).max()) + 1 if zone.any() else 0
    region = lab[:rows].reshape(-1, 3).astype(np.float64) - mean
    distance = np.sqrt(np.einsum("pi,ij,pj->p", region, inverse, region))
    occluded = np.zeros((size, size), dtype=np.float32)
    occluded[:rows] = np.clip((distance - SKIN_DISTANCE) / 1.5, 0.0, 1.0).reshape(rows, size)
    occluded *= zone
    # Open then blur: isolated pixels (freckles, shine) are not hair.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    opened = cv2.morphologyEx(occluded, cv2.MORPH_OPEN, kernel)
    blurred = cv2.GaussianBlur(opened, (0, 0), size / 128.0 + 0.5)
    return cv2.resize(blurred, (full_size, full_size), interpolation=cv2.INTER_LINEAR)


def _outer_zone(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32: 1 above the brows and beside the outer brow ends down to the nose
    tip, fading to 0 within a few pixels, so brows, eyes and the face centre are never
    judged (they are not skin-coloured either)."""
    regions = mesh_regions()
    right, left = face_landmarks[regions.right_eyebrow], face_landmarks[regions.left_eyebrow]
    brow_line = float(min(right[:, 1].min(), left[:, 1].min()))
    inner_x0, inner_x1 = float(right[:, 0].min()), float(left[:, 0].max())
    nose_y = float(face_landmarks[1, 1])
    fade = 0.04 * size
    ys = np.arange(size, dtype=np.float32)[:, None]
    xs = np.arange(size, dtype=np.float32)[None, :]
    above = np.clip((brow_line - ys) / fade, 0, 1)
    beside = np.clip(np.maximum(inner_x0 - xs, xs - inner_x1) / fade, 0, 1) * np.clip(
        (nose_y - ys) / fade, 0, 1)
    return np.maximum(above, beside).astype(np.float32)


def _hull_mask(points: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 255)
    return mask
