"""The lips' own colour after the tone stage (`composite.lips`): the README pair's lips
came out pale pink against Katie Hill's red lipstick (chroma 27-31 against her 36-41),
her lipstick averaged with her skin at the tone's split. Drawn faces: a flat skin with
the template's lips filled, the face's pale and the target's red."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

import facedub.composite.compositor as compositor
from facedub.composite.color import from_lab, to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.lips import STRETCH, lip_zones, own_lip_colour
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.regions import LOWER_LIP, MOUTH_CORNERS, UPPER_LIP
from facedub.types import HeadPose

SIZE = 448
SKIN = (70.0, 9.0, 14.0)
TARGET_LIPS = (40.0, 34.0, 19.0)  # a red lipstick, chroma 39
FACE_LIPS = (48.0, 22.0, 14.0)  # his paler lips, chroma 26


def _drawn(landmarks: np.ndarray, lips: tuple[float, float, float], thinner: int = 0
           ) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8 RGB: flat skin with both lips filled in `lips` (Lab), each
    `thinner` px inside its outline."""
    lab = np.empty((SIZE, SIZE, 3), dtype=np.float32)
    lab[...] = SKIN
    hard = _lip_pixels(landmarks).astype(np.uint8)
    if thinner:
        hard = cv2.erode(hard, np.ones((2 * thinner + 1,) * 2, np.uint8))
    lab[hard > 0] = lips
    return from_lab(lab)


def _lip_pixels(landmarks: np.ndarray) -> np.ndarray:
    hard = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for lip in (UPPER_LIP, LOWER_LIP):
        cv2.fillPoly(hard, [np.round(landmarks[list(lip), :2]).astype(np.int32)], 1)
    return hard > 0


@pytest.fixture(scope="module")
def landmarks(turned_template: Callable[[float, int], np.ndarray]) -> np.ndarray:
    return turned_template(0.0, SIZE)


def test_the_lips_middle_takes_the_targets_chroma(landmarks: np.ndarray) -> None:
    """In the zones' core the face's lips reach the target's chroma within 1 Lab unit
    (from 26 against 39), along its hue; the lightness is the face's within 0.5 L."""
    face, target = _drawn(landmarks, FACE_LIPS), _drawn(landmarks, TARGET_LIPS)
    shown = np.ones((SIZE, SIZE), dtype=np.float32)
    result = own_lip_colour(face, target, landmarks, shown)
    zones = lip_zones(landmarks, SIZE)
    assert zones is not None
    core = np.zeros((SIZE, SIZE), dtype=bool)
    core[zones.box] = np.maximum(*zones.lips) > 0.99
    assert core.sum() > 300
    before, after, wanted = to_lab(face)[core], to_lab(result)[core], to_lab(target)[core]
    chroma = np.hypot(after[:, 1], after[:, 2]).mean()
    assert np.hypot(before[:, 1], before[:, 2]).mean() < 28.0
    assert abs(chroma - np.hypot(wanted[:, 1], wanted[:, 2]).mean()) < 1.0
    assert np.abs(after[:, 0] - before[:, 0]).max() < 0.5


def test_the_corners_outline_and_skin_stay(landmarks: np.ndarray) -> None:
    """Outside the zones (the skin, the lips' outer and inner outlines, the corners) the
    face's pixels are its own, to the bit; the whole crop's lightness moves by at most
    0.5 L."""
    face, target = _drawn(landmarks, FACE_LIPS), _drawn(landmarks, TARGET_LIPS)
    result = own_lip_colour(face, target, landmarks, np.ones((SIZE, SIZE), dtype=np.float32))
    changed = np.any(result != face, axis=-1)
    lips = _lip_pixels(landmarks)
    assert changed.sum() > 500
    assert not changed[~lips].any()
    outline = lips & ~cv2.erode(lips.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert not changed[outline].any()
    # Within a tenth of the mouth's width of either corner.
    width = float(np.linalg.norm(landmarks[MOUTH_CORNERS[0], :2] - landmarks[MOUTH_CORNERS[1], :2]))
    rows, columns = np.mgrid[:SIZE, :SIZE]
    for corner in MOUTH_CORNERS:
        x, y = landmarks[corner, :2]
        assert not changed[np.hypot(columns - x, rows - y) < width / 10].any()
    assert np.abs(to_lab(result)[..., 0] - to_lab(face)[..., 0]).max() < 0.5


def test_the_targets_fuller_lips_leave_the_faces_skin(landmarks: np.ndarray) -> None:
    """Where the target's lips reach past the face's (the face's drawn 8 px inside her
    outline), the face's skin there is not coloured: its chroma moves by under 1.5 Lab
    units, while the face's own lips' middle reaches her chroma within 2."""
    face = _drawn(landmarks, FACE_LIPS, thinner=8)
    target = _drawn(landmarks, TARGET_LIPS)
    result = own_lip_colour(face, target, landmarks, np.ones((SIZE, SIZE), dtype=np.float32))
    zones = lip_zones(landmarks, SIZE)
    assert zones is not None
    zone = np.zeros((SIZE, SIZE), dtype=np.float32)
    zone[zones.box] = np.maximum(*zones.lips)
    own = cv2.erode(_lip_pixels(landmarks).astype(np.uint8), np.ones((17, 17), np.uint8))
    band = (zone > 0.3) & ~cv2.dilate(own, np.ones((5, 5), np.uint8)).astype(bool)
    middle = (zone > 0.99) & cv2.erode(own, np.ones((5, 5), np.uint8)).astype(bool)
    assert band.sum() > 50 and middle.sum() > 50
    before, after = to_lab(face), to_lab(result)
    moved = np.hypot(after[..., 1], after[..., 2]) - np.hypot(before[..., 1], before[..., 2])
    assert np.abs(moved[band]).max() < 1.5
    wanted = float(np.hypot(*TARGET_LIPS[1:]))
    assert abs(float(np.hypot(after[middle, 1], after[middle, 2]).mean()) - wanted) < 2.0


@pytest.mark.parametrize("case", ["already_as_red", "kept", "occluded"])
def test_no_move_where_nothing_is_missing(landmarks: np.ndarray, case: str) -> None:
    """Lips already as colourful as the target's, the target's own mouth kept, or the
    mouth behind an occluder: the face is returned as it is."""
    face = _drawn(landmarks, TARGET_LIPS if case == "already_as_red" else FACE_LIPS)
    target = _drawn(landmarks, TARGET_LIPS)
    shown = np.full((SIZE, SIZE), 0.0 if case == "occluded" else 1.0, dtype=np.float32)
    kept = np.ones((SIZE, SIZE), dtype=np.float32) if case == "kept" else None
    assert own_lip_colour(face, target, landmarks, shown, kept) is face


def test_the_compositor_gives_the_lips_their_colour(landmarks: np.ndarray) -> None:
    """Through `Compositor.composite` with the default ("detail") colour, the middle of
    the face's pale lips comes out at least 4 Lab units more colourful than the tone stage
    leaves them (`own_lip_colour` left out; 27 at the drawn lips' 26, the target's 39).
    Without occlusion: the drawn mouth, a flat colour on flat skin, reads as an object."""
    face, target = _drawn(landmarks, FACE_LIPS), _drawn(landmarks, TARGET_LIPS)
    target_face = TargetFace(image=target, face_landmarks=landmarks,
                             face_from_frame=np.eye(2, 3), pose=HeadPose(0.0, 0.0, 0.0),
                             blendshapes=np.zeros(52, np.float32), time=0.0, track=0)
    swapped = SwappedFace(image=face, mask=np.ones((SIZE, SIZE), dtype=np.float32))
    zones = lip_zones(landmarks, SIZE)
    assert zones is not None
    core = np.zeros((SIZE, SIZE), dtype=bool)
    core[zones.box] = np.maximum(*zones.lips) > 0.99

    def chroma(image: np.ndarray) -> float:
        lab = to_lab(image)[core]
        return float(np.hypot(lab[:, 1], lab[:, 2]).mean())

    config = CompositeConfig(occlusion="off", keep_occluders=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compositor, "own_lip_colour", lambda face, *args: face)
        without = Compositor(config).composite(target_face, swapped).image
    with_lips = Compositor(config).composite(target_face, swapped).image
    assert chroma(with_lips) > chroma(without) + 4.0


def test_a_broad_smiles_stretched_lower_lip_is_left(landmarks: np.ndarray) -> None:
    """A lower lip stretched thin by a broad smile (its area 0.09 of the mouth's width
    squared, under STRETCH[0]) is where the landmarker reads the smile: the face is
    returned as it is; at rest (the template's 0.16) it is coloured."""
    stretched = landmarks.copy()
    # The outer edge between the corners pressed toward the lip line.
    outer = list(LOWER_LIP[1:10])
    line = float(stretched[list(LOWER_LIP[12:21]), 1].mean())
    stretched[outer, 1] = line + 0.45 * (stretched[outer, 1] - line)
    width = float(np.linalg.norm(stretched[MOUTH_CORNERS[0], :2] - stretched[MOUTH_CORNERS[1], :2]))
    area = cv2.contourArea(stretched[list(LOWER_LIP), :2].astype(np.float32)) / width ** 2
    rest = cv2.contourArea(landmarks[list(LOWER_LIP), :2].astype(np.float32)) / width ** 2
    assert area < STRETCH[0] < STRETCH[1] < rest
    shown = np.ones((SIZE, SIZE), dtype=np.float32)
    for points, moved in ((stretched, False), (landmarks, True)):
        face, target = _drawn(points, FACE_LIPS), _drawn(points, TARGET_LIPS)
        assert (own_lip_colour(face, target, points, shown) is not face) == moved
