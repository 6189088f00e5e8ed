"""The mesh engine's output-identical speedups (issue 9's speed, twentieth round): each
new computation gives exactly the values of the one it replaced, on real data from
../shared/data/faces (Kit Harington's turned photo onto the streamer: the mirror fill
runs there, BENCHMARKS.md "Swap speed")."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_contributions
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_contributions import moved_towards
from facedub.engines.mesh_mirror import (
    DETAIL_DOWN,
    DIRECT_LEVEL_SIGMA,
    LEVEL_SIGMA_PIXELS,
    MIRROR_MAX_GAIN,
    MIRROR_SHADE_SIGMA,
    _area_shrunk,
    _known,
    _ratio,
    levelled_mirror,
)
from facedub.faces.masks import _to_uint8, face_mask, feather, three_channels
from facedub.faceset import Faceset

TURNED = "still_kit_harington_turned.jpg"
FRONTAL = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256

MirrorCall = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]


@pytest.fixture(scope="module")
def mirror_calls(extracted: Callable[..., Faceset],
                 first_target_face: Callable[..., TargetFace]) -> list[MirrorCall]:
    """`levelled_mirror`'s arguments in a real swap (the turned photo's far side)."""
    calls: list[MirrorCall] = []

    def recorded(mirrored: np.ndarray, mirror_trust: np.ndarray, direct: np.ndarray,
                 direct_trust: np.ndarray, size: int) -> np.ndarray:
        calls.append((mirrored.copy(), mirror_trust.copy(), direct.copy(),
                      direct_trust.copy(), size))
        return levelled_mirror(mirrored, mirror_trust, direct, direct_trust, size)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mesh_contributions, "levelled_mirror", recorded)
        MeshEngine(extracted(TURNED, max_frames=1, crop_size=CROP)).swap_face(
            first_target_face(FRONTAL, CROP))
    assert calls, "the turned photo's far side no longer takes the mirror"
    return calls


def _planes(call: MirrorCall) -> list[np.ndarray]:
    """Five (H, W) float32 planes of a real call, as the level sums are made."""
    mirrored, mirror_trust, direct, direct_trust, _ = call
    luma = cv2.cvtColor(mirrored, cv2.COLOR_RGB2GRAY)
    direct_luma = cv2.cvtColor(np.ascontiguousarray(direct), cv2.COLOR_RGB2GRAY)
    weights = direct_trust * direct_trust
    return [luma * mirror_trust, mirror_trust, direct_luma * weights, weights,
            luma * luma * mirror_trust]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_planes_shrunk_as_one_images_channels_equal_each_plane_shrunk(
        mirror_calls: list[MirrorCall], count: int) -> None:
    for call in mirror_calls:
        planes = _planes(call)[:count]
        for sigma in (call[4] * MIRROR_SHADE_SIGMA, call[4] * DIRECT_LEVEL_SIGMA):
            shrink = max(1, round(sigma / LEVEL_SIGMA_PIXELS))
            shrunk = _area_shrunk(tuple(planes), shrink)
            assert len(shrunk) == count
            for plane, result in zip(planes, shrunk, strict=True):
                height, width = plane.shape
                padded = cv2.copyMakeBorder(plane, 0, -height % shrink, 0, -width % shrink,
                                            cv2.BORDER_REPLICATE)
                expected = cv2.resize(padded, None, fx=1.0 / shrink, fy=1.0 / shrink,
                                      interpolation=cv2.INTER_AREA)
                assert result.dtype == np.float32 and np.array_equal(result, expected)


def test_thin_planes_shrunk_by_their_short_side_average_whole_blocks(
        mirror_calls: list[MirrorCall]) -> None:
    planes = _planes(mirror_calls[0])[:3]
    # Thin planes shrunk by as much as `levelled_mirror` allows them (their short side):
    # one block across, the last blocks filled by repeating the edge.
    for height, width, shrink, shape in ((2, 41, 2, (1, 21)), (43, 3, 3, (15, 1)),
                                         (1, 1, 1, (1, 1))):
        parts = tuple(np.ascontiguousarray(plane[:height, :width]) for plane in planes)
        for part, result in zip(parts, _area_shrunk(parts, shrink), strict=True):
            assert result.shape == shape
            padded = np.pad(part, ((0, -height % shrink), (0, -width % shrink)), mode="edge")
            expected = padded.reshape(shape[0], shrink, shape[1], shrink).mean(axis=(1, 3))
            np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-4)


def _plane_by_plane_mirror(mirrored: np.ndarray, mirror_trust: np.ndarray,
                           direct: np.ndarray, direct_trust: np.ndarray,
                           size: int) -> np.ndarray:
    """`levelled_mirror` as it was (main 35caa7d): every plane shrunk alone, out of place
    (by the whole factor since the twenty-first round)."""
    def blurs(planes: tuple[np.ndarray, ...], sigma: float) -> list[np.ndarray]:
        height, width = planes[0].shape
        shrink = max(1, min(round(sigma / LEVEL_SIGMA_PIXELS), height, width))
        factor[0] = shrink
        return [cv2.GaussianBlur(cv2.resize(cv2.copyMakeBorder(
            plane.astype(np.float32), 0, -height % shrink, 0, -width % shrink,
            cv2.BORDER_REPLICATE), None, fx=1.0 / shrink, fy=1.0 / shrink,
            interpolation=cv2.INTER_AREA), (0, 0), sigma / shrink) for plane in planes]

    def enlarged(planes: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        return [cv2.resize(plane, (plane.shape[1] * factor[0], plane.shape[0] * factor[0]),
                           interpolation=cv2.INTER_LINEAR)[:shape[0], :shape[1]]
                for plane in planes]

    factor = [1]

    def luma(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2GRAY)

    mirror_sigma, direct_sigma = max(1.0, size * MIRROR_SHADE_SIGMA), max(
        1.0, size * DIRECT_LEVEL_SIGMA)
    shape = mirror_trust.shape
    mirror_luma, direct_luma = luma(mirrored), luma(direct)
    direct_weights = (direct_trust**2).astype(np.float32)
    sums = blurs((mirror_luma * mirror_trust, mirror_trust, direct_luma * direct_weights,
                  direct_weights), mirror_sigma)
    mirror_level, mirror_known, direct_near = enlarged(
        (_ratio(sums[0], sums[1]), _known(sums[1]), _ratio(sums[2], sums[3])))
    mirror_fine, direct_fine = mirror_luma - mirror_level, direct_luma - direct_near
    sums = blurs((direct_luma * direct_weights, direct_weights,
                  direct_fine**2 * direct_weights, mirror_fine**2 * mirror_trust,
                  mirror_trust), direct_sigma)
    direct_power = _ratio(sums[2], sums[1])
    mirror_power = np.maximum(_ratio(sums[3], sums[4]), 1e-6)
    direct_level, direct_known, contrast = enlarged(
        (_ratio(sums[0], sums[1]), _known(sums[1]), np.sqrt(direct_power / mirror_power)))
    lift = np.clip(direct_level / np.maximum(mirror_level, 1.0), 1.0, MIRROR_MAX_GAIN) - 1.0
    gain = 1.0 + lift * mirror_known * direct_known
    scale = np.clip(contrast, gain**-DETAIL_DOWN, gain)
    levelled = mirrored * three_channels(gain) + three_channels((scale - gain) * mirror_fine)
    result: np.ndarray = np.clip(levelled, 0.0, 255.0).astype(np.float32)
    return result


def test_the_levelled_mirror_is_the_plane_by_plane_ones(
        mirror_calls: list[MirrorCall]) -> None:
    for call in mirror_calls:
        levelled = levelled_mirror(*call)
        assert levelled.dtype == np.float32
        assert np.array_equal(levelled, _plane_by_plane_mirror(*call))


def test_the_shared_light_mix_in_place_is_the_out_of_place_ones(
        mirror_calls: list[MirrorCall]) -> None:
    """`_add_source`'s `texture += shared * (unlifted - texture)`, on two real textures."""
    mirrored, _, direct, _, _ = mirror_calls[0]
    for share in (0.03, 0.37, 1.0):
        expected = mirrored.copy()
        expected += np.float32(share) * (np.ascontiguousarray(direct) - expected)
        moved, other = mirrored.copy(), np.array(direct, dtype=np.float32)
        moved_towards(moved, other, share)
        assert np.array_equal(moved, expected)


def _numpy_uint8(mask: np.ndarray) -> np.ndarray:
    """`feather`'s conversion as it was (main 35caa7d)."""
    return np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8)


def test_float_masks_to_uint8_as_numpy_clips_scales_and_rounds(
        mirror_calls: list[MirrorCall], first_target_face: Callable[..., TargetFace]) -> None:
    """On real soft masks, and on every float32 within 64 steps of each rounding
    boundary (k + 1/2) / 255, below 0 and above 1 (the half-way cases round to even)."""
    target = first_target_face(FRONTAL, CROP)
    masks = [face_mask(target.face_landmarks, CROP, erode=3, blur=9), mirror_calls[0][1],
             mirror_calls[0][3] * 1.3 - 0.1]
    boundaries = ((np.arange(-2, 258, dtype=np.float64) + 0.5) / 255.0).astype(np.float32)
    steps = np.arange(-64, 65, dtype=np.int64)
    near = np.concatenate([np.nextafter(np.float32(0), np.float32(1)) * np.arange(64),
                           (boundaries.view(np.int32)[:, None].astype(np.int64)
                            + np.sign(boundaries)[:, None].astype(np.int64) * steps)
                           .astype(np.int32).view(np.float32).ravel(),
                           np.float32([-0.0, 1.0, 1.5, 4.0, 1e9, -1e9, np.inf, -np.inf])])
    masks.append(near.astype(np.float32).reshape(1, -1))
    for mask in masks:
        assert np.array_equal(_to_uint8(mask), _numpy_uint8(mask))
    as_double = masks[0].astype(np.float64)  # NumPy's own way for other dtypes
    assert np.array_equal(_to_uint8(as_double), _numpy_uint8(as_double))
    assert np.array_equal(feather(masks[1], 2, 5), feather(_numpy_uint8(masks[1]), 2, 5))
