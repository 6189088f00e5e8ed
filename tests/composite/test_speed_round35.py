"""`carry_detail` at less CPU (issue 13, thirty-fifth round): the texture limit's bands in
their columns' vector blocks and its excess made in the result's box, the flanks' colour
worked in the zone's box, the colour planes merged once, the face's lightness read in the
rows used, the under-eye zone's box by OpenCV:
each gives exactly what the formulation it replaced gave (kept here), on real crops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import masked_blur, to_lab
from facedub.composite.detail import resized, texture_excess, vector_columns
from facedub.composite.tone import (
    FLANK_AROUND_MIN,
    FLANK_CHROMA_MIN,
    FLANK_GAIN,
    FLANK_PERCENTILE,
    FLANK_SKIN_MIN,
    UNDER_EYE_SOFT,
    _colour_around,
    _colour_planes,
    _darker,
    _lightness_rows,
    _spanned,
    _under_eye_lift,
    skin_weights,
)
from facedub.composite.tone import UNDER_EYE_DARK as DARK
from facedub.engines.base import TargetFace

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
PHOTO = "still_paul_rudd_frontal_studio.jpg"
SIZE = 440
HALF = SIZE // 2


@pytest.mark.parametrize("sigma", [1.0, 440 / 16 / 8, 2.5])
def test_a_strip_of_vector_columns_blurs_as_the_whole_rows(
        first_target_face: Callable[..., TargetFace], sigma: float) -> None:
    """On Katie Hill's real L plane (440 px), a Gaussian blur of any strip widened by
    `vector_columns` gives, in the columns the kernel's reach keeps clear of its cut
    edges, the whole rows' blur there to the bit (400 random strips a sigma)."""
    plane = np.ascontiguousarray(to_lab(first_target_face(KATIE, SIZE).image)[..., 0])
    whole = cv2.GaussianBlur(plane, (0, 0), sigma)
    reach = int(np.ceil(4 * sigma)) + 1
    rng = np.random.default_rng(35)
    for _ in range(400):
        start, stop = sorted(int(value) for value in rng.integers(0, SIZE + 1, 2))
        if stop - start < 2 * reach + 2:
            continue
        columns = vector_columns(slice(start, stop), SIZE)
        assert columns.start <= start and columns.stop >= stop
        assert columns.start % 16 == 0 and (columns.stop % 16 == 0 or columns.stop == SIZE)
        strip = cv2.GaussianBlur(plane[:, columns], (0, 0), sigma)
        inner = slice(start + reach - columns.start, stop - reach - columns.start)
        assert np.array_equal(strip[:, inner],
                              whole[:, start + reach:stop - reach]), (start, stop)


def test_vector_columns_at_the_rows_end() -> None:
    """The strip runs to the rows' end where its last block would pass their last whole
    block (that row's tail is blurred apart), and to a block's end elsewhere."""
    assert vector_columns(slice(20, 433), 440) == slice(16, 440)
    assert vector_columns(slice(20, 430), 440) == slice(16, 432)
    assert vector_columns(slice(0, 100), 256) == slice(0, 112)
    assert vector_columns(slice(3, 441), 441) == slice(0, 441)
    assert vector_columns(slice(0, 12), 12) == slice(0, 12)


def test_the_texture_excess_in_a_box_is_the_whole_ones_there(
        readme_carry_detail: dict[str, Any]) -> None:
    """On the README frame, the excess made in `carry_detail`'s box (and in boxes cut
    across the texture box's edges) is the whole excess there, to the bit; it is real."""
    lightness = np.ascontiguousarray(readme_carry_detail["face_lab"][..., 0])
    weight, sigma = readme_carry_detail["shown"], readme_carry_detail["sigma"]
    target_lightness = readme_carry_detail["target_lightness"]
    whole = texture_excess(lightness, target_lightness, weight, sigma)
    assert np.abs(whole).max() > 1.0
    for box in ((slice(80, 400), slice(60, 380)), (slice(0, 440), slice(0, 440)),
                (slice(0, 50), slice(400, 440)), (slice(200, 204), slice(0, 3))):
        assert np.array_equal(texture_excess(lightness, target_lightness, weight, sigma, box),
                              whole[box])


def test_the_face_lightness_in_rows_and_the_rows_spanned(readme_carry_detail: dict[str, Any]
                                                         ) -> None:
    """The L plane in the rows asked for (0 elsewhere); the span of two row ranges."""
    lab = readme_carry_detail["face_lab"]
    rows = slice(37, 301)
    lightness = _lightness_rows(lab, rows)
    assert np.array_equal(lightness[rows], lab[rows][..., 0])
    assert not lightness[:37].any() and not lightness[301:].any()
    assert not _lightness_rows(lab, slice(5, 5)).any()
    assert _spanned(slice(10, 20), slice(15, 40)) == slice(10, 40)
    assert _spanned(slice(10, 20), slice(0, 0)) == slice(10, 20)
    assert _spanned(slice(0, 0), slice(3, 4)) == slice(3, 4)


def _colour_around_as_before(face_low: np.ndarray, face: np.ndarray, target: np.ndarray,
                             target_low: np.ndarray, skin: np.ndarray, zone: np.ndarray,
                             sigma: float) -> np.ndarray:
    """The thirty-fourth round's `_colour_around` and `_chroma_ceiling`: every step over
    the whole crop, its own merge of the colour planes."""
    planes = [*cv2.split(face)[1:], *cv2.split(target)[1:]]
    around = cv2.split(masked_blur(cv2.merge(planes), skin, sigma))
    own = np.hypot(face_low[..., 1], face_low[..., 2])
    skin_chroma = np.hypot(around[0], around[1])
    near = cv2.GaussianBlur(zone, (0, 0), sigma) > FLANK_AROUND_MIN
    chroma = np.hypot(target_low[..., 1], target_low[..., 2])[near & (skin > FLANK_SKIN_MIN)]
    ceiling = float(np.percentile(chroma, FLANK_PERCENTILE)) if chroma.size else 0.0
    gain = np.clip(own / np.maximum(skin_chroma, 1e-3), 1.0,
                   np.clip(ceiling / np.maximum(np.hypot(around[2], around[3]), 1e-3),
                           1.0, FLANK_GAIN))
    gain = 1.0 + np.minimum(skin_chroma / FLANK_CHROMA_MIN, 1.0) * (gain - 1.0)
    lightness, a, b = cv2.split(target_low)
    merged: np.ndarray = cv2.merge([lightness, a + zone * (gain * around[2] - a),
                                    b + zone * (gain * around[3] - b)])
    return merged


def test_the_flanks_colour_in_the_zones_box_is_the_whole_crops(
        first_target_face: Callable[..., TargetFace], faces_dir: Path) -> None:
    """On the README pair's crops at half size (as `carry_detail` calls it), the flanks'
    colour made in the zone's box equals the whole-crop formulation to the bit, with a
    mask cut at the frame's edge too; it does move the colour; a nil zone keeps it."""
    target = first_target_face(KATIE, SIZE)
    photo = next(media.iter_frames(faces_dir / PHOTO)).image
    face = cv2.resize(photo, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    face_half, target_half = (to_lab(cv2.resize(image, (HALF, HALF),
                                                interpolation=cv2.INTER_AREA))
                              for image in (face, target.image))
    weights = skin_weights(target.face_landmarks, SIZE)
    zone = resized(weights.flanks, HALF)
    sigma = SIZE / 16 * HALF / SIZE
    for cut in (0, 30):
        mask = np.ones((HALF, HALF), dtype=np.float32)
        mask[:, :cut] = 0.0
        skin = mask * resized(weights.colour, HALF)
        face_low, target_low = (masked_blur(lab, mask, sigma)
                                for lab in (face_half, target_half))
        ours = _colour_around(face_low, _colour_planes(face_half, target_half), target_low,
                              skin, zone, sigma)
        theirs = _colour_around_as_before(face_low, face_half, target_half, target_low, skin,
                                          zone, sigma)
        assert ours.dtype == theirs.dtype == np.float32
        assert np.array_equal(ours, theirs)
        assert float(np.abs(ours[..., 1:] - target_low[..., 1:]).max()) > 0.5
    nil = np.zeros_like(zone)
    assert np.array_equal(_colour_around(face_low, _colour_planes(face_half, target_half),
                                         target_low, skin, nil, sigma), target_low)


def _under_eye_lift_as_before(face: np.ndarray, face_base: np.ndarray, target: np.ndarray,
                              target_base: np.ndarray, limit: np.ndarray, zone: np.ndarray,
                              around: np.ndarray, sigma: float) -> np.ndarray:
    """The thirty-fourth round's `_under_eye_lift`: the zone's box by `np.nonzero`."""
    lift = np.zeros_like(zone)
    rows, columns = np.nonzero(zone > 0.01)
    if len(rows) == 0:
        return lift
    planes = (face, face_base, target, target_base, limit)
    quarter = max(8, zone.shape[0] // 2)
    weights = resized(around, quarter)
    total = float(weights.sum())
    everywhere = _darker([resized(plane, quarter) for plane in planes], blur=0.0)
    level = float((everywhere * weights).sum()) / total if total >= 1.0 else 0.0
    fine = sigma / 4.0
    pad = int(3 * fine) + 1
    box = (slice(max(0, rows.min() - pad), rows.max() + pad + 1),
           slice(max(0, columns.min() - pad), columns.max() + pad + 1))
    excess = np.maximum(_darker([plane[box] for plane in planes], blur=fine) - level
                        - DARK, 0.0)
    lift[box] = zone[box] * (excess - UNDER_EYE_SOFT * np.tanh(excess / UNDER_EYE_SOFT))
    return lift


def test_the_under_eye_lift_with_opencvs_box(readme_carry_detail: dict[str, Any]) -> None:
    """On the README frame's planes (its target darkened under the eyes, so that the lift
    is real), and with the zone at the crop's edges, the same lift to the bit."""
    face = resized(readme_carry_detail["face_lab"], HALF)[..., 0]
    target = np.ascontiguousarray(readme_carry_detail["target_lab"][..., 0])
    base = cv2.GaussianBlur(face, (0, 0), 6.0)
    target_base = cv2.GaussianBlur(target, (0, 0), 6.0)
    limit = np.full_like(face, 12.0)
    around = resized(readme_carry_detail["shown"], HALF)
    zone = resized(readme_carry_detail["under_eyes"], HALF)
    lifted = np.ascontiguousarray(target_base - 8.0 * zone)
    edges = np.zeros_like(zone)
    edges[0:3, 200:220] = 0.5
    edges[215:220, 0:2] = 1.0
    for weights in (zone, edges, np.zeros_like(zone)):
        ours = _under_eye_lift(face, base, target, lifted, limit, weights, around, 13.75)
        assert np.array_equal(ours, _under_eye_lift_as_before(
            face, base, target, lifted, limit, weights, around, 13.75))
    assert _under_eye_lift(face, base, target, lifted, limit, zone, around, 13.75).max() > 0.5
