"""The upper lip's colour at least as colourful as the target's skin round it
(`tone._upper_lip_colour`, issue 9, forty-eighth round): hair-band-photo (Rose Leslie's
photo onto the boy of the two-person video call) showed a blue-grey patch right of the
philtrum at 1x. His upper lip there is his palest, most neutral skin under the webcam's
light, the colour's finer split handed that chroma to her lip, 6 L darker than her cheek,
and darker at a neutral colour reads grey."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.tone import carry_detail
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

CROP = 256  # call_face's size (conftest)
ROSE = "still_rose_leslie_frontal.jpg"
GREY_FRAME = 29  # the patch at its plainest (hair-band-photo, 1x and 3x)


def _box(centre: np.ndarray, half: tuple[int, int]) -> tuple[slice, slice]:
    x, y = round(float(centre[0])), round(float(centre[1]))
    return slice(y - half[1], y + half[1]), slice(x - half[0], x + half[0])


def _lip_and_cheek(target: TargetFace) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """The boxes read right of the philtrum (between the lip's top, its far corner and
    the nose's base) and on the far cheek beside the mouth."""
    points = target.face_landmarks[:, :2]
    scale = CROP / 320  # the boxes as read on the swap's 320 px crop
    lip = _box(points[0] * 0.45 + points[291] * 0.35 + points[164] * 0.2
               - np.array([0.0, 8.0 * scale]), (round(10 * scale), round(6 * scale)))
    cheek = _box(points[291] + (points[291] - points[61]) * 0.35
                 - np.array([0.0, 20.0 * scale]), (round(10 * scale), round(8 * scale)))
    return lip, cheek


# The upper lip between its outer edge and the nose's base (MediaPipe's mesh): the
# outer lip from corner to corner, then back under the nose.
MOUSTACHE = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 410, 322, 391, 393, 164,
             167, 165, 92, 186)


def _moustached(target: TargetFace) -> TargetFace:
    """`target` with a dark, neutral moustache painted on its upper lip: the zone
    between the outer lip and the nose's base at RGB (52, 54, 58) (L 22.5, a 0.2, b -2.8),
    with a little of the skin's own texture (a tenth of it) and a soft edge."""
    points = target.face_landmarks[:, :2]
    region = np.zeros(target.image.shape[:2], dtype=np.float32)
    cv2.fillPoly(region, [np.round(points[list(MOUSTACHE)]).astype(np.int32)], 1.0)
    region = cv2.GaussianBlur(region, (0, 0), 1.5)[..., None]
    image = target.image.astype(np.float32)
    hair = np.array([52.0, 54.0, 58.0]) + 0.1 * (image - image.mean(axis=(0, 1)))
    painted = image + region * (hair - image)
    return dataclasses.replace(target, image=np.clip(np.round(painted), 0, 255).astype(np.uint8))


def test_rose_leslies_upper_lip_is_not_grey_on_the_boys_pale_lip(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """Frame 29, the composited crop: right of the philtrum (between the lip's top, its
    far corner and the nose's base) the chroma is at least 0.8 of the far cheek's beside
    the mouth and its redness (a) within 3 of the cheek's: 0.90 and 2.0 under (a 13.9,
    b 6.8 against the cheek's 15.9, 6.3); on main 0.60 and 6.0 under (a 9.9, b 3.0). These
    boxes on this test's path (crop 256, a fresh compositor); tone.py's a 10.2, b 3.5 are
    the swap's own compositor inputs replayed on its 320 px crop."""
    source = extracted(ROSE, crop_size=CROP)
    target = call_face(GREY_FRAME)
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    swapped = engine.swap_face(target)
    composited = Compositor(CompositeConfig()).composite(target, swapped)
    lab = to_lab(composited.image)
    lip, cheek = _lip_and_cheek(target)
    assert composited.alpha[lip].min() > 0.9 and composited.alpha[cheek].min() > 0.9
    lip_ab = lab[lip][..., 1:].reshape(-1, 2).mean(axis=0)
    cheek_ab = lab[cheek][..., 1:].reshape(-1, 2).mean(axis=0)
    assert float(np.hypot(*lip_ab)) > 0.8 * float(np.hypot(*cheek_ab)), (lip_ab, cheek_ab)
    assert float(lip_ab[0]) > float(cheek_ab[0]) - 3.0, (lip_ab, cheek_ab)


def _synthetic(lip_chroma: float, lip_light: float = 92.0) -> tuple[np.ndarray, np.ndarray]:
    """`carry_detail`'s Lab, with and without the upper lip's zone given as `shading`, of
    a flat face whose upper lip is 6 L darker than its skin, onto a flat target (L 85,
    a 16, b 6) whose upper lip (a band) is at L `lip_light` (paler: 92) and at
    `lip_chroma` times its skin's colour."""
    size, sigma = 128, 8.0
    face = np.empty((size, size, 3), dtype=np.float32)
    face[...] = (85.0, 14.0, 18.0)
    band = np.zeros((size, size), dtype=np.float32)
    band[58:70, 44:84] = 1.0
    face[..., 0] -= 6.0 * cv2.GaussianBlur(band, (0, 0), 1.5)
    target = np.empty_like(face)
    target[...] = (85.0, 16.0, 6.0)
    target[band > 0] = (lip_light, 16.0 * lip_chroma, 6.0 * lip_chroma)
    mask = np.ones((size, size), dtype=np.float32)
    zone = cv2.GaussianBlur(band, (0, 0), 2.0)
    bare = 1.0 - cv2.GaussianBlur(cv2.dilate(band, np.ones((9, 9), np.uint8)), (0, 0), 2.0)
    results = [carry_detail(face, target, mask, sigma, bare=np.maximum(bare, zone),
                            shading=shading) for shading in (None, zone)]
    return results[0], results[1]


def test_a_pale_neutral_upper_lip_takes_its_skins_colour_round_it() -> None:
    """The target's upper lip at half its skin's chroma: without the zone the face's
    darker lip comes out at about that (a 8-11), with it at least 0.85 of the skin's
    chroma (a 16, b 6), the skin's hue within 5 degrees."""
    without, with_zone = _synthetic(0.5)
    inner = (slice(60, 68), slice(50, 78))  # the band's middle
    for result, least in ((without, 0.0), (with_zone, 0.85)):
        a, b = (float(result[inner][..., channel].mean()) for channel in (1, 2))
        chroma = float(np.hypot(a, b))
        if least:
            assert chroma > least * float(np.hypot(16.0, 6.0)), (a, b)
            assert abs(np.degrees(np.arctan2(b, a) - np.arctan2(6.0, 16.0))) < 5.0
        else:
            assert chroma < 0.75 * float(np.hypot(16.0, 6.0)), (a, b)


def test_an_upper_lip_about_as_colourful_as_its_skin_is_left_as_it_is() -> None:
    """Where the target's upper lip is a little less colourful than its skin round it
    (0.85 of it: border-photo's reads 0.81-0.82 at its 5th percentile), as colourful, or
    more (a redder lip), the zone moves nothing of its colour (a and b within 0.01)."""
    for lip_chroma in (0.85, 1.0, 1.3):
        without, with_zone = _synthetic(lip_chroma)
        assert np.abs(without[..., 1:] - with_zone[..., 1:]).max() < 0.01, lip_chroma


def test_a_dark_neutral_upper_lip_is_left_as_it_is() -> None:
    """A dark, neutral band on the target's upper lip (L 40, a 2, b 0.75: a moustache;
    the reviewer's case, where the zone made it a 13.4, b 5.2 at L 63, brown-red): the
    zone moves nothing of its colour in the band's middle (a and b within 0.05)."""
    without, with_zone = _synthetic(0.125, lip_light=40.0)
    inner = (slice(60, 68), slice(50, 78))
    assert np.abs(without[inner][..., 1:] - with_zone[inner][..., 1:]).max() < 0.05


def test_a_dark_moustache_on_the_upper_lip_is_not_given_skin_colour(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """The boy of frame 29 with a dark, neutral moustache painted over his upper lip
    (`_moustached`): as neutral as his pale lip, but 40 L darker than his skin round it,
    and hair, not skin. Right of the philtrum the composite's chroma stays under 0.6 of
    the far cheek's: a 3.4, b -1.1 against the cheek's 16.0, 6.3 (0.21); with the lip's
    colour moved by its chroma alone (7bc42dc) a 11.7, b 5.5 (0.76), a brown-red
    moustache. Main (no upper lip rule) gives the same a 3.4, b -1.1."""
    source = extracted(ROSE, crop_size=CROP)
    target = _moustached(call_face(GREY_FRAME))
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    composited = Compositor(CompositeConfig()).composite(target, engine.swap_face(target))
    lip, cheek = _lip_and_cheek(target)
    lip_ab = to_lab(composited.image)[lip][..., 1:].reshape(-1, 2).mean(axis=0)
    cheek_ab = to_lab(composited.image)[cheek][..., 1:].reshape(-1, 2).mean(axis=0)
    assert float(np.hypot(*lip_ab)) < 0.6 * float(np.hypot(*cheek_ab)), (lip_ab, cheek_ab)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "known gap (issue 9, forty-ninth round): the lip's colour is gated on the target's "
    "lightness, so a shaved source's lip on a target's dark moustache or stubble keeps the "
    "target's grey (Rose Leslie onto Rowan Atkinson's photo). Gated on the source's lip "
    "instead (r49-A b4def9f, reverted), occlusion-mic's foreign bands rose 0 -> 0.27%, its "
    "tone vs neck 0.89 -> 0.96 and seam 9.43 -> 9.72 (BENCHMARKS.md)"))
def test_a_shaved_lip_takes_the_skins_colour_on_a_dark_neutral_target_lip() -> None:
    """A dark, neutral band on the target's upper lip (L 40, a 2, b 0.75: its moustache or
    stubble) under the face's shaved lip (6 L under its skin): what is shown there is the
    face's skin, so it should take the skin's colour round it (chroma at least 0.8 of the
    skin's) and about its lightness (the face's lip, 6 L under its skin at L 85: at least
    L 73). Main leaves it at L 40, a 2, b 0.75; b4def9f (reverted) gave the chroma but a dark
    warm band, L 60, a 13.4, b 5.0 (the forty-eighth review's brown-red), which must not pass."""
    _without, with_zone = _synthetic(0.125, lip_light=40.0)
    inner = (slice(60, 68), slice(50, 78))
    lightness, a, b = (float(with_zone[inner][..., channel].mean()) for channel in (0, 1, 2))
    assert float(np.hypot(a, b)) > 0.8 * float(np.hypot(16.0, 6.0)), (a, b)
    assert lightness > 73.0, lightness
