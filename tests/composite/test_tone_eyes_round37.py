"""The made-up eyes' gate (issue 9, thirty-seventh round): the target's base round each
eye moves to its bare skin (`tone._bare_eye_base`) only where the eyes are made up
(expr-shouting's d10: liner, lashes, lilac eye shadow). A bare target's eyes leave the
compositor's work and pixels as they were (readme-photo's Katie Hill: moved for nothing,
its likeness read on frames at the threshold moved; BENCHMARKS.md, thirty-sixth round)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.tone_eyes import eye_makeup
from facedub.engines.base import SwappedFace, TargetFace

SIZE = 448


def _half_lab(target: TargetFace) -> np.ndarray:
    """The compositor's half-size Lab copy of the target crop (what the gate reads)."""
    import cv2
    half = cv2.resize(target.image, (SIZE // 2, SIZE // 2), interpolation=cv2.INTER_AREA)
    lab: np.ndarray = to_lab(half)
    return lab


def test_the_gate_finds_d10s_made_up_eyes(
        first_target_face: Callable[..., TargetFace]) -> None:
    """d10's first frame (expr-shouting's target): her liner's wings and lash lines are
    over an eighth of each eye's band (0.16-0.24 on 14 frames), both eyes fully made up."""
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", SIZE)
    found = eye_makeup(_half_lab(target), target.face_landmarks, SIZE)
    assert found.strengths == (1.0, 1.0), found.shares
    assert min(found.shares) > 0.13


@pytest.mark.parametrize("clip", [
    "clip_sadtalker_hdtf_katiehill_headturn.mp4",  # readme-photo's target
    "clip_liveportrait_d3_woman_headturn.mp4",  # border-photo's (shadowed sockets)
])
def test_the_gate_leaves_bare_eyes(first_target_face: Callable[..., TargetFace],
                                   clip: str) -> None:
    """Katie Hill's and d3's first frames: their lashes and d3's shadowed sockets are
    under a fiftieth of each band (0.000-0.004 on 40 frames): no eye made up."""
    target = first_target_face(clip, SIZE)
    found = eye_makeup(_half_lab(target), target.face_landmarks, SIZE)
    assert found.strengths == (0.0, 0.0), found.shares
    assert max(found.shares) < 0.02


def _blank_swap(target: TargetFace) -> SwappedFace:
    """The target's own crop as the engine's face (the compositor's colour stage runs on
    it as on any face), a photo source's socket light on."""
    return SwappedFace(image=target.image.copy(), mask=np.ones((SIZE, SIZE), np.float32),
                       socket_light=True)


def test_bare_eyes_skip_the_bare_skin_base(first_target_face: Callable[..., TargetFace],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """On Katie Hill's frame the compositor builds no eye band (the bare-skin base's
    2.8 ms a frame is not spent); on d10's it builds one."""
    built: list[int] = []
    original = compositor_module.eye_band_weights

    def counted(*args: object) -> tuple[np.ndarray, np.ndarray]:
        built.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compositor_module, "eye_band_weights", counted)
    compositor = Compositor(CompositeConfig(occlusion="off"))
    bare = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", SIZE)
    compositor.composite(bare, _blank_swap(bare))
    assert not built
    made_up = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", SIZE)
    compositor.composite(made_up, _blank_swap(made_up))
    assert built
