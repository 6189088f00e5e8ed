"""The reach's far rim (composite.blend.rim_weights) lit like the target's turning cheek
(composite.compositor.toned_rim)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.blend import reach_parts, rim_weights, turn_share
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor, toned_rim
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.template import face_template
from facedub.types import HeadPose

SIZE = 256
ERODE, BLUR = 5, 15  # the compositor's defaults at 256 px


def _landmarks(yaw_degrees: float) -> np.ndarray:
    """(478, 3) the template turned by `yaw_degrees` about the vertical axis, in the
    pixels of a SIZE crop (as tests/composite/test_blend_reach.py turns it)."""
    template = face_template().astype(np.float64)
    angle = math.radians(yaw_degrees)
    x = template[:, 0] * math.cos(angle) + template[:, 2] * math.sin(angle)
    z = -template[:, 0] * math.sin(angle) + template[:, 2] * math.cos(angle)
    turned = np.stack([x, template[:, 1], z], axis=1)
    return np.concatenate([turned[:, :2] * SIZE * 0.33 + SIZE / 2, turned[:, 2:] * SIZE * 0.33],
                          axis=1).astype(np.float32)


@pytest.mark.parametrize("yaw", [0.0, 15.0])
def test_a_face_under_about_twenty_degrees_has_no_rim(yaw: float) -> None:
    near, reached = reach_parts(_landmarks(yaw), SIZE, True, ERODE, BLUR)
    assert rim_weights(near, reached) is None


def test_the_rim_is_what_the_reach_adds_on_the_far_side() -> None:
    landmarks = _landmarks(35.0)
    _, side = turn_share(landmarks)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    rim = rim_weights(near, reached)
    assert rim is not None
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


def test_toned_rim_takes_the_targets_shading_on_the_rim_only() -> None:
    landmarks = _landmarks(35.0)
    _, side = turn_share(landmarks)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    rim = rim_weights(near, reached)
    assert rim is not None
    target = _darkening(landmarks, side)
    face = np.full((SIZE, SIZE, 3), 170, np.uint8)
    toned = toned_rim(face, target, reached, rim, SIZE / 64)
    np.testing.assert_array_equal(toned[rim == 0], face[rim == 0])
    outer = rim > 0.8
    before = np.abs(to_lab(face)[..., 0] - to_lab(target)[..., 0])[outer].mean()
    after = np.abs(to_lab(toned)[..., 0] - to_lab(target)[..., 0])[outer].mean()
    assert before > 8.0
    assert after < 0.4 * before


def _composite(landmarks: np.ndarray, target: np.ndarray, face: np.ndarray) -> np.ndarray:
    compositor = Compositor(CompositeConfig(grain=False, occlusion="off",
                                            keep_occluders=False))
    return compositor.composite(
        TargetFace(image=target, face_landmarks=landmarks, face_from_frame=np.eye(2, 3),
                   pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
                   time=0.0, track=0),
        SwappedFace(face, np.ones((SIZE, SIZE), np.float32))).image


def test_the_compositor_shades_the_far_rim_like_the_target(
        monkeypatch: pytest.MonkeyPatch) -> None:
    landmarks = _landmarks(35.0)
    _, side = turn_share(landmarks)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    rim = rim_weights(near, reached)
    assert rim is not None
    target = _darkening(landmarks, side)
    face = np.full((SIZE, SIZE, 3), 170, np.uint8)
    shown = (rim > 0.5) & (reached > 0.5)
    toned = _composite(landmarks, target, face)
    monkeypatch.setattr(compositor_module, "toned_rim", lambda face, *_: face)
    untoned = _composite(landmarks, target, face)
    target_lightness = to_lab(target)[..., 0]
    error_toned = np.abs(to_lab(toned)[..., 0] - target_lightness)[shown].mean()
    error_untoned = np.abs(to_lab(untoned)[..., 0] - target_lightness)[shown].mean()
    assert error_untoned > 3.0  # the colour's low-pass alone leaves the rim too light
    assert error_toned < 0.5 * error_untoned
    # Away from the rim the composite is the same.
    np.testing.assert_array_equal(toned[rim == 0], untoned[rim == 0])
