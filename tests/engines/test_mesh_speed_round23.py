"""The mesh engine's speed cuts of the twenty-third round (issue 9's speed), each against
the computation it replaced: equal values, or within a bound for the one approximation
(`coarse_smooth_upsample`). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_mirror
from facedub.engines.base import TargetFace
from facedub.engines.mesh_eyes import EYES
from facedub.engines.mesh_eyes_tone import EyeTone, eyes_bounds, source_share, with_eyes
from facedub.engines.mesh_mouth import lips_mask
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import (
    coarse_smooth_upsample,
    rasterize,
    smooth_upsample,
    triangle_visibility,
)
from facedub.faces import masks
from facedub.faces.masks import face_oval, feather, polygon_mask
from facedub.faces.regions import mesh_regions

README_TARGET = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def _old_feather(mask: np.ndarray, erode: int, blur: int) -> np.ndarray:
    """`masks.feather` as it was: the whole mask divided, blurred by `_gaussian` (its rows
    found by NumPy's any()) and stretched."""
    hard = mask if mask.dtype == np.uint8 else masks._to_uint8(mask)
    if erode:
        hard = masks._morphed(hard, erode)
    soft = np.divide(hard, np.float32(255.0), dtype=np.float32)
    if blur > 0:
        soft = masks._gaussian(soft, blur / 2.0)
        if erode >= 0:
            soft *= 2.0
            soft -= 1.0
            np.clip(soft, 0.0, 1.0, out=soft)
    return soft


def test_feather_is_as_before(first_target_face: Callable[..., TargetFace]) -> None:
    """The README clip's first face at 440 px: the masks the engine feathers (its face
    oval, the lips as float and as bytes, an eye, a mask touching the crop's top and
    bottom rows, an empty one) at the erosions and blurs it uses, narrow (the rows' band)
    and wide (the half-size path), and on an odd crop (never halved): the same values.
    Exactly, but for the narrow blurs, which since the forty-eighth round are blurred in
    their mask's box, not across the whole rows: OpenCV's vector loop ends elsewhere on a
    shorter row, and a value of the row pass and one of the column pass can each round the
    other way, so a blurred value may move by its float32 units in the last place (ulps):
    at most 2 here (19 of the left eye's values at erode -2, blur 3). Where the blur is
    then stretched (2 * value - 1, exact in float32 from 0.5 up), those 2 ulps of a value
    under 1 (2 * 2**-24) double: 2**-22 absolute, whatever the small result's own ulps
    (the stretched ones here come out equal; on the README swap's recorded feathers, up to
    3.0e-8 moved)."""
    face = first_target_face(README_TARGET, 440)
    landmarks = np.asarray(face.face_landmarks, dtype=np.float64)[:, :2]
    regions = mesh_regions()
    lips = polygon_mask(landmarks[regions.lips_outer], 440)
    eye = np.zeros((440, 440), dtype=np.uint8)
    cv2.fillPoly(eye, [np.round(landmarks[EYES[0].contour]).astype(np.int32)], 255)
    column = np.zeros((440, 440), dtype=np.float32)
    column[:, 200:230] = 0.7
    candidates = [face_oval(face.face_landmarks, 440), lips, (lips * 255).astype(np.uint8),
                  eye, column, np.zeros((440, 440), dtype=np.float32), lips[:439, :437]]
    for mask in candidates:
        for erode, blur in ((2, 4), (-2, 4), (-1, 2), (-2, 3), (0, 7), (-12, 20), (3, 24),
                            (0, 0), (-3, 0), (0, 40)):
            got, old = feather(mask, erode, blur), _old_feather(mask, erode, blur)
            assert got.dtype == np.float32
            if blur == 0 or masks._halved(mask.shape, blur / 2.0):  # paths not changed
                np.testing.assert_array_equal(got, old)
            elif erode < 0:  # the box's blur, not stretched
                np.testing.assert_array_max_ulp(got, old, maxulp=2)
            else:  # the box's blur, stretched
                np.testing.assert_allclose(got, old, rtol=0, atol=2.0**-22)


def _old_area_shrunk(planes: tuple[np.ndarray, ...], shrink: int) -> list[np.ndarray]:
    """`mesh_mirror._area_shrunk` as it was: up to four planes as the channels of one
    image, bordered, shrunk and taken apart."""
    height, width = planes[0].shape
    bottom, right = -height % shrink, -width % shrink
    shrunk: list[np.ndarray] = []
    for start in range(0, len(planes), 4):
        group = [plane.astype(np.float32, copy=False) for plane in planes[start:start + 4]]
        image = group[0] if len(group) == 1 else cv2.merge(group)
        if bottom or right:
            image = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
        small = cv2.resize(image, None, fx=1.0 / shrink, fy=1.0 / shrink,
                           interpolation=cv2.INTER_AREA)
        if len(group) == 1:
            shrunk.append(small.reshape(small.shape[:2]))
            continue
        shrunk.extend(cv2.extractChannel(small, channel) for channel in range(len(group)))
    return shrunk


def test_the_level_planes_shrunk_alone_are_as_four_channels() -> None:
    """Random planes of every width and height parity (1 to 419 px), one to six at a
    time, at whole factors 1 to 8 (the engine's 1 to 8 at 256-512 px), over nine decades of
    magnitude (the levels' weights reach 1e-28): the same values as shrunk four at a time
    as channels, and contiguous."""
    rng = np.random.default_rng(23)
    for _ in range(150):
        height, width = (int(n) for n in rng.integers(1, 420, 2))
        count = int(rng.integers(1, 7))
        planes = tuple(rng.random((height, width), dtype=np.float32)
                       * np.float32(10.0 ** rng.uniform(-8, 3)) for _ in range(count))
        for shrink in range(1, 9):
            shrink = min(shrink, height, width)
            got = mesh_mirror._area_shrunk(planes, shrink)
            old = _old_area_shrunk(planes, shrink)
            assert len(got) == len(old)
            for new_plane, old_plane in zip(got, old, strict=True):
                assert new_plane.flags.c_contiguous
                np.testing.assert_array_equal(new_plane, old_plane)


def _old_levelled_mirror(mirrored: np.ndarray, mirror_trust: np.ndarray, direct: np.ndarray,
                         direct_trust: np.ndarray, size: int) -> np.ndarray:
    """`levelled_mirror` as it was (its planes shrunk as channels, the lift, gain and fine
    part each a fresh array)."""
    def shrunk_blurs(planes: tuple[np.ndarray, ...], sigma: float
                     ) -> tuple[list[np.ndarray], int]:
        height, width = planes[0].shape
        shrink = max(1, min(round(sigma / mesh_mirror.LEVEL_SIGMA_PIXELS), height, width))
        return [cv2.GaussianBlur(plane, (0, 0), sigma / shrink)
                for plane in _old_area_shrunk(planes, shrink)], shrink

    ratio, known, enlarged, luma = (mesh_mirror._ratio, mesh_mirror._known,
                                    mesh_mirror._enlarged, mesh_mirror._luma)
    mirror_sigma = max(1.0, size * mesh_mirror.MIRROR_SHADE_SIGMA)
    direct_sigma = max(1.0, size * mesh_mirror.DIRECT_LEVEL_SIGMA)
    shape = mirror_trust.shape
    mirror_luma, direct_luma = luma(mirrored), luma(direct)
    direct_weights = np.square(direct_trust).astype(np.float32, copy=False)
    direct_mass = direct_luma * direct_weights
    sums, shrink = shrunk_blurs((mirror_luma * mirror_trust, mirror_trust, direct_mass,
                                 direct_weights), mirror_sigma)
    mirror_level, mirror_known, direct_near = enlarged(
        (ratio(sums[0], sums[1]), known(sums[1]), ratio(sums[2], sums[3])), shape, shrink)
    mirror_fine, direct_fine = mirror_luma - mirror_level, direct_luma - direct_near
    sums, shrink = shrunk_blurs((direct_mass, direct_weights, direct_fine**2 * direct_weights,
                                 mirror_fine**2 * mirror_trust, mirror_trust), direct_sigma)
    direct_power = ratio(sums[2], sums[1])
    mirror_power = np.maximum(ratio(sums[3], sums[4]), 1e-6)
    direct_level, direct_known, contrast = enlarged(
        (ratio(sums[0], sums[1]), known(sums[1]), np.sqrt(direct_power / mirror_power)), shape,
        shrink)
    lift = np.clip(direct_level / np.maximum(mirror_level, 1.0), 1.0,
                   mesh_mirror.MIRROR_MAX_GAIN) - 1.0
    gain = 1.0 + lift * mirror_known * direct_known
    scale = np.clip(contrast, gain**-mesh_mirror.DETAIL_DOWN, gain)
    fine = (scale - gain) * mirror_fine
    levelled = mirrored * masks.three_channels(gain)
    levelled += masks.three_channels(fine)
    return np.clip(levelled, 0.0, 255.0, out=levelled)


@pytest.mark.parametrize("size", [440, 256, 512])
def test_the_levelled_mirror_is_as_before(first_target_face: Callable[..., TargetFace],
                                          size: int) -> None:
    """The README clip's first face at 256, 440 and 512 px (level factors 1 and 4, 2 and
    7, 2 and 8): a box of it as the mirrored texture, its mirror image as the direct one
    (darker on one side), trusts falling off across the box as the engine's do: the same
    values as before."""
    image = first_target_face(README_TARGET, size).image.astype(np.float32)
    box = (slice(size // 8, size - size // 7), slice(size // 9, size - size // 10))
    mirrored = np.ascontiguousarray(image[box])
    height, width = mirrored.shape[:2]
    ramp = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    falling = np.linspace(1.0, 0.2, height, dtype=np.float32)[:, None]
    direct = np.ascontiguousarray(np.fliplr(mirrored)) * (0.6 + 0.4 * ramp)[..., None]
    mirror_trust = np.ascontiguousarray((ramp * falling) ** 2 + 1e-6)
    direct_trust = np.ascontiguousarray((1.0 - ramp) * falling + 1e-3)
    got = mesh_mirror.levelled_mirror(mirrored, mirror_trust, direct, direct_trust, size)
    np.testing.assert_array_equal(
        got, _old_levelled_mirror(mirrored, mirror_trust, direct, direct_trust, size))


@pytest.mark.parametrize("size", [440, 250])
def test_the_coarse_smoothing_is_near_the_raster_sized_one(
        first_target_face: Callable[..., TargetFace], size: int) -> None:
    """The README clip's first face at 440 px (an even raster) and its mesh scaled to 250
    (an odd one; the engine's crops, multiples of 8, never have one): the trust and the
    mirror's need as the engine smooths them (its own triangles' visibility, a turned-away
    pattern of it) within 0.006 of `smooth_upsample`'s at 440 px (0.0044 found), 0.012 at
    250 (0.009), mean under 5e-4 (1e-3 at 250), 0 well away from the mesh."""
    landmarks = first_target_face(README_TARGET, 440).face_landmarks * (size / 440.0)
    topology = mesh_topology()
    vertices = mesh_vertices(landmarks)
    raster = rasterize(vertices, mesh_depths(landmarks), size, topology)
    assert raster.size % 2 == (size == 250)
    visibility = triangle_visibility(vertices, topology.template_vertices, topology.triangles)
    turned = np.clip(1.0 - visibility / 0.9, 0.0, 1.0).astype(np.float32)
    for per_triangle in (visibility.astype(np.float32) + 1e-3, turned):
        values = per_triangle[raster.triangle]
        fine = smooth_upsample(values, raster, size, size / 48.0)
        coarse = coarse_smooth_upsample(values, raster, size, size / 48.0)
        assert coarse.shape == fine.shape and coarse.dtype == np.float32
        difference = np.abs(coarse - fine)
        assert difference.max() < (0.006 if size == 440 else 0.012)
        assert difference.mean() < (5e-4 if size == 440 else 1e-3)
        far = cv2.dilate((fine > 0).astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
        assert far.any() and np.all(coarse[far] == 0.0)


def test_an_eased_eye_tone_is_as_with_astuple() -> None:
    """`EyeTone.eased` with its fields read directly: the values of the arrays of
    `astuple`, for random tones and follow rates."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        new = EyeTone(*(float(value) for value in rng.normal(50, 30, 10)))
        last = EyeTone(*(float(value) for value in rng.normal(50, 30, 10)))
        follow = float(rng.random())
        old_new, old_last = np.array(astuple(new)), np.array(astuple(last))
        expected = EyeTone(*(float(value) for value in old_last + follow * (old_new - old_last)))
        assert new.eased(last, follow) == expected
    assert new.eased(None, 0.3) is new


def test_the_eyes_shares_with_their_box_given_are_as_found(
        first_target_face: Callable[..., TargetFace]) -> None:
    """`source_share` and `with_eyes` given `eyes_bounds` (found once by the engine) and
    finding it themselves: the same arrays; the catchlights taken off inside that box only
    are the whole crop's product (the share is 0 outside it)."""
    face = first_target_face(README_TARGET, 440)
    landmarks = np.asarray(face.face_landmarks, dtype=np.float64)[:, :2]
    eyes = np.maximum(polygon_mask(landmarks[EYES[0].contour], 440, blur=6) * 0.6,
                      polygon_mask(landmarks[EYES[1].contour], 440, blur=6) * 0.3)
    own = polygon_mask(landmarks[EYES[1].contour], 440, blur=10)
    kept = lips_mask(face.face_landmarks, 440)
    catchlights = np.zeros((440, 440), dtype=np.float32)
    catchlights[:, ::7] = 0.5  # across the whole crop, in the eyes' box and beyond it
    image = face.image
    reshaped = image.astype(np.float32) * 0.9
    box = (slice(0, 440), slice(0, 440))
    inner = eyes_bounds(eyes, own)
    assert inner is not None
    share = source_share(kept, eyes, own, catchlights, inner)
    np.testing.assert_array_equal(share, source_share(kept, eyes, own, catchlights))
    unlit = source_share(kept, eyes, own)
    np.testing.assert_array_equal(share, unlit * (1.0 - catchlights))
    assert share.max() > 0.0
    given = with_eyes(kept, image, eyes, own, reshaped, box, inner)
    found = with_eyes(kept, image, eyes, own, reshaped, box)
    for got, expected in zip(given, found, strict=True):
        np.testing.assert_array_equal(got, expected)
    nothing = np.zeros_like(eyes)
    assert eyes_bounds(nothing, nothing) is None
    assert source_share(kept, nothing, nothing, catchlights, None).max() == 0.0
