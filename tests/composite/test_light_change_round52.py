"""A torch sweeping over the target's face: its finer light (the nose's cast shadow, the
lit nose tip, the lit / dark split down the chin) on the swapped face
(`composite.light_change`; BENCHMARKS.md, fifty-second round)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.light_change import light_change
from facedub.engines.base import SwappedFace, TargetFace
from facedub.types import HeadPose

TORCH = "clip_openface_changelighting_torch_moving_light.wmv"  # clip 13: the torch on from 9
LIT = 12  # the torch on his nose and right cheek


def _target(crop: np.ndarray, landmarks: np.ndarray, time: float) -> TargetFace:
    return TargetFace(image=crop, face_landmarks=landmarks, face_from_frame=np.eye(2, 3),
                      pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
                      time=time, track=0)


def _composited(frames: list[tuple[float, np.ndarray, np.ndarray]], config: CompositeConfig
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """His own torch-off first frame (the "photo") composited onto each frame in turn:
    (output crop, alpha) per frame."""
    face = SwappedFace(frames[0][1], np.ones(frames[0][1].shape[:2], np.float32))
    compositor = Compositor(config)
    out = []
    for time, crop, landmarks in frames:
        result = compositor.composite(_target(crop, landmarks, time), face)
        out.append((result.image, result.alpha))
    return out


def _band(image: np.ndarray) -> np.ndarray:
    """The lightness band between a 64th and a 16th of the crop (the tone's split)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    size = image.shape[0]
    return cv2.GaussianBlur(grey, (0, 0), size / 64) - cv2.GaussianBlur(grey, (0, 0), size / 16)


def _correlation(first: np.ndarray, second: np.ndarray, where: np.ndarray) -> float:
    a, b = first[where] - first[where].mean(), second[where] - second[where].mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.fixture(scope="module")
def torch_frames(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
                 ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    # The first 53 frames, as the fifty-third round's tests take them, in their xdist group
    # (JOINS_GROUP): one extraction a run.
    return aligned_frames(TORCH, 53)[:LIT + 1]


def test_a_torch_lit_face_takes_the_torchs_finer_light(
        torch_frames: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    # Main's code (as `follow_light=False`): the band correlates with his lit frame's at
    # 0.86 (the first frame's flat light, his relief only); followed, 0.91. Before the
    # torch both are 0.99 (frame 5).
    image, alpha = _composited(torch_frames, CompositeConfig(occlusion="off",
                                                             follow_light=True))[LIT]
    face = alpha > 0.5
    assert _correlation(_band(image), _band(torch_frames[LIT][1]), face) > 0.89


def test_a_steady_light_moves_nothing(
        torch_frames: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    # Frames 0-5: the torch off, his coarse light within CHANGE_FROM of the first frame's.
    steady = torch_frames[:6]
    followed = _composited(steady, CompositeConfig(occlusion="off", follow_light=True))
    plain = _composited(steady, CompositeConfig(occlusion="off", follow_light=False))
    for (image, _), (expected, _) in zip(followed, plain, strict=True):
        np.testing.assert_array_equal(image, expected)


def test_the_first_frame_an_unchanged_light_and_a_turned_head_add_nothing() -> None:
    rng = np.random.default_rng(0)
    lightness = (60.0 + 10.0 * rng.random((96, 96))).astype(np.float32)
    mask = np.ones((96, 96), np.float32)
    none = np.zeros_like(mask)
    first = light_change(lightness, mask, mask, mask, none, (0.0, 0.0), 12.0, ())
    assert first.lightness is None
    again = light_change(lightness, mask, mask, mask, none, (0.0, 0.0), 12.0, first.history)
    assert again.lightness is None
    # A light 20 L brighter on the right half: its edge is added there.
    lit = lightness.copy()
    lit[:, 48:] += 20.0
    change = light_change(lit, mask, mask, mask, none, (0.0, 0.0), 12.0, first.history)
    assert change.lightness is not None
    assert change.lightness[:, 50:54].mean() > 2.0 > -2.0 > change.lightness[:, 42:46].mean()
    # The same change on a head turned 15 degrees from the reference's pose: its own
    # shading moved in the crop, not the light.
    assert light_change(lit, mask, mask, mask, none, (15.0, 0.0), 12.0, first.history
                        ).lightness is None
