"""The nose's underside held to the target's depth (`SkinWeights.nose_base`,
`carry_detail`'s `nose_base`): Biden's broad smile, lit from above, has the whole underside
of his nose in one shadow finer than the colour's split; carried as detail it was a dark,
sharp-edged wedge under the nose tip on d18's front-lit face (expr-smile-teeth, every frame,
visible at 1x; BENCHMARKS.md, forty-first round). Only there: where the source's nostrils
show inside the shadow (Rowan Atkinson's photo, the streamer's webcam clip) it is who they
read as, and the lift is gated off (`composite.nose_base.flat_band`; forty-second round)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing

import cv2
import numpy as np
import pytest

from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.nose_base import FLAT_BAND_MIN, NOSTRILS, flat_band_reading
from facedub.composite.tone import carry_detail
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.faceset import Faceset

SIZE = 416  # the swap's crop for d18 at its 512 px frames
UNDERSIDE = (98, 97, 2, 326, 327, 1)  # the nose's tip, wings and where it meets the lip


def _underside(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) bool: the nose's underside, its hull shrunk by 2 px (the zone's soft edge
    left out)."""
    zone = np.zeros((size, size), dtype=np.uint8)
    points = np.round(np.asarray(landmarks)[list(UNDERSIDE), :2]).astype(np.int32)
    cv2.fillConvexPoly(zone, cv2.convexHull(points), 1)
    return cv2.erode(zone, np.ones((5, 5), np.uint8)) > 0


def _composited(extracted: Callable[..., Faceset],
                first_target_face: Callable[..., TargetFace], source: str
                ) -> tuple[np.ndarray, TargetFace]:
    """`source`'s first face swapped onto d18's first face and composited (no grain)."""
    target = first_target_face("clip_liveportrait_d18_man_frontal_mouth.mp4", SIZE)
    with closing(MeshEngine(extracted(source, max_frames=1, crop_size=SIZE))) as engine:
        swapped = engine.swap_face(target)
    return Compositor(CompositeConfig(grain=False)).composite(target, swapped).image, target


def test_a_top_lit_photos_nose_underside_is_no_dark_wedge(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Biden's photo on d18's first face, composited (no grain): his underside is one
    flat band (the gate on), lifted to under 12 L darker than d18's own there on average
    (without the lift 16.4; with it 9.4), its darkest tenth under 15 L (18.9; 11.4)."""
    image, target = _composited(extracted, first_target_face, "still_biden_frontal.jpg")
    zone = _underside(target.face_landmarks, SIZE)
    darker = to_lab(target.image)[..., 0][zone] - to_lab(image)[..., 0][zone]
    assert float(darker.mean()) < 12.0
    assert float(np.percentile(darker, 90)) < 15.0


def _synthetic(target_dark: bool, lifted: bool) -> tuple[np.ndarray, np.ndarray]:
    """`carry_detail`'s L of a flat face with a dark band (20 L, 6 px high: a shadowed
    nose underside at 128 px) onto a flat target, with the band in `nose_base` or not;
    `target_dark`: the target has the same band (its own dark nostrils). And the band."""
    size, sigma = 128, 8.0
    band = np.zeros((size, size), dtype=np.float32)
    band[61:67, 44:84] = 1.0
    face = np.zeros((size, size, 3), dtype=np.float32)
    face[...] = (70.0, 10.0, 14.0)
    face[..., 0] -= 20.0 * band
    target = np.zeros_like(face)
    target[...] = (66.0, 9.0, 13.0)
    if target_dark:
        target[..., 0] -= 20.0 * band
    zone = cv2.GaussianBlur(cv2.dilate(band, np.ones((9, 9), np.uint8)), (0, 0), 1.5)
    mask = np.ones((size, size), dtype=np.float32)
    result = carry_detail(face, target, mask, sigma, nose_base=zone if lifted else None)
    return result[..., 0], band > 0.5


def test_the_underside_is_lifted_only_where_darker_than_the_targets() -> None:
    """On a flat target the band comes out at most 8 L below the target round it
    (6.8; without the zone 12.8: the face's own 20 less the low-pass's share); where the target
    is as dark there (its own nostrils), the band keeps the face's darkness (within 1 L
    of the run without the zone)."""
    lifted, band = _synthetic(target_dark=False, lifted=True)
    plain, _ = _synthetic(target_dark=False, lifted=False)
    assert 66.0 - float(lifted[band].mean()) < 8.0
    assert 66.0 - float(plain[band].mean()) > 11.0
    own, _ = _synthetic(target_dark=True, lifted=True)
    own_plain, _ = _synthetic(target_dark=True, lifted=False)
    assert abs(float(own[band].mean()) - float(own_plain[band].mean())) < 1.0


@pytest.mark.parametrize("source", ["still_rowan_atkinson_older_man.jpg",
                                    "clip_deepfacelive_twitch_streamer_webcam.mp4"])
def test_a_shadow_with_its_nostrils_in_it_keeps_its_depth(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace], source: str) -> None:
    """Rowan Atkinson's photo and the streamer's webcam clip on d18's first face: their
    nostrils show inside the underside's shadow (who they read as), so it is not lifted:
    the underside more than 12.5 L darker than d18's there on average, as without the
    lift (Atkinson 18.2, the streamer 14.3; lifted without the gate 11.0 and 8.9)."""
    image, target = _composited(extracted, first_target_face, source)
    zone = _underside(target.face_landmarks, SIZE)
    darker = to_lab(target.image)[..., 0][zone] - to_lab(image)[..., 0][zone]
    assert float(darker.mean()) > 12.5


def _made_up(nostril: float, size: int = 416) -> float:
    """`flat_band_reading` of a flat face (L 60) whose nose underside zone is a 20 L
    darker band and whose nostrils' disks are at L `nostril`, on a mesh with only the
    nose's points set."""
    landmarks = np.zeros((478, 3), dtype=np.float32)
    # Tip, wings and the underside's lower edge; the nostrils above the band, beside the tip.
    for index, (x, y) in {1: (208, 220), 2: (208, 236), 98: (180, 228), 327: (236, 228),
                          97: (194, 236), 326: (222, 236)}.items():
        landmarks[index, :2] = (x, y)
    for ids, x in zip(NOSTRILS, (192.0, 224.0), strict=True):
        for index in ids:
            landmarks[index, :2] = (x, 222.0)
    lightness = np.full((size, size), 60.0, dtype=np.float32)
    zone = np.zeros((size, size), dtype=np.float32)
    zone[226:240, 184:232] = 1.0
    lightness[zone > 0] = 40.0
    lightness[216:229, 186:199] = nostril
    lightness[216:229, 218:231] = nostril
    return flat_band_reading(lightness, landmarks, zone)


def test_the_gate_reads_nostrils_darker_than_the_band_as_a_face_of_its_own() -> None:
    """A made-up underside: nostrils at skin's L over a 20 L darker band read as a
    painted band (+20, the gate on); nostrils darker than the band (L 25, as
    Atkinson's are) read -15 (off); as dark as the band, 0 (off: under FLAT_BAND_MIN)."""
    assert _made_up(60.0) == pytest.approx(20.0, abs=0.5)
    assert _made_up(60.0) >= FLAT_BAND_MIN
    assert _made_up(25.0) == pytest.approx(-15.0, abs=0.5)
    assert _made_up(25.0) < FLAT_BAND_MIN
    assert _made_up(40.0) < FLAT_BAND_MIN
