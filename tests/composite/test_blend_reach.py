"""composite.blend.reach_mask: a turned face's far side shown to the outline the mesh gives."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from facedub.composite.blend import reach_mask, turn_share
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.masks import face_mask, forehead_points
from facedub.faces.template import face_template
from facedub.types import HeadPose

SIZE = 256
ERODE, BLUR = 5, 15  # the compositor's defaults at 256 px


def _landmarks(yaw_degrees: float) -> np.ndarray:
    """(478, 3) the template turned by `yaw_degrees` about the vertical axis (its z grows
    away from the camera), seen straight on, in the pixels of a SIZE crop."""
    template = face_template().astype(np.float64)
    angle = math.radians(yaw_degrees)
    x = template[:, 0] * math.cos(angle) + template[:, 2] * math.sin(angle)
    z = -template[:, 0] * math.sin(angle) + template[:, 2] * math.cos(angle)
    turned = np.stack([x, template[:, 1], z], axis=1)
    return np.concatenate([turned[:, :2] * SIZE * 0.33 + SIZE / 2, turned[:, 2:] * SIZE * 0.33],
                          axis=1).astype(np.float32)


def _hull(points: np.ndarray) -> np.ndarray:
    hull = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    return hull.astype(bool)


@pytest.mark.parametrize("yaw", [0.0, -15.0, 15.0])
def test_a_face_turned_less_than_about_twenty_degrees_keeps_the_face_mask(yaw: float) -> None:
    landmarks = _landmarks(yaw)
    assert turn_share(landmarks)[0] == 0.0
    np.testing.assert_array_equal(reach_mask(landmarks, SIZE, True, ERODE, BLUR),
                                  face_mask(landmarks, SIZE, forehead=True, erode=ERODE,
                                            blur=BLUR))


def test_the_far_side_of_a_turned_face_is_shown_to_its_outline() -> None:
    landmarks = _landmarks(35.0)
    share, side = turn_share(landmarks)
    assert share > 0.5
    reach = reach_mask(landmarks, SIZE, True, ERODE, BLUR)
    frontal = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    # The nose's tip sticks out past the oval on the far side: the face mask leaves it
    # (and the cheek before it) to the target, the reach shows it.
    tip = np.round(landmarks[1, :2]).astype(int)
    assert (tip[0] - SIZE / 2) * side > 0  # it is on the far side
    assert frontal[tip[1], tip[0]] < 0.5
    assert reach[tip[1], tip[0]] > 0.9
    # The far eye's outer corner, on the far side, fully shown.
    corner = np.round(landmarks[33 if side < 0 else 263, :2]).astype(int)
    assert reach[corner[1], corner[0]] > 0.99
    assert reach[corner[1], corner[0]] > frontal[corner[1], corner[0]]


def test_the_near_side_and_the_outside_are_as_before() -> None:
    landmarks = _landmarks(35.0)
    _, side = turn_share(landmarks)
    reach = reach_mask(landmarks, SIZE, True, ERODE, BLUR)
    frontal = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    middle = round(float(landmarks[168, 0]))
    near = slice(0, middle) if side > 0 else slice(middle + 1, SIZE)
    np.testing.assert_array_equal(reach[:, near], frontal[:, near])
    # Not past the mesh's own outline (with its forehead; a pixel's rounding at its
    # corners): no background is taken in.
    outline = np.concatenate([landmarks[:, :2], forehead_points(landmarks)])
    grown = cv2.dilate(_hull(outline).astype(np.uint8), np.ones((3, 3), np.uint8))
    assert reach[grown == 0].max() == 0.0


def test_the_forehead_and_the_jaw_keep_the_frontal_feather() -> None:
    landmarks = _landmarks(35.0)
    reach = reach_mask(landmarks, SIZE, True, ERODE, BLUR)
    frontal = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    brows = landmarks[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300], 1].min()
    fade = 0.1 * (landmarks[152, 1] - brows)
    above = round(float(brows - fade)) - 1
    below = round(float(landmarks[[61, 291], 1].mean() + fade)) + 1
    np.testing.assert_array_equal(reach[:above], frontal[:above])
    np.testing.assert_array_equal(reach[below:], frontal[below:])
    assert not np.array_equal(reach, frontal)


def test_the_compositor_shows_the_far_side_of_a_turned_face() -> None:
    landmarks = _landmarks(35.0)
    _, side = turn_share(landmarks)
    target = np.full((SIZE, SIZE, 3), 60, np.uint8)
    face = np.full((SIZE, SIZE, 3), 200, np.uint8)
    result = Compositor(CompositeConfig(color="none", relight=0.0, grain=False,
                                        occlusion="off", keep_occluders=False)).composite(
        TargetFace(image=target, face_landmarks=landmarks, face_from_frame=np.eye(2, 3),
                   pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
                   time=0.0, track=0),
        SwappedFace(face, np.ones((SIZE, SIZE), np.float32)))
    corner = np.round(landmarks[33 if side < 0 else 263, :2]).astype(int)
    tip = np.round(landmarks[1, :2]).astype(int)
    assert result.image[corner[1], corner[0]].min() >= 198  # the face's, not a blend
    assert result.image[tip[1], tip[0]].min() >= 180
