"""engines/mesh_warp.py (issue 9, twenty-seventh round): an edge-on sliver triangle drawn
over the face must not send the pixels cv2.fillConvexPoly's edges give it far across the
source: their barycentric weights, extrapolated across its width, sampled the source's
nostril 45 source px off beside self-split-webcam's nostril on frame 39 (a dark speck).
BENCHMARKS.md, "A dark speck beside self-split-webcam's nostril", under Realism."""

from __future__ import annotations

import numpy as np

from facedub.engines.mesh_topology import MeshTopology
from facedub.engines.mesh_warp import rasterize, source_maps

SIZE = 64


def _square_under_a_sliver() -> tuple[np.ndarray, np.ndarray, np.ndarray, MeshTopology]:
    """Two big triangles make a square; a near sliver lies across it, edge-on (0.2 px wide,
    20 long). In the source the sliver is a broad triangle, its apex 30 px up (a nostril's
    wing seen from the front). Returns target and source vertices, depths, topology."""
    target = np.array([[4, 4], [60, 4], [60, 60], [4, 60],
                       [20.0, 30.0], [40.0, 30.3], [30.0, 30.2]])
    source = target.copy()
    source[6] = [30.0, 0.0]
    triangles = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6]])
    topology = MeshTopology(triangles=triangles, mirror=triangles.copy(),
                            eye_openings=np.zeros(3, dtype=bool),
                            mouth_opening=np.zeros(3, dtype=bool),
                            template_vertices=target.copy())
    depths = np.array([0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0])  # the sliver nearest
    return target, source, depths, topology


def test_a_sliver_drawn_over_the_face_samples_beside_its_pixels() -> None:
    target, source, depths, topology = _square_under_a_sliver()
    raster = rasterize(target, depths, SIZE, topology, scale=1.0)
    map_x, map_y = source_maps(raster, source, topology.triangles, SIZE)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    near = (np.abs(xs - 30) < 12) & (np.abs(ys - 30) < 4)
    # Everywhere round the sliver the source is sampled within a few pixels of the pixel
    # itself (the square maps to itself): extrapolated, the row under the sliver's edge
    # sampled up to 181 px off.
    assert np.hypot(map_x[near] - xs[near], map_y[near] - ys[near]).max() < 3.0
