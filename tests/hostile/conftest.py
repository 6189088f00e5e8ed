"""Tiny inputs for the hostile-input suite, made once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_cases import Inputs

from facedub.extract import extract
from facedub.extract.config import ExtractConfig


@pytest.fixture(scope="session")
def inputs(faces_dir: Path, short_clip: Callable[[str, float], Path],
           tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    folder = tmp_path_factory.mktemp("hostile-inputs")
    photo = folder / "face.jpg"
    shutil.copyfile(faces_dir / "still_biden_frontal.jpg", photo)
    clip = folder / "clip.mp4"
    shutil.copyfile(short_clip("clip_liveportrait_d3_woman_headturn.mp4", 0.3), clip)
    faceset = folder / "faces"
    extract(clip, faceset, ExtractConfig(crop_size=64))
    return Inputs(photo, faceset, clip)


