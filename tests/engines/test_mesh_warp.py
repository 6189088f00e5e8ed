"""engines/mesh_warp.py and mesh_topology.py: matching meshes warp to the identity; the
triangulation is a valid, mirrored surface."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.engines.mesh_topology import (
    FACE_POINTS,
    mesh_depths,
    mesh_topology,
    mesh_vertices,
)
from facedub.engines.mesh_warp import (
    plan_sampling,
    rasterize,
    signed_areas,
    source_maps,
    triangle_visibility,
)
from facedub.faces.template import face_template

SIZE = 256


def _frontal_landmarks(scale: float = 0.3, shift: float = 0.0) -> np.ndarray:
    template = face_template()
    return np.concatenate([template[:, :2] * SIZE * scale + SIZE / 2 + shift,
                           template[:, 2:] * SIZE * scale], axis=1)


@pytest.mark.parametrize("raster_scale", [0.5, 1.0, 0.37])
def test_matching_meshes_warp_to_the_identity(raster_scale: float) -> None:
    landmarks = _frontal_landmarks()
    vertices, topology = mesh_vertices(landmarks), mesh_topology()
    raster = rasterize(vertices, mesh_depths(landmarks), SIZE, topology, scale=raster_scale)
    map_x, map_y = source_maps(raster, vertices, topology.triangles, SIZE)
    # Well inside the face (away from the upsampled edge of the coverage).
    inside = cv2.erode((map_x >= 0).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    ys, xs = np.nonzero(inside)
    assert inside.sum() > 0.4 * (SIZE * 0.3 * 2) ** 2
    error = np.hypot(map_x[inside] - xs, map_y[inside] - ys)
    assert np.median(error) < 0.01
    assert np.percentile(error, 99) < 0.05


def test_a_shifted_mesh_samples_from_the_shifted_place() -> None:
    target, source = _frontal_landmarks(), _frontal_landmarks(shift=7.0)
    topology = mesh_topology()
    raster = rasterize(mesh_vertices(target), mesh_depths(target), SIZE, topology)
    map_x, map_y = source_maps(raster, mesh_vertices(source), topology.triangles, SIZE)
    inside = cv2.erode((map_x >= 0).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    ys, xs = np.nonzero(inside)
    np.testing.assert_allclose(np.median(map_x[inside] - xs), 7.0, atol=0.01)
    np.testing.assert_allclose(np.median(map_y[inside] - ys), 7.0, atol=0.01)


def test_a_frontal_face_shows_every_triangle_fully_and_needs_no_mirror() -> None:
    vertices, topology = mesh_vertices(_frontal_landmarks()), mesh_topology()
    visibility = triangle_visibility(vertices, topology.template_vertices, topology.triangles)
    assert np.percentile(visibility, 5) > 0.95
    sampling = plan_sampling(vertices, topology)
    np.testing.assert_array_equal(sampling.triangles, topology.triangles)


def test_a_face_turned_away_fills_its_hidden_side_from_the_mirror() -> None:
    landmarks = _frontal_landmarks()
    vertices = mesh_vertices(landmarks)
    centre = vertices[:, 0].mean()
    # Squash the image's left half to a tenth: that side of the face turns away.
    left = vertices[:, 0] < centre
    vertices[left, 0] = centre + (vertices[left, 0] - centre) * 0.1
    topology = mesh_topology()
    sampling = plan_sampling(vertices, topology)
    mirrored = np.any(sampling.triangles != topology.triangles, axis=1)
    assert mirrored.any()
    # Only triangles of the squashed side are taken from the mirror.
    assert np.all(vertices[topology.triangles[mirrored], 0].mean(axis=1) < centre + 1.0)


def test_topology_is_a_consistent_surface_and_its_own_mirror() -> None:
    topology = mesh_topology()
    vertex_count = len(topology.template_vertices)
    assert vertex_count > FACE_POINTS  # the forehead points follow the surface landmarks
    assert topology.triangles.min() >= 0 and topology.triangles.max() < vertex_count
    areas = signed_areas(topology.template_vertices, topology.triangles)
    assert np.all(np.abs(areas) > 0)
    assert np.all(np.sign(areas) == np.sign(areas[0]))  # one winding order
    # Each triangle's mirror lies where the triangle lands reflected across the midline.
    template = topology.template_vertices
    midline = float(np.median(template[:, 0]))
    centres = template[topology.triangles].mean(axis=1)
    mirror_centres = template[topology.mirror].mean(axis=1)
    reflected = np.stack([2 * midline - centres[:, 0], centres[:, 1]], axis=1)
    offsets = np.linalg.norm(mirror_centres - reflected, axis=1)
    assert np.percentile(offsets, 95) < 0.05  # template units: the eyes are 1 apart
    assert topology.eye_openings.any() and topology.mouth_opening.any()
    assert not (topology.eye_openings & topology.mouth_opening).any()


def test_cached_geometry_is_read_only() -> None:
    topology = mesh_topology()
    with pytest.raises(ValueError, match="read-only"):
        topology.triangles[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        face_template()[0, 0] = 1.0
