"""Damaged or crafted facesets: refused when read, naming the file and line, by every
command that reads one (inspect, train, swap), in seconds."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_cases import Inputs, refused

Edit = Callable[[list[bytes]], list[bytes]]


def _damaged(inputs: Inputs, folder: Path, edit: Edit) -> Path:
    """A copy of the input faceset whose faces.jsonl lines went through `edit`."""
    faceset = folder / "faces"
    shutil.copytree(inputs.faceset, faceset)
    records = faceset / "faces.jsonl"
    lines = records.read_bytes().splitlines(keepends=True)
    records.write_bytes(b"".join(edit(lines)))
    return faceset


def _first_record(change: Callable[[dict[str, Any]], None]) -> Edit:
    def edit(lines: list[bytes]) -> list[bytes]:
        record = json.loads(lines[0])
        change(record)
        return [json.dumps(record).encode() + b"\n", *lines[1:]]
    return edit


def _set_landmark(value: float) -> Edit:
    def change(record: dict[str, Any]) -> None:
        record["landmarks"][10][0] = value
        record["landmarks"][200][1] = value
    return _first_record(change)


def _set_image(path: str) -> Edit:
    def change(record: dict[str, Any]) -> None:
        record["image"] = path
    return _first_record(change)


CASES: dict[str, tuple[Edit, str]] = {
    "nan-landmarks": (_set_landmark(float("nan")), "NaN"),
    "inf-landmarks": (_set_landmark(float("inf")), "infinite"),
    "huge-landmarks": (_set_landmark(1e9), "beyond"),
    "crop-path-up": (_set_image("faces/../../../etc/passwd.png"), "not a file inside"),
    "crop-path-absolute": (_set_image("/etc/passwd"), "not a file inside"),
    "crop-path-mask-folder": (_set_image("masks/000000_00.png"), "not a file inside"),
    "not-utf8": (lambda lines: [lines[0], b'{"frame": "\xff\xfe"}\n', *lines[1:]], "UTF-8"),
    "garbage-last-line": (lambda lines: [*lines, b"{garbage"], "line"),
    "not-an-object": (lambda lines: [b"[1, 2, 3]\n", *lines], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_faceset_is_refused_by_every_reader(case: str, inputs: Inputs,
                                                    tmp_path: Path) -> None:
    edit, message = CASES[case]
    faceset = _damaged(inputs, tmp_path, edit)
    plot = tmp_path / "map.png"
    refused(["inspect", faceset, "--plot", plot], plot, [faceset], message)
    run = tmp_path / "run"
    refused(["train", faceset, inputs.faceset, "-o", run], run, [faceset, inputs.faceset],
            message)
    out = tmp_path / "out.jpg"
    refused(["swap", "--source", faceset, "--target", inputs.photo, "-o", out, "--work-dir",
             tmp_path / "work"], out, [faceset, inputs.photo], message)
