"""Fixtures shared by the compositor's tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing

import numpy as np
import pytest

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.faceset import Faceset

README_CROP = 448  # the crop the README pair's compositing tests look at


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
