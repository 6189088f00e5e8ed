"""The target's kept mouth corners toned only where one of them is a patch
(`compositor.patch_share`, issue 9, fiftieth round). Toning every kept corner to the
coloured face's a and b (forty-ninth round) took hair-band-photo's brown near corner away,
but hair-forehead's streamer keeps his moustache's ends there: greyer than Kit Harington's
toned skin round them, they came out redder, and his smile read 36 -> 34 and 34 -> 30 of
40. The corners are toned only as far as one is more colourful than the face round it (the
boy's near corner, +4.5 to +6.0 chroma); the streamer's (-7.7 to +1.0) stay his own, to
the bit. And not on a target wearing lipstick (`compositor.own_patch_share`): Katie Hill's
corners, toned, read readme-photo's smile 158 -> 154 of 160 over four ids; her lips stand
28-34 a/b off her skin, the boy's bare lips 15-17. Nor where the target's corners are its
own skin's colour (expr-neutral's d18, 1.6-2.0 a/b off it; the boy's near corner 5.8-11.6)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from facedub.composite.color import to_lab
from facedub.composite.compositor import (
    LIPSTICK_FULL,
    CompositeConfig,
    Compositor,
    corners_toned,
    lip_contrast,
)
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

CROP = 256
KIT = "still_kit_harington_turned.jpg"
STREAMER = "clip_deepfacelive_twitch_streamer_webcam.mp4"
RUDD = "still_paul_rudd_frontal_studio.jpg"
KATIE_HILL = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def disc_image(colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pink face (RGB 230, 180, 170) of 96 px and the same with a disc of `colour`
    (radius 12 at the middle) kept in it; the disc (float32 0/1)."""
    size = 96
    rows, columns = np.mgrid[:size, :size]
    disc = ((columns - 48) ** 2 + (rows - 48) ** 2 <= 12 ** 2).astype(np.float32)
    face = np.empty((size, size, 3), dtype=np.uint8)
    face[...] = (230, 180, 170)
    kept_image = face.copy()
    kept_image[disc > 0] = colour
    return face, kept_image, disc


def test_a_greyer_corner_is_left_as_it_is() -> None:
    """A dark grey-brown disc (RGB 95, 85, 80: chroma 5 against the face's 13), hair's
    colour, kept in a pink face: not toned at all, the very array returned."""
    face, kept_image, disc = disc_image((95, 85, 80))
    assert corners_toned(kept_image, face, disc, disc, sigma=6.0) is kept_image


def test_a_more_colourful_corner_is_toned() -> None:
    """A brown disc (RGB 150, 95, 50: chroma 40 against the face's 13) is a patch: its a
    and b move to the face's (within 3), its lightness kept."""
    face, kept_image, disc = disc_image((150, 95, 50))
    result = corners_toned(kept_image, face, disc, disc, sigma=6.0)
    after, before, face_lab = to_lab(result), to_lab(kept_image), to_lab(face)
    inner = (slice(40, 56), slice(40, 56))
    assert np.abs(after[inner][..., 1:].mean(axis=(0, 1)) - face_lab[0, 0, 1:]).max() < 3.0
    assert np.abs(after[..., 0] - before[..., 0])[disc > 0].max() < 1.0


def _composited_as_unmarked(target: TargetFace, swapped: SwappedFace) -> bool:
    """Whether `swapped` composites onto `target` to the bit as with no corners marked for
    toning."""
    toned = Compositor(CompositeConfig()).composite(target, swapped)
    plain = Compositor(CompositeConfig()).composite(
        target, dataclasses.replace(swapped, corners=None))
    return bool(np.array_equal(toned.image, plain.image))


def test_the_streamers_moustache_ends_keep_their_colour(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Kit Harington's photo onto the twitch streamer's first frame (256 px): the engine
    keeps his corners (he smiles more than the photo), and the composite is the same, to
    the bit, as with no corners marked for toning (the forty-ninth round's rule moved his
    far corner's a by +2.5 to +6 on every frame)."""
    target = first_target_face(STREAMER, CROP)
    source = extracted(KIT, crop_size=CROP)
    swapped = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False)).swap_face(target)
    assert swapped.corners is not None and float(swapped.corners.max()) > 0.5
    assert _composited_as_unmarked(target, swapped)


def test_katie_hills_lipstick_corners_keep_their_colour(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Paul Rudd's photo onto Katie Hill's first frame (256 px, readme-photo): the engine
    keeps her corners and they are more colourful than his toned skin round them (a patch
    by `patch_share`), but her lips stand off her skin like lipstick, so the composite is
    the same, to the bit, as with no corners marked for toning."""
    target = first_target_face(KATIE_HILL, CROP)
    contrast = lip_contrast(target.image, target.face_landmarks)
    assert contrast is not None and contrast > LIPSTICK_FULL + 3.0, contrast
    source = extracted(RUDD, crop_size=CROP)
    swapped = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False)).swap_face(target)
    assert swapped.corners is not None and float(swapped.corners.max()) > 0.5
    assert _composited_as_unmarked(target, swapped)
