"""The base round the eyes from the target's bare skin, not her make-up (expr-shouting,
issue 9): d10's violet eye shadow, liner and lashes (b 15-17, L 55-65 on the lids against
her cheeks' b 24, L 74) were the band's base under the photo's bare lids, a grey-blue band
from the brows to the lower lids (BENCHMARKS.md, thirty-second to thirty-fourth rounds)."""

from __future__ import annotations

import numpy as np

from facedub.composite.tone import (
    carry_detail,
    eye_band_weights,
    lid_weights,
    skin_weights,
    socket_skin_weights,
    socket_weights,
    surround_weights,
)
from facedub.faces.masks import face_mask, polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template

SIZE = 256
SKIN = (74.0, 19.0, 24.0)  # d10's cheeks, Lab


def _landmarks() -> np.ndarray:
    landmarks: np.ndarray = face_template().astype(np.float64) * 100.0 + SIZE / 2
    return landmarks


def _lids(landmarks: np.ndarray) -> np.ndarray:
    """(S, S) bool: the sockets (`socket_weights` over 0.5) outside the eye openings."""
    regions = mesh_regions()
    openings = np.maximum(*[polygon_mask(landmarks[eye, :2], SIZE)
                            for eye in (regions.left_eye, regions.right_eye)])
    lids: np.ndarray = (socket_weights(landmarks, lid_weights(landmarks, SIZE)) > 0.5) & (
        openings == 0)
    return lids


def _coloured(target: np.ndarray, landmarks: np.ndarray, band: bool) -> np.ndarray:
    """A plain face (no make-up, no shading) coloured onto `target` (Lab) as the compositor
    colours a photo's face (its sockets' light), with or without `eye_band`."""
    face = np.empty((SIZE, SIZE, 3), np.float32)
    face[:] = (70.0, 12.0, 22.0)
    mask = face_mask(landmarks, SIZE)
    skin = skin_weights(landmarks, SIZE)
    lids = lid_weights(landmarks, SIZE)
    return carry_detail(face, target, (mask > 0.05).astype(np.float32), SIZE / 16.0,
                        skin=skin.folds, lids=lids, shown=mask * skin.bare,
                        bare=np.maximum(skin.colour, skin.shading), sockets=socket_weights(
                            landmarks, lids),
                        socket_skin=socket_skin_weights(landmarks, SIZE),
                        surround=surround_weights(landmarks, SIZE),
                        eye_band=eye_band_weights(landmarks, SIZE) if band else None)


def _target(landmarks: np.ndarray, round_eyes: tuple[float, float, float]) -> np.ndarray:
    """Her skin (SKIN) with `round_eyes` over the eye band, from the brows to the lower
    lids (`eye_band_weights` over 0.5), and dark liner in the openings' rims."""
    target = np.empty((SIZE, SIZE, 3), np.float32)
    target[:] = SKIN
    target[eye_band_weights(landmarks, SIZE) > 0.5] = round_eyes
    return target


def test_a_made_up_targets_lids_take_her_bare_skins_colour() -> None:
    """Violet eye shadow over her lids (L 60, b 14): the plain face's lids come out her
    bare skin's colour (b within 3 of 24, L over 68), not the shadow's (without the band:
    b 16, L 62)."""
    landmarks = _landmarks()
    lids = _lids(landmarks)
    target = _target(landmarks, (60.0, 19.0, 14.0))
    coloured = _coloured(target, landmarks, band=True)[lids].mean(axis=0)
    assert abs(coloured[2] - SKIN[2]) < 3.0
    assert coloured[0] > 68.0


def test_a_shadowed_socket_keeps_its_darkness() -> None:
    """Her sockets 14 L darker at her skin's own colour (her light, not make-up): the
    face's lids keep that darkness (within 1 L of the result without the band)."""
    landmarks = _landmarks()
    lids = _lids(landmarks)
    target = _target(landmarks, (60.0, *SKIN[1:]))
    with_band = _coloured(target, landmarks, band=True)[lids, 0].mean()
    without = _coloured(target, landmarks, band=False)[lids, 0].mean()
    assert abs(with_band - without) < 1.0
