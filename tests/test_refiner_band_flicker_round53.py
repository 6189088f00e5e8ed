"""tools/refiner_band_flicker.py's measures (BENCHMARKS.md, Refiner, twenty-eighth round):
a band that switches on and off between frames reads as a frame-to-frame change of the
face's fine band and as the gain's flips; the same band on every frame reads as none; a
face the refiner leaves as it is (no alpha) still has its frame's gain. On small
synthetic frames, in well under a second."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import ModuleType, SimpleNamespace

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.compositor import Composited
from facedub.engines import refiner as rf

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


class _Checkering:
    """A stand-in composited-stage network: adds a fine checker inside the alpha."""

    reach = 2

    def __call__(self, shown: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        rows, columns = np.mgrid[:shown.shape[2], :shown.shape[3]]
        checker = np.where((rows + columns) % 2 == 0, 1.0, -1.0).astype(np.float32)
        return shown + alpha * checker * np.float32(4.0 / 255.0)


class _Swapper:
    """The swap's per-frame path in little (tool.FaceStages): the frame's own crop (the
    identity matrix) as the target, a blurred copy of it composited in `alpha`, then the
    refiner's `refine_composited` on it as the swap runs it."""

    def __init__(self, alphas: dict[int, np.ndarray]) -> None:
        self.alphas = alphas

    def engine_face(self, frame: media.Frame) -> SimpleNamespace:
        target = SimpleNamespace(image=frame.image, face_from_frame=np.eye(2, 3),
                                 in_frame=None)
        made = Composited(cv2.GaussianBlur(frame.image, (0, 0), 2.0), self.alphas[frame.index])
        return SimpleNamespace(target=target, swapped=made)

    def composite(self, target: SimpleNamespace, swapped: Composited, frame_index: int
                  ) -> tuple[Composited, Composited]:
        shown = rf.refine_composited(_Checkering(), swapped.image, swapped.alpha,
                                     target.image, target.in_frame)
        return swapped, dataclasses.replace(swapped, image=shown)


def test_a_face_with_no_alpha_keeps_its_frame_in_the_gains(tool: ModuleType) -> None:
    """`refine_composited` leaves a face with no alpha as it is without reading a gain:
    its frame's gain is 0, so the gains line up with the frames (one gain a call of
    `composited_band_gain` came up a frame short, and `added`'s strict zip raised)."""
    grain = np.random.default_rng(1).integers(60, 200, (SIZE, SIZE, 1), dtype=np.uint8)
    image, region = np.repeat(grain, 3, axis=2), _scene()[1]  # sharper than its blur
    alphas = {index: region.astype(np.float32) for index in range(3)}
    alphas[1] = np.zeros_like(alphas[1])
    frames = [media.Frame(index, index / 25.0, image) for index in range(3)]
    target, mesh, refined, gains = tool.take(frames, _Swapper(alphas), 3)
    assert len(target.images) == len(refined.images) == 3
    assert gains == [1.0, 0.0, 1.0]  # the whole checker: the blurred face is the softer
    assert (refined.images[1] == mesh.images[1]).all()
    assert (refined.images[0] != mesh.images[0]).any()
