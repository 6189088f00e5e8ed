"""composite/tone.py's mean levelling without what the engine lifted (issue 9, fifty-first
round): `_level`'s `unlevelled` share, fed by `SwappedFace.lifted` (the mesh engine's lift
beside a photo's hanging hair), so the lift stays where it is instead of being taken back
from the whole face; None (every face the lift leaves alone) levels as before, to the bit."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.composite.tone import _level
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset


def _lifted_strip(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(result, target_half, strip): a flat Lab face 2 L lighter than its target, and a
    strip down one cheek lifted 6 L more."""
    target_half = np.zeros((size // 2, size // 2, 3), dtype=np.float32)
    target_half[...] = (60.0, 12.0, 14.0)
    result = np.zeros((size, size, 3), dtype=np.float32)
    result[...] = (62.0, 12.0, 14.0)
    strip = np.zeros((size, size), dtype=np.float32)
    strip[:, size // 2 + 40:size // 2 + 72] = 1.0
    result[strip > 0, 0] += 6.0
    return result, target_half, strip


def test_the_level_leaves_the_unlevelled_share_out() -> None:
    result, target_half, strip = _lifted_strip(256)
    shown = np.ones((256, 256), dtype=np.float32)
    counted = _level(result, target_half, shown)
    assert counted[0] > 2.5  # the strip's lift in the mean: taken from the whole face
    np.testing.assert_allclose(_level(result, target_half, shown, None, strip), (2.0, 0.0, 0.0),
                               atol=1e-4)
    # In a box, the same.
    box = (slice(0, 256), slice(64, 256))
    np.testing.assert_allclose(
        _level(np.ascontiguousarray(result[box]), target_half, shown, box, strip),
        (2.0, 0.0, 0.0), atol=1e-4)


def test_no_unlevelled_share_levels_to_the_bit_as_before() -> None:
    rng = np.random.default_rng(51)
    result = (rng.random((256, 256, 3)) * 50).astype(np.float32)
    target_half = (rng.random((128, 128, 3)) * 50).astype(np.float32)
    shown = cv2.GaussianBlur((rng.random((256, 256)) > 0.3).astype(np.float32), (0, 0), 3)
    assert np.array_equal(_level(result, target_half, shown, None, None),
                          _level(result, target_half, shown))


def test_only_a_photo_with_hanging_hair_gives_a_lifted_share(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """Rose Leslie's photo (hair over both cheeks) onto the call's frame 29: the lifted
    share covers her hair's reach on both cheeks, not the nose; Rowan Atkinson's photo
    (no hanging hair taken) gives None, so the compositor levels it as it did."""
    target = call_face(29)
    rose = MeshEngine(extracted("still_rose_leslie_frontal.jpg", crop_size=512),
                      MeshEngineConfig(follow=1.0, read_eyes=False)).swap_face(target)
    assert rose.lifted is not None
    landmarks = target.face_landmarks
    middle = int(landmarks[1, 0])  # the nose tip
    lifted = rose.lifted > 0.5
    assert lifted[:, :middle].sum() > 300 and lifted[:, middle:].sum() > 300
    nose = slice(int(landmarks[6, 1]), int(landmarks[1, 1]))  # from its bridge to its tip
    assert not lifted[nose, middle - 8:middle + 8].any()
    rowan = MeshEngine(extracted("still_rowan_atkinson_older_man.jpg", crop_size=512),
                       MeshEngineConfig(follow=1.0, read_eyes=False)).swap_face(target)
    assert rowan.lifted is None
