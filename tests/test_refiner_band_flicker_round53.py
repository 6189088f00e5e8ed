"""tools/refiner_band_flicker.py's measures (BENCHMARKS.md, Refiner, twenty-eighth round):
a band that switches on and off between frames reads as a frame-to-frame change of the
face's fine band and as the gain's flips; the same band on every frame reads as none.
On small synthetic frames, in well under a second."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SIZE = 64
FRAMES = 6


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import refiner_band_flicker

    return refiner_band_flicker


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A still, softly textured face (SIZE, SIZE, 3) uint8 and its disc region."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.normal(128.0, 30.0, (SIZE, SIZE)).astype(np.float32),
                               (0, 0), 1.5)
    rows, columns = np.mgrid[:SIZE, :SIZE]
    region = np.hypot(rows - SIZE / 2, columns - SIZE / 2) < SIZE / 3
    image = np.clip(np.repeat(texture[..., None], 3, axis=2), 0, 255).astype(np.uint8)
    return image, region


def _frames(tool: ModuleType, images: list[np.ndarray], region: np.ndarray) -> object:
    return tool.TrackFrames(np.stack(images), np.stack([region] * len(images)),
                            np.full(len(images), 1.5, np.float32))


def _with_band(image: np.ndarray, amount: float) -> np.ndarray:
    """`image` with `amount` of a fine checker pattern added (a band of detail)."""
    rows, columns = np.mgrid[:SIZE, :SIZE]
    checker = np.where((rows + columns) % 2 == 0, 1.0, -1.0)[..., None]
    return np.clip(image + amount * checker, 0, 255).astype(np.uint8)


def test_a_band_switching_between_frames_reads_as_flicker(tool: ModuleType) -> None:
    image, region = _scene()
    mesh = _frames(tool, [image] * FRAMES, region)
    gains = [1.0, 0.0] * (FRAMES // 2)
    switching = _frames(tool, [_with_band(image, 4.0 * gain) for gain in gains], region)
    steady = _frames(tool, [_with_band(image, 4.0)] * FRAMES, region)
    assert tool.temporal(mesh, mesh).band_change == 0.0
    assert tool.temporal(steady, mesh).band_change == 0.0
    assert tool.temporal(switching, mesh).band_change > 3.0
    flickering = tool.added(switching, mesh, gains)
    assert (flickering.flips, flickering.frames_on, flickering.frames_off) == (5, 3, 3)
    assert flickering.size_where_on == pytest.approx(4.0, abs=0.6)
    assert flickering.change > 3.0
    still = tool.added(steady, mesh, [1.0] * FRAMES)
    assert (still.flips, still.change) == (0, 0.0)


def test_the_sharpness_change_and_mismatch(tool: ModuleType) -> None:
    """A face sharpened on alternate frames changes its sharpness from frame to frame; a
    face as sharp as the target's has no mismatch."""
    image, region = _scene()
    target = _frames(tool, [image] * FRAMES, region)
    alternating = _frames(tool, [_with_band(image, 6.0 * (k % 2)) for k in range(FRAMES)],
                          region)
    assert tool.temporal(target, target).sharpness_change == 0.0
    assert tool.temporal(target, target).sharpness_mismatch == 0.0
    assert tool.temporal(alternating, target).sharpness_change > 0.1
    assert tool.temporal(alternating, target).sharpness_mismatch > 0.05
