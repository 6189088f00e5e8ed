"""A source the mesh engine cannot use (mesh_usable): a profile photo is refused when the
engine is made, with one line saying what to use instead; a turned photo the engine can use
and a source with some usable faces are not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_usable import USABLE_YAW_DEGREES, check_usable
from facedub.errors import FacedubError
from facedub.faceset import Faceset

PROFILE = "still_woman_profile_left.jpg"  # near-profile; the landmarks read 55 degrees
THREE_QUARTER = "still_angelina_jolie_threequarter.jpg"  # 18 degrees: swaps (d9, d10)
CROP = 128  # the refusal reads the pose only: a small crop keeps the extraction quick


def test_a_profile_photo_is_refused_with_what_to_use(
        extracted: Callable[..., Faceset]) -> None:
    # On main this made an engine whose every frame was mangled (BENCHMARKS.md, the
    # forty-third round).
    source = extracted(PROFILE, crop_size=CROP)
    with pytest.raises(FacedubError) as refused:
        MeshEngine(source, source_path=Path(PROFILE))
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"{PROFILE}: its face is turned 5")  # 55 as read today
    assert line.endswith("use a photo or video where the face is turned less than 45 degrees")


def test_a_three_quarter_photo_is_used(extracted: Callable[..., Faceset]) -> None:
    source = extracted(THREE_QUARTER, crop_size=CROP)
    MeshEngine(source, source_path=Path(THREE_QUARTER)).close()


def test_a_source_with_one_usable_face_is_used(
        extracted: Callable[..., Faceset]) -> None:
    # A folder or video with a profile and a frontal face: not refused (a target turned as
    # far may want the profile). The frontal face is made up: the profile's own, its yaw
    # read as 0.
    profile = extracted(PROFILE, crop_size=CROP)
    record = profile.faces_of()[0]
    frontal = replace(record, pose=replace(record.pose, yaw=0.0))
    MeshEngine(replace(profile, records=(record, frontal)), source_path=Path("faces")).close()


def test_every_face_past_the_limit_is_refused_either_way() -> None:
    with pytest.raises(FacedubError, match=r"^clip\.mp4: all its 2 faces are turned 50 to "
                                           r"61 degrees"):
        check_usable([50.0, -61.0], Path("clip.mp4"))
    check_usable([-USABLE_YAW_DEGREES + 0.1, 80.0], Path("clip.mp4"))  # one is usable
    with pytest.raises(FacedubError):
        check_usable([USABLE_YAW_DEGREES], Path("photo.jpg"))  # "less than 45"
