"""Fixtures shared by the compositor's tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.registry import SOURCE_CROP
from facedub.faceset import Faceset
from facedub.types import HeadPose

README_CROP = 448  # the crop the README pair's compositing tests look at
StillComposite = Callable[[CompositeConfig, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@pytest.fixture(scope="module")
def composited(extracted: Callable[..., Faceset],
               first_target_face: Callable[..., TargetFace]
               ) -> tuple[np.ndarray, np.ndarray, TargetFace]:
    """The compositor's crop (RGB, no grain) and alpha of the mesh engine's face of the
    studio photo on Katie Hill's first face (README_CROP px), and that target."""
    target = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", README_CROP)
    with closing(MeshEngine(extracted("still_paul_rudd_frontal_studio.jpg",
                                      crop_size=README_CROP))) as engine:
        swapped = engine.swap_face(target)
    result = Compositor(CompositeConfig(grain=False)).composite(target, swapped)
    return result.image, result.alpha, target


@pytest.fixture(scope="module")
def readme_carry_detail(extracted: Callable[..., Faceset],
                        first_target_face: Callable[..., TargetFace]) -> dict[str, Any]:
    """`carry_detail`'s arguments as the compositor passes them on the README pair's first
    frame (Paul Rudd's photo on Katie Hill, 440 px: `face_lab` copied before the call
    changes it, `target_lab`, `mask`, `sigma` and the keyword options), and the target
    face (`target`) and its crop (`target_image`)."""
    target = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", 440)
    with closing(MeshEngine(extracted("still_paul_rudd_frontal_studio.jpg",
                                      crop_size=SOURCE_CROP))) as engine:
        swapped = engine.swap_face(target)
    seen: dict[str, Any] = {}
    real = compositor_module.carry_detail

    def spy(face_lab: np.ndarray, target_lab: np.ndarray, mask: np.ndarray, sigma: float,
            **options: Any) -> np.ndarray:
        seen.update(options, face_lab=face_lab.copy(), target_lab=target_lab, mask=mask,
                    sigma=sigma)
        return real(face_lab, target_lab, mask, sigma, **options)

    patch = pytest.MonkeyPatch()
    patch.setattr(compositor_module, "carry_detail", spy)
    try:
        Compositor(CompositeConfig()).composite(target, swapped)
    finally:
        patch.undo()
    seen.update(target=target, target_image=target.image)
    return seen


@pytest.fixture
def composite_still() -> StillComposite:
    """A compositor run on one drawn frame: (config, target crop (S, S, 3) uint8, its
    landmarks (478, 3) in crop pixels, the engine's face (S, S, 3) uint8, shown whole) ->
    the composited crop. A still, frontal head with a neutral expression."""
    def run(config: CompositeConfig, target: np.ndarray, landmarks: np.ndarray,
            face: np.ndarray) -> np.ndarray:
        size = target.shape[0]
        still = TargetFace(image=target, face_landmarks=landmarks,
                           face_from_frame=np.eye(2, 3), pose=HeadPose(0.0, 0.0, 0.0),
                           blendshapes=np.zeros(52, np.float32), time=0.0, track=0)
        return Compositor(config).composite(
            still, SwappedFace(face, np.ones((size, size), np.float32))).image
    return run
