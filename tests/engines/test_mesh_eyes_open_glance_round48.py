"""The open-lidded glance (issue 17, forty-eighth round): the grimace photo reads eyeLookDown
0.32 with its lids 0.82 of its iris apart, so main's look-down rule kept Obama's eyes by
0.25-0.32 over it (expr-grimace's smile read 0.10-0.15 under his on frames 19-23). Of the
twelve benchmark photos it alone is such a glance (`open_glance`), so the look-down rule
and the longer iris move along the corner line (`read_as_target`) change its swaps alone:
every other photo's glance is 0, and a face of no glance is placed at the target's iris to
the bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from eye_reads import frame_read, photo_read

from facedub.engines.mesh_eyes import (
    IRIS_MOVE_ALONG,
    iris_in_eye,
    open_glance,
    read_as_target,
    resting_blink,
    source_irises,
    target_eyes_share,
)

GRIMACE = "still_man_angry_grimace.png"
OBAMA = "clip_deepfacelive_obama_speaking.mp4"  # expr-grimace's target
# Every other photo source of the benchmark pairs (benchmarks/pairs.toml), with what keeps
# it from being a glance: lids 0.40-0.75 of the iris apart, or eyeLookDown under 0.2.
OTHER_PHOTOS = (
    "still_rowan_atkinson_older_man.jpg",  # looks down 0.51, lids 0.58
    "still_woman_dark_skin_downcast.jpg",  # looks down 0.76, lids 0.70
    "still_rose_leslie_frontal.jpg",  # looks down 0.35, lids 0.59
    "still_woman_ball_occlusion_lowres.jpg",  # looks down 0.38, lids 0.64
    "still_woman_shouting.jpg",  # lids 0.75, looks down 0.15
    "still_kit_harington_turned.jpg",  # lids 0.74, looks down 0.02
    "still_biden_frontal.jpg",
    "still_bob_dylan_bw.jpg",
    "still_paul_rudd_frontal_studio.jpg",
    "still_elderly_woman_smile.jpg",
    "still_angelina_jolie_threequarter.jpg",
)


def test_the_grimace_photo_is_an_open_lidded_glance(faces_dir: Path) -> None:
    shapes, landmarks = photo_read(faces_dir, GRIMACE)
    assert open_glance(shapes, landmarks) == 1.0
    irises = source_irises(landmarks, shapes)
    assert irises.shape == (2, 4)
    np.testing.assert_array_equal(irises[:, :3], iris_in_eye(landmarks))
    assert np.all(irises[:, 3] == 1.0)


@pytest.mark.parametrize("name", OTHER_PHOTOS)
def test_no_other_benchmark_photo_is_a_glance(faces_dir: Path, name: str) -> None:
    shapes, landmarks = photo_read(faces_dir, name)
    assert open_glance(shapes, landmarks) == 0.0
    assert np.all(source_irises(landmarks, shapes)[:, 3] == 0.0)


def test_a_video_sources_face_is_no_glance() -> None:
    landmarks = np.random.default_rng(0).uniform(0.0, 256.0, (478, 3))
    assert np.all(source_irises(landmarks, None)[:, 3] == 0.0)


def test_the_grimace_photos_glance_keeps_none_of_obamas_eyes(faces_dir: Path) -> None:
    """Main keeps his eyes by 0.2-0.4 on frame 21 (the look-down rule); with the photo's
    glance, only a blink would keep them."""
    (shapes, landmarks), (target, target_landmarks) = (photo_read(faces_dir, GRIMACE),
                                                       frame_read(faces_dir, OBAMA, 21))
    resting = resting_blink(shapes[None])
    without = target_eyes_share(shapes, target, resting, target, target_landmarks)
    assert 0.2 < without < 0.4
    glance = open_glance(shapes, landmarks)
    assert target_eyes_share(shapes, target, resting, target, target_landmarks, glance) == 0.0


def test_a_blink_keeps_the_targets_eyes_over_a_glance() -> None:
    from facedub.faces.landmarks import BLENDSHAPE_NAMES
    source, target = np.zeros(52), np.zeros(52)
    source[[BLENDSHAPE_NAMES.index("eyeLookDownLeft"),
            BLENDSHAPE_NAMES.index("eyeLookDownRight")]] = 0.5
    target[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.5
    assert target_eyes_share(source, target, source_glance=1.0) == 1.0
    target[:] = 0.0
    assert target_eyes_share(source, target, source_glance=1.0) == 0.0
    assert target_eyes_share(source, target, source_glance=0.5) == pytest.approx(0.5)


def test_a_face_of_no_glance_is_placed_at_the_targets_iris() -> None:
    target = np.array([0.07, -0.02, 0.2])
    for source in (np.array([-0.05, 0.01, 0.2]), np.array([-0.05, 0.01, 0.2, 0.0])):
        assert read_as_target(source, target) is target


def test_a_glance_is_moved_further_along_only() -> None:
    source, target = np.array([-0.05, 0.01, 0.2, 1.0]), np.array([0.03, -0.02, 0.2])
    placed = read_as_target(source, target)
    assert placed[0] == pytest.approx(-0.05 + IRIS_MOVE_ALONG * 0.08)
    assert placed[1:] == pytest.approx(target[1:])
    half = read_as_target(np.array([-0.05, 0.01, 0.2, 0.5]), target)
    assert half[0] == pytest.approx(-0.05 + (1.0 + (IRIS_MOVE_ALONG - 1.0) / 2) * 0.08)
    # Never more than one iris radius past the target's.
    far = read_as_target(np.array([-0.6, 0.0, 0.1, 1.0]), np.array([0.4, 0.0, 0.1]))
    assert far[0] == pytest.approx(0.5)
