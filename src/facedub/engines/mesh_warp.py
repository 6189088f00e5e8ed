"""Piecewise-affine warping of a source face's texture onto a target face's mesh.

The target mesh is rasterised once per frame (which triangle covers each pixel, nearest
triangle wins where the face overlaps itself, as the nose does a cheek when the head
turns); every source face then only needs one affine per triangle and one `cv2.remap`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.engines.mesh_topology import MeshTopology
from facedub.geometry import umeyama

MIN_TRIANGLE_AREA = 0.05  # square pixels; thinner triangles are edge-on and not drawn


@dataclass(frozen=True)
class TargetRaster:
    """Which triangle covers each pixel of the (size, size) target crop.

    `pixels` (P,) flat indices of covered pixels; `triangle` (P,) the triangle covering
    each; `homogeneous` (P, 3) float64 [x, y, 1] of those pixels; `drawn` (T,) bool,
    triangles that face the camera.
    """

    size: int
    pixels: np.ndarray
    triangle: np.ndarray
    homogeneous: np.ndarray
    drawn: np.ndarray


def signed_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T,) signed areas; positive for the template's winding order."""
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                  - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def rasterize(vertices: np.ndarray, depths: np.ndarray, size: int,
              topology: MeshTopology) -> TargetRaster:
    """Rasterise the target mesh, far triangles first so near ones overwrite them."""
    triangles = topology.triangles
    orientation = np.sign(signed_areas(topology.template_vertices, triangles))
    drawn = signed_areas(vertices, triangles) * orientation > MIN_TRIANGLE_AREA
    order = np.flatnonzero(drawn)
    order = order[np.argsort(-depths[triangles[order]].mean(axis=1))]
    index_image = np.zeros((size, size), dtype=np.int32)
    corners = np.round(vertices[triangles] * 16).astype(np.int32)  # 4 fractional bits
    for triangle in order:
        cv2.fillConvexPoly(index_image, corners[triangle], int(triangle) + 1,
                           lineType=cv2.LINE_8, shift=4)
    flat = index_image.ravel()
    pixels = np.flatnonzero(flat)
    ys, xs = np.divmod(pixels, size)
    homogeneous = np.stack([xs, ys, np.ones_like(xs)], axis=1).astype(np.float64)
    return TargetRaster(size, pixels, flat[pixels] - 1, homogeneous, drawn)


def triangle_affines(target_vertices: np.ndarray, source_vertices: np.ndarray,
                     triangles: np.ndarray, source_triangles: np.ndarray) -> np.ndarray:
    """(T, 3, 2) per-triangle affines X with source = [x, y, 1] @ X, mapping target
    triangle `triangles[t]` onto source triangle `source_triangles[t]`."""
    corners = np.concatenate([target_vertices[triangles],
                              np.ones((len(triangles), 3, 1))], axis=2)  # (T, 3, 3)
    singular = np.abs(np.linalg.det(corners)) < 1e-9
    corners[singular] = np.eye(3)  # never sampled: such triangles are not drawn
    return np.linalg.solve(corners, source_vertices[source_triangles])


def remap_coordinates(raster: TargetRaster, affines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(size, size) float32 maps for cv2.remap; uncovered pixels point outside (-1)."""
    coordinates = np.einsum("pi,pij->pj", raster.homogeneous, affines[raster.triangle])
    map_x = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
    map_y = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
    map_x[raster.pixels] = coordinates[:, 0]
    map_y[raster.pixels] = coordinates[:, 1]
    shape = (raster.size, raster.size)
    return map_x.reshape(shape), map_y.reshape(shape)


def triangle_visibility(source_vertices: np.ndarray, template_vertices: np.ndarray,
                        triangles: np.ndarray) -> np.ndarray:
    """(T,) how well the source shows each triangle, 0 (hidden or edge-on) to 1 (as seen
    frontally): its area relative to the frontal template fitted to the same face."""
    fit = umeyama(template_vertices, source_vertices)
    frontal = template_vertices @ fit[:2, :2].T
    reference = signed_areas(frontal, triangles)
    ratio = signed_areas(source_vertices, triangles) / np.where(
        np.abs(reference) > 1e-9, reference, 1e-9)
    return np.clip(ratio, 0.0, 1.0)


@dataclass(frozen=True)
class SourceSampling:
    """Which source triangle feeds each target triangle, and how good that texture is."""

    triangles: np.ndarray  # (T, 3): the triangle itself, or its mirror image
    visibility: np.ndarray  # (T,) in [0, 1]


def plan_sampling(source_vertices: np.ndarray, topology: MeshTopology,
                  threshold: float = 0.35) -> SourceSampling:
    """Sample each triangle from the source, except where the source turns it away and
    shows the other side much better: there the mirror image fills it, rather than a
    stretched sliver."""
    direct = triangle_visibility(source_vertices, topology.template_vertices,
                                 topology.triangles)
    mirrored = triangle_visibility(source_vertices, topology.template_vertices,
                                   topology.mirror)
    use_mirror = (direct < threshold) & (mirrored > 2.0 * direct + 0.1)
    return SourceSampling(
        triangles=np.where(use_mirror[:, None], topology.mirror, topology.triangles),
        visibility=np.where(use_mirror, mirrored, direct))
