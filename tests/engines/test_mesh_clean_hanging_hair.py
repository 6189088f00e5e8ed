"""engines/mesh_clean.py on real photos: a photo's hair hanging over the cheeks inside the
face's outline (Rose Leslie's red hair, from the temple to the jaw) is not clean source
skin (on main it was, 0.9-1.0, and became a grey-brown band down the swapped far cheek:
issue 9, hair-band-photo); her own face keeps; and on the other benchmark photos the rule
takes nothing, so their clean weights stay main's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh_clean import (
    SHADOW_DEPTH,
    SKIN_REFERENCE,
    _hanging_hair,
    clean_weights,
)
from facedub.faces.masks import convex_hull_mask, face_oval
from facedub.faceset import Faceset
from source_support import source_faces_in_memory

SIZE = 512  # the mesh engine's source crop (`registry.SOURCE_CROP`)
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def rose(faces_dir: Path, aligned_face: Aligner) -> tuple[np.ndarray, np.ndarray]:
    return aligned_face(media.read_photo(faces_dir / "still_rose_leslie_frontal.jpg"), SIZE)


def _lab(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _rule_takes(image: np.ndarray, aligned_face: Aligner) -> np.ndarray:
    """What `_hanging_hair` takes of a photo's face, at the quarter size and with the
    dilated outline `clean_weights` gives it."""
    crop, landmarks = aligned_face(image, SIZE)
    small = cv2.resize(crop, (SIZE // 4, SIZE // 4), interpolation=cv2.INTER_AREA)
    lab = _lab(small)
    points = landmarks[:, :2] / 4
    skin = lab[convex_hull_mask(points[list(SKIN_REFERENCE)], (SIZE // 4, SIZE // 4))]
    oval = cv2.dilate(face_oval(points, SIZE // 4), np.ones((3, 3), np.uint8)) > 0  # as used
    taken: np.ndarray = _hanging_hair(lab, skin, points, oval)
    return taken


def _hanging(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(SIZE, SIZE) bool: her hair inside the outline, beside the cheeks: darker than her
    skin's shadow floor, outside the eyes' outer corners, from the eyes to the jaw."""
    lab = _lab(crop)
    skin = lab[convex_hull_mask(landmarks[list(SKIN_REFERENCE)], (SIZE, SIZE))]
    floor = np.median(skin[:, 0]) - SHADOW_DEPTH * max(float(skin[:, 0].std()), 4.0)
    points = np.round(landmarks[:, :2]).astype(int)
    inside = cv2.erode(face_oval(landmarks[:, :2], SIZE), np.ones((9, 9), np.uint8)) > 0
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    beside = (columns < points[33, 0]) | (columns > points[263, 0])
    band = (rows > points[33, 1]) & (rows < points[397, 1])
    hair: np.ndarray = inside & beside & band & (lab[..., 0] < floor)
    return hair


def test_hair_hanging_over_the_cheeks_is_left_out(rose: tuple[np.ndarray, np.ndarray]) -> None:
    crop, landmarks = rose
    hair = _hanging(crop, landmarks)
    weights = clean_weights(crop, landmarks, held_objects=True)
    # Both sides' strands, from the eyes down to the jaw (main: 0.70 on average; 0.08).
    assert hair.sum() > 5000 and weights[hair].mean() < 0.15
    # Below the nose's base too, where the band ran on to the jaw (main: 0.99; 0.14).
    low = hair & (np.arange(SIZE)[:, None] > landmarks[2, 1])
    assert low.sum() > 1000 and weights[low].mean() < 0.25
    # Her own face keeps: the nose, both cheeks, the eyes' corners, the brows' middles,
    # the mouth's corners, the chin.
    points = np.round(landmarks[:, :2]).astype(int)
    for clean in (1, 4, 205, 425, 50, 280, 33, 263, 133, 362, 105, 334, 61, 291, 152):
        x, y = points[clean]
        assert weights[y, x] > 0.9, clean


def test_hanging_hair_is_looked_for_only_on_a_photo_source(
        extracted: Callable[..., Faceset]) -> None:
    """The engine's source faces (`mesh_sources.SourceFaces`) leave her hair out of the
    clean weight (the crop's fourth channel) when the faceset was made from a photo, and
    keep it as before the rule when the same faces come from a video: there a hard gate is
    met on some frames and not their neighbours, and blended faces would flicker."""
    photo = extracted("still_rose_leslie_frontal.jpg", crop_size=SIZE)
    assert photo.meta.source_kind == "photo"
    video = replace(photo, meta=replace(photo.meta, source_kind="video"))
    weights = {}
    for name, source in (("photo", photo), ("video", video)):
        faces = source_faces_in_memory(source)
        hair = _hanging(faces.source_crop(0), faces.landmarks(0))
        assert hair.sum() > 5000
        weights[name] = faces.clean_crop(0)[..., 3][hair].mean() / 255.0
    assert weights["photo"] < 0.15  # main: 0.70
    assert weights["video"] > 0.5



@pytest.mark.parametrize("name", [
    "still_kit_harington_turned.jpg", "still_paul_rudd_frontal_studio.jpg",
    "still_biden_frontal.jpg", "still_woman_dark_skin_downcast.jpg",
    "still_woman_shouting.jpg", "still_angelina_jolie_threequarter.jpg",
    "still_bob_dylan_bw.jpg", "still_elderly_woman_smile.jpg",
    "still_rowan_atkinson_older_man.jpg", "still_woman_ball_occlusion_lowres.jpg",
    "still_man_angry_grimace.png", "still_woman_head_tilt_eyes_closed.png",
    "still_man_curly_hair_glasses.jpg", "still_woman_profile_left.jpg",
    "multi_group_of_six_sitcom_cast.jpg"])
def test_no_hanging_hair_on_the_other_photos(
        name: str, faces_dir: Path, aligned_face: Aligner) -> None:
    """Their dark, vivid matter joined past the outline and 30 below the skin reads under
    the gate (2% of the outline below the brows; Rose Leslie's 3.16%): the head-tilt
    photo's pale skin shaded at the cheek's edge and her ear, joined to her hair, 1.21% of
    its deepest (7.77% at the shadow floor: taken on both cheeks before the gate's depth),
    the other benchmark photos, the curly-haired man's 0%, the profile's 0.66%, the first
    face of the sitcom cast's 0.06%. The rule gives zeros, so their clean weights are
    main's to the bit."""
    assert not _rule_takes(media.read_photo(faces_dir / name), aligned_face).any()


@pytest.mark.xfail(strict=True, reason=(
    "known gap (review R3, finding 1): once the gate passes, the taken extent is everything "
    "dark and vivid joined past the outline, with the dull strands joined to it; the head-tilt "
    "photo brightened by 1.1-1.2 reads 2.10-2.40% at the gate's depth and the rule takes its "
    "shaded cheek edges and ear. Limiting the taken extent to the gate-depth strands brought "
    "hair-band-photo's band back (BENCHMARKS.md, forty-seventh round, third pass)"))
@pytest.mark.parametrize("gain", [1.1, 1.2])
def test_no_hanging_hair_on_the_head_tilt_photo_brightened(
        gain: float, faces_dir: Path, aligned_face: Aligner) -> None:
    """The head-tilt photo brightened (clipped): no hanging hair. Fails today."""
    image = media.read_photo(faces_dir / "still_woman_head_tilt_eyes_closed.png")
    image = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    assert not _rule_takes(image, aligned_face).any()
