"""The source's skin texture (pores, a studio photo's crisp skin) no stronger than the
target's own skin shows in the written frame, at the frame's scale: the compositor's face
pasted back into the frame and its fine lightness band (0.8-3 px) compared with the
target frame's on the bare skin; and a stubbled source's beard (the streamer's
moustache on the d18 man) kept, not smeared."""

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
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.registry import SOURCE_CROP
from facedub.faces.geometry import paste_back, warp_to_frame
from facedub.faceset import Faceset

# Her upper cheeks and the sides of the nose below the eyes: bare skin above where a
# source's stubble grows (discs of the crop / 50 round these landmarks).
UPPER_CHEEKS = (50, 280, 101, 330, 118, 347, 117, 346)
# The chin below the lower lip: in a stubbled source's beard zone.
CHIN = (175, 199, 200, 18, 208, 428)


def _pasted(extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
            faces_dir: Path, source: str, target_clip: str, size: int
            ) -> tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]:
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
    """(H, W) float32: the lightness band between 0.8 and 3 px (pores, specks)."""
    lightness = to_lab(image)[..., 0]
    band: np.ndarray = (cv2.GaussianBlur(lightness, (0, 0), 0.8)
                        - cv2.GaussianBlur(lightness, (0, 0), 3.0))
    return band


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values ** 2)))


def _in_frame(target: TargetFace, points: tuple[int, ...], weight: np.ndarray | None,
              frame_shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool: discs round `points` in the crop (where `weight`, if given, is above
    one half), in frame pixels."""
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


@pytest.fixture(scope="module")
def readme_pair(extracted: Callable[..., Faceset],
                first_target_face: Callable[..., TargetFace], faces_dir: Path
                ) -> tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]:
    return _pasted(extracted, first_target_face, faces_dir,
                   "still_paul_rudd_frontal_studio.jpg",
                   "clip_sadtalker_hdtf_katiehill_headturn.mp4", 440)


def test_the_readme_pairs_pores_are_no_stronger_than_her_skin_in_the_frame(
        readme_pair: tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]) -> None:
    """On her upper cheeks the written frame's fine band is at most 2.2 times hers (1.81;
    2.77 on main, with the studio photo's pores carried whole, where the face read grey
    and dotted at 1x), and not below hers (a face softer than her skin shows too)."""
    frame, written, target, _ = readme_pair
    skin = _in_frame(target, UPPER_CHEEKS, None, frame.shape)
    assert np.count_nonzero(skin) > 1000
    ours, hers = _rms(_band(written)[skin]), _rms(_band(frame)[skin])
    assert ours < 2.2 * hers
    assert ours > hers


@pytest.fixture(scope="module")
def stubbled_source(extracted: Callable[..., Faceset],
                    first_target_face: Callable[..., TargetFace], faces_dir: Path
                    ) -> tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]:
    return _pasted(extracted, first_target_face, faces_dir,
                   "clip_deepfacelive_twitch_streamer_webcam.mp4",
                   "clip_liveportrait_d18_man_frontal_mouth.mp4", 408)


def test_a_stubbled_sources_beard_keeps_its_texture_in_the_frame(
        stubbled_source: tuple[np.ndarray, np.ndarray, TargetFace, SwappedFace]) -> None:
    """The streamer's chin stubble on the d18 man keeps its specks: the written frame's
    band there is at least 1.4 times the target's own (1.67; 1.21 with the limit on the
    beard zone too, the eighteenth round's branch, where the moustache and chin read as a
    flat grey smear), and the bare skin of his cheeks is not below his own (1.83)."""
    frame, written, target, swapped = stubbled_source
    assert swapped.hair is not None  # the streamer's stubble is rendered as hair
    beard = _in_frame(target, CHIN, swapped.hair, frame.shape)
    assert np.count_nonzero(beard) > 500
    assert _rms(_band(written)[beard]) > 1.4 * _rms(_band(frame)[beard])
    cheeks = _in_frame(target, UPPER_CHEEKS, None, frame.shape)
    assert _rms(_band(written)[cheeks]) > _rms(_band(frame)[cheeks])


def _specks(rng: np.random.Generator, size: int, amount: float) -> np.ndarray:
    """(size, size) float32 L units: a pore-like speckle, about `amount` rms."""
    noise = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32),
                             (0, 0), 1.0)
    return noise * np.float32(amount / float(noise.std()))


def test_a_speckled_face_is_cut_on_bare_skin_and_kept_in_a_stubbled_beard_zone() -> None:
    """A speckled face (3 L rms) on a smooth target (0.3 L): on the bare skin its fine
    band is cut to under half of its own (0.40), in a stubbled source's beard zone
    (`hair`) kept over 0.9 (0.98): there the specks are the beard the mesh engine renders
    as hair. Carried whole (main) the bare skin kept 0.98; with the beard zone in the
    limit too (the eighteenth round's branch) the zone kept 0.38."""
    from facedub.composite.tone import carry_detail

    rng = np.random.default_rng(11)
    size = 256
    skin = np.full((size, size, 3), (70.0, 12.0, 14.0), dtype=np.float32)
    zone = np.zeros((size, size), dtype=np.float32)
    zone[150:210, 50:206] = 1.0
    zone = cv2.GaussianBlur(zone, (0, 0), 4.0)
    face = skin.copy()
    face[..., 0] += _specks(rng, size, 3.0)
    target = skin.copy()
    target[..., 0] += _specks(rng, size, 0.3)
    mask = np.ones((size, size), dtype=np.float32)
    result = carry_detail(face, target, mask, size / 16, shown=mask, hair=zone)

    def kept(inside: tuple[slice, slice]) -> float:
        def band(lightness: np.ndarray) -> float:
            return _rms((lightness - cv2.GaussianBlur(lightness, (0, 0), 3.0))[inside])
        return band(result[..., 0]) / band(face[..., 0])

    assert kept((slice(40, 120), slice(40, 216))) < 0.5
    assert kept((slice(165, 195), slice(70, 186))) > 0.9
