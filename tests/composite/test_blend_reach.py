"""composite.blend.reach_mask: a turned face's far side shown to the outline the mesh gives;
its far rim (blend.rim_weights) lit like the target's turning cheek (compositor.toned_rim)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.band_jaw import jaw_band
from facedub.composite.blend import reach_mask, reach_parts, rim_weights, turn_share
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, toned_rim
from facedub.faces.masks import face_mask, forehead_points

# The compositor run on one drawn frame (the `composite_still` fixture, conftest.py).
StillComposite = Callable[[CompositeConfig, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

SIZE = 256
ERODE, BLUR = 5, 15  # the compositor's defaults at 256 px


Turned = Callable[[float], np.ndarray]  # a yaw in degrees to turned landmarks


@pytest.fixture(scope="module")
def landmarks_at(turned_template: Callable[[float, int], np.ndarray]
                 ) -> Turned:
    """`landmarks_at(yaw)`: the template turned by `yaw` degrees in a SIZE crop."""
    return lambda yaw: turned_template(yaw, SIZE)


def _hull(points: np.ndarray) -> np.ndarray:
    hull = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    return hull.astype(bool)


@pytest.mark.parametrize("yaw", [0.0, -15.0, 15.0])
def test_a_face_turned_less_than_about_twenty_degrees_keeps_the_face_mask(
        yaw: float, landmarks_at: Turned) -> None:
    landmarks = landmarks_at(yaw)
    assert turn_share(landmarks)[0] == 0.0
    np.testing.assert_array_equal(reach_mask(landmarks, SIZE, True, ERODE, BLUR),
                                  face_mask(landmarks, SIZE, forehead=True, erode=ERODE,
                                            blur=BLUR))


def test_the_far_side_of_a_turned_face_is_shown_to_its_outline(landmarks_at: Turned) -> None:
    landmarks = landmarks_at(35.0)
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


def test_the_near_side_and_the_outside_are_as_before(landmarks_at: Turned) -> None:
    landmarks = landmarks_at(35.0)
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


def test_the_forehead_and_the_jaw_keep_the_frontal_feather(landmarks_at: Turned) -> None:
    landmarks = landmarks_at(35.0)
    reach = reach_mask(landmarks, SIZE, True, ERODE, BLUR)
    frontal = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    brows = landmarks[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300], 1].min()
    fade = 0.1 * (landmarks[152, 1] - brows)
    above = round(float(brows - fade)) - 1
    below = round(float(landmarks[[61, 291], 1].mean() + fade)) + 1
    np.testing.assert_array_equal(reach[:above], frontal[:above])
    np.testing.assert_array_equal(reach[below:], frontal[below:])
    assert not np.array_equal(reach, frontal)


def test_the_compositor_shows_the_far_side_of_a_turned_face(
        landmarks_at: Turned, composite_still: StillComposite) -> None:
    landmarks = landmarks_at(35.0)
    _, side = turn_share(landmarks)
    target = np.full((SIZE, SIZE, 3), 60, np.uint8)
    face = np.full((SIZE, SIZE, 3), 200, np.uint8)
    image = composite_still(CompositeConfig(color="none", relight=0.0, grain=False,
                                            occlusion="off", keep_occluders=False),
                            target, landmarks, face)
    corner = np.round(landmarks[33 if side < 0 else 263, :2]).astype(int)
    tip = np.round(landmarks[1, :2]).astype(int)
    assert image[corner[1], corner[0]].min() >= 198  # the face's, not a blend
    assert image[tip[1], tip[0]].min() >= 180


def _rim_of(landmarks: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(far side's sign, frontal mask, reached mask, rim) of a face turned past FRONTAL."""
    _, side = turn_share(landmarks)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    rim = rim_weights(near, reached)
    assert rim is not None
    return side, near, reached, rim


@pytest.mark.parametrize("yaw", [0.0, 15.0])
def test_a_face_under_about_twenty_degrees_has_no_rim(yaw: float, landmarks_at: Turned) -> None:
    near, reached = reach_parts(landmarks_at(yaw), SIZE, True, ERODE, BLUR)
    assert rim_weights(near, reached) is None


def test_the_rim_is_what_the_reach_adds_on_the_far_side(landmarks_at: Turned) -> None:
    landmarks = landmarks_at(35.0)
    side, near, reached, rim = _rim_of(landmarks)
    assert rim.min() >= 0.0 and rim.max() <= 1.0
    middle = round(float(landmarks[168, 0]))
    near_side = slice(0, middle) if side > 0 else slice(middle + 1, SIZE)
    assert rim[:, near_side].max() == 0.0
    assert rim[reached <= near].max() == 0.0  # where the frontal mask showed it, untouched
    tip = np.round(landmarks[1, :2]).astype(int)  # the nose's tip: shown by the reach only
    assert rim[tip[1], tip[0]] > 0.4


def _darkening(landmarks: np.ndarray, side: int) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8: a grey 170 face whose far side darkens toward its outline
    (to 80 at the far temple), like a cheek turning away from the light."""
    middle = float(landmarks[168, 0])
    temple = float(landmarks[127 if side < 0 else 356, 0])
    across = np.clip((np.arange(SIZE) - middle) / (temple - middle), 0.0, 1.2)
    level = 170.0 - 90.0 * np.clip((across - 0.4) / 0.6, 0.0, None) ** 1.5
    row = np.clip(level, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], SIZE, axis=0), 3, axis=2)


def test_toned_rim_takes_the_targets_shading_on_the_rim_only(landmarks_at: Turned) -> None:
    landmarks = landmarks_at(35.0)
    side, _, reached, rim = _rim_of(landmarks)
    target = _darkening(landmarks, side)
    face = np.full((SIZE, SIZE, 3), 170, np.uint8)
    toned = toned_rim(face, target, reached, rim, SIZE / 64)
    np.testing.assert_array_equal(toned[rim == 0], face[rim == 0])
    outer = rim > 0.8
    before = np.abs(to_lab(face)[..., 0] - to_lab(target)[..., 0])[outer].mean()
    after = np.abs(to_lab(toned)[..., 0] - to_lab(target)[..., 0])[outer].mean()
    assert before > 8.0
    assert after < 0.4 * before


RIM_CONFIG = CompositeConfig(grain=False, occlusion="off", keep_occluders=False)


def test_the_compositor_shades_the_far_rim_like_the_target(
        monkeypatch: pytest.MonkeyPatch, landmarks_at: Turned,
        composite_still: StillComposite) -> None:
    landmarks = landmarks_at(35.0)
    side, _, reached, rim = _rim_of(landmarks)
    target = _darkening(landmarks, side)
    face = np.full((SIZE, SIZE, 3), 170, np.uint8)
    shown = (rim > 0.5) & (reached > 0.5)
    toned = composite_still(RIM_CONFIG, target, landmarks, face)
    monkeypatch.setattr(compositor_module, "toned_rim", lambda face, *_: face)
    untoned = composite_still(RIM_CONFIG, target, landmarks, face)
    target_lightness = to_lab(target)[..., 0]
    error_toned = np.abs(to_lab(toned)[..., 0] - target_lightness)[shown].mean()
    error_untoned = np.abs(to_lab(untoned)[..., 0] - target_lightness)[shown].mean()
    assert error_untoned > 3.0  # the colour's low-pass alone leaves the rim too light
    assert error_toned < 0.5 * error_untoned
    # Away from the rim the composite is the same (the rim with the jaw's thin band,
    # `band_jaw`, which the compositor tones too).
    near, _ = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    whole_rim = rim_weights(near, jaw_band(near, reached, landmarks, SIZE, True, ERODE, BLUR))
    assert whole_rim is not None
    np.testing.assert_array_equal(toned[whole_rim == 0], untoned[whole_rim == 0])
