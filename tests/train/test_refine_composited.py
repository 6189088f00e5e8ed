"""`refine`'s held-out check on composited faces (train/refine_composited.py): the source
video's held-out stretch swapped from the frames before it, the best state chosen on it
against the mesh engine's composited faces, and a verdict when training ends."""

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facedub import media
from facedub.faceset import Faceset
from facedub.models.refiner_run import BEST_METRIC, COMPOSITED_METRIC, BestState, read_best
from facedub.train.refine import RefineRun, refine
from facedub.train.refine_composited import HELDOUT_FOLDER, compare, stretch_edges
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import split_faces

D3 = "clip_liveportrait_d3_woman_headturn.mp4"  # the pair fixture's source (conftest)

Pair = tuple[Faceset, Faceset]


def tiny(**overrides: Any) -> RefineConfig:
    settings: dict[str, Any] = {
        "width": 4, "levels": 2, "batch": 2, "steps": 4, "lr": 1e-3, "warmup": 0,
        "device": "cpu", "threads": 1, "pairs_per_face": 1, "log_every": 2, "save_every": 2,
        "preview_every": 2, "validate_every": 2, "holdout_share": 0.2}
    settings.update(overrides)
    return RefineConfig(**settings)


@pytest.fixture(scope="module")
def checked(pair: Pair, faces_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[RefineRun, Path, Path]:
    """A tiny refiner of the d3 clip's first 60 frames, its best state chosen on the
    composited held-out stretch: (result, folder, work folder)."""
    root = tmp_path_factory.mktemp("composited")
    result = refine(pair[0], root / "refiner", tiny(), video=faces_dir / D3,
                    work_dir=root / "work")
    return result, root / "refiner", root / "work"


def test_the_best_state_is_chosen_on_the_composited_held_out_faces(
        checked: tuple[RefineRun, Path, Path]) -> None:
    result, folder, _ = checked
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    checks = [entry for entry in log if "composited_refined" in entry]
    assert [entry["step"] for entry in checks] == [2, 4]
    # The mesh engine's composited faces are the same at every check: made once.
    assert len({entry["composited_mesh"] for entry in checks}) == 1
    best = read_best(folder)
    assert best is not None and best == result.best
    assert best.metric == COMPOSITED_METRIC
    top = max(checks, key=lambda entry: entry["composited_refined"])
    assert best.step == top["step"]
    assert best.score == pytest.approx(top["composited_refined"], abs=1e-4)
    assert best.baseline == pytest.approx(top["composited_mesh"], abs=1e-4)
    # Real composited faces of a self-swap: near their target, but not it.
    assert 0.5 < best.baseline < 0.999
    assert result.composited is not None and result.composited.faces >= 5


def test_the_report_carries_the_composited_score_and_the_mesh_baseline(
        checked: tuple[RefineRun, Path, Path]) -> None:
    result, _, _ = checked
    assert result.validation["composited_mesh"] == result.composited.mesh  # type: ignore[union-attr]
    verdict = result.verdict()
    assert verdict is not None
    assert f"{result.best.score:.4f}" in verdict  # type: ignore[union-attr]
    assert f"{result.best.baseline:.4f}" in verdict  # type: ignore[union-attr]
    assert ("does NOT beat" in verdict) == (not result.beats_mesh())


def test_the_held_out_stretch_is_cut_after_the_last_training_frame(
        pair: Pair, faces_dir: Path, checked: tuple[RefineRun, Path, Path]) -> None:
    _, _, work = checked
    split = split_faces(len(pair[0].faces_of()), 0.2, "blocks")
    edges = stretch_edges(pair[0], split)
    assert edges is not None
    last_training, first_held = edges
    held_frames = {pair[0].faces_of()[int(i)].frame for i in split.held}
    assert last_training < first_held == min(held_frames)
    (folder,) = (work / HELDOUT_FOLDER).iterdir()
    source_cut, target_cut = folder / "source.mp4", folder / "target.mp4"
    assert media.probe(source_cut).frame_count == last_training + 1
    assert media.probe(target_cut).frame_count == pair[0].meta.frames_analysed - first_held
    # The target's first frame is the source video's first held-out frame (CRF 0 keeps
    # the luma; the RGB round trip moves a grey level or so), not a neighbour.
    opened = next(media.iter_frames(target_cut)).image.astype(np.float32)
    around = {frame.index: float(np.abs(frame.image - opened).mean())
              for frame in media.iter_frames(faces_dir / D3)
              if first_held - 1 <= frame.index <= first_held + 1}
    assert min(around, key=around.__getitem__) == first_held
    assert around[first_held] < 1.0


def test_a_refiner_that_does_not_beat_the_mesh_engine_says_so(
        checked: tuple[RefineRun, Path, Path], caplog: pytest.LogCaptureFixture,
        pair: Pair, faces_dir: Path) -> None:
    result, folder, work = checked
    assert result.best is not None
    losing = replace(result, best=replace(result.best, score=result.best.baseline - 0.001))
    assert losing.beats_mesh() is False
    assert "does NOT beat the mesh engine" in (losing.verdict() or "")
    winning = replace(result, best=replace(result.best, score=result.best.baseline + 0.001))
    assert winning.beats_mesh() is True and "it beats" in (winning.verdict() or "")
    # refine itself says it when training ends, as a warning (shown without -v).
    with caplog.at_level(logging.INFO, logger="facedub.train.refine"):
        again = refine(pair[0], folder, tiny(steps=6), video=faces_dir / D3, work_dir=work)
    said = [r for r in caplog.records if "held-out stretch, composited" in r.getMessage()]
    assert len(said) == 1
    assert said[0].levelno == (logging.INFO if again.beats_mesh() else logging.WARNING)


def test_without_the_video_the_renderings_choose_and_no_verdict(
        pair: Pair, tmp_path: Path) -> None:
    result = refine(pair[0], tmp_path / "refiner", tiny(steps=2))
    assert result.best is not None and result.best.metric == BEST_METRIC
    assert result.best.baseline is None and result.verdict() is None


def test_an_older_best_json_reads_as_the_renderings_metric(tmp_path: Path) -> None:
    best = BestState(step=2, score=0.9, sha256="0" * 64)
    assert best.metric == BEST_METRIC and best.baseline is None


def test_compare_skips_faces_either_side_could_not_read() -> None:
    score = compare([0.95, float("nan"), 0.93], [0.94, 0.9, 0.94])
    assert score.faces == 2 and score.better == 1
    assert score.gain == pytest.approx(0.0)
    assert score.refined == pytest.approx(0.94) and score.mesh == pytest.approx(0.94)
