"""A closed-lipped smiling photo over the target's closed lips: its inner loop is no mouth
interior (no band of the target's pixels round the lip line, issue 9: photo-to-mouth's
doubled upper lip), and its closed smile does not hold back the target's own mouth corners
(issue 17: the target's resting smile). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import (
    closed_counts,
    corners_mask,
    lips_mask,
    lips_open_share,
    photo_lips_open,
    target_corners_share,
)
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset

CLOSED_SMILE = "still_rowan_atkinson_older_man.jpg"  # lips closed (gap 0.002), smiling 0.25
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: lips closed
CROP = 256


def _mouth(gap: float) -> np.ndarray:
    """(478, 2) landmarks: the corners 100 px apart, the inner lips' middle `gap` widths."""
    points = np.zeros((478, 2))
    points[61], points[291] = (100.0, 200.0), (200.0, 200.0)
    points[13], points[14] = (150.0, 200.0), (150.0, 200.0 + 100.0 * gap)
    return points


def test_lips_open_share_ramps_over_the_middle_gap() -> None:
    assert lips_open_share(_mouth(0.0)) == 0.0
    assert lips_open_share(_mouth(0.012)) == 0.0, "the smiling older woman's closed lips"
    assert lips_open_share(_mouth(0.0225)) == pytest.approx(0.5)
    assert lips_open_share(_mouth(0.031)) == 1.0, "Bob Dylan's parted lips"


def test_only_a_closed_lipped_smile_counts_as_closed(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """A closed neutral photo keeps its interior band (where the landmarker reads a smiling
    target's own lip line); a closed smile's does not (its stretched upper lip shows over
    the band: a doubled lip, a smirk)."""
    neutral = blendshapes(mouthSmileLeft=0.02, mouthSmileRight=0.02)
    smiling = blendshapes(mouthSmileLeft=0.25, mouthSmileRight=0.25)
    slight = blendshapes(mouthSmileLeft=0.15, mouthSmileRight=0.15)
    assert photo_lips_open(_mouth(0.0), neutral) == 1.0
    assert photo_lips_open(_mouth(0.0), smiling) == 0.0
    assert photo_lips_open(_mouth(0.0), slight) == pytest.approx(0.5)
    assert photo_lips_open(_mouth(0.05), smiling) == 1.0, "a smile with parted lips"


def test_a_photos_interior_and_smile_count_but_where_both_lips_are_closed() -> None:
    """Only a closed photo over the target's closed lips: where the target's part, the band
    round its opening is its own lips' inner edge (a broad smile reads from it)."""
    assert closed_counts(1.0, _mouth(0.0)) == 1.0, "an open photo: as before"
    assert closed_counts(0.0, _mouth(0.0)) == 0.0
    assert closed_counts(0.0, _mouth(0.05)) == 1.0, "the target's lips apart"
    assert closed_counts(0.0, _mouth(0.0225)) == pytest.approx(0.5)
    assert closed_counts(0.5, _mouth(0.0)) == pytest.approx(0.5)


def test_a_closed_sources_smile_counts_as_far_as_its_lips_are_apart(
        blendshapes: Callable[..., np.ndarray]) -> None:
    smiling = blendshapes(mouthSmileLeft=0.25, mouthSmileRight=0.25)
    assert target_corners_share(smiling, smiling) == 0.0
    assert target_corners_share(smiling, smiling, source_open=0.0) == 1.0
    # Half open: 0.25 - 0.125 = 0.125 over the source, a sixth of the ramp 0.1 .. 0.25.
    assert target_corners_share(smiling, smiling, source_open=0.5) == pytest.approx(1 / 6)


def test_a_closed_smiling_photo_keeps_no_band_round_the_lip_line_but_the_targets_corners(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        blendshapes: Callable[..., np.ndarray]) -> None:
    """Rowan Atkinson's closed smile onto d18's closed mouth smiling as much: the target's
    pixels are kept neither round the lip line (before: a band of them, 0.3-1 of the face
    across the lips' middle, his upper lip's edge showing over d18's lip line) nor on the
    lips, and the skin round the target's mouth corners is its own."""
    source = extracted(CLOSED_SMILE, crop_size=CROP)
    record = source.faces_of()[0]
    assert photo_lips_open(landmarks_in_crop(record.frame_landmarks, record.face_from_frame),
                           record.blendshapes) == 0.0
    target = first_target_face(TALKING, CROP)
    smiling = replace(target, blendshapes=np.maximum(target.blendshapes, blendshapes(
        mouthSmileLeft=0.3, mouthSmileRight=0.3)))
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    try:
        kept = engine.swap_face(smiling).kept
    finally:
        engine.close()
    points = target.face_landmarks[:, :2]
    width = float(np.linalg.norm(points[61] - points[291]))
    middle = points[[13, 14]].mean(axis=0)
    band = (slice(round(middle[1] - 4), round(middle[1] + 5)),
            slice(round(middle[0] - 0.2 * width), round(middle[0] + 0.2 * width)))
    assert float(kept[band].max()) < 0.05
    lips = lips_mask(points, CROP)
    corners = (corners_mask(points, CROP) > 0.99) & (lips == 0.0)
    assert corners.sum() > 50
    assert float(np.median(kept[corners])) > 0.9
