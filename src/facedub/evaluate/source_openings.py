"""The source's own eyes, for the doubled-edge measure.

The mesh engine shows the source's own eyes on purpose (`MeshEngineConfig.source_eyes`);
their lid creases and lower lids are then the source's, not a second lid line drawn
beside the target's. `realism.doubled_edges` counts every edge the target lacks round
the openings, so on a source with deep-set or hooded eyes (Bob Dylan's lids on
old-photo: 12% of the band) it counted the source's identity as doubling.

Here each source face is warped onto the swapped face's own landmarks (detected on the
output, as `measure.py` does), and for each eye the output is fitted, on smoothed luma
inside the TARGET's own outline of that eye, as t * target + s * source. Only where the
output is the source's (s high) and not the target's (t near 0) do the source's warped
edges explain the output's edges round that eye. A ghost of both eyes (t and s near
0.5), a kept target eye with the source's lids round it (t high), and a blink (the
target's eye too small to judge) are judged by the target alone: everything it lacks
counts. The lips are not credited: the mesh engine keeps the target's mouth
(`keep_target_mouth`; on the benchmark swaps the lips fit t 0.6-1.0), and a source's
lips pasted in read t 0.3, s 0.8, too near a ghost to tell.
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

# The fit's thresholds. Pasted onto d18 and the older woman (landmarks detected on the
# output): Dylan's eyes s 0.94-1.01, t -0.04 to 0.13; a kept target eye t 0.84-0.96,
# s <= 0.16; a 50/50 ghost t and s about 0.5; offset 4 px s <= 0.35 or t >= 0.44; a 70/30
# ghost t 0.32-0.36; a 50/50 ghost on d18's half-closed eye t -0.23, s 0.79 (the fit
# takes the target away: not a clean source eye either). The mesh engine's own swaps
# show the source's eye at lower contrast than the photo (old-photo's clean left eye:
# t 0.05, s 0.72), hence s 0.6, not near 1.
SOURCE_SHOWN = 0.6  # s at least
TARGET_SHOWN = (-0.1, 0.25)  # t within
MIN_PIXELS = 20  # a target eye smaller than this inside its rim (a blink): not judged


def source_edges(target: View, swapped: View, target_landmarks: np.ndarray,
                 swapped_landmarks: np.ndarray, sources: Sequence[SourceCrop]) -> np.ndarray:
    """(S, S) float32 edge magnitude (`realism.View.edges`) of the source face that the
    output shows at each eye, round those eyes where it shows a source's and not the
    target's; 0 elsewhere. `target_landmarks`, `swapped_landmarks` (478, 2+) in the
    crop's pixels, the latter detected on the output; `sources` faces in the same space."""
    size = target.grey.shape[0]
    explained = np.zeros((size, size), dtype=np.float32)
    if not sources:
        return explained
    warped = [view(_warped(face, swapped_landmarks, size)) for face in sources]
    unit = max(2, size // 64)
    for area, opening, lids in _openings(target_landmarks, swapped_landmarks, size, unit):
        if np.count_nonzero(opening) < MIN_PIXELS:
            continue
        # One face judged: the one the output is most like there. (Any face passing let a
        # ghost of one video frame pass by another's fit.)
        face = _likeliest(swapped, target, warped, opening | lids)
        if not (_shows_source(swapped, target, face, opening)
                and _shows_source(swapped, target, face, lids)):
            continue
        around = disc(area, 4 * unit)
        explained[around] = np.maximum(explained[around], face.edges[around])
    return explained


def _openings(target_landmarks: np.ndarray, swapped_landmarks: np.ndarray, size: int,
              unit: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per eye: its area in either face (where the credit may reach), and the two parts
    judged: the TARGET's own opening inside its rim, and the lids round it out to three
    units. (Judged inside the output's own outline, a kept half-closed target eye was
    mostly the source's lids pasted round it, and read as the source's; judged on the
    opening alone, a clean source eye under a ghost of both faces' lids and brows read
    as the source's, and the credit reaches over those lids.)"""
    regions = mesh_regions()
    rim = max(1, size // 128)
    found = []
    for loop in (regions.left_eye, regions.right_eye):
        own = polygon_mask(np.asarray(target_landmarks)[loop, :2], size) > 0.5
        output = polygon_mask(np.asarray(swapped_landmarks)[loop, :2], size) > 0.5
        lids = disc(own, 3 * unit) & ~disc(own, rim)
        found.append((own | output, disc(own, -rim), lids))
    return found


def _likeliest(swapped: View, target: View, sources: Sequence[View], region: np.ndarray
               ) -> View:
    """The source face whose fit (`fit`) leaves the least of the output unexplained in
    `region` (a photo's one face without a fit)."""
    if len(sources) == 1:
        return sources[0]
    return min(sources, key=lambda face: fit(swapped.grey, target.grey, face.grey,
                                             region)[2])


def _warped(face: SourceCrop, landmarks: np.ndarray, size: int) -> np.ndarray:
    """The source crop warped over the face mesh onto `landmarks`; black outside it."""
    topology = mesh_topology()
    raster = rasterize(mesh_vertices(landmarks), mesh_depths(landmarks), size, topology)
    map_x, map_y = source_maps(raster, mesh_vertices(face.landmarks), topology.triangles,
                               size)
    warped: np.ndarray = cv2.remap(face.image, map_x, map_y, cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT)
    return warped


def _shows_source(swapped: View, target: View, source: View, region: np.ndarray) -> bool:
    """Whether the output inside `region` is the source's and not the target's."""
    t, s, _ = fit(swapped.grey, target.grey, source.grey, region)
    return s >= SOURCE_SHOWN and TARGET_SHOWN[0] <= t <= TARGET_SHOWN[1]


def fit(output: np.ndarray, target: np.ndarray, source: np.ndarray, region: np.ndarray
        ) -> tuple[float, float, float]:
    """Least-squares (t, s) of output ~ t * target + s * source on luma inside `region`,
    each lightly blurred (what the opening looks like, not its noise) and taken about its
    mean, and the residual's mean square. Unlike a correlation with either face, a ghost
    of both reads as half of each."""
    def values(grey: np.ndarray) -> np.ndarray:
        picked = cv2.GaussianBlur(grey, (0, 0), 1.0)[region].astype(np.float64)
        return picked - picked.mean()

    basis = np.stack([values(target), values(source)], axis=1)
    wanted = values(output)
    coefficients, *_ = np.linalg.lstsq(basis, wanted, rcond=None)
    residual = float(np.mean((basis @ coefficients - wanted) ** 2)) if wanted.size else 0.0
    return float(coefficients[0]), float(coefficients[1]), residual
