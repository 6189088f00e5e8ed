"""The compositing thread at less CPU (issue 9, fifty-first round): `carry_detail`'s
hair greying, the texture limit's beard and the lids' limit of brighter detail made only
in their zones' boxes give exactly what the whole-box formulas gave, kept here as the
references, on the README pair's real first frame (Paul Rudd's stubble zone and Katie
Hill's lids) and with the zones moved to the crop's edges and corners."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from facedub.composite.color import masked_blur, to_lab
from facedub.composite.detail import resized
from facedub.composite.tone import (
    BEARD_DIVISOR,
    LID_BRIGHT,
    SKIN_LIGHTNESS_SLACK,
    SKIN_LIKENESS,
    SKIN_LIKENESS_FADE,
    _beard,
    _beard_left_out,
    _brighter_on_lids,
    _enlarged,
    _grey_in_hair,
    _greyed,
    _skin_likeness,
    region_box,
)
from facedub.faces.masks import mask_bounds


def _same(first: np.ndarray, second: np.ndarray) -> bool:
    """The same float32 values, bit for bit (signed zeros told apart)."""
    return first.shape == second.shape and np.array_equal(first.view(np.uint32),
                                                          second.view(np.uint32))


def _moved(zone: np.ndarray, top: int, left: int) -> np.ndarray:
    """`zone` (H, W) with its non-zero box moved to row `top`, column `left` (cut by the
    plane's edge where it runs past it)."""
    box = mask_bounds(zone)
    assert box is not None
    part = zone[box]
    moved = np.zeros_like(zone)
    height = min(part.shape[0], zone.shape[0] - top)
    width = min(part.shape[1], zone.shape[1] - left)
    moved[top:top + height, left:left + width] = part[:height, :width]
    return moved


def _moved_to_edges(zone: np.ndarray, tops: tuple[int, ...], lefts: tuple[int, ...]
                    ) -> list[np.ndarray]:
    """`zone` moved to each of `tops` x `lefts` and to the plane's far edges (its box
    ending on the last row or column)."""
    box = mask_bounds(zone)
    assert box is not None
    height, width = zone[box].shape
    return [_moved(zone, top, left)
            for top in (*tops, zone.shape[0] - height)
            for left in (*lefts, zone.shape[1] - width)]


def _readme_planes(readme: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """The README frame's face Lab (S, S, 3), the target's L at that size (a real base
    lightness) and the box `carry_detail` computes in."""
    face_lab = readme["face_lab"]
    target_lightness = to_lab(readme["target_image"])[..., 0]
    box = region_box(np.maximum(readme["region"], readme["shown"]), face_lab.shape[0])
    return face_lab, np.ascontiguousarray(target_lightness), box


def test_the_greying_in_the_hairs_box_is_the_whole_boxs(
        readme_carry_detail: dict[str, Any]) -> None:
    """On the README frame's face box, its stubble zone as the compositor passes it and
    moved to the box's corners and edges: a and b greyed in place only in the hair's box
    are those of the whole box's share to the bit, and the share moves colour there."""
    face_lab, base, box = _readme_planes(readme_carry_detail)
    hair = readme_carry_detail["hair"]
    assert hair is not None and mask_bounds(hair[box]) is not None
    height, width = face_lab[box].shape[:2]
    zones = [hair[box]]
    for top in (0, 17, height - 40):
        for left in (0, 9, width - 30):
            zones.append(_moved(hair[box], top, left))
    for zone in zones:
        boxed = np.ascontiguousarray(face_lab[box])
        reference = boxed.copy()
        keep = _greyed(reference[..., 0], base[box], zone)
        reference[..., 1] *= keep
        reference[..., 2] *= keep
        _grey_in_hair(boxed, base[box], zone)
        assert _same(boxed, reference)
    greyed = np.ascontiguousarray(face_lab[box])
    _grey_in_hair(greyed, base[box], hair[box])
    assert not np.array_equal(greyed, face_lab[box])  # the stubble zone is greyed
    untouched = np.ascontiguousarray(face_lab[box])
    _grey_in_hair(untouched, base[box], np.zeros_like(hair[box]))
    assert _same(untouched, np.ascontiguousarray(face_lab[box]))


def test_the_beard_left_out_in_its_box_is_the_whole_crops(
        readme_carry_detail: dict[str, Any]) -> None:
    """The texture limit's weight without the README frame's beard share (made from its
    face as `carry_detail` makes it, 440 px crop), the share also moved to every corner
    and edge of the half plane: the boxed enlargement and product give the whole crop's
    to the bit; the weight passed is left as it is unless it is the caller's own; an odd
    crop (no exact halving) takes the whole-crop formula."""
    face_lab = readme_carry_detail["face_lab"]
    size, sigma = face_lab.shape[0], readme_carry_detail["sigma"]
    half = size // 2
    mask_half = resized(readme_carry_detail["mask"], half)
    face_half = resized(face_lab, half)
    face_low = masked_blur(face_half, mask_half, sigma * half / size)
    beard = _beard(face_half[..., 0], face_low[..., 0],
                   resized(readme_carry_detail["hair"], half),
                   sigma / BEARD_DIVISOR * half / size)
    assert mask_bounds(beard) is not None  # his stubble darkens: a beard share
    texture = np.maximum(readme_carry_detail["shown"],
                         readme_carry_detail["shading"] * readme_carry_detail["region"])
    for share in [beard, *_moved_to_edges(beard, (0, 1, 3), (0, 2, 5))]:
        reference = texture * (1.0 - resized(share, size))
        before = texture.copy()
        assert _same(_beard_left_out(texture, share, size, own=False), reference)
        assert _same(texture, before)  # not the caller's own: left as it is
        own = texture.copy()
        assert _same(_beard_left_out(own, share, size, own=True), reference)
    assert _beard_left_out(texture, np.zeros_like(beard), size, own=False) is texture
    odd = cv2.resize(texture, (size - 1, size - 1), interpolation=cv2.INTER_AREA)
    share = cv2.resize(beard, (half - 1, half - 1), interpolation=cv2.INTER_AREA)
    assert _same(_beard_left_out(odd, share, size - 1, own=False),
                 odd * (1.0 - resized(share, size - 1)))


@pytest.mark.parametrize("size", [440, 512, 408, 320])
def test_the_beard_left_out_random_shares(size: int) -> None:
    """300 random soft shares a crop size, anywhere on the half plane: the same values."""
    rng = np.random.default_rng(51)
    half = size // 2
    texture = rng.random((size, size), dtype=np.float32)
    for _ in range(300):
        share = np.zeros((half, half), dtype=np.float32)
        top, left = (int(value) for value in rng.integers(0, half - 2, 2))
        height, width = (int(value) for value in rng.integers(1, half // 2, 2))
        spots = rng.random((height, width), dtype=np.float32)
        share[top:top + height, left:left + width] = spots[:half - top, :half - left]
        assert _same(_beard_left_out(texture, share, size, own=False),
                     texture * (1.0 - resized(share, size)))


def test_the_lids_brighter_limit_round_them_is_the_whole_boxs(
        readme_carry_detail: dict[str, Any]) -> None:
    """The README frame's detail limit (the target's local detail at half size, as
    `carry_detail` makes it) and her lids (the compositor's `lid_weights`), the lids also
    moved to the half plane's corners and edges, in the compositor's region box and in
    the whole crop: the brighter limit enlarged and copied round the lids is the whole
    box's enlargement and copy to the bit; an odd crop takes the whole box's."""
    face_lab, target_lightness, box = _readme_planes(readme_carry_detail)
    size = face_lab.shape[0]
    half = size // 2
    lids = resized(readme_carry_detail["lids"], half)
    detail_source = resized(target_lightness, half)
    limit = (2.0 * np.abs(detail_source - cv2.GaussianBlur(detail_source, (0, 0), 6.0))
             + np.float32(10.0)).astype(np.float32)
    detail = (face_lab[..., 0] - resized(resized(face_lab[..., 0], half), size))
    zones = [lids, *_moved_to_edges(lids, (0, 1, 6), (0, 3, 8)), np.zeros_like(lids)]
    for where in (box, (slice(0, size), slice(0, size))):
        for zone in zones:
            bright = limit + zone * (LID_BRIGHT - limit)
            reference = _enlarged([limit], where, size)[0]
            np.copyto(reference, _enlarged([bright], where, size)[0],
                      where=detail[where] > 0)
            ours = _enlarged([limit], where, size)[0]
            _brighter_on_lids(ours, bright, zone, detail[where], where, size)
            assert _same(ours, reference)
    bright = limit + lids * (LID_BRIGHT - limit)
    moved = _enlarged([limit], box, size)[0]
    _brighter_on_lids(moved, bright, lids, detail[box], box, size)
    assert not np.array_equal(moved, _enlarged([limit], box, size)[0])  # the lids held
    odd = size - 1
    odd_limit = cv2.resize(limit, (odd // 2, odd // 2), interpolation=cv2.INTER_AREA)
    odd_lids = cv2.resize(lids, (odd // 2, odd // 2), interpolation=cv2.INTER_AREA)
    odd_bright = odd_limit + odd_lids * (LID_BRIGHT - odd_limit)
    whole = (slice(0, odd), slice(0, odd))
    odd_detail = detail[:odd, :odd]
    reference = resized(odd_limit, odd)
    np.copyto(reference, resized(odd_bright, odd), where=odd_detail > 0)
    ours = resized(odd_limit, odd)
    _brighter_on_lids(ours, odd_bright, odd_lids, odd_detail, whole, odd)
    assert _same(ours, reference)


def _likeness_as_before(lab: np.ndarray, reference: np.ndarray, box: tuple[slice, slice]
                        ) -> np.ndarray:
    """`_skin_likeness` of the fiftieth round (the weights gathered twice), in a box."""
    shape = reference[box].shape
    weights = reference.reshape(-1).astype(np.float64)
    total = float(weights.sum())
    inside = weights > 0
    pixels = lab.reshape(-1, 3)[inside].astype(np.float64)
    mean = weights[inside] @ pixels / total
    centred = pixels - mean
    covariance = ((centred * weights[inside][:, None]).T @ centred / total
                  + np.diag([4.0, 1.0, 1.0]))
    covariance[0] *= SKIN_LIGHTNESS_SLACK
    covariance[:, 0] *= SKIN_LIGHTNESS_SLACK
    centred = lab[box].reshape(-1, 3).astype(np.float64) - mean
    distance = np.sqrt(np.einsum("pj,pj->p", centred @ np.linalg.inv(covariance), centred))
    likeness: np.ndarray = np.clip(1.0 - (distance - SKIN_LIKENESS) / SKIN_LIKENESS_FADE, 0.0, 1.0
                                   ).astype(np.float32).reshape(shape)
    return likeness


def test_the_skin_likeness_is_the_one_before(readme_carry_detail: dict[str, Any]) -> None:
    """Katie Hill's half crop over her bare skin shown (as `carry_detail` reads it round
    the eyes), in a box and over the whole: the same likeness to the bit, and it tells
    skin from what is not (some 1, some 0)."""
    size = readme_carry_detail["face_lab"].shape[0]
    half = size // 2
    target_half = to_lab(cv2.resize(readme_carry_detail["target_image"], (half, half),
                                    interpolation=cv2.INTER_AREA))
    shown = resized(readme_carry_detail["shown"], half)
    for box in ((slice(40, 120), slice(30, 190)), (slice(0, half), slice(0, half))):
        ours = _skin_likeness(target_half, shown, box)
        assert _same(ours, _likeness_as_before(target_half, shown, box))
        assert ours.max() == 1.0 and ours.min() == 0.0
