"""faceset.py owns the schema: faceset.json round-trips through FacesetMeta, and what is
wrong is named."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from facedub.errors import FacedubError
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faceset import (
    META_FILE,
    FaceRecord,
    Faceset,
    FacesetMeta,
    PersonSummary,
    largest_face_per_frame,
    load_faceset,
    read_meta,
    write_meta,
)
from facedub.types import HeadPose

META = FacesetMeta(
    crop_size=256, coverage="whole", source_name="clip.mp4", source_sha256="ab" * 32,
    source_kind="video", source_frames=50, frames_analysed=50, person=1,
    persons=(PersonSummary(0, 40, 40, 1, np.full(128, 0.1, np.float32)),
             PersonSummary(1, 12, 12, 2, None)),
    blendshape_names=BLENDSHAPE_NAMES, resumable={"crop_size": 256, "every": 1},
    max_frames=None, has_crops=True, cuts=frozenset({0, 31}), complete=True,
    reference_distance=0.4123, tool="facedub 0.1.0")


def _same(a: FacesetMeta, b: FacesetMeta) -> None:
    assert replace(a, persons=()) == replace(b, persons=())
    for left, right in zip(a.persons, b.persons, strict=True):
        assert (left.id, left.faces, left.frames, left.tracks) == \
            (right.id, right.faces, right.frames, right.tracks)
        if left.descriptor is None:
            assert right.descriptor is None
        else:
            np.testing.assert_allclose(left.descriptor, right.descriptor, atol=1e-6)


def test_meta_round_trips_through_json(tmp_path: Path) -> None:
    write_meta(tmp_path, META)
    _same(read_meta(tmp_path), META)
    raw = json.loads((tmp_path / META_FILE).read_text())
    assert raw["format"] == "facedub-faceset" and raw["version"] == 1
    assert raw["person_reference"] == {"distance": 0.4123}
    assert raw["cuts"] == [0, 31]


def test_a_wrong_coverage_or_missing_field_is_named(tmp_path: Path) -> None:
    raw = META.to_json()
    raw["coverage"] = "half"
    (tmp_path / META_FILE).write_text(json.dumps(raw))
    with pytest.raises(FacedubError, match=r"coverage 'half'.*extract again"):
        read_meta(tmp_path)
    raw["coverage"] = "whole"
    del raw["source"]
    (tmp_path / META_FILE).write_text(json.dumps(raw))
    with pytest.raises(FacedubError, match="field 'source' is missing; "):
        read_meta(tmp_path)


def test_an_incomplete_faceset_is_refused_with_what_to_do(tmp_path: Path) -> None:
    write_meta(tmp_path, replace(META, complete=False))
    with pytest.raises(FacedubError, match=r"incomplete.*run the same `facedub extract`"):
        load_faceset(tmp_path)


def _record(frame: int, box: tuple[float, float, float, float]) -> FaceRecord:
    return FaceRecord(frame=frame, time=frame / 25, source="clip.mp4", track=0, person=0,
                      box=box, frame_landmarks=np.zeros((478, 3), np.float32),
                      face_from_frame=np.eye(2, 3), pose=HeadPose(0, 0, 0),
                      blendshapes=np.zeros(52, np.float32), descriptor=None, sharpness=1.0,
                      image="", mask="")


def test_the_largest_face_of_each_frame_is_kept() -> None:
    small, large, other = _record(3, (0, 0, 10, 10)), _record(3, (0, 0, 20, 20)), \
        _record(4, (5, 5, 6, 6))
    assert largest_face_per_frame([small, large, other]) == {3: large, 4: other}
    assert largest_face_per_frame([large, small]) == {3: large}


def test_the_chosen_persons_descriptor_is_its_own(tmp_path: Path) -> None:
    assert Faceset(tmp_path, META, ()).person_descriptor() is None  # 1 was never described
    described = Faceset(tmp_path, replace(META, person=0), ()).person_descriptor()
    assert described is not None
    np.testing.assert_allclose(described, np.full(128, 0.1), atol=1e-6)
