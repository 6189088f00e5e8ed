"""The lid margins the compositor pastes uncoloured are the toned eye's, not the untoned
source's, where the target's lid margins are darker against its skin than the source's
(occlusion-mic: Rudd's light studio lids on deep, top-lit sockets; BENCHMARKS.md,
thirty-eighth round)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_eyes_tone
from facedub.engines.mesh_eyes import EYES
from facedub.engines.mesh_eyes_tone import (
    LID_SKIN,
    MARGIN_FROM,
    MARGIN_FULL,
    EyeToner,
    lid_margin,
    toning_share,
)
from facedub.faces.template import face_template

SIZE = 256
SKIN = (180.0, 140.0, 120.0)


def _face() -> tuple[np.ndarray, np.ndarray]:
    """(image, landmarks): skin with white eye openings."""
    landmarks = face_template().astype(np.float64) * 100.0 + SIZE / 2
    image = np.full((SIZE, SIZE, 3), SKIN, dtype=np.float32)
    for eye in EYES:
        cv2.fillPoly(image, [np.round(landmarks[eye.contour, :2]).astype(np.int32)],
                     (235.0, 235.0, 230.0))
    return image, landmarks


def _openings(landmarks: np.ndarray) -> list[np.ndarray]:
    masks = []
    for eye in EYES:
        opening = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(opening, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 1)
        masks.append(opening)
    return masks


def _ring(opening: np.ndarray, reach: int) -> np.ndarray:
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    ring: np.ndarray = (cv2.dilate(opening, disc) > 0) & (opening == 0)
    return ring


def _below(landmarks: np.ndarray, corners: tuple[int, int]) -> np.ndarray:
    """(SIZE, SIZE) bool: below the line through the eye's corners (1 px clear of it)."""
    left, right = sorted(landmarks[list(corners), :2], key=lambda point: point[0])
    along = (right - left) / np.linalg.norm(right - left)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    below: np.ndarray = ((xs - left[0]) * -along[1] + (ys - left[1]) * along[0]) > 1.0
    return below


def _lightness(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.asarray(lab[..., 0])


def _pair(dark_margins: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, landmarks): a pale source with lids as light as its skin; a target
    in darker skin, with dark lid margins (its lash lines and lids' rims in shadow) or none."""
    face, landmarks = _face()
    skin = np.all(face == SKIN, axis=-1)
    source = face.copy()
    source[skin] = (200.0, 170.0, 160.0)
    target = face * 0.7
    target[skin] = (125.0, 80.0, 60.0)
    if dark_margins:
        reach = round(LID_SKIN[0] * SIZE)
        for opening in _openings(landmarks):
            target[_ring(opening, reach)] = (50.0, 35.0, 30.0)
    return source, target, landmarks


def test_lid_margin_reads_the_ring_round_the_opening() -> None:
    source, target, landmarks = _pair(dark_margins=True)
    for eye in EYES:
        contour = landmarks[eye.contour, :2]
        dark = lid_margin(target, contour)
        plain = lid_margin(source, contour)
        assert dark is not None and plain is not None
        assert dark < 20.0 < 60.0 < plain  # the shadowed rim's L, the pale skin's


def test_a_light_sources_lids_do_not_show_through_on_a_targets_dark_lid_margins() -> None:
    """The engine's image is the toned eye by its region and the compositor pastes it
    uncoloured by that region: on the feather past the opening the untoned pale lid showed
    through by region * (1 - region). Where the target's margins are dark against its
    skin, what is pasted there is the toned eye (no lighter than the target's lid skin)."""
    source, target, landmarks = _pair(dark_margins=True)
    image = source.copy()
    regions = EyeToner()(image, landmarks, target.astype(np.uint8), landmarks, track=0)
    lightness = _lightness(image)
    target_skin = float(_lightness(np.array([[(125.0, 80.0, 60.0)]], np.float32))[0, 0])
    for eye, opening in zip(EYES, _openings(landmarks), strict=True):
        # The feather the compositor pastes by 0.3-0.95 past the opening, on the lower lid
        # (the upper lid's is as it was: test_lower_lid_margins_round39).
        lower = _below(landmarks, eye.corners)
        band = (opening == 0) & (regions >= 0.3) & (regions < 0.95) & lower
        assert band.sum() > 20
        # main: the band 12 L over the target's lid skin (the pale lid let through); 6 so
        assert float(lightness[band].mean()) - target_skin < 8.0


def test_the_toning_follows_the_region_where_the_target_margins_are_not_darker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No darker margins, no change: the engine's image is the region's blend of the toned
    eye and the source, to the bit, as it was (every other pair's swap)."""
    source, target, landmarks = _pair(dark_margins=False)
    image = source.copy()
    regions = EyeToner()(image, landmarks, target.astype(np.uint8), landmarks, track=0)
    monkeypatch.setattr(mesh_eyes_tone, "toning_share",
                        lambda region, margin, lower=None: region)
    as_was = source.copy()
    was_regions = EyeToner()(as_was, landmarks, target.astype(np.uint8), landmarks, track=0)
    assert np.array_equal(regions, was_regions)
    assert np.array_equal(image, as_was)
    region = np.linspace(0.0, 1.0, 11, dtype=np.float32)
    assert toning_share(region, MARGIN_FROM) is region
    steep = toning_share(region, MARGIN_FULL)
    assert np.allclose(steep, 1.0 - (1.0 - region) ** 2)
