"""A video source's faces and the expression lines at less CPU (issue 13, thirty-seventh
round): a face's per-triangle trusts made into raster planes by one gather through the
raster's triangle image, the mirror's trust enlarged on its box alone, the skin's Lab
converted only where `_off_skin` reads it, the mirror's known share clipped in place. Each
gives exactly the values of the formulation it replaced (kept here), on a real target's
mesh and crop."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_contributions, mesh_expression, mesh_mirror
from facedub.engines.base import TargetFace
from facedub.engines.mesh_contributions import (
    SourceFace,
    TargetFrame,
    per_triangle_trust,
    source_contribution,
)
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import (
    SourceSampling,
    TargetRaster,
    coarse_smooth_triangles,
    coarse_smooth_upsample,
    plan_sampling,
    rasterize,
    triangle_plane,
)

TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256


@pytest.fixture(scope="module")
def target(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    return first_target_face(TARGET, CROP)


def _raster(target: TargetFace, size: int = CROP) -> TargetRaster:
    landmarks = np.asarray(target.face_landmarks, dtype=np.float64) * np.array(
        [size / CROP, size / CROP, 1.0])
    return rasterize(mesh_vertices(landmarks), mesh_depths(landmarks), size, mesh_topology())


def _bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def _plane_before(values: np.ndarray, raster: TargetRaster) -> np.ndarray:
    """The thirty-sixth round's plane: the values gathered per covered pixel, scattered
    into a zeroed float32 raster."""
    small = np.zeros(raster.size * raster.size, dtype=np.float32)
    small[raster.pixels] = np.take(values, raster.triangle)
    return small.reshape(raster.size, raster.size)


def _trusts(raster: TargetRaster, target: TargetFace) -> list[np.ndarray]:
    """Per-triangle values as a face's contribution makes them: its trust (float64), its
    need of the mirror (float64), and a float32 array."""
    vertices = mesh_vertices(target.face_landmarks)
    sampling = plan_sampling(vertices, mesh_topology())
    turned = np.clip(1.0 - sampling.visibility / 0.5, 0.0, 1.0)
    ramp = np.linspace(0.0, 1.0, len(sampling.visibility), dtype=np.float32)
    return [per_triangle_trust(sampling, 0.37), turned, ramp]


def test_the_triangle_image_holds_each_pixels_triangle(target: TargetFace) -> None:
    raster = _raster(target)
    image = raster.triangle_image
    assert image.shape == (raster.size * raster.size,) and image.dtype == np.intp
    np.testing.assert_array_equal(image[raster.pixels], raster.triangle)
    uncovered = np.ones(raster.size * raster.size, dtype=bool)
    uncovered[raster.pixels] = False
    assert uncovered.any() and (image[uncovered] == -1).all()
    # A hand-made raster of two covered pixels.
    small = TargetRaster(4, 0.5, np.array([5, 10]), np.array([7, 0], dtype=np.intp),
                         np.full((2, 3), 1 / 3, dtype=np.float32))
    np.testing.assert_array_equal(small.triangle_image,
                                  [-1, -1, -1, -1, -1, 7, -1, -1, -1, -1, 0, -1, -1, -1, -1, -1])


@pytest.mark.parametrize("size", [CROP, 250])  # an even and an odd raster (128, 125)
def test_a_triangle_plane_is_the_scattered_gather(target: TargetFace, size: int) -> None:
    raster = _raster(target, size)
    for values in _trusts(raster, target):
        plane, before = triangle_plane(values, raster), _plane_before(values, raster)
        assert plane.dtype == before.dtype == np.float32 and plane.shape == before.shape
        assert _bits(plane) == _bits(before)


@pytest.mark.parametrize("size", [CROP, 250])
def test_the_coarse_smoothing_of_triangles_is_the_per_pixel_ones(target: TargetFace,
                                                                 size: int) -> None:
    """The whole crop and boxes of it (inside, at the crop's edges, empty) against
    `coarse_smooth_upsample` of the gathered values, cut to the box."""
    raster = _raster(target, size)
    sigma = size / 48.0
    boxes = [None, (slice(40, 200), slice(33, 181)), (slice(0, size), slice(0, size)),
             (slice(0, 97), slice(150, size)), (slice(size - 3, size), slice(0, 5)),
             (slice(10, 10), slice(0, 0))]
    for values in _trusts(raster, target):
        whole = coarse_smooth_upsample(np.take(values, raster.triangle), raster, size, sigma)
        assert whole.any()
        for box in boxes:
            made = coarse_smooth_triangles(values, raster, size, sigma, box)
            before = whole if box is None else whole[box]
            assert made.dtype == before.dtype and made.shape == before.shape
            assert _bits(made) == _bits(before)


def test_a_faces_contribution_is_the_one_from_per_pixel_trusts(
        target: TargetFace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A face's whole contribution, its mirror fill too, against the same face made with
    the thirty-sixth round's per-pixel gathers and whole-crop enlargements."""
    topology = mesh_topology()
    vertices = mesh_vertices(target.face_landmarks)
    raster = _raster(target)
    frame = TargetFrame(raster, CROP, np.ones((CROP, CROP), np.float32), None)
    alpha = np.full((CROP, CROP, 1), 255, np.uint8)
    alpha[:, : CROP // 3] = 0  # one side unclean: the mirror fills it
    crop = np.concatenate([target.image, alpha], axis=2)
    direct = plan_sampling(vertices, topology)
    mirror = SourceSampling(topology.mirror, direct.visibility)
    face = SourceFace(0.6, crop, direct, mirror, True, vertices, np.zeros((2, 3)))
    made = source_contribution(face, frame)

    def before(values: np.ndarray, raster: TargetRaster, size: int, sigma: float,
               box: tuple[slice, slice] | None = None) -> np.ndarray:
        whole = coarse_smooth_upsample(np.take(values, raster.triangle), raster, size, sigma)
        return whole if box is None else whole[box]

    monkeypatch.setattr(mesh_contributions, "coarse_smooth_triangles", before)
    reference = source_contribution(face, frame)
    assert made.mirror is not None and reference.mirror is not None
    assert made.mirror.box == reference.mirror.box
    for first, second in ((made.weighted, reference.weighted), (made.trust, reference.trust),
                          (made.clean_weight, reference.clean_weight),
                          (made.mirror.weighted, reference.mirror.weighted),
                          (made.mirror.trust, reference.mirror.trust),
                          (made.mirror.used_weight, reference.mirror.used_weight)):
        assert _bits(first) == _bits(second)


def _off_skin_before(image: np.ndarray, skin: np.ndarray, rows: tuple[int, int] | None
                     ) -> np.ndarray:
    """The thirty-sixth round's `_off_skin`: the whole crop's Lab, picked and cut."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    on_skin = skin > 0.5
    picked = np.flatnonzero(on_skin)[::5]
    pixels = lab.reshape(-1, 3)
    median = [mesh_expression._median_of_bytes(pixels[picked, channel]) for channel in (1, 2)]
    unit = image.shape[0] / 256.0
    grow = max(1, round(6 * unit))
    band = slice(None)
    if rows is not None:
        reach = grow + mesh_expression._blur_radius(4.0 * unit)
        band = slice(max(0, rows[0] - reach), min(image.shape[0], rows[1] + reach))
    chroma = [lab[band, :, channel].astype(np.float32) for channel in (1, 2)]
    distance = np.hypot(chroma[0] - median[0], chroma[1] - median[1])
    low, high = mesh_expression.OFF_SKIN_CHROMA
    off = np.where(on_skin[band], np.clip((distance - low) / (high - low), 0.0, 1.0), 1.0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    grown = cv2.dilate(off.astype(np.float32), kernel)
    if rows is None:
        return cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    found = np.zeros(skin.shape, dtype=np.float32)
    found[band] = cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    return found


@pytest.mark.parametrize("rows", [None, (0, 5), (30, 60), (60, 75), (90, 128), (120, 128)])
def test_the_skins_chroma_from_its_picked_pixels_is_the_whole_crops(
        target: TargetFace, rows: tuple[int, int] | None) -> None:
    """`_off_skin` converting only its picked skin pixels and its band's rows gives the
    values of the whole crop's conversion (OpenCV's 8-bit Lab is a pixel's own)."""
    work = CROP // 2
    small = cv2.resize(target.image, (work, work), interpolation=cv2.INTER_AREA)
    points = np.asarray(target.face_landmarks, dtype=np.float64)[:, :2] * 0.5
    skin = mesh_expression.skin_mask(points, work)
    made, before = mesh_expression._off_skin(small, skin, rows), _off_skin_before(small, skin,
                                                                                  rows)
    assert 0.0 < before.mean() < 1.0
    assert made.dtype == before.dtype and _bits(made) == _bits(before)


def test_the_mirrors_known_share_is_clipped_as_before() -> None:
    masses = [np.random.default_rng(seed).random((37, 41), dtype=np.float32) * scale
              for seed, scale in ((0, 1.0), (1, 1e-3), (2, 40.0))]
    masses.append(np.zeros((5, 6), dtype=np.float32))
    for mass in masses:
        floor = mesh_mirror.KNOWN_SHARE * max(float(mass.max()), 1e-12)
        before = np.clip(mass / floor, 0.0, 1.0).astype(np.float32)
        made = mesh_mirror._known(mass)
        assert made.dtype == before.dtype and _bits(made) == _bits(before)
        assert made is not mass
