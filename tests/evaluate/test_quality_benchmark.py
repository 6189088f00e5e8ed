"""benchmarks/quality.py: its pair list points at real files and its table renders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "quality.py"


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    sys.path.insert(0, str(BENCHMARK.parent))  # as when run as a script: finds _measure
    spec = importlib.util.spec_from_file_location("quality_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_pairs_file_names_existing_media(quality: ModuleType, faces_dir: Path) -> None:
    plan = quality.load_plan(BENCHMARK.with_name("pairs.toml"))
    assert len(plan.pairs) >= 3 and plan.engines
    for pair in plan.pairs:
        assert pair.source.exists() and pair.target.exists()
    assert plan.gallery == faces_dir.resolve()


def test_table_has_a_row_per_outcome_and_reports_failures(quality: ModuleType) -> None:
    pair = quality.Pair("p", Path("s.mp4"), Path("t.mp4"))
    table = quality.markdown([quality.Outcome(pair, "mesh", 1.0, None, "swap: exit 2: no|face")])
    header, rule, row = table.splitlines()[:3]
    assert header.count("|") == rule.count("|") == row.count("|")
    assert "exit 2: no/face" in row
