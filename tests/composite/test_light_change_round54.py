"""The followed light, only a light that is added (`composite.light_change`; BENCHMARKS.md,
fifty-fourth round): a camera's even exposure rise, a head's own shading moved about and
a head turned away from the frames the usual light is read from add nothing, while a
torch on half the face still adds its marks."""

from __future__ import annotations

import numpy as np

from facedub.composite.compositor import CompositeConfig
from facedub.composite.light_change import LightFrame, light_change


def _relief(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (50.0 + 10.0 * rng.random((96, 96))).astype(np.float32)


def _lit(lightness: np.ndarray, brighter: float) -> np.ndarray:
    """A torch `brighter` L on the right half, fading in over a few pixels."""
    ramp = np.clip((np.arange(lightness.shape[1]) - 44.0) / 8.0, 0.0, 1.0)
    return (lightness + brighter * ramp[None, :]).astype(np.float32)


def _last_change(planes: list[np.ndarray], poses: list[tuple[float, float]]) -> np.ndarray | None:
    """`light_change` over `planes` (at `poses`) as one track; the last frame's lightness."""
    mask = np.ones(planes[0].shape, np.float32)
    history: tuple[LightFrame, ...] = ()
    lightness = None
    for plane, pose in zip(planes, poses, strict=True):
        change = light_change(plane, mask, mask, mask, np.zeros_like(mask), pose, 12.0, history)
        history, lightness = change.history, change.lightness
    return lightness


def _strength(lightness: np.ndarray | None) -> float:
    return 0.0 if lightness is None else float(np.abs(lightness).max())


def test_a_torch_on_half_the_face_is_followed() -> None:
    relief = _relief(0)
    assert _strength(_last_change([relief] * 5 + [_lit(relief, 20.0)], [(0.0, 0.0)] * 6)) > 4.0


def test_an_even_exposure_rise_adds_nothing() -> None:
    # The webcam clip's first second: the face 22 L lighter, evenly but for the camera's
    # tone curve, which lifts its darker skin more (5-6 L past the even gain at the 90th
    # percentile): followed, it moved the eye sockets by up to 2 L (fifty-third round).
    relief = _relief(1)
    rows, columns = np.mgrid[0:96, 0:96].astype(np.float32)
    relief -= 30.0 * np.exp(-((rows - 40.0) ** 2 + (columns - 30.0) ** 2) / 300.0)  # a socket
    exposed = (relief + 22.0 + 0.4 * (55.0 - relief)).astype(np.float32)
    assert _strength(_last_change([relief] * 5 + [exposed], [(0.0, 0.0)] * 6)) == 0.0


def test_a_head_shading_moved_about_adds_nothing() -> None:
    # A head that tilts moves its own shade (occlusion-mic 36-39: round the brows and
    # eye sockets, up to 20 L) with the face's mean light 1.3-2.4 L up, past the usual
    # light's DARKEST_WITHIN.
    relief = _relief(2)
    columns = np.arange(96, dtype=np.float32)[None, :]
    shade_left = relief - 16.0 * np.exp(-((columns - 30.0) / 10.0) ** 2)
    shade_right = relief + 2.5 - 16.0 * np.exp(-((columns - 66.0) / 10.0) ** 2)
    planes = [shade_left.astype(np.float32)] * 5 + [shade_right.astype(np.float32)]
    assert _strength(_last_change(planes, [(0.0, 0.0)] * 6)) == 0.0


def test_a_head_turned_from_the_usual_lights_frames_adds_nothing() -> None:
    # d3 turning 16 degrees: the usual light read across her turn, its frames' mean pose
    # 8 degrees from hers (under POSE_FROM), the farthest of them 16 (border-photo,
    # ball-photo 22-26); the torch's light here only stands in for what her turn moved.
    relief = _relief(3)
    poses = [(-2.0 * n, 0.0) for n in range(9)] + [(-16.0, 0.0)]
    assert _strength(_last_change([relief] * 9 + [_lit(relief, 20.0)], poses)) == 0.0


def test_the_light_is_followed_by_default() -> None:
    # Every moved pair as good or better with it on (self-photo's torch frames; the other
    # 25 pairs main's to the byte): a user expects the target's light followed.
    assert CompositeConfig().follow_light
