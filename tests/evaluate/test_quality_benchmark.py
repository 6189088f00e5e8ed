"""benchmarks/quality.py: its pair list points at real files and its table renders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "quality.py"


@pytest.fixture(scope="module")
def quality(benchmark_module: Callable[[str], ModuleType]) -> ModuleType:
    return benchmark_module("quality")


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


def test_a_trimmed_target_is_lossless(quality: ModuleType, tmp_path: Path) -> None:
    """The trimmed clip decodes to the pixels it was cut from: a lossy one came out
    different from run to run on a loaded machine, and with it every measure."""
    from fractions import Fraction

    from facedub import media

    rng = np.random.default_rng(0)
    grey = [np.repeat(rng.integers(40, 216, (64, 64, 1), dtype=np.uint8), 3, axis=2)
            for _ in range(4)]  # grey noise: nothing for 4:2:0 chroma to lose
    clip = tmp_path / "noise.mkv"  # not a copyable container: it is re-encoded
    with media.VideoWriter(clip, 64, 64, Fraction(10), crf=0) as writer:
        for index, image in enumerate(grey):
            writer.write(image, index / 10)
    before = [frame.image for frame in media.iter_frames(clip)]
    trimmed = quality.trimmed(clip, 3, tmp_path / "targets")
    after = [frame.image for frame in media.iter_frames(trimmed)]
    assert len(after) == 3
    for original, cut in zip(before, after, strict=False):
        assert np.abs(original.astype(int) - cut.astype(int)).max() <= 1


def test_table_has_a_row_per_outcome_and_reports_failures(quality: ModuleType) -> None:
    pair = quality.Pair("p", Path("s.mp4"), Path("t.mp4"))
    table = quality.markdown([quality.Outcome(pair, "mesh", 1.0, None, "swap: exit 2: no|face")])
    header, rule, row = table.splitlines()[:3]
    assert header.count("|") == rule.count("|") == row.count("|")
    assert "exit 2: no/face" in row
    assert quality.realism_markdown([]).startswith("| pair | kind | SSIM")


def test_every_swap_carries_a_fixed_job_id(quality: ModuleType, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A random watermark id moves small faces' identity numbers from run to run: the
    benchmark swaps with the pair's own id (from its name, the same in every run) or the
    one asked for."""
    import subprocess

    commands: list[list[str]] = []

    def ran(command: list[str], *_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 1, "", "stopped here")

    monkeypatch.setattr(quality, "run_stoppably", ran)
    pair = quality.Pair("occlusion-smoke-hand", Path("s.jpg"), Path("t.mp4"))
    other = quality.Pair("film-headturn", Path("s.jpg"), Path("t.mp4"))
    for shown, job_id in ((pair, None), (pair, None), (other, None), (pair, 123)):
        quality.run_swap(shown, shown.source, shown.target, "mesh", [], tmp_path / "o.mp4",
                         job_id)
    ids = [int(command[command.index("--job-id") + 1]) for command in commands]
    assert ids[0] == ids[1] == quality.pair_job_id("occlusion-smoke-hand") == 60408
    assert ids[2] != ids[0] and ids[3] == 123 and all(0 <= i <= 65535 for i in ids)
