"""engines/mesh_catchlights.py: Paul Rudd's studio photo mirrors two strip lights in each
iris, which showed as vertical stripes through his eyes on d18 (BENCHMARKS.md, eleventh
and twelfth rounds); the target's own catchlight is laid over the moved iris."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_catchlights import (
    IRIS_CORE,
    target_catchlights,
    with_catchlights,
    without_catchlights,
)
from facedub.engines.mesh_eyes import EYES, iris_centres, iris_in_eye
from facedub.faceset import Faceset
from target_support import target_from_frame

STUDIO = "still_paul_rudd_frontal_studio.jpg"  # two strip lights in each iris
TARGET = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a small catchlight in each eye
SIZE = 256


def _lightness(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lightness: np.ndarray = lab[..., 0]
    return lightness


def _iris_core(landmarks: np.ndarray, eye: int, size: int) -> np.ndarray:
    """(S, S) bool: the iris disc (IRIS_CORE of its radius) inside the eye opening."""
    points = np.asarray(landmarks)[:, :2]
    centre = points[EYES[eye].iris_centre]
    radius = np.linalg.norm(points[list(EYES[eye].iris_ring)] - centre, axis=1).mean()
    ys, xs = np.mgrid[0:size, 0:size]
    opening = np.zeros((size, size), np.uint8)
    cv2.fillPoly(opening, [np.round(points[EYES[eye].contour]).astype(np.int32)], 255)
    inside: np.ndarray = (np.hypot(xs - centre[0], ys - centre[1]) <= IRIS_CORE * radius) & (
        opening > 0)
    return inside


# Rudd's strip lights stand 15-45 L above the iris just beside them at 256 px (the crop is
# cut from a low-passed photo since the twelfth round, which dims the fainter bars); the
# iris's own streaks stand less than 10 above theirs.
BAR = 15.0


def _light_share(image: np.ndarray, core: np.ndarray, size: int) -> float:
    """Share of the iris core lighter by BAR than an opening 5 px wide at 256 px leaves of
    it: small bright spots and bars, not a lit half of the iris or the whites at its rim."""
    lightness = _lightness(image)
    width = 4 * size // SIZE + 1
    spot = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    spots = lightness - cv2.morphologyEx(lightness, cv2.MORPH_OPEN, spot)
    return float(np.mean(spots[core] > BAR))


def _first_frame(path: Path) -> np.ndarray:
    return next(media.iter_frames(path)).image


@pytest.mark.parametrize("size", [SIZE, 512])  # 512: the engine's source crops
def test_a_studio_photos_strip_lights_are_taken_out_of_its_irises(
        faces_dir: Path, aligned_face: Callable[..., tuple[np.ndarray, np.ndarray]],
        size: int) -> None:
    photo = cv2.cvtColor(cv2.imread(str(faces_dir / STUDIO)), cv2.COLOR_BGR2RGB)
    crop, landmarks = aligned_face(photo, size)
    clean = without_catchlights(crop, landmarks)
    for eye in range(len(EYES)):
        core = _iris_core(landmarks, eye, size)
        assert _light_share(crop, core, size) > 0.2  # the bars
        # 512: the fill's own grain reads 0.08 there (main's code read the same).
        assert _light_share(clean, core, size) < (0.05 if size == SIZE else 0.1)
    # Only the irises change: lids, whites and skin are the photo's.
    irises = np.zeros((size, size), bool)
    for eye in range(len(EYES)):
        irises |= _iris_core(landmarks, eye, size)
    grown = cv2.dilate(irises.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.array_equal(clean[~grown], crop[~grown])


@pytest.mark.parametrize("name", ["still_bob_dylan_bw.jpg",  # lighter iris below the pupil
                                  "clip_deepfacelive_obama_speaking.mp4"])  # white at the rim
def test_an_irises_own_light_parts_are_left_as_they_are(
        faces_dir: Path, aligned_face: Callable[..., tuple[np.ndarray, np.ndarray]],
        name: str) -> None:
    """Everything 18 L above the iris's median was taken for a catchlight: half of Dylan's
    iris (0.47 of its disc filled) and a crescent of white and lower lid in Obama's
    (0.51); only their small catchlights are filled now (0.23 and 0.27, the fill's rim
    counted)."""
    crop, landmarks = aligned_face(_first_frame(faces_dir / name), SIZE)
    clean = without_catchlights(crop, landmarks)
    changed = np.abs(clean.astype(np.int16) - crop).max(axis=2) > 2
    for eye in range(len(EYES)):
        assert np.mean(changed[_iris_core(landmarks, eye, SIZE)]) < 0.3


def test_the_targets_catchlight_is_laid_where_the_moved_iris_is() -> None:
    size = 64
    landmarks = np.zeros((478, 3))
    for eye, x in zip(EYES, (40.0, 20.0), strict=True):  # an eye 16 px wide, open 8 px
        contour = np.linspace(0, 2 * np.pi, len(eye.contour), endpoint=False)
        landmarks[eye.contour, 0] = x + 8 * np.cos(contour)
        landmarks[eye.contour, 1] = 32 + 4 * np.sin(contour)
        landmarks[list(eye.corners), 0] = (x + 8, x - 8) if x > 30 else (x - 8, x + 8)
        landmarks[list(eye.corners), 1] = 32
        landmarks[eye.iris_centre, :2] = (x, 32)
        landmarks[list(eye.iris_ring), :2] = [(x + 3, 32), (x, 29), (x - 3, 32), (x, 35)]
    target = np.full((size, size, 3), 60, np.uint8)  # dark irises everywhere
    target[31:33, 41:43] = 250  # the right-hand eye's catchlight, beside its iris centre
    lights = target_catchlights(target, landmarks)
    assert lights[0] is not None and lights[1] is None
    image = np.full((size, size, 3), 60.0, np.float32)
    moved = landmarks.copy()
    moved[:, 0] += 2.0  # the face moved: the iris sits 2 px further right
    laid = with_catchlights(image, moved, iris_centres(moved, iris_in_eye(landmarks)), lights)
    assert image[31:33, 43:45].min() > 200  # 2 px right of where the target shows it
    assert image[31:33, 40:41].max() < 100
    assert image[31:33, 20:26].max() == 60.0  # the other eye showed none
    # Where it laid them (the target's pixels, not the source's: `source_share`).
    assert laid[31:33, 43:45].min() > 0.7 and laid[:, :30].max() == 0.0


def test_the_engine_gives_the_source_eyes_the_targets_catchlights(
        faces_dir: Path, extracted: Callable[..., Faceset]) -> None:
    """Rudd's photo onto d18's first frame, the two known as two people by their
    descriptors, so the eyes are Rudd's: each eye opening shows d18's catchlight (the
    lightest pixel of each opening, L 74 and 64, as d18's own); without it Rudd's cleaned
    irises leave the openings at most L 52 and 49."""
    source = extracted(STUDIO, max_frames=1, crop_size=SIZE)
    record = extracted(TARGET, max_frames=1, crop_size=SIZE).faces_of()[0]
    frame = next(media.iter_frames(faces_dir / TARGET))
    target = target_from_frame(frame.image, record.frame_landmarks, SIZE, record.pose,
                               record.blendshapes, person=np.asarray(record.descriptor))
    swapped = MeshEngine(source, MeshEngineConfig()).swap_face(target)
    assert swapped.kept_source is not None
    for eye in EYES:
        opening = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(opening, [np.round(target.face_landmarks[eye.contour, :2]).astype(np.int32)],
                     255)
        inside = cv2.erode(opening, np.ones((3, 3), np.uint8)) > 0
        lightest = _lightness(target.image)[inside].max()
        assert lightest > 60.0  # d18 shows a catchlight in this eye
        assert _lightness(swapped.image)[inside].max() > lightest - 5.0
        # The eye is Rudd's in the kept image (the compositor blurs it down to d18's
        # detail), but not the catchlight laid over it: d18's own.
        assert swapped.kept_source[inside].max() > 0.9
        glint = np.unravel_index(np.argmax(np.where(inside, _lightness(swapped.kept_image), 0)),
                                 inside.shape)
        assert swapped.kept_source[glint] < 0.1
