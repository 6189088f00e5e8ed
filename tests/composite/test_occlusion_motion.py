"""The occlusion mask's motion cue on drawn faces: what moves unlike the landmark mesh
between two frames, across the face's outline, is in front; the face's own motion, as the
landmarks follow it, and light moving over a cheek are not."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.occlusion_motion import moving_objects
from facedub.faces.align import template_in_crop
from facedub.faces.glasses_cues import half_pixels
from facedub.faces.masks import face_mask

CHIN, MOUTH_RIGHT, CHEEK = 152, 291, 425
SHOWN = np.ones((64, 64), bool)


def _face(size: int = 256) -> np.ndarray:
    """A skin-coloured face with some texture, so that a shift shows."""
    rng = np.random.default_rng(1)
    image = np.empty((size, size, 3), np.float32)
    image[:] = (200, 150, 125)
    image += cv2.GaussianBlur(rng.normal(0, 12, (size, size, 1)), (0, 0), 3)[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def _lab(image: np.ndarray) -> np.ndarray:
    return to_lab(cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA))


def test_a_hand_moving_in_across_the_outline_is_found() -> None:
    landmarks = template_in_crop(256, "whole")
    points = half_pixels(landmarks)
    before = _face()
    after = before.copy()
    chin = np.round(landmarks[CHIN, :2]).astype(int)
    # A lighter hand over the chin and the cheek beside it, reaching in from below.
    cv2.ellipse(after, (int(chin[0]) + 40, int(chin[1]) - 16), (34, 56), -30, 0, 360,
                (250, 215, 200), -1)
    moved = moving_objects(_lab(after), points, _lab(before), points, SHOWN).regions
    face = face_mask(points, 64, forehead=False) > 0.5
    assert moved[face].sum() > 40
    assert moved[(face & (np.arange(64)[:, None] < points[CHEEK, 1] - 8))].sum() == 0


def test_the_faces_own_motion_and_light_over_a_cheek_are_not() -> None:
    landmarks = template_in_crop(256, "whole")
    points = half_pixels(landmarks)
    before = _face()
    # The whole face shifted by 2 px with its landmarks: the mesh explains it.
    shifted = np.roll(before, 8, axis=1)
    moved = moving_objects(_lab(shifted), points + np.array([2.0, 0.0]), _lab(before), points,
                           SHOWN).regions
    assert moved.sum() == 0
    # A patch of light on the cheek, wholly inside the face: no hand comes in like that.
    lit = before.astype(np.float32)
    cheek = np.round(landmarks[CHEEK, :2]).astype(int)
    spot = np.zeros((256, 256), np.float32)
    cv2.circle(spot, (int(cheek[0]), int(cheek[1])), 24, 1.0, -1)
    lit += 60 * cv2.GaussianBlur(spot, (0, 0), 4)[..., None]
    lit_image = np.clip(lit, 0, 255).astype(np.uint8)
    assert moving_objects(_lab(lit_image), points, _lab(before), points, SHOWN).regions.sum() == 0
