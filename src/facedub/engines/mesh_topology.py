"""The fixed triangle mesh the mesh engine warps over, and its left-right mirror.

Vertices are MediaPipe's 468 face landmarks (the iris points are left out) followed by the
forehead points of `faces.masks.forehead_points`, so the warp reaches the hairline.
The triangles are a Delaunay triangulation of the frontal template, computed once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from facedub.faces.masks import forehead_points, upper_oval_mask
from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template

FACE_POINTS = 468  # landmarks 468..477 are the irises: not part of the surface


@dataclass(frozen=True)
class MeshTopology:
    """`triangles` (T, 3) vertex indices; `mirror` (T, 3): the same triangle on the other
    side of the face, with vertices in corresponding order; `eye_openings` and
    `mouth_opening` (T,) bool: triangles spanning those openings (where the target may keep
    its own pixels)."""

    triangles: np.ndarray
    mirror: np.ndarray
    eye_openings: np.ndarray
    mouth_opening: np.ndarray
    template_vertices: np.ndarray  # (V, 2) template in its own units
    # (T,) the sign of each triangle's area on the template (+1 or -1; 0 for a flat one):
    # the winding a target's triangle must keep to be drawn (`mesh_warp.rasterize`), the
    # same every frame (0.03 ms a frame made there).
    winding: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "winding",
                           np.sign(signed_areas(self.template_vertices, self.triangles)))
        for array in vars(self).values():
            array.flags.writeable = False  # cached and shared by every engine: read only


def signed_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T,) signed areas; positive for the template's winding order."""
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                  - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def mesh_vertices(landmarks: np.ndarray) -> np.ndarray:
    """(V, 2) warp vertices of a face: its 468 surface landmarks, then the forehead."""
    points = np.asarray(landmarks, dtype=np.float64)
    return np.concatenate([points[:FACE_POINTS, :2], forehead_points(points)])


def mesh_depths(landmarks: np.ndarray) -> np.ndarray:
    """(V,) depth of each warp vertex (forehead points take the depth of their oval point)."""
    points = np.asarray(landmarks, dtype=np.float64)
    upper = mesh_regions().face_oval[upper_oval_mask()]
    return np.concatenate([points[:FACE_POINTS, 2], points[upper, 2]])


@functools.cache
def mesh_topology() -> MeshTopology:
    template = face_template()
    vertices = mesh_vertices(template)
    triangles = _delaunay(vertices)
    mirror = vertex_mirror(vertices)[triangles]
    return MeshTopology(triangles=triangles, mirror=mirror,
                        eye_openings=_spanning(triangles, "eyes"),
                        mouth_opening=_spanning(triangles, "mouth"),
                        template_vertices=vertices)


def _delaunay(points: np.ndarray) -> np.ndarray:
    margin = 1.0
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    scale = 1000.0 / float((high - low).max())
    scaled = (points - low) * scale
    subdivision = cv2.Subdiv2D((0, 0, int((high - low)[0] * scale) + 2,
                                int((high - low)[1] * scale) + 2))
    for x, y in scaled:
        subdivision.insert((float(x), float(y)))
    triangles = []
    for x0, y0, x1, y1, x2, y2 in subdivision.getTriangleList():
        corners = np.array([[x0, y0], [x1, y1], [x2, y2]])
        distances = np.linalg.norm(scaled[None, :, :] - corners[:, None, :], axis=2)
        nearest = distances.argmin(axis=1)
        if distances[np.arange(3), nearest].max() > 1e-3 or len(set(nearest)) < 3:
            continue  # a triangle touching the subdivision's virtual outer vertices
        triangles.append(nearest)
    return np.array(triangles, dtype=np.int64)


def vertex_mirror(vertices: np.ndarray) -> np.ndarray:
    """For each vertex, the vertex nearest its reflection across the face's midline."""
    midline = float(np.median(vertices[:, 0]))
    reflected = vertices.copy()
    reflected[:, 0] = 2 * midline - vertices[:, 0]
    distances = np.linalg.norm(reflected[:, None, :] - vertices[None, :, :], axis=2)
    return distances.argmin(axis=1).astype(np.int64)


def mirrored_triangles(triangles: np.ndarray, template_vertices: np.ndarray,
                       eye_openings: np.ndarray, landmarks: tuple[int, ...]) -> np.ndarray:
    """(T,) bool: the mesh's `triangles` wholly within one side's `landmarks` and their
    mirror images on the other side (`vertex_mirror` of `template_vertices`), the eye
    openings (`eye_openings`, (T,) bool) out: a region of both eyes from one eye's list
    (the lower sockets, the upper lids)."""
    one_side = np.zeros(len(template_vertices), dtype=bool)
    one_side[list(landmarks)] = True
    both = one_side | one_side[vertex_mirror(template_vertices)]
    result: np.ndarray = both[triangles].all(axis=1) & ~eye_openings
    return result


def _spanning(triangles: np.ndarray, opening: str) -> np.ndarray:
    """Triangles spanning the eye openings or the mouth opening: all three corners lie on
    the eye's contour or the inner lip loop (both loops are close to convex)."""
    regions = mesh_regions()
    loops = (regions.left_eye, regions.right_eye) if opening == "eyes" else (regions.lips_inner,)
    inside = np.zeros(len(triangles), dtype=bool)
    for loop in loops:
        inside |= np.isin(triangles, loop).all(axis=1)
    return inside


@functools.cache
def template_anchors(polygon: tuple[tuple[float, float], ...]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each point of a polygon in the frontal template's units as a triangle of the mesh
    and barycentric weights in it (extrapolated from the nearest triangle for points
    beyond the mesh), so the polygon can follow any face's mesh."""
    topology = mesh_topology()
    corners = topology.template_vertices[topology.triangles]  # (T, 3, 2)
    triangles, weights = [], []
    for point in np.array(polygon, dtype=np.float64):
        barycentric = _barycentric_all(corners, point)
        best = int(np.argmax(barycentric.min(axis=1)))
        triangles.append(best)
        weights.append(barycentric[best])
    return np.array(triangles), np.array(weights)


def _barycentric_all(corners: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(T, 3) barycentric coordinates of one point in every triangle (T, 3, 2)."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    v0, v1, v2 = b - a, c - a, point - a
    d00 = (v0 * v0).sum(1)
    d01 = (v0 * v1).sum(1)
    d11 = (v1 * v1).sum(1)
    d20 = (v2 * v0).sum(1)
    d21 = (v2 * v1).sum(1)
    denominator = d00 * d11 - d01 * d01
    denominator = np.where(np.abs(denominator) > 1e-12, denominator, 1e-12)
    v = (d11 * d20 - d01 * d21) / denominator
    w = (d00 * d21 - d01 * d20) / denominator
    return np.stack([1.0 - v - w, v, w], axis=1)
