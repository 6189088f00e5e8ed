"""The brows' darkness as dim as the target's light (`tone.light_gain`, `brow_weights`):
a brightly lit source's brows were black painted bars on a dim target (self-photo)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.color import from_lab, to_lab
from facedub.composite.compositor import CompositeConfig
from facedub.composite.tone import (
    LIGHT_DIMMED,
    LIGHT_GAIN_FLOOR,
    LIGHT_OFFSET,
    brow_weights,
    carry_detail,
    light_gain,
)
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions

SIZE = 256
StillComposite = Callable[[CompositeConfig, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def test_the_gain_follows_the_lights_ratio_in_the_zone_and_is_one_outside() -> None:
    face_low = np.full((8, 8), 72.0, dtype=np.float32)
    target_low = np.full((8, 8), 24.0, dtype=np.float32)
    zone = np.zeros((8, 8), dtype=np.float32)
    zone[2:4] = 1.0
    zone[4] = 0.5
    gain = light_gain(face_low, target_low, zone)
    assert gain is not None
    ratio = (24.0 + LIGHT_OFFSET) / (72.0 + LIGHT_OFFSET)  # 0.45: dimmed wholly
    np.testing.assert_allclose(gain[2:4], ratio, rtol=1e-6)
    np.testing.assert_allclose(gain[4], 1.0 + 0.5 * (ratio - 1.0), rtol=1e-6)
    assert (gain[zone == 0] == 1.0).all()


def test_a_target_no_dimmer_a_little_dimmer_or_no_zone_changes_nothing() -> None:
    face_low = np.full((8, 8), 40.0, dtype=np.float32)
    zone = np.ones((8, 8), dtype=np.float32)
    assert light_gain(face_low, np.full((8, 8), 60.0, dtype=np.float32), zone) is None
    # A ratio of 0.9 (a target's light about a sixth dimmer in luminance): as it was.
    assert light_gain(face_low, np.full((8, 8), 34.4, dtype=np.float32), zone) is None
    assert light_gain(face_low, np.full((8, 8), 20.0, dtype=np.float32), zone * 0) is None


def test_the_gain_never_falls_below_its_floor() -> None:
    gain = light_gain(np.full((4, 4), 90.0, dtype=np.float32),
                      np.full((4, 4), 0.0, dtype=np.float32), np.ones((4, 4), np.float32))
    assert gain is not None
    np.testing.assert_allclose(gain, LIGHT_GAIN_FLOOR)


@pytest.fixture
def faces(turned_template: Callable[[float, int], np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(face Lab, target Lab, landmarks, the brows' hulls): a brightly lit face (skin L 72,
    brows 28 darker) and a dim target (skin L 24, brows 10 darker), the same shape."""
    landmarks = turned_template(0.0, SIZE)
    brows = np.zeros((SIZE, SIZE), dtype=np.float32)
    for brow in (mesh_regions().left_eyebrow, mesh_regions().right_eyebrow):
        hull = cv2.convexHull(np.round(landmarks[brow, :2]).astype(np.int32))
        cv2.fillConvexPoly(brows, hull, 1.0)
    rng = np.random.default_rng(3)

    def drawn(skin: float, brow: float) -> np.ndarray:
        lab = np.zeros((SIZE, SIZE, 3), dtype=np.float32)
        lab[..., 0] = skin - brows * (skin - brow) + rng.normal(0.0, 0.5, (SIZE, SIZE))
        lab[..., 1], lab[..., 2] = 12.0, 16.0
        return lab

    return drawn(72.0, 44.0), drawn(24.0, 14.0), landmarks, brows > 0.5


def _carried(face: np.ndarray, target: np.ndarray, landmarks: np.ndarray,
             brows: np.ndarray | None) -> np.ndarray:
    mask = polygon_mask(landmarks[mesh_regions().face_oval, :2], SIZE)
    return carry_detail(face, target, mask, SIZE / 16, brows=brows)


def test_a_lit_faces_brows_come_as_dark_as_the_dim_targets_light_makes_them(
        faces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    face, target, landmarks, hulls = faces
    plain = _carried(face, target, landmarks, None)
    dimmed = _carried(face, target, landmarks, brow_weights(landmarks, SIZE))
    # Added as it is, the face's 28 L under its skin takes the brows to about black
    # (softly limited: 20 L under it).
    assert float(np.percentile(plain[hulls, 0], 10)) < 5.0
    # Dimmed by the lights' ratio: about 28 * 40 / 88 = 12.7 under the skin (hers 10).
    skin = float(np.median(dimmed[~hulls & (cv2.dilate(hulls.astype(np.uint8),
                                                       np.ones((15, 15))) > 0), 0]))
    depth = skin - float(np.median(dimmed[hulls, 0]))
    assert 9.0 < depth < 16.0
    assert float(np.percentile(dimmed[hulls, 0], 10)) > 8.0


def test_away_from_the_brows_nothing_moves(
        faces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    face, target, landmarks, _ = faces
    zone = brow_weights(landmarks, SIZE)
    plain = _carried(face, target, landmarks, None)
    dimmed = _carried(face, target, landmarks, zone)
    far = cv2.dilate((zone > 0).astype(np.uint8), np.ones((9, 9))) == 0
    np.testing.assert_array_equal(plain[far], dimmed[far])


def test_the_compositor_dims_a_lit_faces_brows_on_a_dim_target(
        faces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        composite_still: StillComposite) -> None:
    face, target, landmarks, hulls = faces
    image = composite_still(CompositeConfig(grain=False, occlusion="off"), from_lab(target),
                            landmarks, from_lab(face))
    lightness = to_lab(image)[..., 0]
    # On main the brows came out at L 4 (black bars); dimmed, about 10 under the skin.
    assert float(np.median(lightness[hulls])) > 8.0


def test_between_much_and_a_little_dimmer_the_dimming_ramps() -> None:
    face_low = np.full((1, 3), 40.0, dtype=np.float32)
    whole, none = LIGHT_DIMMED
    ratios = np.array([[whole, (whole + none) / 2, none]], dtype=np.float32)
    gain = light_gain(face_low, ratios * (40.0 + LIGHT_OFFSET) - LIGHT_OFFSET,
                      np.ones((1, 3), np.float32))
    assert gain is not None
    ramp = 1.0 + 0.5 * ((whole + none) / 2 - 1.0)
    np.testing.assert_allclose(gain[0], [whole, ramp, 1.0], rtol=1e-5)


def test_a_gain_within_a_hundredth_of_one_is_none() -> None:
    face_low = np.full((2, 2), 40.0, dtype=np.float32)
    zone = np.full((2, 2), 0.02, dtype=np.float32)  # the zone's soft edge only
    target_low = np.full((2, 2), 0.5 * (40.0 + LIGHT_OFFSET) - LIGHT_OFFSET, np.float32)
    assert light_gain(face_low, target_low, zone) is None
    assert light_gain(face_low, target_low, zone * 10) is not None
