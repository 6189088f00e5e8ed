"""The skin round the eyes on a made-up target (expr-shouting, issue 9): the target's
liner wing, lower lashes and eye shadow averaged into its base were a grey band under the
eyes of a face without them, the lower edge of a grey-violet box (BENCHMARKS.md,
nineteenth round)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing

import cv2
import numpy as np
import pytest

from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.tone import _skin_likeness, surround_weights
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_eyes import EYES
from facedub.faceset import Faceset

SIZE = 448


@pytest.fixture(scope="module")
def composited(extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
               ) -> tuple[np.ndarray, SwappedFace, TargetFace]:
    """The shouting photo (sun from above: shadowed sockets, dark under the eyes) on d10's
    first face (made up: winged liner, lower liner, violet eye shadow), through the
    compositor as the swap calls it (occlusion off: nothing is in front of her face)."""
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", SIZE)
    with closing(MeshEngine(extracted("still_woman_shouting.jpg", crop_size=SIZE))) as engine:
        swapped = engine.swap_face(target)
    compositor = Compositor(CompositeConfig(occlusion="off"))
    return compositor.composite(target, swapped).image, swapped, target


def _under_eyes(target: TargetFace) -> tuple[np.ndarray, np.ndarray]:
    """Boolean bands of the target crop: under each eye (its corners' width less a tenth
    at each end, from 4 px under its lowest contour point 0.2 eye widths down), and the
    cheeks below them (1.0 to 1.3 eye widths down, past `surround_weights`)."""
    points = target.face_landmarks[:, :2]
    under = np.zeros((SIZE, SIZE), bool)
    cheeks = np.zeros((SIZE, SIZE), bool)
    for eye in EYES:
        corners = points[list(eye.corners)]
        x0, x1 = sorted(corners[:, 0])
        width = x1 - x0
        x0, x1 = round(x0 + 0.1 * width), round(x1 - 0.1 * width)
        bottom = points[eye.contour, 1].max()
        under[round(bottom + 4):round(bottom + 0.2 * width), x0:x1] = True
        cheeks[round(bottom + 1.0 * width):round(bottom + 1.3 * width), x0:x1] = True
    return under, cheeks


def test_the_band_under_the_eyes_is_no_darker_than_the_cheeks_against_the_target(
        composited: tuple[np.ndarray, SwappedFace, TargetFace]) -> None:
    """Against d10's own skin there (not her liner), the band under the photo's eyes
    came out 2.3 L darker than her cheeks did (the lower edge of a grey box at 1x); with
    the skin's own base round the eyes it is level with them (-0.1), no light patch either."""
    image, _, target = composited
    under, cheeks = _under_eyes(target)
    lightness = to_lab(target.image)[..., 0]
    # Her skin there, not her lower liner and lashes (which the photo's face does not
    # have, and should not get).
    under &= lightness > lightness[cheeks].mean() - 12.0
    difference = to_lab(image)[..., 0] - lightness
    darker = float(difference[cheeks].mean() - difference[under].mean())
    assert -2.5 < darker < 1.0


def test_a_liner_is_not_skin_her_cheeks_are(
        first_target_face: Callable[..., TargetFace]) -> None:
    """`_skin_likeness` on d10, her cheeks as the reference: the dark pixels round her
    eyes (winged liner, lower liner, lashes) are not skin (likeness under 0.1), her
    cheeks below the eyes are (over 0.9)."""
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", SIZE)
    lab = to_lab(target.image)
    points = target.face_landmarks[:, :2]
    reference = np.zeros((SIZE, SIZE), np.float32)
    cv2.fillPoly(reference, [np.round(points[[50, 101, 36, 205]]).astype(np.int32)], 1.0)
    cv2.fillPoly(reference, [np.round(points[[280, 330, 266, 425]]).astype(np.int32)], 1.0)
    likeness = _skin_likeness(lab, reference)
    _, cheeks = _under_eyes(target)
    assert likeness[cheeks].mean() > 0.9
    lightness = lab[..., 0]
    liner = (surround_weights(target.face_landmarks, SIZE) > 0.5) & (lightness < 35)
    assert liner.sum() > 50 and likeness[liner].mean() < 0.1
