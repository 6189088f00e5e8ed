"""composite/tone.carry_detail under the eyes, on a real photo: a source lit from above
(bright cheekbones, dark skin under the eyes, a purple shadow there) carried onto the
same face lit flatly. Its under-eye skin, darker than its bright surroundings, came out
as a greyish-purple bruise that neither face has (blink-video, lighting); with the
under-eye zones it is at most a little darker than the target's own, and the source's
cheekbones stay."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import from_lab, to_lab
from facedub.composite.tone import (
    UNDER_EYE_DARK,
    UNDER_EYE_SOFT,
    carry_detail,
    lid_weights,
    skin_weights,
)
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import face_mask

SIZE = 256


@pytest.fixture(scope="module")
def rudd(faces_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Paul Rudd's studio portrait (soft, frontal light), aligned: crop and landmarks."""
    image = media.read_photo(faces_dir / "still_paul_rudd_frontal_studio.jpg")
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        found = analyser.analyse(image, 0.0)
    aligned = align_face(image, found[0].landmarks, SIZE, "whole")
    return aligned.image, aligned.face_landmarks


def _blob(centre: np.ndarray, radius: float) -> np.ndarray:
    rows, columns = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    distance = (columns - centre[0]) ** 2 + (rows - centre[1]) ** 2
    blob: np.ndarray = np.exp(-distance / (2 * radius**2)).astype(np.float32)
    return blob


def _top_lit(crop: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """The crop as a webcam lit from above shows it: the skin under each eye 14 L darker
    and purple, the cheekbones below them 8 L brighter; and where the two are (bool)."""
    unit = float(np.linalg.norm(landmarks[263, :2] - landmarks[33, :2]))
    lab = to_lab(crop)
    under = np.zeros((SIZE, SIZE), np.float32)
    cheek = np.zeros((SIZE, SIZE), np.float32)
    for lid in (145, 374):
        under = np.maximum(under, _blob(landmarks[lid, :2] + (0, 0.2 * unit), 0.12 * unit))
        cheek = np.maximum(cheek, _blob(landmarks[lid, :2] + (0, 0.5 * unit), 0.12 * unit))
    lab[..., 0] += 8.0 * cheek - 14.0 * under
    lab[..., 1] += 6.0 * under  # the shadow's purple
    lab[..., 2] -= 8.0 * under
    return from_lab(lab), under > 0.6, cheek > 0.6


def _as_composited(source: np.ndarray, target: np.ndarray, landmarks: np.ndarray,
                   zones: bool) -> np.ndarray:
    """`carry_detail` as the compositor calls it (with or without the under-eye zones)."""
    skin = skin_weights(landmarks, SIZE)
    mask = face_mask(landmarks, SIZE, forehead=True)
    target_half = to_lab(cv2.resize(target, (SIZE // 2, SIZE // 2),
                                    interpolation=cv2.INTER_AREA))
    result: np.ndarray = carry_detail(
        to_lab(source), target_half, (mask > 0.05).astype(np.float32), SIZE / 16,
        skin=skin.folds, lids=lid_weights(landmarks, SIZE), shown=mask * skin.bare,
        under_eyes=skin.under_eyes if zones else None)
    return result


def test_a_top_lit_sources_under_eye_shadow_is_no_bruise_on_a_flat_lit_target(
        rudd: tuple[np.ndarray, np.ndarray]) -> None:
    crop, landmarks = rudd
    source, under, cheek = _top_lit(crop, landmarks)
    # Against the face carried onto itself (the target's own, as the compositor gives it).
    before = (_as_composited(source, crop, landmarks, zones=False)
              - _as_composited(crop, crop, landmarks, zones=False))
    after = (_as_composited(source, crop, landmarks, zones=True)
             - _as_composited(crop, crop, landmarks, zones=True))
    # The mechanism: without the zones the under-eye comes out well darker than the
    # target's own, and purple (a up, b down).
    assert before[..., 0][under].mean() < -6.0
    assert before[..., 2][under].mean() < -1.2
    # With them: at most a little darker, and nearly the target's colour.
    assert after[..., 0][under].mean() > -(UNDER_EYE_DARK + UNDER_EYE_SOFT + 1.5)
    assert abs(after[..., 1][under].mean()) < 0.8
    assert abs(after[..., 2][under].mean()) < 0.8
    # The source's bright cheekbones below are its own, kept.
    assert after[..., 0][cheek].mean() > 3.0
    assert after[..., 0][cheek].mean() > before[..., 0][cheek].mean() - 1.0


def test_the_zones_sit_under_the_eyes(rudd: tuple[np.ndarray, np.ndarray]) -> None:
    _, landmarks = rudd
    zones = skin_weights(landmarks, SIZE).under_eyes
    unit = float(np.linalg.norm(landmarks[263, :2] - landmarks[33, :2]))
    for lid in (145, 374):
        below = landmarks[lid, :2] + (0, 0.25 * unit)
        assert zones[round(below[1]), round(below[0])] > 0.8
    for far in (landmarks[1, :2] + (0, 0.1 * unit), landmarks[151, :2], landmarks[13, :2]):
        assert zones[round(far[1]), round(far[0])] < 0.1  # nose tip, forehead, lips
