"""The install's caps that keep the swap fast (BENCHMARKS.md, "Swap speed", nineteenth
round): what pip may resolve from pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirement(name: str) -> Requirement:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "dependencies"]
    found = [Requirement(line) for line in dependencies
             if canonicalize_name(Requirement(line).name) == canonicalize_name(name)]
    assert len(found) == 1, f"{name} must be listed once in pyproject.toml's dependencies"
    return found[0]


def test_ml_dtypes_release_with_slow_import_is_excluded() -> None:
    # ml_dtypes 0.7.0's import took 1.36 s of CPU (0.6.0: 0.012 s); onnx imports it: a swap
    # did until the thirty-first round (the occlusion graph), `export` and `refine` still do.
    specifier = _requirement("ml-dtypes").specifier
    assert not specifier.contains("0.7.0")
    assert specifier.contains("0.6.0")


def test_ml_dtypes_cap_still_meets_onnx() -> None:
    # onnx 1.23 asks for ml_dtypes >= 0.5.4: the cap must leave it a release to take.
    specifier = _requirement("ml-dtypes").specifier
    assert specifier.contains("0.5.4")
    assert not specifier.contains("0.5.3")
