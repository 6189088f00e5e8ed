"""The nose's base takes the target's colour at the finer split (`tone._nose_base` in
`SkinWeights.colour`): left to the split at sigma as a feature, Katie Hill's pink nostril
rims were averaged with her paler cheeks and Paul Rudd's nostrils came out grey-violet
rings (the README pair, thirty-second round)."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.tone import NOSTRILS, skin_weights
from facedub.engines.base import TargetFace

SIZE = 448  # README_CROP, the crop of conftest's `composited`


def _nose_base(target: TargetFace) -> np.ndarray:
    """(S, S) bool: the nostrils' hull less the nose tip's middle, where her skin is lit
    (L over 45: not her nostrils' openings)."""
    points = np.round(target.face_landmarks[:, :2]).astype(np.int32)
    hull = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points[list(NOSTRILS)]), 1)
    tip = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(tip, cv2.convexHull(points[[1, 4, 5, 195, 45, 275]]), 1)
    lit = to_lab(target.image)[..., 0] > 45.0
    base: np.ndarray = (hull > 0) & (tip == 0) & lit
    return base


def test_the_nose_base_is_skin_whose_colour_is_taken_finer(
        composited: tuple[np.ndarray, np.ndarray, TargetFace]) -> None:
    _, _, target = composited
    weights = skin_weights(target.face_landmarks, SIZE)
    base = _nose_base(target)
    # Softened on both sides of the hull: its lit rims at the edge about half way (0.73).
    assert float(np.median(weights.colour[base])) > 0.6
    assert float(np.median(weights.bare[base])) < 0.2  # still a feature for the rest


def test_the_readme_pairs_nose_base_keeps_her_pink(
        composited: tuple[np.ndarray, np.ndarray, TargetFace]) -> None:
    """Her nose base's redness (median a) within 3 of hers (2.2 now; 4.1 with the split at
    sigma there), and no redder than hers."""
    image, _, target = composited
    base = _nose_base(target)
    hers = float(np.median(to_lab(target.image)[..., 1][base]))
    swapped = float(np.median(to_lab(image)[..., 1][base]))
    assert hers - 3.0 < swapped <= hers + 0.5, (hers, swapped)
