"""The torch's light on the brows the source owns (`composite.light_change._brows_lift`;
BENCHMARKS.md, fifty-seventh round): the light's gain on the usual coarse light lifts the
brows as if they were as light as the skin round them, so on a source lit like the target
(his own unlit face: its brows' detail carried undimmed, `tone.light_gain` 1) they come
out about 4 L lighter than his lit brows. Capped at his own rise it passes, but on
self-photo's photo (its brows' detail dimmed 0.52 -> 0.92 of itself as the torch lifts the
light ratio 0.42 -> 0.63) the cap took the brows further from his (hull 17.2 -> 15.5 L
against 20.7) and face SSIM fell at every id: reverted, kept here as a strict xfail."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.masks import convex_hull_mask
from facedub.faces.regions import mesh_regions
from facedub.types import HeadPose

TORCH = "clip_openface_changelighting_torch_moving_light.wmv"  # clip 13: the torch on 9-21
FRAMES = 53  # round53's aligned frames (the session's fixture makes them once)
LIT = range(16, 20)  # the torch full on his brow ridge
SIZE = 256


@pytest.fixture(scope="module")
def torch_frames(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
                 ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    return [(time, cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA),
             landmarks * (SIZE / crop.shape[0]))
            for time, crop, landmarks in aligned_frames(TORCH, FRAMES)[:LIT.stop]]


def _brows_lightness(image: np.ndarray, landmarks: np.ndarray) -> float:
    regions = mesh_regions()
    brows = (convex_hull_mask(landmarks[regions.left_eyebrow], (SIZE, SIZE))
             | convex_hull_mask(landmarks[regions.right_eyebrow], (SIZE, SIZE)))
    lightness = cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[..., 0]
    return float(lightness[brows].mean())


def _composited(frames: list[tuple[float, np.ndarray, np.ndarray]], follow_light: bool
                ) -> list[np.ndarray]:
    """His unlit first face composited onto each frame in turn (one track)."""
    face = frames[0][1]
    swapped = SwappedFace(face, np.ones(face.shape[:2], np.float32))
    compositor = Compositor(CompositeConfig(occlusion="off", grain=False,
                                            follow_light=follow_light))
    return [compositor.composite(
        TargetFace(image=crop, face_landmarks=landmarks, face_from_frame=np.eye(2, 3),
                   pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
                   time=time, track=0), swapped).image
        for time, crop, landmarks in frames]


@pytest.mark.xfail(strict=True, reason="the brows' lift overshoots an undimmed source's brows "
                   "by -band * (gain - 1); capping it cost self-photo (BENCHMARKS.md, "
                   "fifty-seventh round)")
def test_his_own_brows_under_the_torch_come_out_as_lit_as_his_not_lighter(
        torch_frames: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    # His own unlit face is the ideal source: its brows under the torch should be his lit
    # brows. The lift puts them 2.1, 3.8, 4.2, 4.2 L over his on 16-19; capped at his own
    # rise -0.3 to +1.5, still 2.9-3.7 L lighter than with the term off.
    followed = _composited(torch_frames, follow_light=True)
    plain = _composited(torch_frames, follow_light=False)
    over = [_brows_lightness(followed[n], torch_frames[n][2])
            - _brows_lightness(torch_frames[n][1], torch_frames[n][2]) for n in LIT]
    lifted = [_brows_lightness(followed[n], torch_frames[n][2])
              - _brows_lightness(plain[n], torch_frames[n][2]) for n in LIT]
    assert max(over) < 2.5
    assert min(lifted) > 2.5
