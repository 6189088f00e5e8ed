"""The compositor's cheaper forms (twenty-first round) against the formulas they replace,
kept here as references: each must give the same values."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.composite.color import blur_factor, masked_blur
from facedub.composite.tone import SOCKET_CHROMA_STEP, SURROUND_SUPPORT, _own_sockets


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
