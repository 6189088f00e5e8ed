"""The composited stage's band under a gain on its sharpness (fifty-second round): the
swap keeps no more of the refiner's fine band than leaves the face's sharpness (the
evaluation's mean |Laplacian|) as near the target's as the compositor's crop was, so
the sharpness mismatch does not rise. On a real photo's face, in seconds."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub.engines.refiner import (
    SHARPNESS_SLACK,
    TorchCropRefiner,
    composited_band_gain,
    crop_scale,
    refine_composited,
)
from portrait_support import portrait_middle
from refiner_support import random_head_refiner

PHOTO = "still_biden_frontal.jpg"


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> np.ndarray:
    """(192, 192, 3) uint8 RGB: the middle of a real frontal portrait (the face)."""
    return portrait_middle(faces_dir / PHOTO, 192)


def _sharpness(image: np.ndarray, where: np.ndarray) -> float:
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[where].mean())


def _mismatch(image: np.ndarray, target: np.ndarray, where: np.ndarray) -> float:
    return abs(float(np.log2(_sharpness(image, where) / _sharpness(target, where))))


def _disc(size: int, radius: float) -> np.ndarray:
    rows, columns = np.mgrid[:size, :size]
    return np.hypot(rows - size / 2, columns - size / 2) < radius


def test_a_band_toward_the_target_is_kept_whole(face: np.ndarray) -> None:
    target = face.astype(np.float32)
    soft = cv2.GaussianBlur(target, (0, 0), 1.2)
    where = _disc(192, 70)
    assert composited_band_gain(soft, (target - soft) * 0.5, target, where) == 1.0


def test_a_band_away_from_the_target_is_dropped(face: np.ndarray) -> None:
    """A softer face softened more (and a sharper one sharpened more): no band kept."""
    target = face.astype(np.float32)
    where = _disc(192, 70)
    soft = cv2.GaussianBlur(target, (0, 0), 1.0)
    assert composited_band_gain(soft, cv2.GaussianBlur(soft, (0, 0), 1.0) - soft, target,
                                where) == 0.0
    sharp = target + (target - cv2.GaussianBlur(target, (0, 0), 1.0))
    assert composited_band_gain(sharp, sharp - cv2.GaussianBlur(sharp, (0, 0), 1.0),
                                target, where) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_mismatch_never_rises_under_the_gain(face: np.ndarray, seed: int) -> None:
    """Bands of every sort (a random mix of sharpening and softening at two scales) on
    a face a little softer than the target: what the gain keeps leaves the sharpness no
    further from the target's than it was."""
    rng = np.random.default_rng(seed)
    target = face.astype(np.float32)
    shown = cv2.GaussianBlur(target, (0, 0), 0.8)
    fine = shown - cv2.GaussianBlur(shown, (0, 0), 1.0)
    middle = cv2.GaussianBlur(shown, (0, 0), 1.0) - cv2.GaussianBlur(shown, (0, 0), 2.5)
    extra = (rng.normal(0.0, 0.8) * fine + rng.normal(0.0, 0.8) * middle).astype(np.float32)
    where = _disc(192, 70)
    gain = composited_band_gain(shown, extra, target, where)
    assert 0.0 <= gain <= 1.0
    assert (_mismatch(shown + gain * extra, target, where)
            <= _mismatch(shown, target, where) + SHARPNESS_SLACK + 1e-4)


def test_the_gain_reads_the_frames_scale(face: np.ndarray) -> None:
    """A crop twice the frame's size is read at the frame's: a band finer than a frame
    pixel (a checkerboard of crop pixels), which the paste-back's shrinking averages
    away, moves nothing there and is kept whole; read at the crop's own scale it is far
    sharper than the target and is cut."""
    target = cv2.resize(face, (384, 384), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    shown = cv2.GaussianBlur(target, (0, 0), 1.5)
    checker = (np.indices((384, 384)).sum(axis=0) % 2 * 2 - 1).astype(np.float32)
    extra = np.repeat(checker[..., None], 3, axis=2) * 4.0
    where = _disc(384, 140)
    assert composited_band_gain(shown, extra, target, where) < 1.0
    scaled = composited_band_gain(shown, extra, target, where, frame_scale=2.0)
    assert scaled == pytest.approx(1.0)
    assert crop_scale(np.array([[2.0, 0.0, 5.0], [0.0, 2.0, 7.0]])) == pytest.approx(2.0)


def test_refine_composited_keeps_a_sharper_face_from_sharpening(face: np.ndarray) -> None:
    """Through the swap's own step: a network that sharpens, on a composited face
    already sharper than its target, leaves its sharpness where it was (before the gain
    the mismatch rose)."""
    model = random_head_refiner(0.3)
    target = cv2.GaussianBlur(face, (0, 0), 1.5)
    alpha = _disc(192, 80).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 3.0)
    out = refine_composited(TorchCropRefiner(model), face, alpha, target)
    where = alpha > 0.5
    assert (_mismatch(out, target, where)
            <= _mismatch(face, target, where) + SHARPNESS_SLACK + 1e-3)
    shown = np.ascontiguousarray(face.transpose(2, 0, 1), np.float32)[None] / 255.0
    raw = TorchCropRefiner(model)(shown, alpha[None, None])
    assert np.abs(raw - shown).max() * 255.0 > 4  # the network does move it
