"""A video source's faces and the engine thread at less CPU (issue 13, thirty-sixth round):
the maps' corners made once a source face, the raster's weights kept by rows, the
template's winding once, a face's trust worked out per triangle before its gather and the
reshaped target cast once. Each gives exactly the values of the formulation it replaced
(kept here), on a real target's mesh and a source face warped from it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_contributions import (
    SourceFace,
    TargetFrame,
    per_triangle_trust,
    source_contribution,
)
from facedub.engines.mesh_topology import (
    MeshTopology,
    mesh_depths,
    mesh_topology,
    mesh_vertices,
    signed_areas,
)
from facedub.engines.mesh_warp import (
    SourceSampling,
    TargetRaster,
    clamped_maps,
    plan_sampling,
    rasterize,
    source_maps,
    triangle_corners,
)

TARGET = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256


@pytest.fixture(scope="module")
def target(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    return first_target_face(TARGET, CROP)


def _raster(target: TargetFace, size: int = CROP) -> TargetRaster:
    return rasterize(mesh_vertices(target.face_landmarks), mesh_depths(target.face_landmarks),
                     size, mesh_topology())


def _bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def _source_maps_before(raster: TargetRaster, source_vertices: np.ndarray,
                        source_triangles: np.ndarray, size: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The thirty-fifth round's `source_maps` of the whole crop: the corners made on every
    call, the weights' strided columns of the (P, 3) barycentric array, indexing's gather."""
    pixels, triangle, barycentric = raster.pixels, raster.triangle, raster.barycentric
    corners = np.ascontiguousarray(
        source_vertices.astype(np.float32)[source_triangles].transpose(2, 1, 0))
    weights = [barycentric[:, k] for k in range(3)]
    maps = []
    for axis in range(2):
        values = (weights[0] * corners[axis, 0][triangle]
                  + weights[1] * corners[axis, 1][triangle]
                  + weights[2] * corners[axis, 2][triangle])
        small = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
        small[pixels] = values
        maps.append(cv2.resize(small.reshape(raster.size, raster.size), (size, size),
                               interpolation=cv2.INTER_LINEAR))
    return maps[0], maps[1]


def test_the_rasters_weights_by_rows_are_its_barycentric_columns(target: TargetFace) -> None:
    raster = _raster(target)
    assert raster.weight_rows.flags.c_contiguous
    assert raster.weight_rows.shape == (3, len(raster.pixels))
    assert _bits(raster.weight_rows) == _bits(raster.barycentric.T)


def test_the_maps_from_given_corners_are_the_ones_before_to_the_bit(target: TargetFace
                                                                    ) -> None:
    """Direct and mirrored, at an even and an odd crop, the corners given (as a source
    face's samplings carry them) or made in the call."""
    topology = mesh_topology()
    vertices = mesh_vertices(target.face_landmarks)
    source = vertices * 1.3 + 7.0  # a source crop of another size and place
    for size in (CROP, CROP - 1):
        raster = _raster(target, size)
        for triangles in (topology.triangles, topology.mirror):
            before = _source_maps_before(raster, source, triangles, size)
            corners = triangle_corners(source, triangles)
            assert corners.flags.c_contiguous and corners.dtype == np.float32
            for made in (source_maps(raster, source, triangles, size),
                         source_maps(raster, source, triangles, size, corners=corners)):
                assert all(_bits(m) == _bits(b) for m, b in zip(made, before, strict=True))


def test_the_templates_winding_is_made_once_with_the_topology() -> None:
    topology = mesh_topology()
    expected = np.sign(signed_areas(topology.template_vertices, topology.triangles))
    assert np.array_equal(topology.winding, expected)
    assert set(np.unique(topology.winding)) <= {-1.0, 1.0}
    assert not topology.winding.flags.writeable  # shared by every engine
    # Made for a topology built by hand too (a test's, a flipped triangle's -1).
    template = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    triangles = np.array([[0, 1, 2], [1, 2, 3]])
    small = MeshTopology(triangles=triangles, mirror=triangles.copy(),
                         eye_openings=np.zeros(2, bool), mouth_opening=np.zeros(2, bool),
                         template_vertices=template)
    assert small.winding.tolist() == [1.0, -1.0]


def test_a_faces_trust_per_triangle_gathered_is_the_gathered_trust(target: TargetFace) -> None:
    """`weight * (visibility[triangle] + 1e-3)` pixel by pixel, as before: the same
    float64 values, for real visibilities and made-up ones at their edges, and for blend
    weights as Python and NumPy floats."""
    raster = _raster(target)
    vertices = mesh_vertices(target.face_landmarks)
    rng = np.random.default_rng(36)
    visibilities = [plan_sampling(vertices, mesh_topology()).visibility,
                    rng.random(len(mesh_topology().triangles)),
                    np.zeros(len(mesh_topology().triangles)),
                    np.ones(len(mesh_topology().triangles))]
    for visibility in visibilities:
        sampling = SourceSampling(mesh_topology().triangles, visibility)
        for weight in (1.0, 0.37, np.float64(0.2119), float(rng.random())):
            before = weight * (visibility[raster.triangle] + 1e-3)
            made = np.take(per_triangle_trust(sampling, weight), raster.triangle)
            assert made.dtype == before.dtype and _bits(made) == _bits(before)


def test_a_face_whose_samplings_carry_their_corners_contributes_the_same(
        target: TargetFace) -> None:
    """A source face as `SourceFaces` hands it (its samplings' corners made once) against
    the same face without them: the same contribution to the bit, the mirror fill too."""
    topology = mesh_topology()
    vertices = mesh_vertices(target.face_landmarks)
    raster = _raster(target)
    frame = TargetFrame(raster, CROP, np.ones((CROP, CROP), np.float32), None)
    alpha = np.full((CROP, CROP, 1), 255, np.uint8)
    alpha[:, : CROP // 3] = 0  # one side unclean: the mirror fills it
    crop = np.concatenate([target.image, alpha], axis=2)
    direct, mirror = plan_sampling(vertices, topology), SourceSampling(
        topology.mirror, plan_sampling(vertices, topology).visibility)
    carried = [SourceSampling(s.triangles, s.visibility, triangle_corners(vertices, s.triangles))
               for s in (direct, mirror)]
    made = [source_contribution(SourceFace(0.6, crop, d, m, True, vertices, np.zeros((2, 3))),
                                frame)
            for d, m in ((direct, mirror), tuple(carried))]
    assert made[0].mirror is not None and made[1].mirror is not None
    for first, second in ((made[0].weighted, made[1].weighted), (made[0].trust, made[1].trust),
                          (made[0].maps[0], made[1].maps[0]),
                          (made[0].mirror.weighted, made[1].mirror.weighted),
                          (made[0].mirror.trust, made[1].mirror.trust)):
        assert _bits(first) == _bits(second)


def test_the_reshaped_target_is_cast_once_as_before(target: TargetFace) -> None:
    """`MeshEngine._reshaped_target`: the crop's bytes outside the mesh and one cast, the
    values of the float copies' `copyto` (the target moved by a few pixels, so the warp
    runs; and not moved, the box's cast)."""
    topology = mesh_topology()
    engine = SimpleNamespace(_topology=topology)
    moved = target.face_landmarks.copy()
    moved[:, 0] += 3.0 * np.sin(np.arange(len(moved)))
    raster = rasterize(mesh_vertices(moved), mesh_depths(moved), CROP, topology)
    for box in ((slice(0, CROP), slice(0, CROP)), (slice(40, 200), slice(10, 90))):
        made = MeshEngine._reshaped_target(engine, target, moved, raster,  # type: ignore[arg-type]
                                           CROP, box)
        image = target.image[box].astype(np.float32)
        map_x, map_y = source_maps(raster, mesh_vertices(target.face_landmarks),
                                   topology.triangles, CROP, box)
        before = cv2.remap(target.image, *clamped_maps(map_x, map_y, target.image.shape),
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        np.copyto(before, image, where=(map_x < 0)[..., None])
        assert made.dtype == np.float32 and _bits(made) == _bits(before)
        assert (map_x < 0).any()  # the box reaches past the mesh
        still = MeshEngine._reshaped_target(engine, target, target.face_landmarks,  # type: ignore[arg-type]
                                            raster, CROP, box)
        assert _bits(still) == _bits(image)
