"""The occlusion mask's cues on drawn faces: the mouth, dark objects at the chin, and
regions that float inside the face."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.occlusion_cues import complete_by_colour, dark_objects, from_outside
from facedub.faces.align import template_in_crop
from facedub.faces.regions import mesh_regions

CHIN, NOSE_TIP = 152, 4


def _skin(size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.empty((size, size, 3), np.float32)
    image[:] = (200, 150, 125)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)


def _lips(landmarks: np.ndarray, size: int) -> np.ndarray:
    regions = mesh_regions()
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[regions.lips_outer, :2]).astype(np.int32)], 255)
    cv2.fillPoly(mask, [np.round(landmarks[regions.lips_inner, :2]).astype(np.int32)], 0)
    return mask > 0


def test_lipstick_and_a_guess_at_the_lip_line_are_not_kept() -> None:
    landmarks = template_in_crop(256, "whole")
    image = _skin(256)
    lips = _lips(landmarks, 256)
    image[lips] = (170, 30, 45)  # red lipstick: far from the cheeks' skin
    probabilities = np.zeros((64, 64), np.float32)
    small = cv2.resize(lips.astype(np.uint8), (64, 64), interpolation=cv2.INTER_AREA) > 0
    probabilities[small] = 0.6  # the net guesses at the lips
    completed = complete_by_colour(probabilities, image, landmarks)
    assert completed[small].max() == 0.0


def test_a_cup_across_the_mouth_is_still_taken_whole() -> None:
    landmarks = template_in_crop(256, "whole")
    image = _skin(256)
    image[_lips(landmarks, 256)] = (170, 30, 45)
    mouth = landmarks[mesh_regions().lips_outer, :2]
    top, bottom = int(mouth[:, 1].min()) - 6, int(landmarks[CHIN, 1]) - 4
    left, right = int(mouth[:, 0].min()) - 6, int(mouth[:, 0].max()) + 6
    image[top:bottom, left:right] = (235, 235, 240)  # a white cup over mouth and chin
    seen = np.zeros((256, 256), np.uint8)
    seen[top + 30:bottom, left:right] = 1  # the net sees the part below the lips only
    probabilities = (cv2.resize(seen, (64, 64), interpolation=cv2.INTER_AREA) > 0) * 0.9
    completed = complete_by_colour(probabilities.astype(np.float32), image, landmarks)
    whole = cv2.resize(completed, (256, 256), interpolation=cv2.INTER_NEAREST)
    assert whole[top + 4:bottom - 4, left + 4:right - 4].min() == 1.0


def _dark(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    lab = to_lab(cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA))
    return dark_objects(lab, (landmarks[:, :2] - 1.5) / 4.0, np.zeros((64, 64), np.float32))


def test_a_dark_object_under_the_lower_lip_is_found_and_a_jaw_shadow_is_not() -> None:
    landmarks = template_in_crop(256, "whole")
    lip = landmarks[mesh_regions().lips_outer, :2]
    centre = (round(float(lip[:, 0].mean())), round(float(lip[:, 1].max())) + 12)
    head = _skin(256)
    cv2.circle(head, centre, 16, (12, 12, 14), -1)  # a microphone's head below the lip
    found = _dark(head, landmarks)
    assert found[centre[1] // 4, centre[0] // 4]
    shadow = _skin(256)
    oval = np.round(landmarks[mesh_regions().face_oval, :2]).astype(np.int32)
    cv2.polylines(shadow, [oval], True, (12, 12, 14), 5)  # dark along the jaw's edge
    assert not _dark(shadow, landmarks).any()


def test_marks_floating_inside_the_face_are_dropped() -> None:
    landmarks = template_in_crop(64, "whole")
    objects = np.zeros((64, 64), np.float32)
    nose = np.round(landmarks[NOSE_TIP, :2]).astype(int)
    objects[nose[1] - 2:nose[1] + 2, nose[0] - 2:nose[0] + 2] = 0.8  # a spot-lit nose
    chin = np.round(landmarks[CHIN, :2]).astype(int)
    objects[chin[1] - 6:chin[1] + 2, chin[0] - 4:chin[0] + 4] = 0.9  # a hand at the chin
    kept = from_outside(objects, landmarks[:, :2])
    assert kept[nose[1], nose[0]] == 0.0
    assert kept[chin[1] - 3, chin[0]] == 0.9
