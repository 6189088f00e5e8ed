"""The compositing thread at less CPU (issue 13, thirty-sixth round): the flanks' chroma
ceiling blurs only round the zone (`tone._blur_round`), and `detail.split_sigmas` takes
the target's and the unblurred face's Laplacian energies from its readings instead of
making them again: each gives exactly what the formulation it replaced gave."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.color import masked_blur, to_lab
from facedub.composite.detail import _energies, _Readings, resized
from facedub.composite.tone import (
    FLANK_AROUND_MIN,
    FLANK_PERCENTILE,
    FLANK_SKIN_MIN,
    _blur_round,
    _chroma_ceiling,
    skin_weights,
)
from facedub.engines.base import TargetFace
from facedub.faces.masks import mask_bounds

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
SIZE = 440
HALF = SIZE // 2
SIGMA = SIZE / 16 * HALF / SIZE  # the flanks' blur at half size, as carry_detail passes it


def _blur_matches(zone: np.ndarray, sigma: float) -> bool:
    """`_blur_round` of `zone` round its box: the whole blur's values in its part, to the
    bit, and the whole blur nil beyond the part."""
    box = mask_bounds(zone)
    assert box is not None
    whole = cv2.GaussianBlur(zone, (0, 0), sigma)
    part, blurred = _blur_round(zone, sigma, box)
    beyond = whole.copy()
    beyond[part] = 0.0
    return (np.array_equal(whole[part].view(np.uint32), blurred.view(np.uint32))
            and not beyond.any())


def test_the_flanks_blur_round_their_box_is_the_whole_planes(
        first_target_face: Callable[..., TargetFace]) -> None:
    """Katie Hill's nose sides at half size (the 111-tap blur `carry_detail` makes), and
    the zone moved to every corner and edge of the plane."""
    cv2.setNumThreads(1)  # as the swap runs it; OpenCV's own split must not matter either
    try:
        target = first_target_face(KATIE, SIZE)
        zone = resized(skin_weights(target.face_landmarks, SIZE).flanks, HALF)
        assert _blur_matches(zone, SIGMA)
        box = mask_bounds(zone)
        assert box is not None
        part = zone[box]
        height, width = part.shape
        for top in (0, 7, HALF - height):
            for left in (0, 5, 16, 33, HALF - width):
                moved = np.zeros_like(zone)
                moved[top:top + height, left:left + width] = part
                assert _blur_matches(moved, SIGMA), (top, left)
    finally:
        cv2.setNumThreads(cv2.getNumberOfCPUs())


@pytest.mark.parametrize("sigma", [SIGMA, 6.0, 3.3, 16.0])
def test_the_blur_round_random_zones(sigma: float) -> None:
    """600 random soft zones a sigma, anywhere on planes of several sizes."""
    rng = np.random.default_rng(36)
    for _ in range(600):
        side = int(rng.choice([220, 200, 128, 111, 256]))
        zone = np.zeros((side, side), dtype=np.float32)
        top, left = (int(value) for value in rng.integers(0, side - 4, 2))
        height, width = (int(value) for value in rng.integers(1, 80, 2))
        spots = (rng.random((height, width)) > 0.5).astype(np.float32)
        zone[top:top + height, left:left + width] = cv2.GaussianBlur(spots, (0, 0), 2.0)[
            :side - top, :side - left]
        if zone.any():
            assert _blur_matches(zone, sigma), (side, top, left, height, width)


def _chroma_ceiling_as_before(target_low: np.ndarray, skin: np.ndarray, zone: np.ndarray,
                              sigma: float) -> float:
    """The thirty-fifth round's `_chroma_ceiling`: the zone's blur over the whole plane."""
    around = cv2.GaussianBlur(zone, (0, 0), sigma) > FLANK_AROUND_MIN
    chosen = around & (skin > FLANK_SKIN_MIN)
    chroma = np.hypot(target_low[..., 1][chosen], target_low[..., 2][chosen])
    return float(np.percentile(chroma, FLANK_PERCENTILE)) if chroma.size else 0.0


def test_the_chroma_ceiling_round_the_box_is_the_whole_planes(
        first_target_face: Callable[..., TargetFace]) -> None:
    """On Katie Hill's half crop, with her skin whole and cut at the plane's left edge,
    and the zone at the plane's corner: the same ceiling (not 0: it reads her skin)."""
    target = first_target_face(KATIE, SIZE)
    weights = skin_weights(target.face_landmarks, SIZE)
    target_half = to_lab(cv2.resize(target.image, (HALF, HALF), interpolation=cv2.INTER_AREA))
    zone = resized(weights.flanks, HALF)
    corner = np.zeros_like(zone)
    box = mask_bounds(zone)
    assert box is not None
    part = zone[box]
    corner[:part.shape[0], :part.shape[1]] = part
    for cut in (0, 60):
        mask = np.ones((HALF, HALF), dtype=np.float32)
        mask[:, :cut] = 0.0
        skin = mask * resized(weights.colour, HALF)
        target_low = masked_blur(target_half, mask, SIGMA)
        for where in (zone, corner):
            bounds = mask_bounds(where)
            ours = _chroma_ceiling(target_low, skin, where, SIGMA, bounds)
            assert ours == _chroma_ceiling_as_before(target_low, skin, where, SIGMA)
            assert ours == _chroma_ceiling(target_low, skin, where, SIGMA)
            assert ours > 0.0


def test_the_readings_give_split_sigmas_its_laplacians(
        first_target_face: Callable[..., TargetFace]) -> None:
    """What `split_sigmas` made again before (the target's energies in the two parts, the
    unblurred face's Laplacian and its energies) is the readings' own, to the bit: a
    sharpened Katie Hill against her own crop, skin and features split by a band."""
    target = first_target_face(KATIE, SIZE).image
    face = cv2.addWeighted(target, 2.0, cv2.GaussianBlur(target, (0, 0), 2.0), -1.0, 0.0)
    inside = np.zeros((SIZE, SIZE), dtype=np.uint8)
    inside[80:380, 90:360] = 1
    skin = inside.copy()
    skin[200:260] = 0
    parts = [skin, inside & (1 - skin)]
    read = _Readings(face, target, [*parts, inside])
    read.whole(2)  # as split_sigmas reads it first (every sigma up to the whole's)

    def laplacian(image: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        result: np.ndarray = cv2.Laplacian(grey, cv2.CV_32F)
        return result

    assert read.wanted(2) == _energies(laplacian(target), parts)
    assert np.array_equal(read.laplacian(0.0), laplacian(face))
    assert read.energies(0.0, 2) == _energies(laplacian(face), parts)
    assert read.laplacian(0.0) is read.laplacian(0.0)  # made once
    blurred = cv2.GaussianBlur(face, (0, 0), 1.1)
    assert np.array_equal(read.laplacian(1.1), laplacian(blurred))


def test_the_detail_floor_inside_the_root_is_the_floor_after_it() -> None:
    """`refiner._local_rms` with the floor: every float32 from 0.2 to 0.3 (round the
    floor's square) and a band's real maps give max(root, floor) to the bit; a floor
    without an exact square is refused."""
    from facedub.engines.refiner import DETAIL_FLOOR, _local_rms, _squared_floor

    floor = np.float32(DETAIL_FLOOR)
    low, high = (np.array([value], dtype=np.float32).view(np.uint32)[0] for value in (0.2, 0.3))
    values = np.arange(low, high + 1, dtype=np.uint32).view(np.float32)
    after = np.maximum(np.sqrt(values), floor)
    inside = np.sqrt(np.maximum(values, _squared_floor(DETAIL_FLOOR)))
    assert np.array_equal(after.view(np.uint32), inside.view(np.uint32))
    rng = np.random.default_rng(36)
    for sigma in (3.0, 10.3, 12.0):  # the enlarged path (and 3.0: the full-size one)
        band = (rng.normal(0.0, 0.6, (SIZE, SIZE))
                * rng.random((SIZE, SIZE)) ** 3).astype(np.float32)
        before = np.maximum(_local_rms(band, sigma), floor)
        assert np.array_equal(_local_rms(band, sigma, DETAIL_FLOOR).view(np.uint32),
                              before.view(np.uint32))
        assert float((before == floor).mean()) > 0.05  # the floor is met
    with pytest.raises(ValueError):
        _squared_floor(0.3)
