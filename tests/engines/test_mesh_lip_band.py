"""The band of the target's lips that the mesh engine keeps round the mouth opening (the
source's mouth interior, grown) takes the source's lip colour, its lightness structure
kept; teeth, the cavity and the target's own opening stay (issues 9 and 17). Real faces
from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_lip_band import lip_colour_shift, with_lip_colour
from facedub.engines.mesh_mouth import lips_mask
from facedub.faceset import Faceset

EXPRESSIVE = "clip_liveportrait_d10_woman_expressions.mp4"  # face 0: closed mouth
OLDER = "clip_videoretalking_5_older_woman_glasses.mp4"  # frame 0: closed, red lipstick
CROP = 256


def _lab(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(np.asarray(rgb, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB))


def test_only_lip_coloured_pixels_take_the_shift() -> None:
    """A red lip, a grey tooth and a dark cavity pixel in the band: only the lip moves,
    toward the source's pinker lips in a/b, its lightness moved little."""
    target_lips = np.array([40.0, 45.0, 20.0], dtype=np.float32)  # a dark red lipstick
    shift = lip_colour_shift(source_lips=np.array([62.0, 22.0, 12.0]),
                             source_cheeks=np.array([70.0, 12.0, 16.0]),
                             target_lips=target_lips,
                             target_cheeks=np.array([66.0, 10.0, 14.0]))
    assert shift[1] == pytest.approx(20.0 - 45.0) and shift[2] == pytest.approx(10.0 - 20.0)
    assert 0.0 < shift[0] <= 8.0  # the lips' 18 L lighter, half of it at most 8
    lip, tooth, cavity = (cv2.cvtColor(np.array([[colour]], dtype=np.float32),
                                       cv2.COLOR_LAB2RGB)[0, 0] * 255.0
                          for colour in (target_lips, [80.0, 1.0, 4.0], [6.0, 4.0, 2.0]))
    pixels = np.stack([lip, tooth, cavity])[None]
    out = with_lip_colour(pixels, np.ones((1, 3), dtype=np.float32), shift, target_lips)
    before, after = _lab(pixels)[0], _lab(out)[0]
    assert after[0, 1] == pytest.approx(20.0, abs=1.5)  # the lip's a: the source's
    assert after[0, 0] - before[0, 0] == pytest.approx(shift[0], abs=1.0)
    assert np.abs(after[1:] - before[1:]).max() < 1.0  # tooth and cavity as they were
    nothing = with_lip_colour(pixels, np.zeros((1, 3), dtype=np.float32), shift, target_lips)
    assert np.abs(nothing - pixels).max() < 0.5


@pytest.fixture(scope="module")
def expressive(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(EXPRESSIVE, max_frames=2, crop_size=CROP)


@pytest.fixture(scope="module")
def closed_lips(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    return first_target_face(OLDER, CROP)


def _swapped(source: Faceset, target: TargetFace, band: bool) -> SwappedFace:
    """d10's closed mouth (face 0) for the whole face onto the older woman's."""
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, lip_band_colour=band))
    engine._choose_sources = lambda _target: {0: 1.0}  # type: ignore[method-assign]
    try:
        return engine.swap_face(target)
    finally:
        engine.close()


def test_the_kept_band_of_lipstick_takes_the_source_lips_colour(
        expressive: Faceset, closed_lips: TargetFace) -> None:
    """On d10's closed mouth the target's pixels are kept over about a third of the older
    woman's lips (the source's interior, grown): her dark red lipstick there. With the band
    recoloured, those pixels' redness is near d10's lips beside them, their lightness
    moved a few levels at most and its structure (the dark parting) kept."""
    plain = _swapped(expressive, closed_lips, band=False)
    coloured = _swapped(expressive, closed_lips, band=True)
    lips = lips_mask(closed_lips.face_landmarks, CROP) > 0.99
    band = lips & (plain.kept > 0.9)
    source = lips & (plain.kept < 0.05)
    assert band.sum() > 50 and source.sum() > 100  # 76 and 127 at 256 px
    before, after = _lab(plain.kept_image), _lab(coloured.kept_image)
    shown = _lab(plain.image)
    red_band, red_source = np.median(before[..., 1][band]), np.median(shown[..., 1][source])
    assert red_band - red_source > 8.0  # her lipstick, redder than d10's lips
    assert abs(np.median(after[..., 1][band]) - red_source) < 0.4 * (red_band - red_source)
    lightness = np.abs(after[..., 0] - before[..., 0])[band]
    assert np.median(lightness) <= 8.5
    assert np.corrcoef(after[..., 0][band], before[..., 0][band])[0, 1] > 0.9
    # Outside the band nothing changed.
    assert np.abs(coloured.kept_image.astype(np.int16)
                  - plain.kept_image.astype(np.int16))[~(plain.kept > 0.01)].max() <= 1

