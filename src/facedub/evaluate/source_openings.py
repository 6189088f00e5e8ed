"""The source's own eyes and lips, for the doubled-edge measure.

The mesh engine shows the source's own eyes (`MeshEngineConfig.source_eyes`) and lips
on purpose; their lid creases, lower lids and lip lines are then the source's, not a
second lid line drawn beside the target's. `realism.doubled_edges` counts every edge the
target lacks around the openings, so on a source with deep-set or hooded eyes (Bob
Dylan's lids on old-photo: 12% of the band) it counted the source's identity as doubling.

Here each source face is warped onto the swapped face's own landmarks, and for each
opening (either eye, the lips) the output is asked which face it shows there: the
target's (a blink, a wink, the kept mouth) or the source's. Only where it shows the
source's does the source's warped edge magnitude explain the output's edges; beside a
kept target eye everything the target lacks still counts, the source's lid texture
included (the issue's doubled lids on blinks).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import rasterize, source_maps
from facedub.evaluate.occluded_identity import SourceCrop
from facedub.evaluate.realism import View, disc, view
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions

# How much better the output inside an opening must correlate with the source than with
# the target (normalised cross-correlation of smoothed luma) to count as showing the
# source's. A kept target eye correlates 0.9 and more with the target.
SOURCE_MARGIN = 0.05
MIN_PIXELS = 20  # an opening smaller than this (a closed mouth's inner lips) is not judged


def source_edges(target: View, swapped: View, target_landmarks: np.ndarray,
                 swapped_landmarks: np.ndarray, sources: Sequence[SourceCrop]) -> np.ndarray:
    """(S, S) float32 edge magnitude (`realism.View.edges`) of the source face that the
    output shows at each opening, around those openings where it shows a source's rather
    than the target's; 0 elsewhere. `target_landmarks`, `swapped_landmarks` (478, 2+) in
    the crop's pixels; `sources` faces in the same crop space."""
    size = target.grey.shape[0]
    explained = np.zeros((size, size), dtype=np.float32)
    if not sources:
        return explained
    warped = [view(_warped(face, swapped_landmarks, size)) for face in sources]
    unit = max(2, size // 64)
    for area, inside in _openings(target_landmarks, swapped_landmarks, size):
        if np.count_nonzero(inside) < MIN_PIXELS:
            continue
        to_target = _correlation(swapped.grey, target.grey, inside)
        scores = [_correlation(swapped.grey, face.grey, inside) for face in warped]
        best = int(np.argmax(scores))
        if scores[best] < to_target + SOURCE_MARGIN:
            continue
        around = disc(area, 4 * unit)
        explained[around] = np.maximum(explained[around], warped[best].edges[around])
    return explained


def _openings(target_landmarks: np.ndarray, swapped_landmarks: np.ndarray, size: int
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each eye's and the lips' area in either face, and the part of it that tells whose
    it is (bool (S, S) each). An eye is judged inside its rim: its iris and whites tell,
    and a kept eye's feathered rim mixes in the source's lids around it (judged whole, a
    kept eye with Dylan's lids around it read as his: 0.89 against 0.81). The lips are
    judged whole: their inside is flat colour, their outline tells (a kept target mouth
    keeps the skin around its lips too, mesh LIPS_SURROUND)."""
    regions = mesh_regions()
    rim = max(1, size // 128)
    found = []
    for loop, erode in ((regions.left_eye, rim), (regions.right_eye, rim),
                        (regions.lips_outer, 0)):
        area = np.zeros((size, size), dtype=bool)
        for points in (target_landmarks, swapped_landmarks):
            area |= polygon_mask(np.asarray(points)[loop, :2], size) > 0.5
        found.append((area, disc(area, -erode)))
    return found


def _warped(face: SourceCrop, landmarks: np.ndarray, size: int) -> np.ndarray:
    """The source crop warped over the face mesh onto `landmarks`; black outside it."""
    topology = mesh_topology()
    raster = rasterize(mesh_vertices(landmarks), mesh_depths(landmarks), size, topology)
    map_x, map_y = source_maps(raster, mesh_vertices(face.landmarks), topology.triangles,
                               size)
    warped: np.ndarray = cv2.remap(face.image, map_x, map_y, cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT)
    return warped


def _correlation(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    """Normalised cross-correlation of two luma images inside `region`, after a light
    blur (what the opening looks like, not its noise or a pixel's misalignment)."""
    x = cv2.GaussianBlur(a, (0, 0), 1.0)[region].astype(np.float64)
    y = cv2.GaussianBlur(b, (0, 0), 1.0)[region].astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / norm) if norm > 1e-6 else 0.0
