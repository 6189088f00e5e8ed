"""The target's lips' zones made once a frame (issue 9, fifty-first round): `lips.lip_zones`
and the target's mouth box in Lab (`lips.target_mouth`) are made by `Compositor.composite`
and passed to `own_lip_colour` and `own_patch_share` (its `lip_contrast` and
`corner_off_skin`), which each made them before (0.86 profiled ms a call on the README
pair). The composite is the same to the bit as with each making its own, on real frames:
Katie Hill's (readme-photo: her lips coloured, her lipstick read) and the video call's
(hair-band-photo's target: the corners' own shade read too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from facedub.composite import compositor, lips
from facedub.composite.color import to_lab
from facedub.composite.compositor import (
    CompositeConfig,
    Compositor,
    corner_off_skin,
    lip_contrast,
    own_patch_share,
)
from facedub.composite.lips import lip_zones, own_lip_colour, target_mouth
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

CROP = 256
RUDD = "still_paul_rudd_frontal_studio.jpg"
KATIE_HILL = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
ROSE_LESLIE = "still_rose_leslie_frontal.jpg"
VIDEO_CALL = "clip_ghost_two_person_videocall.mp4"


def _swapped(extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
             source: str, target: str) -> tuple[TargetFace, SwappedFace]:
    face = first_target_face(target, CROP)
    engine = MeshEngine(extracted(source, crop_size=CROP),
                        MeshEngineConfig(follow=1.0, read_eyes=False))
    return face, engine.swap_face(face)


def _lip_contrast_as_before(image: np.ndarray, face_landmarks: np.ndarray) -> float | None:
    """`compositor.lip_contrast` of the fiftieth round: its own zones and Lab box."""
    zones = lip_zones(face_landmarks, image.shape[0])
    if zones is None:
        return None
    core = zones.lips[0] + zones.lips[1]
    if float(core.sum()) < lips.MIN_PIXELS or int(zones.skin.sum()) < lips.MIN_PIXELS:
        return None
    colour = to_lab(np.ascontiguousarray(image[zones.box]))[..., 1:]
    lip_colour = (colour * core[..., None]).sum(axis=(0, 1)) / float(core.sum())
    skin_colour = colour[zones.skin].mean(axis=0)
    return float(np.hypot(*(lip_colour - skin_colour)))


@pytest.mark.parametrize(("source", "target"), [(RUDD, KATIE_HILL), (ROSE_LESLIE, VIDEO_CALL)])
def test_the_mouth_made_once_gives_the_same_composite(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        monkeypatch: pytest.MonkeyPatch, source: str, target: str) -> None:
    """The first frame composited with the mouth made once, and with `own_lip_colour` and
    `own_patch_share` each making their own as before: the same image to the bit. And the
    zones are made once a frame (main made them twice here: its compositor read the lips'
    contrast with zones of its own)."""
    face, swapped = _swapped(extracted, first_target_face, source, target)
    assert swapped.kept is not None and swapped.corners is not None
    made: list[int] = []

    def counted(*args: Any) -> lips.LipZones | None:
        made.append(1)
        return lip_zones(*args)

    with monkeypatch.context() as patch:
        patch.setattr(lips, "lip_zones", counted)
        patch.setattr(compositor, "lip_zones", counted, raising=False)
        once = Compositor(CompositeConfig()).composite(face, swapped)
    assert len(made) == 1
    with monkeypatch.context() as patch:
        patch.setattr(compositor, "own_lip_colour",
                      lambda *args: own_lip_colour(*args[:5]))
        patch.setattr(compositor, "own_patch_share",
                      lambda *args: own_patch_share(*args[:4]))
        each = Compositor(CompositeConfig()).composite(face, swapped)
    assert np.array_equal(once.image, each.image)


def test_the_mouths_readings_are_the_ones_before(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """On Katie Hill's and the video call's first frames, given the mouth made once: her
    lips' colour moves the swapped face (the same array as made alone), the lips' contrast
    is the fiftieth round's formula's to the bit, and the corners' reading the one made
    with its own zones."""
    moved = []
    for source, target in ((RUDD, KATIE_HILL), (ROSE_LESLIE, VIDEO_CALL)):
        face, swapped = _swapped(extracted, first_target_face, source, target)
        assert swapped.kept is not None and swapped.corners is not None
        mouth = target_mouth(face.image, face.face_landmarks)
        assert mouth is not None
        shown = np.ones(face.image.shape[:2], dtype=np.float32)
        given = own_lip_colour(swapped.image, face.image, face.face_landmarks, shown,
                               swapped.kept, mouth)
        alone = own_lip_colour(swapped.image, face.image, face.face_landmarks, shown,
                               swapped.kept)
        assert np.array_equal(given, alone)
        moved.append(given is not swapped.image)
        contrast = lip_contrast(face.image, face.face_landmarks, mouth)
        assert contrast is not None
        assert contrast == _lip_contrast_as_before(face.image, face.face_landmarks)
        off_skin = corner_off_skin(face.image, face.face_landmarks, swapped.corners,
                                   swapped.kept, mouth)
        assert off_skin is not None
        assert off_skin == corner_off_skin(face.image, face.face_landmarks, swapped.corners,
                                           swapped.kept)
    assert moved == [True, False]  # Katie Hill's lips coloured with the mouth given
