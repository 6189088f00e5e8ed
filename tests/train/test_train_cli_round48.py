"""Round 48, `facedub train` as a new user runs it again: a resumed run said nothing of
it (its bar just began at the saved step), and the same command over a finished run said
"run: trained to step 2 in 0.0 min" as if it had trained again."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.faceset import Faceset
from facedub.train import TrainConfig

Pair = tuple[Faceset, Faceset]


@pytest.fixture
def small_presets(monkeypatch: pytest.MonkeyPatch,
                  tiny_config: Callable[..., TrainConfig]) -> None:
    """The command's presets, as the tiny model (a step in tens of milliseconds)."""
    def preset_config(preset: str, **given: Any) -> TrainConfig:
        del preset
        return tiny_config(**{name: value for name, value in given.items()
                              if value is not None})

    # The package (`facedub.train` the attribute is the stage function of that name).
    monkeypatch.setattr(importlib.import_module("facedub.train"), "preset_config",
                        preset_config)


def _train(pair: Pair, run: Path, steps: int) -> str:
    result = CliRunner().invoke(app, ["train", str(pair[0].root), str(pair[1].root),
                                      "-o", str(run), "--steps", str(steps)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the console's own line breaks left out


@pytest.mark.usefixtures("small_presets")
def test_train_again_says_it_resumes_or_has_nothing_to_do(pair: Pair, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("FACEDUB_WORK_DIR", str(tmp_path / "work"))
    run = tmp_path / "run"
    first = _train(pair, run, 2)
    assert "trained to step 2 in" in first and "resuming" not in first

    again = _train(pair, run, 2)
    assert "already trained to step 2 (--steps 2); nothing was trained" in again, again
    assert "trained to step 2 in" not in again

    longer = _train(pair, run, 3)
    assert "resuming at step 2 of 3" in longer, longer
    assert "trained to step 3 in" in longer
