"""The texture limit and the colour's finer split reaching the upper lip (`SkinWeights.
shading`): the README pair (the studio photo of Paul Rudd onto Katie Hill) showed his
stubble dots under her nose, tinged red by her lipstick. The zone's shading itself is the
source's (lifted to hers, the swaps moved toward her in the identity), and the nose's
sides are left out."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.tone import UPPER_LIP, skin_weights
from facedub.engines.base import TargetFace

SIZE = 448  # README_CROP, the crop of conftest's `composited`


def _discs(target: TargetFace, points: tuple[int, ...], alpha: np.ndarray) -> np.ndarray:
    """(S, S) bool: discs of the crop / 40 round `points` where the face shows whole."""
    inside = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for point in target.face_landmarks[list(points), :2]:
        cv2.circle(inside, (round(point[0]), round(point[1])), round(SIZE / 40), 255, -1)
    return (inside > 0) & (alpha > 0.95)


def _upper_lip(target: TargetFace, alpha: np.ndarray) -> np.ndarray:
    """(S, S) bool: the upper lip's hull, shrunk by the crop / 64 (off the lip's and the
    nostrils' edges), where the face shows whole."""
    hull = np.zeros((SIZE, SIZE), dtype=np.uint8)
    points = np.round(target.face_landmarks[list(UPPER_LIP), :2]).astype(np.int32)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 255)
    grow = round(SIZE / 64)
    shrunk = cv2.erode(hull, np.ones((2 * grow + 1, 2 * grow + 1), dtype=np.uint8))
    return (shrunk > 0) & (alpha > 0.95)


def _dots(lightness: np.ndarray) -> np.ndarray:
    """(S, S) float32: how much darker each pixel is than its surroundings within 3 px
    (a dot's contrast), 0 where lighter."""
    dots: np.ndarray = np.maximum(cv2.GaussianBlur(lightness, (0, 0), 3.0) - lightness, 0.0)
    return dots


def test_the_upper_lip_holds_the_stubble_dots(
        composited: tuple[np.ndarray, np.ndarray, TargetFace]) -> None:
    """Under her nose his shaved stubble's dots are held toward her smooth skin by the
    texture limit: their mean contrast at most 8.6 times hers (7.9 now; 9.3 with the upper
    lip outside the limit; her lip is nearly spotless, 0.1 L)."""
    image, alpha, target = composited
    lip = _upper_lip(target, alpha)
    assert np.count_nonzero(lip) > 200
    ours, theirs = to_lab(image)[..., 0], to_lab(target.image)[..., 0]
    assert float(_dots(ours)[lip].mean()) < 8.6 * float(_dots(theirs)[lip].mean())


def test_the_shading_zone_covers_the_upper_lip_only(
        first_target_face: Callable[..., TargetFace]) -> None:
    """The weight is near 1 on the upper lip, under 0.1 at the nostrils' and the lips'
    edges (the target's own dark edges there would count as texture) and on the nose's
    sides (bare skin already)."""
    target = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", SIZE)
    zone = skin_weights(target.face_landmarks, SIZE).shading
    points = np.round(target.face_landmarks[:, :2]).astype(int)

    def at(index: int) -> float:
        return float(zone[points[index, 1], points[index, 0]])

    assert at(164) > 0.8  # the upper lip's middle
    assert max(at(198), at(420), at(217), at(437)) < 0.1  # the nose's sides
    assert max(at(13), at(14), at(17), at(0)) < 0.1  # the lips
    assert max(at(2), at(98), at(327)) < 0.1  # the nostrils


def test_the_upper_lip_takes_her_skin_colour_not_her_lipstick(
        composited: tuple[np.ndarray, np.ndarray, TargetFace]) -> None:
    """The upper lip's skin takes her colour at the finer split like the bare skin: its
    mean a within 5 of hers (1.1 now; 9.1 with the split at sigma there, where her
    red lipstick averaged into its base tinged his upper lip brownish red)."""
    image, alpha, target = composited
    lip = _upper_lip(target, alpha)
    redder = float(to_lab(image)[lip, 1].mean() - to_lab(target.image)[lip, 1].mean())
    assert redder < 5.0
