"""The engine thread's raster and a video source's faces at less CPU (issue 13,
thirty-second round): each rewritten piece of `mesh_warp`, `mesh_mirror` and
`mesh_contributions` gives exactly the values of the formulation it replaced (kept here),
on a real target's mesh, on that mesh shaken until slivers stray, and on random boxes, and
does the less work it is there for."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_contributions, mesh_warp
from facedub.engines.base import TargetFace
from facedub.engines.mesh_contributions import (
    Contribution,
    MirrorShare,
    SourceFace,
    TargetFrame,
    mesh_reach,
    source_contribution,
)
from facedub.engines.mesh_mirror import MIRROR_MAX_GAIN, _between
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import (
    MIN_TRIANGLE_AREA,
    TargetRaster,
    _corner_adjugates,
    _filled,
    _holding,
    _slivers,
    _stray,
    enlarged_box,
    plan_sampling,
    rasterize,
    signed_areas,
    source_maps,
)

TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256


@pytest.fixture(scope="module")
def target(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    return first_target_face(TARGET, CROP)


def _meshes(target: TargetFace) -> list[tuple[np.ndarray, np.ndarray]]:
    """The target's mesh (vertices, depths) as the engine draws it, and shaken copies:
    each vertex moved up to 2 px, so that many triangles fold into slivers and some of
    their pixels stray."""
    vertices = mesh_vertices(target.face_landmarks)
    depths = mesh_depths(target.face_landmarks)
    rng = np.random.default_rng(32)
    shaken = [(vertices + rng.uniform(-2.0, 2.0, vertices.shape), depths) for _ in range(6)]
    return [(vertices, depths), *shaken]


def _rasterize_before(vertices: np.ndarray, depths: np.ndarray, size: int,
                      scale: float = 0.5) -> TargetRaster:
    """The thirty-first round's `rasterize`: int32 triangles, every pixel's least weight
    taken by `min(axis=1)`, every unsliver triangle's box tested against every stray
    pixel, and the strided gathers of `_barycentric` (`_barycentric_before`)."""
    topology = mesh_topology()
    raster_size = max(8, round(size * scale))
    points = vertices * (raster_size / size)
    triangles = topology.triangles
    orientation = np.sign(signed_areas(topology.template_vertices, triangles))
    areas = signed_areas(points, triangles)
    drawn = areas * orientation > MIN_TRIANGLE_AREA * scale**2
    order = np.flatnonzero(drawn)
    order = order[np.argsort(-depths[triangles[order]].mean(axis=1))]
    corners = np.round(points[triangles] * 16).astype(np.int32)
    flat = _filled(raster_size, corners, order).ravel()
    pixels = np.flatnonzero(flat)
    covering = flat[pixels] - 1
    centre_offset = 0.5 * (1.0 - raster_size / size)
    weights = _barycentric_before(points, triangles, covering, pixels, raster_size,
                                  centre_offset)
    sliver = _slivers(points, triangles, areas)
    stray = sliver[covering] & (weights.min(axis=1) < 0.0)
    if stray.any():
        ys, xs = np.divmod(pixels[stray], raster_size)
        candidates = order[~sliver[order]]
        low = points[triangles[candidates]].min(axis=1) - 1.0
        high = points[triangles[candidates]].max(axis=1) + 1.0
        holds = ((xs[None, :] >= low[:, :1]) & (xs[None, :] <= high[:, :1])
                 & (ys[None, :] >= low[:, 1:]) & (ys[None, :] <= high[:, 1:])).any(axis=1)
        beneath = _filled(raster_size, corners, candidates[holds])
        under = beneath.ravel()[pixels[stray]] - 1
        moved = np.flatnonzero(stray)[under >= 0]
        covering[moved] = under[under >= 0]
        weights[moved] = _barycentric_before(points, triangles, covering[moved], pixels[moved],
                                             raster_size, centre_offset)
    return TargetRaster(raster_size, raster_size / size, pixels, covering, weights)


def _barycentric_before(points: np.ndarray, triangles: np.ndarray, covering: np.ndarray,
                        pixels: np.ndarray, size: int, offset: float) -> np.ndarray:
    determinant, adjugate = _corner_adjugates(points, triangles)
    singular = np.abs(determinant) < 1e-9
    inverse = adjugate / np.where(singular, 1.0, determinant)[:, None, None]
    inverse[singular] = np.eye(3)
    inverse = inverse.astype(np.float32)
    ys, xs = np.divmod(pixels, size)
    x, y = (np.asarray(coordinate + offset, dtype=np.float32) for coordinate in (xs, ys))
    weights = np.empty((len(pixels), 3), dtype=np.float32)
    for j in range(3):
        weights[:, j] = (x * inverse[:, 0, j][covering] + y * inverse[:, 1, j][covering]
                         + inverse[:, 2, j][covering])
    return weights


def _source_maps_before(raster: TargetRaster, source_vertices: np.ndarray,
                        source_triangles: np.ndarray, size: int,
                        box: tuple[slice, slice] | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The thirty-first round's `source_maps`: the box's pixels always selected, strided
    corner columns, the whole crop enlarged and the box cut from it."""
    pixels, triangle, barycentric = raster.pixels, raster.triangle, raster.barycentric
    if box is not None:
        rows, columns = np.divmod(pixels, raster.size)
        near = np.ones(len(pixels), dtype=bool)
        for coordinate, part in ((rows, box[0]), (columns, box[1])):
            start, stop, _ = part.indices(size)
            low = int(np.floor(start * raster.scale)) - 2
            high = int(np.ceil(stop * raster.scale)) + 2
            near &= (coordinate >= low) & (coordinate < high)
        pixels, triangle, barycentric = pixels[near], triangle[near], barycentric[near]
    corners = source_vertices.astype(np.float32)[source_triangles]
    weights = [barycentric[:, k] for k in range(3)]
    maps = []
    for axis in range(2):
        values = (weights[0] * corners[:, 0, axis][triangle]
                  + weights[1] * corners[:, 1, axis][triangle]
                  + weights[2] * corners[:, 2, axis][triangle])
        small = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
        small[pixels] = values
        full = cv2.resize(small.reshape(raster.size, raster.size), (size, size),
                          interpolation=cv2.INTER_LINEAR)
        maps.append(full if box is None else full[box])
    return maps[0], maps[1]


def _bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def test_the_raster_is_the_one_before_to_the_bit_with_slivers_strayed(
        target: TargetFace) -> None:
    strays: list[int] = []

    def counted(*args: np.ndarray) -> np.ndarray:
        found = _stray(*args)
        strays.append(len(found))
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mesh_warp, "_stray", counted)
        for vertices, depths in _meshes(target):
            for size in (CROP, CROP - 1):
                made = rasterize(vertices, depths, size, mesh_topology())
                before = _rasterize_before(vertices, depths, size)
                assert made.size == before.size and made.scale == before.scale
                assert _bits(made.pixels) == _bits(before.pixels)
                assert np.array_equal(made.triangle, before.triangle)
                assert _bits(made.barycentric) == _bits(before.barycentric)
    assert sum(count > 0 for count in strays) >= 3, "too few rasters with stray pixels"


def test_the_rasters_triangles_are_numpys_index_type(target: TargetFace) -> None:
    """Gathered through per pixel by every face (the maps' corners, the visibilities):
    as intp no cast of the indices is made per gather."""
    vertices, depths = _meshes(target)[0]
    assert rasterize(vertices, depths, CROP, mesh_topology()).triangle.dtype == np.intp


def test_stray_pixels_and_the_triangles_holding_them_as_before() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        sliver = rng.random(40) < 0.2
        covering = rng.integers(0, 40, 500)
        weights = rng.uniform(-0.2, 1.0, (500, 3)).astype(np.float32)
        before = np.flatnonzero(sliver[covering] & (weights.min(axis=1) < 0.0))
        assert np.array_equal(_stray(sliver, covering, weights), before)
        corners = rng.uniform(0, 100, (60, 3, 2))
        xs, ys = rng.integers(0, 100, 5), rng.integers(0, 100, 5)
        low, high = corners.min(axis=1) - 1.0, corners.max(axis=1) + 1.0
        holds = ((xs[None, :] >= low[:, :1]) & (xs[None, :] <= high[:, :1])
                 & (ys[None, :] >= low[:, 1:]) & (ys[None, :] <= high[:, 1:])).any(axis=1)
        assert np.array_equal(_holding(corners, xs, ys), holds)


def test_the_maps_are_the_ones_before_to_the_bit_whole_and_in_boxes(
        target: TargetFace) -> None:
    """Direct and mirrored, whole and in boxes (random, and the crop's edges), at an even
    crop (the box's block enlarged) and an odd one (the whole crop enlarged and cut)."""
    topology = mesh_topology()
    vertices, depths = _meshes(target)[0]
    source = vertices * 1.3 + 7.0  # a source crop of another size and place
    rng = np.random.default_rng(11)
    for size in (CROP, CROP - 1):
        raster = rasterize(vertices, depths, size, topology)
        before_raster = _rasterize_before(vertices, depths, size)
        for triangles in (topology.triangles, topology.mirror):
            made = source_maps(raster, source, triangles, size)
            before = _source_maps_before(before_raster, source, triangles, size)
            assert all(_bits(m) == _bits(b) for m, b in zip(made, before, strict=True))
            boxes = [(slice(0, size), slice(0, size)), (slice(0, 1), slice(size - 1, size)),
                     (slice(size - 3, size), slice(0, 5))]
            for _ in range(40):
                y0, x0 = rng.integers(0, size - 1, 2)
                boxes.append((slice(int(y0), int(rng.integers(y0 + 1, size + 1))),
                              slice(int(x0), int(rng.integers(x0 + 1, size + 1)))))
            for box in boxes:
                made = source_maps(raster, source, triangles, size, box)
                before = _source_maps_before(before_raster, source, triangles, size, box)
                assert all(_bits(m) == _bits(b) for m, b in zip(made, before, strict=True))


def test_a_box_of_the_enlarged_plane_is_enlarged_from_its_block_alone() -> None:
    rng = np.random.default_rng(3)
    for side in (8, 57, 128, 220):
        plane = rng.uniform(-1.0, 500.0, (side, side)).astype(np.float32)
        for size in (2 * side, 2 * side + 1):
            whole = cv2.resize(plane, (size, size), interpolation=cv2.INTER_LINEAR)
            for _ in range(30):
                y0, x0 = rng.integers(0, size, 2)
                box = (slice(int(y0), int(rng.integers(y0, size + 1))),
                       slice(int(x0), int(rng.integers(x0, size + 1))))
                part = enlarged_box(plane, size, box)
                assert part.shape == whole[box].shape
                assert _bits(part) == _bits(whole[box])


def test_the_detail_scale_bounds_are_clips_for_every_gain() -> None:
    """`_between`: `np.clip(contrast, gain**-1, gain)` for every float32 gain in [1,
    MIRROR_MAX_GAIN], the reciprocal for the power."""
    low, high = (np.float32(value).view(np.int32) for value in (1.0, MIRROR_MAX_GAIN))
    gain = np.arange(low, high + 1, dtype=np.int32).view(np.float32)
    contrast = np.random.default_rng(5).uniform(0.0, 3.0, gain.shape).astype(np.float32)
    assert _bits(_between(contrast, gain)) == _bits(np.clip(contrast, gain**-1.0, gain))


def test_the_mirrors_coverage_is_added_as_before() -> None:
    rng = np.random.default_rng(9)
    size = 40
    box = (slice(5, 33), slice(8, 30))
    shape = (28, 22)
    mirror = MirrorShare(box, rng.uniform(0, 255, (*shape, 3)).astype(np.float32),
                         rng.uniform(0, 1, shape).astype(np.float32),
                         rng.uniform(0, 1, shape).astype(np.float32))
    share = Contribution((np.zeros((size, size), np.float32),) * 2,
                         np.zeros((size, size, 3), np.float32),
                         np.zeros((size, size), np.float32),
                         np.zeros((size, size), np.float32), mirror)
    total = rng.uniform(0, 255, (size, size, 3)).astype(np.float32)
    weight_sum = rng.uniform(0, 2, (size, size)).astype(np.float32)
    coverage = rng.uniform(-0.5, 1.5, (size, size)).astype(np.float32)  # past both ends
    before = [total.copy(), weight_sum.copy(), coverage.copy()]
    before[0][box] += mirror.weighted
    before[1][box] += mirror.trust
    before[2][box] += mirror.used_weight * (1.0 - before[2][box].clip(0, 1))
    share.add_mirror_to(total, weight_sum, coverage)
    assert all(_bits(m) == _bits(b) for m, b in zip((total, weight_sum, coverage), before,
                                                    strict=True))


def test_the_frames_reach_is_found_once_for_all_its_faces(target: TargetFace) -> None:
    """`TargetFrame.reach` is `mesh_reach` of its raster, and a face's contribution reads
    it instead of finding it again on its own thread."""
    topology = mesh_topology()
    vertices, depths = _meshes(target)[0]
    raster = rasterize(vertices, depths, CROP, topology)
    inside = np.ones((CROP, CROP), np.float32)
    frame = TargetFrame(raster, CROP, inside, None)
    assert frame.reach == mesh_reach(raster, CROP)
    crop = np.concatenate([target.image, np.full((CROP, CROP, 1), 255, np.uint8)], axis=2)
    face = SourceFace(1.0, crop, plan_sampling(vertices, topology),
                      plan_sampling(vertices, topology), False, vertices,
                      np.zeros((2, 3)))
    with pytest.MonkeyPatch.context() as patch:
        def found_again(*_: object) -> tuple[slice, slice]:
            raise AssertionError("the reach found again for a face")
        patch.setattr(mesh_contributions, "mesh_reach", found_again)
        made = source_contribution(face, frame)
    assert made.weighted.shape == (CROP, CROP, 3)


def test_a_box_holding_the_whole_mesh_selects_none_of_its_pixels(target: TargetFace) -> None:
    """`_near_box`: None (no selection) where the box's raster rows and columns hold every
    covered pixel, the selection where they do not; the raster's `bounds` and the reach
    are those of its pixels."""
    vertices, depths = _meshes(target)[0]
    raster = rasterize(vertices, depths, CROP, mesh_topology())
    rows, columns = np.divmod(raster.pixels, raster.size)
    assert raster.bounds == (rows.min(), rows.max(), columns.min(), columns.max())
    whole = (slice(0, CROP), slice(0, CROP))
    assert mesh_warp._near_box(raster.pixels, raster, CROP, whole) is None
    assert mesh_warp._near_box(raster.pixels, raster, CROP, mesh_reach(raster, CROP)) is None
    part = (slice(CROP // 3, CROP // 2), slice(CROP // 4, CROP // 2))
    near = mesh_warp._near_box(raster.pixels, raster, CROP, part)
    assert near is not None and 0 < near.sum() < len(near)
    empty = TargetRaster(8, 0.5, np.zeros(0, np.int64), np.zeros(0, np.intp),
                         np.zeros((0, 3), np.float32))
    assert empty.bounds is None and mesh_reach(empty, 16) == (slice(0, 0), slice(0, 0))
