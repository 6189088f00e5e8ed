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
    assert len(plan.pairs) >= 5 and plan.engines
    for pair in plan.pairs:
        assert pair.source.exists() and pair.target.exists()
    assert plan.gallery == faces_dir.resolve()
    # Both kinds of self-swap: a split clip and a photo (one frame) onto another clip.
    selves = [pair for pair in plan.pairs if pair.self_swap]
    assert any(p.source_seconds and p.target_seconds and p.source == p.target for p in selves)
    assert any(p.source_frame is not None and p.source != p.target for p in selves)


def test_a_pair_is_cut_into_a_clip_half_and_a_still(quality: ModuleType, faces_dir: Path,
                                                   tmp_path: Path) -> None:
    from facedub import media

    clip = faces_dir / "clip_liveportrait_d18_man_frontal_mouth.mp4"
    pair = quality.Pair("self", clip, clip, self_swap=True, source_frame=3,
                        target_seconds=(1.0, 1.5))
    source, target = quality.prepared(pair, 10, tmp_path)
    assert media.is_photo_path(source) and media.probe(source).kind == "photo"
    frames = list(media.iter_frames(target))
    assert len(frames) == 10 and frames[0].time == pytest.approx(0.0, abs=0.05)


def test_table_has_a_row_per_outcome_and_reports_failures(quality: ModuleType) -> None:
    pair = quality.Pair("p", Path("s.mp4"), Path("t.mp4"))
    table = quality.markdown([quality.Outcome(pair, "mesh", 1.0, None, "swap: exit 2: no|face")])
    header, rule, row = table.splitlines()[:3]
    assert header.count("|") == rule.count("|") == row.count("|")
    assert "exit 2: no/face" in row
    assert quality.realism_markdown([]).startswith("| pair | kind | SSIM")
