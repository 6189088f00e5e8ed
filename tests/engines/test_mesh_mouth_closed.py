"""A closed source mouth has no interior: the target's lips are not laid in a band round
its lip line, so the output's closed lips are one mouth, the source's lips on the
target's outline (issue 9: photo-to-mouth's doubled upper lip). Real faces from
../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import CLOSED_GAP, MOUTH_CORNERS, mouth_interior, open_share
from facedub.faces.align import landmarks_in_crop
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

CLOSED_SMILE = "still_rowan_atkinson_older_man.jpg"  # a closed-lipped smile, lips 0.1 px apart
TEETH = "still_biden_frontal.jpg"  # a broad smile, upper teeth showing
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: mouth closed
CROP = 256


def _face(faceset: Faceset) -> tuple[np.ndarray, np.ndarray]:
    record = faceset.faces_of()[0]
    return (faceset.load_image(record),
            landmarks_in_crop(record.frame_landmarks, record.face_from_frame))


def test_the_open_share_ramps_with_the_lips_middle_gap() -> None:
    points = np.zeros((478, 2))
    points[MOUTH_CORNERS[1]] = (100.0, 0.0)
    points[13] = (50.0, 0.0)  # the upper inner lip's middle; 14 the lower's
    low, high = CLOSED_GAP

    def share(gap: float) -> float:
        points[14] = (50.0, gap * 100.0)
        return open_share(points, 100.0)

    assert share(0.0) == 0.0
    assert share(low) == 0.0
    assert share((low + high) / 2) == pytest.approx(0.5)
    assert share(high) == 1.0
    assert share(0.2) == 1.0


def test_a_closed_mouth_has_no_interior_an_open_one_keeps_it(
        extracted: Callable[..., Faceset]) -> None:
    image, landmarks = _face(extracted(CLOSED_SMILE, crop_size=CROP))
    lips = polygon_mask(landmarks[mesh_regions().lips_outer], CROP) > 0.5
    assert lips.sum() > 200
    # Before: the inner loop grown twice, about 40% of his lips.
    assert float(mouth_interior(image, landmarks).max()) == 0.0
    image, landmarks = _face(extracted(TEETH, crop_size=CROP))
    assert (mouth_interior(image, landmarks) > 0.5).sum() > 200


def test_a_closed_smile_onto_closed_lips_keeps_no_band_of_the_targets_lips(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Rowan Atkinson's closed smile onto d18's closed mouth: the target's own pixels are
    kept nowhere on its lips (before: a band of +-5 px at 416 px round the lip line, most
    of d18's thin upper lip, with the source's upper lip showing above it)."""
    target = first_target_face(TALKING, CROP)
    engine = MeshEngine(extracted(CLOSED_SMILE, crop_size=CROP), MeshEngineConfig(follow=1.0))
    try:
        swapped = engine.swap_face(target)
    finally:
        engine.close()
    assert swapped.kept is not None
    lips = polygon_mask(target.face_landmarks[mesh_regions().lips_outer], CROP) > 0.5
    assert lips.sum() > 200
    # (main: 42% of the lips kept at 0.5 and more)
    assert float((swapped.kept[lips] > 0.5).mean()) < 0.02
