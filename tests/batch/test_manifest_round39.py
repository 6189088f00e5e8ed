"""Round 39: a damaged batch manifest is named in one line that says what is wrong in
words and what to do. Before: "not a facedub batch manifest file" (no remedy) for a JSON
array, and Python's own words for a damaged entry ("FinishedJob.__init__() missing 6
required positional arguments: ...", "argument after ** must be a mapping, not int",
"'list' object has no attribute 'items'")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facedub.batch.manifest import MANIFEST_FORMAT, Manifest
from facedub.errors import FacedubError

REMEDY = "; delete it to run every job again"
FIELDS = "key, output_sha256, frames, frames_swapped, seconds, attempts, finished"


@pytest.mark.parametrize(("content", "problem"), [
    ([], "not a facedub batch manifest file"),
    ({"format": MANIFEST_FORMAT, "version": 1, "jobs": [1, 2]}, 'malformed (no "jobs" object)'),
    ({"format": MANIFEST_FORMAT, "version": 1, "jobs": {"a.jpg": 5}},
     f"malformed (job 'a.jpg' lacks {FIELDS})"),
    ({"format": MANIFEST_FORMAT, "version": 1, "jobs": {"a.jpg": {"key": "k"}}},
     f"malformed (job 'a.jpg' lacks {FIELDS.removeprefix('key, ')})"),
])
def test_a_damaged_manifest_says_what_and_what_to_do(content: object, problem: str,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "batch-manifest.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FacedubError) as raised:
        Manifest(tmp_path)
    assert str(raised.value) == f"{path}: {problem}{REMEDY}"


def test_a_whole_manifest_still_reads(tmp_path: Path) -> None:
    entry = {"key": "k", "output_sha256": "s", "frames": 3, "frames_swapped": 3,
             "seconds": 1.5, "attempts": 1, "finished": "2026-12-06T00:00:00Z"}
    (tmp_path / "batch-manifest.json").write_text(json.dumps(
        {"format": MANIFEST_FORMAT, "version": 1, "jobs": {"a.jpg": entry}}))
    assert Manifest(tmp_path).jobs["a.jpg"].frames == 3
