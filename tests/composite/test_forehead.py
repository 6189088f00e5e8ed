"""`edge_occluders` on real crops: a pale, powdered forehead is skin; a blond fringe and
dark hair at the hairline stay in front of the swapped face."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.composite.forehead import powdered_skin
from facedub.composite.occlusion import edge_occluders, edge_zones
from facedub.engines.base import TargetFace
from facedub.faces.regions import eye_distance, mesh_regions

D10 = "clip_liveportrait_d10_woman_expressions.mp4"  # pale powdered forehead, bronzed cheeks
OLDER = "clip_videoretalking_5_older_woman_glasses.mp4"  # a blond fringe to the brows
WOJTEK = "clip_metricaltracker_wojtek_headturn.mp4"  # dark short hair, lit forehead
SIZE = 256


def test_a_pale_powdered_forehead_is_skin(first_target_face: Callable[..., TargetFace],
                                          above_brows: Callable[..., tuple[slice, slice]]
                                          ) -> None:
    # d10's forehead is paler and less chromatic than her bronzed nose and cheeks, of their
    # hue: the cheeks' colour model alone refused it (0.87 of the box kept as "hair").
    face = first_target_face(D10, SIZE)
    kept = edge_occluders(face.image, face.face_landmarks)
    assert float(kept[above_brows(face.face_landmarks, (0.15, 0.55), (-0.35, 0.35))].mean()) < 0.3


def test_a_blond_fringe_stays_in_front(first_target_face: Callable[..., TargetFace]) -> None:
    # Lighter than her cheeks and of about their chroma, but yellower and stranded.
    face = first_target_face(OLDER, SIZE)
    kept = edge_occluders(face.image, face.face_landmarks)
    landmarks = face.face_landmarks
    brow = landmarks[mesh_regions().right_eyebrow]
    unit = eye_distance(landmarks)
    top = float(brow[:, 1].min())
    fringe = (slice(round(top - 0.55 * unit), round(top - 0.2 * unit)),
              slice(round(float(brow[:, 0].min())), round(float(brow[:, 0].max()))))
    assert float(kept[fringe].mean()) > 0.95


def test_dark_hair_at_the_hairline_stays_in_front(
        first_target_face: Callable[..., TargetFace],
        above_brows: Callable[..., tuple[slice, slice]]) -> None:
    face = first_target_face(WOJTEK, SIZE)
    kept = edge_occluders(face.image, face.face_landmarks)
    assert float(kept[above_brows(face.face_landmarks, (0.9, 1.2), (-0.3, 0.3))].mean()) > 0.95
    # and his bare forehead below it is not hair
    assert float(kept[above_brows(face.face_landmarks, (0.15, 0.55), (-0.35, 0.35))].mean()) < 0.05


def _lab(pixels: list[tuple[float, float, float]], size: int) -> np.ndarray:
    lab = np.zeros((size * size, 3), dtype=np.float32)
    lab[:len(pixels)] = pixels
    return lab.reshape(size, size, 3)


@pytest.mark.parametrize(("pixel", "skin"), [
    ((82.0, 16.0, 17.0), True),   # paler, less chromatic, 4 degrees redder: powder
    ((60.0, 16.0, 17.0), False),  # darker than the cheeks: hair or shadow
    ((82.0, 8.0, 22.0), False),   # 20 degrees yellower: blond
    ((82.0, 4.0, 5.0), False),    # greyed past half the chroma: grey hair, a wall
    ((82.0, 25.0, 30.0), False),  # more chromatic than the cheeks
])
def test_powder_is_paler_skin_of_the_cheeks_hue(pixel: tuple[float, float, float],
                                                skin: bool) -> None:
    # The reference: cheeks at L 72, a 19.5, b 24.2 (51 degrees), a flat grey crop (no
    # texture anywhere), the judged pixel at index 0.
    size = 32
    lab = _lab([pixel], size)
    lab.reshape(-1, 3)[size * 10:size * 20] = (72.0, 19.5, 24.2)
    reference = np.zeros((size, size), dtype=np.uint8)
    reference[10:20] = 255
    image = np.full((size * 4, size * 4, 3), 128, dtype=np.uint8)
    assert bool(powdered_skin(image, lab, reference, np.array([0]))[0]) is skin


@pytest.mark.parametrize(("pixel", "skin"), [
    ((82.0, 16.0, 17.0), True),   # powder, as on the even reference
    ((82.0, 10.0, 20.0), False),  # 12 degrees yellower: pale blond
])
def test_a_noisy_reference_takes_no_pale_blond_for_powder(pixel: tuple[float, float, float],
                                                          skin: bool) -> None:
    # The cheeks' colour with a* and b* noise of sd 2.5 (a hue spread of 4.6 degrees): the
    # yellow side's limit of twice the spread and 3 degrees (12.1) took the blond, 11.9
    # degrees yellower than the reference's mean, for skin.
    size = 32
    lab = _lab([pixel], size)
    noise = np.random.default_rng(0).normal(0.0, 2.5, (size * 10, 2))
    lab.reshape(-1, 3)[size * 10:size * 20] = np.column_stack(
        [np.full(size * 10, 72.0), 19.5 + noise[:, 0], 24.2 + noise[:, 1]])
    reference = np.zeros((size, size), dtype=np.uint8)
    reference[10:20] = 255
    image = np.full((size * 4, size * 4, 3), 128, dtype=np.uint8)
    assert bool(powdered_skin(image, lab, reference, np.array([0]))[0]) is skin


def test_a_textured_pixel_is_not_powder() -> None:
    # The same powder colour, but the crop's lightness striped at a hair's width above it
    # (a 512 px crop, judged at 128 px as `edge_occluders` does).
    size = 128
    lab = _lab([(82.0, 16.0, 17.0)], size)
    lab.reshape(-1, 3)[size * 40:size * 80] = (72.0, 19.5, 24.2)
    reference = np.zeros((size, size), dtype=np.uint8)
    reference[40:80] = 255
    image = np.full((size * 4, size * 4, 3), 128, dtype=np.uint8)
    image[:64, ::6] = 40
    judged = np.array([0])
    assert not powdered_skin(image, lab, reference, judged)[0]
    image[:64] = 128
    assert powdered_skin(image, lab, reference, judged)[0]


@pytest.mark.parametrize("name", [D10, OLDER, WOJTEK])
def test_edge_zones_made_once_judge_both_crops_as_made_in_each_call(
        name: str, first_target_face: Callable[..., TargetFace]) -> None:
    """The compositor judges the target's crop and the swapped face's with the target's
    landmarks: their `edge_zones` are made once a frame and passed to both calls
    (thirty-second round); each result is the one made from the landmarks in the call,
    to the bit, and zones made for another crop size are not used."""
    face = first_target_face(name, 440)
    zones = edge_zones(face.face_landmarks, 440)
    # A second crop with the same landmarks: the face lighter and warmer, as a swap's is.
    other = np.clip(face.image.astype(np.int16) + np.array([12, 4, -6]), 0, 255
                    ).astype(np.uint8)
    for image in (face.image, other):
        alone = edge_occluders(image, face.face_landmarks)
        assert np.array_equal(edge_occluders(image, face.face_landmarks, zones), alone)
        assert np.array_equal(
            edge_occluders(image, face.face_landmarks, edge_zones(face.face_landmarks, 256)),
            alone)
    assert not zones.zone.flags.writeable and not zones.reference.flags.writeable
