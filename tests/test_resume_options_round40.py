"""Round 40: a train or refine run resumed with another --seed, or without the one it was
started with. The batches (and a refiner's held-out frames) are drawn from the seed, and
the resume went on, silently, with the new one's: a refiner then trained on frames it had
held out for choosing its best step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.cli.learning import resumed_seed


def _saved_run(folder: Path, seed: int) -> Path:
    """A run folder as a checkpoint leaves it (only its state matters here)."""
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({
        "format": "facedub-run", "losses": {}, "model_sha256": "", "optimizer_sha256": "",
        "seed": seed, "step": 20, "train_seconds": 10.0}))
    return folder


@pytest.mark.parametrize("command", ["train", "refine"])
def test_another_seed_is_refused_on_resume(command: str, tmp_path: Path) -> None:
    run = _saved_run(tmp_path / "run", seed=7)
    faces = tmp_path / "faces"
    inputs = [faces, faces] if command == "train" else [faces]
    result = CliRunner().invoke(app, [command, *map(str, inputs), "-o", str(run),
                                      "--seed", "8"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (f"error: {run} was trained with --seed 7 (its batches "
                                     "follow it); pass --seed 7 to resume it, or choose a new "
                                     "-o folder")
    assert sorted(p.name for p in run.iterdir()) == ["state.json"]


def test_a_resume_without_seed_keeps_the_runs_own(tmp_path: Path) -> None:
    run = _saved_run(tmp_path / "run", seed=7)
    assert resumed_seed(run, None) == 7
    assert resumed_seed(run, 7) == 7
    assert resumed_seed(tmp_path / "new", None) is None
    assert resumed_seed(tmp_path / "new", 3) == 3
