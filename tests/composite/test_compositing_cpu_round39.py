"""The compositing thread's CPU (issue 13, thirty-ninth round): the sockets' base
(`tone._own_sockets`) is moved channel by channel with its weight spread over three planes
instead of NumPy's loops over a broadcast last axis of 2 and 3, and the colour planes
(`tone._colour_planes`) are copied into place instead of split and merged. Each gives
exactly what the formula it replaced gave (kept here as the reference)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.composite.color import masked_blur
from facedub.composite.tone import (
    SOCKET_CHROMA_STEP,
    SURROUND_SUPPORT,
    _blur,
    _blur_boxes,
    _colour_planes,
    _own_sockets,
)

SIZE = 440


def _smooth(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    noise = rng.normal(0.0, 1.0, shape).astype(np.float32)
    blurred: np.ndarray = cv2.GaussianBlur(noise, (0, 0), 6.0) * np.float32(scale)
    return blurred


def _bits(image: np.ndarray) -> np.ndarray:
    return image.view(np.uint32)


def _disc(centre: tuple[int, int], radius: int, blur: float = 6.0) -> np.ndarray:
    plane = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(plane, centre, radius, 1.0, -1)
    blurred: np.ndarray = cv2.GaussianBlur(plane, (0, 0), blur)
    return blurred


def _old_own_sockets(lab: np.ndarray, low: np.ndarray, skin: np.ndarray,
                     sockets: np.ndarray, blur: float, supported: bool = False
                     ) -> np.ndarray:
    """The thirty-eighth round's `_own_sockets` (a broadcast last axis of 2 and 3)."""
    boxes = _blur_boxes(sockets, blur)
    assert boxes is not None
    box, read, inner = boxes
    own = masked_blur(lab[read], skin[read], blur)[inner]
    part = low[box]
    change = own - part
    weight = sockets[box]
    if supported:
        weight = weight * np.clip(_blur(skin[read], blur)[inner] / SURROUND_SUPPORT, 0.0, 1.0)
    chroma = np.hypot(change[..., 1], change[..., 2])
    change[..., 1:] *= (SOCKET_CHROMA_STEP / np.maximum(chroma, SOCKET_CHROMA_STEP))[..., None]
    blended = low.copy()
    blended[box] = part + weight[..., None] * change
    return blended


def _half_lab(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A face and its low-pass at half size (220 px): Lab with strong colour (so that the
    sockets' colour step binds) and fine detail."""
    rng = np.random.default_rng(seed)
    shape = (SIZE // 2, SIZE // 2)
    lab = cv2.merge([np.float32(60.0) + _smooth(rng, shape, 60.0),
                     np.float32(14.0) + _smooth(rng, shape, 60.0),
                     np.float32(20.0) + _smooth(rng, shape, 60.0)])
    lab += rng.normal(0.0, 2.0, lab.shape).astype(np.float32)
    low: np.ndarray = cv2.GaussianBlur(lab, (0, 0), 13.75)
    return lab, low


@pytest.mark.parametrize("supported", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sockets_base_is_the_broadcast_formulas(supported: bool, seed: int) -> None:
    lab, low = _half_lab(seed)
    half = SIZE // 2
    skin = cv2.resize(_disc((220, 230), 150), (half, half), interpolation=cv2.INTER_AREA)
    sockets = cv2.resize(np.maximum(_disc((160, 170), 28), _disc((280, 170), 28)),
                         (half, half), interpolation=cv2.INTER_AREA)
    blur = 13.75 / 3.0
    expected = _old_own_sockets(lab, low, skin, sockets, blur, supported)
    moved = _own_sockets(lab, low, skin, sockets, blur, supported)
    assert np.array_equal(_bits(moved), _bits(expected))
    assert not np.array_equal(moved, low)


def test_the_colour_planes_are_the_split_and_merged_ones() -> None:
    face, _ = _half_lab(4)
    target, _ = _half_lab(5)
    expected = cv2.merge([*cv2.split(face)[1:], *cv2.split(target)[1:]])
    assert np.array_equal(_bits(_colour_planes(face, target)), _bits(expected))
    # A target that is a view of a larger plane (the compositor's half-size target).
    wide = np.zeros((SIZE // 2, SIZE, 3), np.float32)
    wide[:, 13:13 + SIZE // 2] = target
    view = wide[:, 13:13 + SIZE // 2]
    assert np.array_equal(_bits(_colour_planes(face, view)), _bits(expected))
