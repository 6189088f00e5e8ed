"""The source's skin texture (a studio photo's pores, a shaved chin's stubble dots) held
to the target skin's own fine bands, band by band, in the frame: the compositor's face
pasted back into the frame and its fine lightness bands compared with the target
frame's; a grainy target keeps its grain, a stubbled source's beard stays hair."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.detail import texture_excess
from facedub.composite.tone import carry_detail
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.registry import SOURCE_CROP
from facedub.faces.geometry import paste_back, warp_to_frame
from facedub.faceset import Faceset

# Her upper cheeks and the sides of the nose below the eyes: bare skin.
UPPER_CHEEKS = (50, 280, 101, 330, 118, 347, 117, 346)
# The lower cheeks beside the mouth corners: in a stubbled source's beard zone.
LOWER_CHEEKS = (205, 425, 187, 411)
# The chin below the lower lip: in the beard zone.
CHIN = (175, 199, 200, 18, 208, 428)

Pasted = tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]


def _pasted(extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
            faces_dir: Path, source: str, target_clip: str, size: int) -> Pasted:
    """The target clip's first frame and that frame with the mesh engine's face of
    `source` composited (defaults) and pasted back, the target face and the engine's."""
    target = first_target_face(target_clip, size)
    frame = next(media.iter_frames(faces_dir / target_clip)).image
    with closing(MeshEngine(extracted(source, crop_size=SOURCE_CROP))) as engine:
        swapped = engine.swap_face(target)
    result = Compositor(CompositeConfig()).composite(target, swapped)
    written = paste_back(frame, result.image, result.alpha, target.face_from_frame)
    return frame, written, target, swapped


def _band(image: np.ndarray) -> np.ndarray:
    """(H, W) float32: the lightness band below 3 px (grain, pores, specks)."""
    lightness = to_lab(image)[..., 0]
    band: np.ndarray = lightness - cv2.GaussianBlur(lightness, (0, 0), 3.0)
    return band


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values ** 2)))


def _in_frame(target: TargetFace, points: tuple[int, ...], weight: np.ndarray | None,
              frame_shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool: discs of the crop / 50 round `points` in the crop (where `weight`, if
    given, is above one half), in frame pixels."""
    size = target.image.shape[0]
    inside = np.zeros((size, size), dtype=np.uint8)
    for point in target.face_landmarks[list(points), :2]:
        cv2.circle(inside, (round(point[0]), round(point[1])), round(size / 50), 255, -1)
    if weight is not None:
        inside[weight <= 0.5] = 0
    height, width = frame_shape[:2]
    mapped: np.ndarray = warp_to_frame(inside, target.face_from_frame, (width, height),
                                       cv2.INTER_NEAREST) > 127
    return mapped


def _ratio(pasted: Pasted, points: tuple[int, ...], in_hair: bool = False) -> float:
    """The written frame's fine band over the target frame's, in discs round `points`
    (only where the source's beard zone is, with `in_hair`)."""
    frame, written, target, swapped = pasted
    inside = _in_frame(target, points, swapped.hair if in_hair else None, frame.shape)
    assert np.count_nonzero(inside) > 500
    return _rms(_band(written)[inside]) / _rms(_band(frame)[inside])


@pytest.fixture(scope="module")
def readme_pair(extracted: Callable[..., Faceset],
                first_target_face: Callable[..., TargetFace], faces_dir: Path) -> Pasted:
    return _pasted(extracted, first_target_face, faces_dir,
                   "still_paul_rudd_frontal_studio.jpg",
                   "clip_sadtalker_hdtf_katiehill_headturn.mp4", 440)


def test_the_readme_pairs_pores_are_held_near_her_skins_band(readme_pair: Pasted) -> None:
    """On her upper cheeks the written frame's band below 3 px is at most 2.2 times hers
    (1.91; main carried the studio photo's pores whole: 2.99, the grey, dotted face at
    1x), and not below hers."""
    ratio = _ratio(readme_pair, UPPER_CHEEKS)
    assert 1.0 < ratio < 2.2


def test_the_readme_pairs_stubble_dots_are_held_beside_her_mouth(readme_pair: Pasted
                                                                  ) -> None:
    """Beside her mouth, in the shaved source's beard zone (its dots are not a beard:
    not darker than his skin there), the band is held too: under 1.95 times hers (1.72;
    main, and the nineteenth round's limit that left the zone out, 2.13)."""
    _, _, _, swapped = readme_pair
    assert swapped.hair is not None  # his stubble is rendered as hair
    ratio = _ratio(readme_pair, LOWER_CHEEKS, in_hair=True)
    assert 1.0 < ratio < 1.95


@pytest.fixture(scope="module")
def stubbled_source(extracted: Callable[..., Faceset],
                    first_target_face: Callable[..., TargetFace], faces_dir: Path) -> Pasted:
    return _pasted(extracted, first_target_face, faces_dir,
                   "clip_deepfacelive_twitch_streamer_webcam.mp4",
                   "clip_liveportrait_d18_man_frontal_mouth.mp4", 408)


def test_a_bearded_sources_chin_keeps_its_hair(stubbled_source: Pasted) -> None:
    """The streamer's beard on the d18 man's chin keeps its hairs' band: at least 1.4
    times the target's (1.63; main 1.70; held like bare skin, as the eighteenth round's
    limit did, it read as a flat grey smear at 1.21)."""
    ratio = _ratio(stubbled_source, CHIN, in_hair=True)
    assert ratio > 1.4


def _specks(rng: np.random.Generator, size: int, amount: float, blur: float
            ) -> np.ndarray:
    """(size, size) float32 L units: noise blurred by `blur` px (0: none), `amount` rms."""
    noise = rng.standard_normal((size, size)).astype(np.float32)
    if blur > 0:
        noise = cv2.GaussianBlur(noise, (0, 0), blur)
    return noise * np.float32(amount / float(noise.std()))


def _band_rms(lightness: np.ndarray, low: float, high: float, inside: tuple[slice, slice]
              ) -> float:
    finer = lightness if low == 0 else cv2.GaussianBlur(lightness, (0, 0), low)
    return _rms((finer - cv2.GaussianBlur(lightness, (0, 0), high))[inside])


def test_a_grainy_target_keeps_the_faces_grain_and_loses_its_pores() -> None:
    """A face with 1-px grain like the target's (2 L rms) and pores (3 L, 1.5 px) over a
    webcam-grainy target without pores: the pores' band is cut to under 0.65 (0.55: the
    target's white grain has some energy there too), the grain kept (over 0.9: 0.91).
    Held as one band below 3.5 px (the nineteenth round's way), the grain went with the
    pores (0.66 of it kept, the pores 0.70); carried whole (main), the pores stayed."""
    rng = np.random.default_rng(5)
    size = 448  # the compositor's low-pass at this size: 28 px, the pores' band to 3.5
    grain = _specks(rng, size, 2.0, 0.0)
    face = 60.0 + grain + _specks(rng, size, 3.0, 1.5)
    target = 60.0 + _specks(rng, size, 2.0, 0.0)
    weight = np.ones((size, size), dtype=np.float32)
    result = face - texture_excess(face, target, weight, size / 16)
    inside = (slice(40, 408), slice(40, 408))
    pores = _band_rms(result, 1.0, 3.5, inside) / _band_rms(face, 1.0, 3.5, inside)
    kept = _band_rms(result, 0.0, 1.0, inside) / _band_rms(face, 0.0, 1.0, inside)
    assert pores < 0.65
    assert kept > 0.9


def test_a_beard_zone_is_held_where_not_darker_and_kept_where_a_beard_darkens_it() -> None:
    """In a stubbled source's beard zone (`hair`), specks on skin as light as the face
    around (shaved stubble) are cut like bare skin's (under 0.75 kept: 0.64, at this size
    the pores' band ends at 2 px); specks on a patch darker than the face around (a
    beard) are kept (over 0.9: 0.94). Main kept both; the
    nineteenth round's limit left the whole zone out."""
    rng = np.random.default_rng(11)
    size = 256
    face = np.full((size, size, 3), (70.0, 12.0, 14.0), dtype=np.float32)
    face[..., 0] += _specks(rng, size, 3.0, 1.0)
    beard = np.zeros((size, size), dtype=np.float32)
    beard[170:200, 150:220] = 1.0
    face[..., 0] -= 8.0 * cv2.GaussianBlur(beard, (0, 0), 2.0)
    target = np.full((size, size, 3), (70.0, 12.0, 14.0), dtype=np.float32)
    target[..., 0] += _specks(rng, size, 0.3, 1.0)
    zone = np.zeros((size, size), dtype=np.float32)
    zone[150:220, 30:236] = 1.0
    zone = cv2.GaussianBlur(zone, (0, 0), 4.0)
    mask = np.ones((size, size), dtype=np.float32)
    result = carry_detail(face, target, mask, size / 16, shown=mask, hair=zone,
                          target_lightness=target[..., 0])

    def kept(inside: tuple[slice, slice]) -> float:
        return (_band_rms(result[..., 0], 0.0, 3.0, inside)
                / _band_rms(face[..., 0], 0.0, 3.0, inside))

    assert kept((slice(165, 205), slice(40, 120))) < 0.75
    assert kept((slice(175, 195), slice(160, 210))) > 0.9
