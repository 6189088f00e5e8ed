"""The compositor's cheaper forms (twenty-first round) against the formulas they replace,
kept here as references: each must give the same values."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.composite.color import blur_factor, masked_blur
from facedub.composite.tone import (
    DARK_BAND,
    DARK_SOFT,
    SKIN_LIGHTNESS_SLACK,
    SKIN_LIKENESS,
    SOCKET_CHROMA_STEP,
    SURROUND_SUPPORT,
    _band_lift,
    _enlarged,
    _level,
    _own_sockets,
    _skin_likeness,
    carry_detail,
    region_box,
)


def _own_sockets_reference(lab: np.ndarray, low: np.ndarray, skin: np.ndarray,
                           sockets: np.ndarray, blur: float, supported: bool = False
                           ) -> np.ndarray:
    """`_own_sockets` as it was before (578c711): every plane over the whole image."""
    change = masked_blur(lab, skin, blur) - low
    if supported:
        support = cv2.GaussianBlur(skin, (0, 0), max(0.5, blur))
        sockets = sockets * np.clip(support / SURROUND_SUPPORT, 0.0, 1.0)
    chroma = np.hypot(change[..., 1], change[..., 2])
    change[..., 1:] *= (SOCKET_CHROMA_STEP / np.maximum(chroma, SOCKET_CHROMA_STEP))[..., None]
    blended: np.ndarray = low + sockets[..., None] * change
    return blended


def _planes(size: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lab = rng.normal(0.0, 1.0, (size, size, 3)).astype(np.float32)
    lab = cv2.GaussianBlur(lab, (0, 0), 2.0) * np.float32(20.0)
    lab[..., 0] += 60.0
    low = cv2.GaussianBlur(lab, (0, 0), 8.0)
    skin = (rng.random((size, size)) > 0.2).astype(np.float32)
    return lab, low, skin


@pytest.mark.parametrize("supported", [False, True])
@pytest.mark.parametrize(("size", "box"), [
    (220, (slice(50, 110), slice(40, 180))),  # the sockets of a 440 px crop, inside
    (220, (slice(0, 30), slice(150, 220))),  # at the image's corner: the read box clipped
    (256, (slice(100, 101), slice(7, 9))),  # a sliver
])
def test_own_sockets_in_their_box_equal_the_whole_image_formula(
        size: int, box: tuple[slice, slice], supported: bool) -> None:
    lab, low, skin = _planes(size, seed=size)
    sockets = np.zeros((size, size), dtype=np.float32)
    sockets[box] = np.random.default_rng(1).random(sockets[box].shape).astype(np.float32)
    blur = size * 2 / 96  # the compositor's: sigma / LID_DIVISOR at half size
    assert blur_factor(blur) == 1
    expected = _own_sockets_reference(lab, low, skin, sockets, blur, supported)
    result = _own_sockets(lab, low, skin, sockets, blur, supported)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-4)
    outside = np.ones((size, size), dtype=bool)
    outside[box] = False
    assert np.array_equal(result[outside], low[outside])


def test_own_sockets_over_a_large_crop_read_the_whole_image() -> None:
    """A blur `masked_blur` takes at a reduced size (a 640 px crop's half): the same
    values as the whole image's formula."""
    size = 320
    lab, low, skin = _planes(size, seed=3)
    sockets = np.zeros((size, size), dtype=np.float32)
    sockets[80:150, 60:260] = 1.0
    blur = 640 / 96
    assert blur_factor(blur) > 1
    np.testing.assert_array_equal(_own_sockets(lab, low, skin, sockets, blur, True),
                                  _own_sockets_reference(lab, low, skin, sockets, blur, True))


def test_own_sockets_without_sockets_is_the_low_pass() -> None:
    lab, low, skin = _planes(64, seed=4)
    result = _own_sockets(lab, low, skin, np.zeros((64, 64), dtype=np.float32), 1.5)
    assert np.array_equal(result, low)


def test_masked_blur_of_a_rectangle_blurs_as_its_square_would() -> None:
    """Rows cut from a square image (at its own size: factor 1) blur as in the square,
    away from the cut's edges."""
    lab, _, skin = _planes(96, seed=5)
    whole = masked_blur(lab, skin, 2.0)
    part = masked_blur(lab[20:70], skin[20:70], 2.0)
    np.testing.assert_allclose(part[12:-12], whole[32:58], rtol=0, atol=1e-4)


def _band_lift_reference(face: np.ndarray, target: np.ndarray, face_low: np.ndarray,
                         target_low: np.ndarray, blur: float) -> np.ndarray:
    """`_band_lift` as it was before (578c711), over the whole image, unweighted."""
    face_band = cv2.GaussianBlur(face[..., 0], (0, 0), max(0.5, blur)) - face_low[..., 0]
    target_band = (cv2.GaussianBlur(target[..., 0], (0, 0), max(0.5, blur))
                   - target_low[..., 0])
    excess = np.maximum(target_band - face_band - DARK_BAND, 0.0)
    lift: np.ndarray = excess - DARK_SOFT * np.tanh(excess / DARK_SOFT)
    return lift


@pytest.mark.parametrize("box", [(slice(120, 180), slice(30, 100)),
                                 (slice(200, 220), slice(0, 220))])
def test_band_lift_in_its_weights_box_equals_the_whole_image_formula(
        box: tuple[slice, slice]) -> None:
    face, face_low, _ = _planes(220, seed=6)
    target, target_low, _ = _planes(220, seed=7)
    target = (target - target_low) * np.float32(4.0) + target_low  # a stronger band
    weight = np.zeros((220, 220), dtype=np.float32)
    weight[box] = np.random.default_rng(2).random(weight[box].shape).astype(np.float32)
    for blur in (3.4, 4.6):
        expected = weight * _band_lift_reference(face, target, face_low, target_low, blur)
        assert expected.max() > 1.0
        np.testing.assert_allclose(_band_lift(face, target, face_low, target_low, blur, weight),
                                   expected, rtol=0, atol=1e-4)


def _skin_likeness_reference(lab: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`_skin_likeness` as it was before (578c711): statistics over every pixel."""
    weights = reference.reshape(-1).astype(np.float64)
    total = float(weights.sum())
    pixels = lab.reshape(-1, 3).astype(np.float64)
    mean = weights @ pixels / total
    centred = pixels - mean
    covariance = (centred * weights[:, None]).T @ centred / total + np.diag([4.0, 1.0, 1.0])
    covariance[0] *= SKIN_LIGHTNESS_SLACK
    covariance[:, 0] *= SKIN_LIGHTNESS_SLACK
    distance = np.sqrt(np.einsum("pj,pj->p", centred @ np.linalg.inv(covariance), centred))
    likeness: np.ndarray = np.clip(1.0 - (distance - SKIN_LIKENESS) / 1.5, 0.0, 1.0
                                   ).astype(np.float32).reshape(reference.shape)
    return likeness


def test_skin_likeness_in_a_box_is_the_whole_formulas_there() -> None:
    """The statistics are the whole reference's (over its own pixels: the rest weigh
    nothing); with a box only the distances are taken in it."""
    lab, _, _ = _planes(120, seed=8)
    reference = np.zeros((120, 120), dtype=np.float32)
    reference[60:110, 20:100] = np.random.default_rng(8).random((50, 80))
    box = (slice(10, 50), slice(30, 90))
    whole = _skin_likeness_reference(lab, reference)
    assert 0.0 < whole[box].mean() < 1.0
    np.testing.assert_allclose(_skin_likeness(lab, reference), whole, rtol=0, atol=1e-6)
    np.testing.assert_allclose(_skin_likeness(lab, reference, box), whole[box], rtol=0,
                               atol=1e-6)


def _face_weights(size: int) -> dict[str, np.ndarray]:
    """An oval region (the blend's alpha, feathered) and weights inside it."""
    region = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(region, (size // 2 + 7, size // 2 - 5), (size // 4, size * 3 // 10), 0, 0, 360,
                1.0, -1)
    region = cv2.GaussianBlur(region, (0, 0), size / 40)
    region[region < 0.01] = 0.0
    rng = np.random.default_rng(size)
    bare = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 3.0)
    return {"region": region, "shown": region * bare,
            "hair": cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 5.0)}


@pytest.mark.parametrize("size", [440, 256])
def test_carry_detail_in_the_region_box_is_the_whole_crops_there(size: int) -> None:
    """Given the region where it is used, `carry_detail`'s result there is the whole
    crop's (to float32's last bits: the level's sum runs over fewer pixels); outside the
    box it is the face itself."""
    face, _, _ = _planes(size, seed=9)
    target, _, _ = _planes(size, seed=10)
    weights = _face_weights(size)
    mask = (weights["region"] > 0.05).astype(np.float32)
    target_lightness = np.ascontiguousarray(target[..., 0])
    whole = carry_detail(face, target, mask, size / 16, shown=weights["shown"],
                         hair=weights["hair"], target_lightness=target_lightness)
    boxed = carry_detail(face, target, mask, size / 16, shown=weights["shown"],
                         hair=weights["hair"], target_lightness=target_lightness,
                         region=weights["region"])
    box = region_box(weights["region"], size)
    assert box[0].stop - box[0].start < size - 40 and box[1].stop - box[1].start < size - 40
    inside = weights["region"] > 0
    assert inside[box].sum() == inside.sum()
    np.testing.assert_allclose(boxed[box], whole[box], rtol=0, atol=1e-4)
    outside = np.ones((size, size), dtype=bool)
    outside[box] = False
    assert np.array_equal(boxed[outside], face[outside])


def test_region_box_edges_are_multiples_of_four_round_the_region() -> None:
    region = np.zeros((440, 440), dtype=np.float32)
    region[71:384, 69:369] = 0.5
    assert region_box(region, 440) == (slice(68, 384), slice(68, 372))
    region[0, 439] = 0.01
    assert region_box(region, 440) == (slice(0, 384), slice(68, 440))
    assert region_box(region[:438, :438], 438) == (slice(0, 438), slice(0, 438))
    assert region_box(np.zeros((64, 64), dtype=np.float32), 64)[0] == slice(0, 0)
    assert region_box(None, 64) == (slice(0, 64), slice(0, 64))


def test_enlarged_planes_in_a_box_are_the_whole_enlargements_there() -> None:
    plane = np.random.default_rng(11).random((110, 110)).astype(np.float32)
    whole = cv2.resize(plane, (220, 220), interpolation=cv2.INTER_LINEAR)
    for box in ((slice(0, 220), slice(0, 220)), (slice(8, 100), slice(0, 220)),
                (slice(4, 12), slice(200, 220)), (slice(0, 4), slice(96, 180))):
        assert np.array_equal(_enlarged([plane], box, 220)[0], whole[box])


def test_level_in_a_box_is_the_whole_crops() -> None:
    result, _, _ = _planes(256, seed=12)
    target, _, _ = _planes(128, seed=13)
    shown = _face_weights(256)["shown"]
    box = region_box(shown, 256)
    assert box != (slice(0, 256), slice(0, 256))
    np.testing.assert_allclose(_level(np.ascontiguousarray(result[box]), target, shown, box),
                               _level(result, target, shown), rtol=0, atol=1e-4)


def test_masked_blur_at_its_own_size_is_the_normalised_convolution() -> None:
    """A blur `masked_blur` takes at the image's own size (no resizing): the weighted
    planes' blur over the weight's, as the formula with its resizes gave."""
    lab, _, skin = _planes(80, seed=14)
    assert blur_factor(2.5) == 1
    weights = cv2.GaussianBlur(skin, (0, 0), 2.5) + 1e-6
    expected = cv2.GaussianBlur(lab * skin[..., None], (0, 0), 2.5) / weights[..., None]
    np.testing.assert_allclose(masked_blur(lab, skin, 2.5), expected, rtol=1e-6, atol=1e-4)
