"""The compositing thread's glue at less CPU (issue 13, thirty-third round): the grain
reading's flat test without a hypot over the whole crop, the refiner's input written
into one array and its laid face with fewer temporaries give exactly what the
formulations they replaced gave (kept here), on real crops and at the flat test's
threshold itself."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import grain
from facedub.composite.grain import FLAT_GRADIENT, _flat, grain_level, grain_levels
from facedub.engines.base import TargetFace
from facedub.engines.refiner import _refiner_input, laid_over_target
from facedub.faces.masks import three_channels

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
D3 = "clip_liveportrait_d3_woman_headturn.mp4"


def _grain_level_as_expressions(grey: np.ndarray, mask: np.ndarray) -> float:
    """The thirty-second round's `grain_level`."""
    median = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3).astype(np.float32)
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    flat = (mask > 0.5) & (gradient / 4.0 < FLAT_GRADIENT)
    if np.count_nonzero(flat) < 50:
        flat = mask > 0.5
    return float(np.abs(grey - median)[flat].mean()) if flat.any() else 0.0


def _face_mask(size: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(mask, (size // 2, size // 2 + size // 20), (size // 3, size * 2 // 5), 0, 0,
                360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), size / 50)


@pytest.fixture(scope="module")
def crops(first_target_face: Callable[..., TargetFace]) -> list[np.ndarray]:
    """Katie Hill's and d3's first faces at 440 px, as the compositor reads them."""
    return [first_target_face(name, 440).image for name in (KATIE, D3)]


def test_the_flat_test_at_its_threshold_is_hypots() -> None:
    """Gradients whose length lies on, or within a few ulps of, 4 x FLAT_GRADIENT at every
    angle (where the squared sum could round either way), and far either side: the same
    booleans as hypot / 4 < FLAT_GRADIENT; the infinities and NaN too."""
    rng = np.random.default_rng(33)
    angles = rng.uniform(0.0, 2.0 * np.pi, 200_000)
    limit = 4.0 * FLAT_GRADIENT
    lengths = limit * (1.0 + rng.choice([-1, 1], angles.size) * rng.uniform(0, 3e-6, angles.size))
    x = (lengths * np.cos(angles)).astype(np.float32)
    y = (lengths * np.sin(angles)).astype(np.float32)
    for step in (0, 1, -1, 2, -2):  # each coordinate moved by whole ulps
        x = np.nextafter(x, np.float32(np.sign(step) * np.inf)) if step else x
        near = np.hypot(x, y)
        assert np.count_nonzero(near < limit) > 1000 and np.count_nonzero(near >= limit) > 1000
        assert np.array_equal(_flat(x, y), np.hypot(x, y) / 4.0 < FLAT_GRADIENT)
    exact = np.array([limit, 0.0, -limit, 0.6 * limit, np.inf, np.nan, 1e30, 3.0],
                     dtype=np.float32)
    other = np.array([0.0, limit, 0.0, 0.8 * limit, 1.0, 1.0, 1.0, 4.0], dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.array_equal(_flat(exact, other), np.hypot(exact, other) / 4.0 < FLAT_GRADIENT)
    wide = rng.normal(0.0, 20.0, (300, 300)).astype(np.float32)
    assert np.array_equal(_flat(wide, wide.T.copy()),
                          np.hypot(wide, wide.T) / 4.0 < FLAT_GRADIENT)


def test_hypot_is_taken_only_at_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flat test does not take a hypot over the crop (half of the reading's time):
    only the pixels within its margin of the threshold."""
    taken: list[int] = []
    real = np.hypot

    def counted(a: np.ndarray, b: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        taken.append(np.size(a))
        return real(a, b, *args, **kwargs)  # type: ignore[no-any-return, call-overload]

    monkeypatch.setattr(grain.np, "hypot", counted)
    wide = np.random.default_rng(5).normal(0.0, 20.0, (200, 200)).astype(np.float32)
    grain_level(wide, np.ones_like(wide))
    assert sum(taken) < 50


def test_the_grain_reading_on_real_crops_is_the_expressions(crops: list[np.ndarray]) -> None:
    """Both crops' grey (as `grain_levels` and the split's readings pass it, whole and in
    the mask's box, uint8 part masks) and a noisier copy: the same float to the bit."""
    mask = _face_mask(440)
    part = (mask > 0.5).view(np.uint8)
    noise = np.random.default_rng(1).normal(0.0, 6.0, (440, 440)).astype(np.float32)
    for crop in crops:
        grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
        box = (slice(60, 400), slice(80, 370))
        for plane, weights in ((grey, mask), (np.ascontiguousarray(grey[box]), part[box]),
                               (grey + noise, mask), (grey, np.zeros_like(mask)),
                               (grey, (mask > 0.999).astype(np.float32))):
            assert grain_level(plane, weights) == _grain_level_as_expressions(plane, weights)
    face, target = crops
    levels = grain_levels(face, target, mask)
    assert levels.face == _grain_level_as_expressions(
        cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32), mask)


def test_the_refiners_input_and_laid_face_are_the_expressions(crops: list[np.ndarray]) -> None:
    """The laid face (a float32 mask: in place; a float64 one: as before) and the
    refiner's (1, 4, R, R) input from it, on real crops: the same float32 values as
    the concatenation, transpose and products they replaced; the inputs untouched."""
    face, target = crops
    for mask in (_face_mask(440), _face_mask(440).astype(np.float64)):
        copies = [a.copy() for a in (face, target, mask)]
        laid = laid_over_target(face, target, mask)
        wanted = face.astype(np.float32)
        wanted *= three_channels(mask)
        wanted += np.multiply(target, three_channels(1.0 - mask), dtype=np.float32)
        assert laid.dtype == np.float32 and np.array_equal(laid, wanted)
        for before, after in zip(copies, (face, target, mask), strict=True):
            assert np.array_equal(before, after)
        small = cv2.resize(laid, (128, 128), interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(mask, (128, 128), interpolation=cv2.INTER_AREA)
        x = np.concatenate([small / 255.0, small_mask[..., None]], axis=2)
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        got = _refiner_input(small, small_mask)
        assert got.dtype == np.float32 and got.flags.c_contiguous
        assert got.tobytes() == x.tobytes()
