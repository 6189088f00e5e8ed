"""A refiner and turned faces (engines/mesh_usable): a source whose every face is a profile
is refused before training, with the swap's line; a source accepted as a whole trains even
where one of its pools holds only turned faces (a video whose person looks away for a
while), as it did before the mesh engine refused profiles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.train.refine import RefineConfig, refine
from facedub.train.refine_data import _engine_over

PROFILE = "still_woman_profile_left.jpg"  # the landmarks read 55 degrees


def _turned(extracted: Callable[..., Faceset], count: int) -> Faceset:
    profile = extracted(PROFILE, crop_size=128)
    return replace(profile, records=(profile.faces_of()[0],) * count)


def test_a_source_of_profiles_is_refused_before_training(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    run_dir = tmp_path / "refiner"
    with pytest.raises(FacedubError, match="turned less than 45 degrees"):
        refine(_turned(extracted, 8), run_dir, RefineConfig(steps=1, device="cpu"))
    assert not run_dir.exists()


def test_a_pool_of_turned_faces_still_renders(extracted: Callable[..., Faceset]) -> None:
    # The source was accepted; a pool (or its thinned tenth) of turned faces is not refused.
    source = _turned(extracted, 4)
    engine = _engine_over(source, np.arange(4), 0.5, np.random.default_rng(0))
    engine.close()
