"""A smiling photo's brows' inner heads out of its squint's shade (mesh_source_brows):
Biden's portrait (browDown 0.87-0.89) showed dark inner heads under pale brows, a frown on
d18's resting face; a face at rest is left as it is."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines.mesh_source_brows import brows_held_down
from facedub.engines.mesh_sources import SourceFaces
from facedub.engines.mesh_topology import mesh_topology, mesh_vertices
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset

CROP = 256  # the engine tests' smiling photo's size (conftest's LINES_CROP)
SMILING = "still_biden_frontal.jpg"
INNER_HEADS = ((107, 66, 65, 55), (336, 296, 295, 285))
MIDDLES = ((66, 105, 52, 65), (296, 334, 282, 295))


def _source_faces(source: Faceset) -> SourceFaces:
    records = source.faces_of()
    vertices = [mesh_vertices(landmarks_in_crop(r.frame_landmarks, r.face_from_frame))
                for r in records]
    return SourceFaces(source, records, mesh_topology(), vertices, lift_shadows=False,
                       no_catchlights=False, cache_size=2)


def _median_lightness(rgb: np.ndarray, points: np.ndarray) -> float:
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.rint(points).astype(np.int32)), 255)
    lightness = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 0]
    return float(np.median(lightness[mask > 0]))


def test_the_smiling_photos_inner_heads_are_no_darker_than_its_brows_middles(
        extracted: Callable[..., Faceset]) -> None:
    faces = _source_faces(extracted(SMILING, crop_size=CROP))
    points = faces.landmarks(0)[:, :2]
    plain, clean = faces.source_crop(0), faces.clean_crop(0)[..., :3]
    for head, middle in zip(INNER_HEADS, MIDDLES, strict=True):
        head_points, middle_points = points[list(head)], points[list(middle)]
        # The photo's own inner heads lie in the squint's shade (the frown it carried) ...
        assert (_median_lightness(plain, head_points)
                < _median_lightness(plain, middle_points) - 8)
        # ... and the crop the engine warps has them at its brows' middles' lightness.
        assert (_median_lightness(clean, head_points)
                >= _median_lightness(clean, middle_points) - 2)
    # Only the inner heads move: the rest of the crop is the photo's.
    changed = np.any(clean != plain, axis=2)
    assert changed.mean() < 0.02


@pytest.mark.parametrize(("photo", "held"), [
    (SMILING, True),
    ("still_paul_rudd_frontal_studio.jpg", False),  # neutral, browDown 0.60
    ("still_kit_harington_turned.jpg", False),  # 0.47-0.52
    ("still_woman_shouting.jpg", False),  # raised brows
])
def test_only_brows_pulled_down_beyond_a_resting_faces_count(
        extracted: Callable[..., Faceset], photo: str, held: bool) -> None:
    record = extracted(photo, crop_size=CROP).faces_of()[0]
    assert brows_held_down(record.blendshapes) is held
