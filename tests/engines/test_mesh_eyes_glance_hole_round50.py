"""The open-lidded glance's old iris (issue 17, fiftieth round; traced, nothing shipped): the
grimace photo glances toward one corner of each eye, its iris against the lid. Moved to
Obama's gaze (`looking_as_target`), its old iris is emptied over the moved disc's radius
(IRIS_GROW) alone, and its dark rim beyond stays beside the moved iris: the dark dot at the
inner corner of the image's left eye seen at 6x on expr-grimace's frames 1 and 21. Emptied
1.4 times wider in a glance, the dot went and the gaze error fell at every job id, but the
smile read 149 -> 144 of 160 over four ids (1.2: 141 by the same reader; the inpainted rim is
greyer than the white), so main's emptying stays. Its rim left past the disc given the
eye's own white instead (later the same round, B2) took the dot too but read smile 149 -> 148 and a
higher gaze error at every id, not shipped either; the first test asks for the rim gone
(a strict xfail on main), the second pins what any fix must keep
(BENCHMARKS.md, Expression, fiftieth round)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from eye_reads import frame_read, photo_read

from facedub.engines.mesh_eyes import (
    EYES,
    iris_centres,
    iris_in_eye,
    looking_as_target,
    read_as_target,
    source_irises,
)

GRIMACE = "still_man_angry_grimace.png"
OBAMA = "clip_deepfacelive_obama_speaking.mp4"  # expr-grimace's target


def _photo(faces_dir: Path) -> np.ndarray:
    image = cv2.cvtColor(cv2.imread(str(faces_dir / GRIMACE)), cv2.COLOR_BGR2RGB)
    return image.astype(np.float32)


def _lightness(image: np.ndarray) -> np.ndarray:
    rgb = np.clip(image / 255.0, 0.0, 1.0).astype(np.float32)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0]


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="the old iris's rim stays beside the moved one (fiftieth round: "
                   "the wider fills tried cost the smile)")
def test_the_grimaces_old_iris_leaves_no_dark_rim_beside_the_moved_one(faces_dir: Path
                                                                       ) -> None:
    """The photo's right eye (landmarks 33/133; the image's left), moved 8.7 px toward
    Obama's frame 21 gaze: past 1.3 iris radii from the moved iris, inside the opening, its
    old rim is left as dark as L 20.9 on main (the old iris's median is 32.7); emptied 1.4
    times wider, nothing there was darker than L 31.4; a fix must leave nothing darker than L 28
    (above the old iris's median less a margin for the white's own shade)."""
    shapes, landmarks = photo_read(faces_dir, GRIMACE)
    _, target_landmarks = frame_read(faces_dir, OBAMA, 21)
    image = _photo(faces_dir)
    irises, target = source_irises(landmarks, shapes), iris_in_eye(target_landmarks)
    moved = _lightness(looking_as_target(image.copy(), landmarks, irises, target))
    eye, k = EYES[1], 1
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    opening = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillPoly(opening, [np.round(points[eye.contour]).astype(np.int32)], 1)
    placed = np.array([read_as_target(irises[k], target[k])] * 2)
    centre = iris_centres(landmarks, placed)[k]
    radius = irises[k, 2] * float(np.linalg.norm(points[eye.corners[0]] - points[eye.corners[1]]))
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    beside = (opening > 0) & (np.hypot(xs - centre[0], ys - centre[1]) > 1.3 * radius)
    if beside.sum() <= 100:  # not the expected failure: the test no longer measures the rim
        pytest.fail("the rim's zone beside the moved iris is empty")
    assert float(moved[beside].min()) > 28.0


def test_a_face_of_no_glance_moves_its_iris_as_before(faces_dir: Path) -> None:
    """The glance column at 0 (every other photo, every video face): the same pixels as an
    `iris_in_eye` row without it; a glance (the longer move along the corner line) moves
    them (any change confined to a glance keeps every other pair's swap to the bit)."""
    shapes, landmarks = photo_read(faces_dir, GRIMACE)
    _, target_landmarks = frame_read(faces_dir, OBAMA, 21)
    image = _photo(faces_dir)
    irises = source_irises(landmarks, shapes)
    irises[:, 3] = 0.0
    target = iris_in_eye(target_landmarks)
    no_glance = looking_as_target(image.copy(), landmarks, irises, target)
    plain = looking_as_target(image.copy(), landmarks, iris_in_eye(landmarks), target)
    np.testing.assert_array_equal(no_glance, plain)
    glance = looking_as_target(image.copy(), landmarks, source_irises(landmarks, shapes), target)
    assert not np.array_equal(glance, plain)
