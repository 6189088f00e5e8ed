"""The texture limit's cheaper form (only the rows round the bare skin, the target's L
converted only in their box) gives exactly what the full-size formula gave: kept here as
the reference, compared on the README pair's real first frame and on synthetic planes."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from facedub.composite.color import to_lab
from facedub.composite.detail import texture_box, texture_excess


def _reference(lightness: np.ndarray, target_lightness: np.ndarray, weight: np.ndarray,
               sigma: float) -> np.ndarray:
    """`texture_excess` as first written (a5c0296): every plane at full size, the whole
    target crop's L."""
    size = lightness.shape[0]
    coarse = max(sigma / 8.0, 1.5)

    def bands(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grain_low = cv2.GaussianBlur(plane, (0, 0), 1.0)
        return plane - grain_low, grain_low - cv2.GaussianBlur(plane, (0, 0), coarse)

    def shrunk(plane: np.ndarray, small: int) -> np.ndarray:
        if plane.shape[0] == small:
            return plane.astype(np.float32)
        resized: np.ndarray = cv2.resize(plane.astype(np.float32), (small, small),
                                         interpolation=cv2.INTER_AREA)
        return resized

    half = max(8, size // 2)
    small_weight = np.clip(shrunk(weight, half), 0.0, 1.0)
    reach = max(0.5, sigma / 4.0 * half / size)
    around = cv2.GaussianBlur(small_weight, (0, 0), reach) + np.float32(1e-3)

    def local_rms(band: np.ndarray) -> np.ndarray:
        spread = cv2.GaussianBlur(small_weight * shrunk(band * band, half), (0, 0), reach)
        rms: np.ndarray = np.sqrt(np.maximum(spread, 0.0) / around)
        return rms

    excess = np.zeros_like(lightness)
    for gain, face_band, target_band in zip((2.0, 1.0), bands(lightness),
                                            bands(target_lightness), strict=True):
        share = np.minimum((gain * local_rms(target_band) + 0.05)
                           / np.maximum(local_rms(face_band), 1e-3), 1.0)
        excess += cv2.resize(small_weight * (1.0 - share), (size, size),
                             interpolation=cv2.INTER_LINEAR) * face_band
    return excess


def test_the_limit_on_the_readme_frame_is_the_full_size_formulas(
        readme_carry_detail: dict[str, Any]) -> None:
    """On the README pair's frame the compositor's (boxed) target L and the rows-only
    limit give the full-size formula's cut to the last bit; the box leaves rows and
    columns out there (the bare skin does not reach the crop's edges), and the cut is
    real (L units)."""
    weight, sigma = readme_carry_detail["shown"], readme_carry_detail["sigma"]
    lightness = np.ascontiguousarray(readme_carry_detail["face_lab"][..., 0])
    full = to_lab(readme_carry_detail["target_image"])[..., 0]
    rows, columns = texture_box(weight, sigma)
    assert rows.stop - rows.start < 420 and columns.stop - columns.start < 420
    wanted = _reference(lightness, full, weight, sigma)
    got = texture_excess(lightness, readme_carry_detail["target_lightness"], weight, sigma)
    assert np.abs(wanted).max() > 1.0
    assert np.array_equal(got, wanted)
    # The target's L is the whole crop's inside the box.
    assert np.array_equal(readme_carry_detail["target_lightness"][rows, columns],
                          full[rows, columns])


@pytest.mark.parametrize("size", [440, 256, 441, 12])
def test_the_limit_is_the_full_size_formulas_on_any_weight(size: int) -> None:
    """Random planes, a weight in a band away from the edges (and the crop's odd and
    tiny sizes, where no row is left out): the same values as the full-size formula."""
    rng = np.random.default_rng(size)
    face = rng.normal(60.0, 3.0, (size, size)).astype(np.float32)
    target = rng.normal(60.0, 1.0, (size, size)).astype(np.float32)
    weight = np.zeros((size, size), dtype=np.float32)
    weight[size // 4:size // 2 + 1, 3:size - 5] = rng.random((size // 2 + 1 - size // 4,
                                                             size - 8))
    sigma = size / 16
    wanted = _reference(face, target, weight, sigma)
    assert np.abs(wanted).max() > 0.5
    assert np.array_equal(texture_excess(face, target, weight, sigma), wanted)


def test_no_bare_skin_no_cut() -> None:
    """A nil weight: an empty box and a nil cut, as the full-size formula gave."""
    face = np.random.default_rng(3).normal(60.0, 3.0, (64, 64)).astype(np.float32)
    weight = np.zeros((64, 64), dtype=np.float32)
    assert texture_box(weight, 4.0) == (slice(0, 0), slice(0, 0))
    assert not texture_excess(face, face, weight, 4.0).any()
