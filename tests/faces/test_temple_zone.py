"""The hair zone at the temples (expr-shouting, issue 9): below the brows, d10's hair lies
0-10 px past the brows' tails at 456 px, where `hair_zone` judged it at 0.2-0.6 and the
face was drawn over it, a grey band with straight sides (BENCHMARKS.md, thirty-third
round). With `temples` the zone reaches the tails there, not a liner's wing by the eye."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.occlusion import edge_occluders
from facedub.engines.base import TargetFace
from facedub.faces.masks import TEMPLE_WING, hair_zone, temple_zone
from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template

SIZE = 256


def _landmarks() -> np.ndarray:
    """The frontal template in a SIZE crop (the face about 200 px wide)."""
    landmarks: np.ndarray = face_template().astype(np.float64) * 100.0 + SIZE / 2
    return landmarks


def test_beside_the_eyes_the_zone_reaches_the_brows_tails() -> None:
    """At each eye's outer corner's row, at its brow's tail: 1 with `temples`, 0 without."""
    landmarks = _landmarks()
    regions = mesh_regions()
    with_temples = hair_zone(landmarks, SIZE, temples=True)
    without = hair_zone(landmarks, SIZE)
    for brow, outer, way in ((regions.right_eyebrow, 33, -1), (regions.left_eyebrow, 263, 1)):
        row = round(float(landmarks[outer, 1]))
        tail = float((landmarks[brow, 0] * way).max()) * way
        column = round(tail + 2 * way)  # just past the tail
        assert with_temples[row, column] > 0.9
        assert without[row, column] < 0.2


def test_never_near_the_eyes_outer_corners_nor_above_the_brows() -> None:
    """0 within TEMPLE_WING eye widths of each outer corner (a liner's wing, the lashes);
    above the brows' lowest points the zone is the one without `temples`."""
    landmarks = _landmarks()
    regions = mesh_regions()
    zone = temple_zone(landmarks, SIZE)
    for outer, inner, way in ((33, 133, -1), (263, 362, 1)):
        width = abs(float(landmarks[outer, 0] - landmarks[inner, 0]))
        row = round(float(landmarks[outer, 1]))
        corner = float(landmarks[outer, 0])
        columns = [round(corner + way * step) for step in np.linspace(
            -width, TEMPLE_WING * width - 1, 12)]
        assert zone[row, columns].max() == 0.0
    top = int(min(landmarks[regions.right_eyebrow, 1].max(),
                  landmarks[regions.left_eyebrow, 1].max()))
    assert zone[:top].max() == 0.0
    np.testing.assert_array_equal(hair_zone(landmarks, SIZE, temples=True)[:top],
                                  hair_zone(landmarks, SIZE)[:top])


def test_d10s_temple_hair_is_cut_not_her_liners_wing(
        first_target_face: Callable[..., TargetFace]) -> None:
    """d10's first face at 448 px: her hair beside each eye (L under 40, past 0.3 eye
    widths from the outer corner, from under the brow to half an eye width under the
    corner) is refused as an edge occluder at 0.91 or more on average (0.80-0.87 without
    `temples`), her liner's wing within 0.2 eye widths of the corner at under 0.1."""
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", 448)
    landmarks = target.face_landmarks[:, :2]
    cut = edge_occluders(target.image, target.face_landmarks)
    lightness = to_lab(target.image)[..., 0]
    rows, columns = np.mgrid[0:448, 0:448]
    regions = mesh_regions()
    for brow, outer, inner, way in ((regions.right_eyebrow, 33, 133, -1),
                                    (regions.left_eyebrow, 263, 362, 1)):
        width = abs(float(landmarks[outer, 0] - landmarks[inner, 0]))
        out = (columns - landmarks[outer, 0]) * way
        below = (rows > landmarks[brow, 1].max()) & (rows < landmarks[outer, 1] + 0.5 * width)
        hair = (out > 0.3 * width) & below & (lightness < 40)
        wing = ((out > 0) & (out < 0.2 * width)
                & (np.abs(rows - landmarks[outer, 1]) < 0.2 * width) & (lightness < 40))
        assert hair.sum() > 500 and cut[hair].mean() > 0.9
        assert wing.sum() > 30 and cut[wing].mean() < 0.1
