"""tools/refiner_band_flicker.py on a frame with no face region (an alpha nowhere above
one half in the frame): its measures are left out, not read as NaN into every mean
(BENCHMARKS.md, Refiner, twenty-ninth round). Small synthetic frames, well under a
second."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SIZE = 48


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import refiner_band_flicker

    return refiner_band_flicker


def _track(tool: ModuleType, images: list[np.ndarray], regions: list[np.ndarray]) -> object:
    return tool.TrackFrames(np.stack(images), np.stack(regions),
                            np.full(len(images), 1.5, np.float32))


def _textured(seed: int) -> np.ndarray:
    grain = np.random.default_rng(seed).integers(40, 220, (SIZE, SIZE, 1), dtype=np.uint8)
    return np.repeat(grain, 3, axis=2)


def _disc() -> np.ndarray:
    rows, columns = np.mgrid[:SIZE, :SIZE]
    return np.hypot(rows - SIZE / 2, columns - SIZE / 2) < SIZE / 3


def test_a_frame_with_no_face_region_is_left_out(tool: ModuleType) -> None:
    """Four frames, the third with an empty region: the measures are those of the frames
    that have one (a still face: no change, no mismatch), not NaN."""
    face, empty = _disc(), np.zeros((SIZE, SIZE), bool)
    images = [_textured(0)] * 4
    regions = [face, face, empty, face]
    track = _track(tool, images, regions)
    measured = tool.temporal(track, track)
    assert (measured.band_change, measured.sharpness_change,
            measured.sharpness_mismatch) == (0.0, 0.0, 0.0)
    refined = _track(tool, [_textured(0), _textured(1), _textured(2), _textured(3)], regions)
    moving = tool.temporal(refined, track)
    assert all(math.isfinite(value) for value in (moving.band_change, moving.sharpness_change,
                                                   moving.sharpness_mismatch))
    added = tool.added(refined, track, [1.0, 1.0, 0.0, 1.0])
    assert math.isfinite(added.change) and added.change > 0.0


def test_a_track_with_no_face_region_anywhere_reads_nan(tool: ModuleType) -> None:
    empty = np.zeros((SIZE, SIZE), bool)
    track = _track(tool, [_textured(0)] * 3, [empty] * 3)
    measured = tool.temporal(track, track)
    assert math.isnan(measured.band_change) and math.isnan(measured.sharpness_mismatch)
