"""`tone._bare_eye_base` recast (fortieth round): its two products over a broadcast last
axis made over three planes and its base in the band's box only. The formula it replaced
is kept here as the reference: the same values to the bit on real-looking planes (a face
photo's Lab, a target base darker and bluer round the eye, so the gate moves it)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite import tone
from facedub.composite.color import masked_blur, to_lab

SIZE = 256


def _reference(lab: np.ndarray, low: np.ndarray, skin: np.ndarray, likeness: np.ndarray,
               band: np.ndarray, blur: float, boxes: tuple[tone.Box, tone.Box, tone.Box],
               strength: float = 1.0) -> np.ndarray:
    """`_bare_eye_base` as it was before the fortieth round."""
    box, read, inner = boxes
    part = lab[read]
    zone = band[read] * skin[read]
    weight = zone * likeness[read]
    chosen = weight > 0
    if float(weight.sum()) < 20.0:
        return low
    lightness = part[..., 0]
    order = np.argsort(lightness[chosen])
    cumulative = np.cumsum(weight[chosen][order])
    rank = int(np.searchsorted(cumulative, cumulative[-1] * tone.EYE_SKIN_PERCENTILE / 100.0))
    bright = float(lightness[chosen][order][min(rank, order.size - 1)])
    bare = weight * np.clip((lightness - (bright - tone.EYE_SKIN_DARK)) / tone.EYE_SKIN_SOFT,
                            0.0, 1.0)
    total = float(bare.sum())
    if total < 20.0:
        return low
    mean = (bare.reshape(-1) @ part.reshape(-1, 3) / total).astype(np.float32)
    near = np.clip(tone._blur(bare, blur) / np.maximum(tone._blur(zone, blur), 1e-6)
                   / tone.EYE_SKIN_SUPPORT, 0.0, 1.0)
    base = (mean + near[..., None] * (masked_blur(part, bare, blur) - mean))[inner]
    wide = blur * tone.EYE_SKIN_REACH
    support = np.clip(tone._zero_bordered_blur(bare, wide)[inner]
                      / np.maximum(tone._zero_bordered_blur(zone, wide)[inner], 1e-6)
                      / tone.EYE_SKIN_SUPPORT, 0.0, 1.0)
    kept = low[box]
    change = base - kept
    blue = (tone._yellowness(base) - tone._yellowness(kept)) * (kept[..., 0] + 16.0)
    gate = (np.clip((change[..., 0] - tone.BARE_EYE_DARK) / tone.BARE_EYE_SOFT, 0.0, 1.0)
            * np.clip((blue - tone.BARE_EYE_BLUE) / tone.BARE_EYE_SOFT, 0.0, 1.0))
    moved = low.copy()
    moved[box] = kept + (band[box] * support * gate * strength)[..., None] * change
    return moved


def _planes(faces_dir: Path, centre: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """A face photo's Lab, its coarse base made darker and bluer round one eye (a made-up
    target's liner and shadow averaged in), the eye's band, a skin weight with the eye
    opening out, and a skin likeness that varies over the crop; all (s, s) float32."""
    photo = media.read_photo(faces_dir / "still_rose_leslie_frontal.jpg")
    height, width = photo.shape[:2]
    side = min(height, width)
    crop = photo[(height - side) // 2:(height + side) // 2, (width - side) // 2:(width + side) // 2]
    lab = to_lab(cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    low = cv2.GaussianBlur(lab, (0, 0), 10.0)
    band = np.zeros((SIZE, SIZE), np.float32)
    cv2.ellipse(band, centre, (34, 18), 0, 0, 360, 1.0, -1)
    band = cv2.GaussianBlur(band, (0, 0), 5.0)
    darker = np.zeros_like(lab)
    darker[..., 0], darker[..., 2] = -7.0 * band, -6.0 * band
    low = (low + darker).astype(np.float32)
    skin = np.ones((SIZE, SIZE), np.float32)
    cv2.ellipse(skin, centre, (16, 7), 0, 0, 360, 0.0, -1)
    rows, columns = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    likeness = (0.6 + 0.4 * np.cos(rows / 23.0) * np.sin(columns / 31.0)).astype(np.float32)
    return lab, low, skin, likeness, band


@pytest.mark.parametrize(("blur", "strength", "centre"),
                         [(5.0, 1.0, (92, 110)), (5.0, 0.55, (170, 104)),
                          (9.0, 1.0, (92, 110)), (3.5, 0.8, (30, 20))])
def test_bare_eye_base_equals_the_formula_it_replaced(faces_dir: Path, blur: float,
                                                      strength: float,
                                                      centre: tuple[int, int]) -> None:
    lab, low, skin, likeness, band = _planes(faces_dir, centre)
    boxes = tone._blur_boxes(band, blur)
    assert boxes is not None
    expected = _reference(lab, low, skin, likeness, band, blur, boxes, strength)
    got = tone._bare_eye_base(lab, low, skin, likeness, band, blur, boxes, strength)
    assert not np.array_equal(expected, low)  # the gate moved the base: a real test
    assert got.dtype == expected.dtype == np.float32
    assert np.array_equal(got, expected)
    assert np.array_equal(low, _planes(faces_dir, centre)[1])  # `low` itself left as it was
