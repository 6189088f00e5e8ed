"""The lips' colour their own (`SkinWeights.lips`, `carry_detail`'s `lips`): at the
colour's split (a sixteenth of the crop) the target's lipstick was averaged with the skin
round it and the face's own lip colour came back only half, so the README pair's and
headturn-woman's lips came out pale against Katie Hill's red lipstick (chroma 25-31
against her 36-41)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.tone import carry_detail, skin_weights
from facedub.engines.base import TargetFace
from facedub.faces.regions import mesh_regions

SIZE = 448  # README_CROP, the crop of conftest's `composited`
SKIN = (72.0, 7.0, 12.0)
TARGET_LIPS = (45.0, 40.0, 20.0)  # a red lipstick
FACE_LIPS = (55.0, 22.0, 14.0)  # a man's paler lips


def _chroma(lab: np.ndarray) -> np.ndarray:
    chroma: np.ndarray = np.hypot(lab[..., 1], lab[..., 2])
    return chroma


def _synthetic(lips: bool, face_height: int = 5, grey: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """`carry_detail`'s Lab of a flat face with pale lips onto a flat target with red lips
    (a band 10 px high), with the target's band in `lips` or not; the target's band
    (bool). The face's lips are `face_height` px high about the same line (5: the same
    band); with `grey` the face is a greyscale photo's (its lips only darker)."""
    size, sigma = 128, 8.0
    band = np.zeros((size, size), dtype=np.uint8)
    cv2.ellipse(band, (64, 80), (22, 5), 0, 0, 360, 1, -1)
    inside = band > 0
    own = np.zeros_like(band)
    cv2.ellipse(own, (64, 80), (22, face_height), 0, 0, 360, 1, -1)
    face = np.empty((size, size, 3), dtype=np.float32)
    face[...] = (SKIN[0], 0.0, 0.0) if grey else SKIN
    face[own > 0] = (FACE_LIPS[0], 0.0, 0.0) if grey else FACE_LIPS
    target = np.empty_like(face)
    target[...] = SKIN
    target[inside] = TARGET_LIPS
    mask = np.ones((size, size), dtype=np.float32)
    bare = 1.0 - cv2.GaussianBlur(cv2.dilate(band, np.ones((5, 5), np.uint8)).astype(
        np.float32), (0, 0), 1.5)
    zone = cv2.GaussianBlur(band.astype(np.float32), (0, 0), 0.7)
    result = carry_detail(face, target, mask, sigma, bare=bare, lips=zone if lips else None)
    return result, inside


def test_the_lips_keep_the_targets_lip_colour() -> None:
    """With the lips their own, the band is at least 0.85 times as colourful as the
    target's lips (0.93); without, her lipstick averaged with her skin at the split,
    under 0.7 (0.64). Its hue stays hers (within 4 degrees)."""
    wanted = float(np.hypot(*TARGET_LIPS[1:]))
    ratios = {}
    for lips in (False, True):
        result, inside = _synthetic(lips)
        ratios[lips] = float(_chroma(result)[inside].mean()) / wanted
        if lips:
            hue = np.degrees(np.arctan2(result[inside, 2], result[inside, 1])).mean()
            assert abs(hue - np.degrees(np.arctan2(TARGET_LIPS[2], TARGET_LIPS[1]))) < 4.0
    assert ratios[True] > 0.85
    assert ratios[False] < 0.7


def test_the_targets_lip_colour_stays_on_the_faces_lips() -> None:
    """Where the target's lips are fuller than the face's (her band 10 px high, the
    face's lips 4 px), her lip colour goes where the face is lip-coloured: the face's skin
    inside her band is no more colourful than without the lips' own colour, within 15%
    (1.07; 1.51 with her band painted whole), and the face's lips are over 0.9 times as
    colourful as hers (1.07; 0.69 without)."""
    chroma = {}
    for lips in (False, True):
        result, inside = _synthetic(lips, face_height=2)
        own = np.zeros(inside.shape, dtype=np.uint8)
        cv2.ellipse(own, (64, 80), (20, 1), 0, 0, 360, 1, -1)
        rows = np.arange(inside.shape[0])[:, None]
        skin_in_band = inside & (np.abs(rows - 80) >= 4)
        colour = _chroma(result)
        chroma[lips] = (float(colour[skin_in_band].mean()), float(colour[own > 0].mean()))
    assert chroma[True][0] < 1.15 * chroma[False][0]
    assert chroma[True][1] > 0.9 * float(np.hypot(*TARGET_LIPS[1:]))


def test_a_greyscale_faces_lips_take_the_targets_outline() -> None:
    """A greyscale photo has no lip colour to place hers by: its lips take the target's
    lip colour over her band (at least 0.8 times as colourful as her lips: 0.87)."""
    result, inside = _synthetic(True, grey=True)
    assert float(_chroma(result)[inside].mean()) > 0.8 * float(np.hypot(*TARGET_LIPS[1:]))


def test_the_lips_leave_the_rest_of_the_face() -> None:
    """Away from the lips (beyond their grown zone's reach) the result is the same as
    without."""
    with_lips, _ = _synthetic(True)
    without, _ = _synthetic(False)
    far = np.ones(with_lips.shape[:2], dtype=bool)
    far[56:104, 24:104] = False
    np.testing.assert_array_equal(with_lips[far], without[far])


def test_the_lip_zone_is_the_lips_not_the_opening_nor_the_skin(
        first_target_face: Callable[..., TargetFace]) -> None:
    """Over 0.8 half way across each lip (between the outer and inner outlines), under
    0.1 inside her open mouth and on the skin above and below the lips."""
    target = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", SIZE)
    zone = skin_weights(target.face_landmarks, SIZE).lips
    points = target.face_landmarks[:, :2]

    def at(point: np.ndarray) -> float:
        return float(zone[round(point[1]), round(point[0])])

    assert at((points[0] + points[13]) / 2) > 0.8  # the upper lip's middle
    assert at((points[17] + points[14]) / 2) > 0.8  # the lower lip's middle
    assert at((points[13] + points[14]) / 2) < 0.1  # her open mouth
    assert at(points[164]) < 0.1  # the skin under the nose
    assert at(points[200]) < 0.1  # the chin


def test_the_readme_pairs_lips_are_not_pale(
        composited: tuple[np.ndarray, np.ndarray, TargetFace]) -> None:
    """Paul Rudd's lips on Katie Hill's first frame are at least 0.9 times as colourful as
    her red lipstick (0.95 now; 0.71 with her lipstick averaged with her skin)."""
    image, alpha, target = composited
    regions = mesh_regions()
    points = target.face_landmarks[:, :2]
    ring = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.fillPoly(ring, [np.round(points[regions.lips_outer]).astype(np.int32)], 1)
    cv2.fillPoly(ring, [np.round(points[regions.lips_inner]).astype(np.int32)], 0)
    inner = cv2.erode(ring, np.ones((5, 5), np.uint8)) > 0
    shown = inner & (alpha > 0.95)
    theirs = float(_chroma(to_lab(target.image))[inner].mean())
    ours = float(_chroma(to_lab(image))[shown].mean())
    assert ours > 0.9 * theirs
