"""The refiner: model, self-reenactment data, training, checkpoints, resume, refusals."""

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch

from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.refiner import Refiner, RefinerArgs
from facedub.models.refiner_export import export_refiner_onnx, read_refiner_onnx_info
from facedub.models.refiner_run import BEST_METRIC, load_refiner, read_best
from facedub.train import checkpoint as ckpt
from facedub.train.refine import refine
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import HOLDOUT_GAP, split_faces

Pair = tuple[Faceset, Faceset]


def tiny(**overrides: Any) -> RefineConfig:
    """A refiner small enough to train a step in tens of milliseconds on two cores."""
    settings: dict[str, Any] = {
        "width": 4, "levels": 2, "batch": 2, "steps": 4, "lr": 1e-3, "warmup": 0,
        "device": "cpu", "threads": 1, "pairs_per_face": 1, "log_every": 2, "save_every": 2,
        "preview_every": 2, "validate_every": 2, "holdout_share": 0.2}
    settings.update(overrides)
    return RefineConfig(**settings)


def _log(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def refined(d3_short: Faceset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("refiner") / "refiner"
    result = refine(d3_short, folder, tiny())
    assert result.step == 4 and result.stopped is None
    return folder


def test_an_untrained_refiner_returns_its_input() -> None:
    model = Refiner(RefinerArgs())
    x = torch.rand(2, 4, 128, 128)
    assert torch.equal(model(x), x[:, :3])


def test_held_out_faces_are_a_separate_stretch_after_a_gap() -> None:
    split = split_faces(300, holdout_share=0.15)
    training = np.concatenate([split.train_a, split.train_b])
    assert len(np.intersect1d(training, split.held)) == 0
    assert split.held.tolist() == list(range(255, 300))  # the last 15%
    assert split.held.min() - training.max() > HOLDOUT_GAP  # no neighbour in training
    assert len(split.train_a) and len(split.train_b) and abs(len(split.train_a)
                                                              - len(split.train_b)) <= 6
    # Held-out faces are rendered from each other alone, in two pools.
    assert len(split.held_a) and len(split.held_b)
    assert len(np.intersect1d(split.held_a, split.held_b)) == 0
    # Few faces (a folder of photos): dealt one by one, none held out.
    few = split_faces(9, holdout_share=0.15)
    assert few.train_a.tolist() == [0, 2, 4, 6, 8] and few.train_b.tolist() == [1, 3, 5, 7]
    assert len(few.held) == 0
    # A folder of 40 photos: the last 6 whole photos held out, two left out before them.
    photos = split_faces(40, holdout_share=0.15)
    assert photos.held.tolist() == list(range(34, 40))
    assert np.concatenate([photos.train_a, photos.train_b]).max() == 31


def test_refining_leaves_checkpoints_previews_and_validation(refined: Path,
                                                            d3_short: Faceset) -> None:
    state = ckpt.read_state(refined)
    assert state is not None and state.step == 4
    assert sorted(p.name for p in (refined / "previews").iterdir()) == [
        "0000002.png", "0000004.png"]
    validation = [entry for entry in _log(refined) if "ssim_refined" in entry]
    assert [entry["step"] for entry in validation] == [2, 4]
    assert all(0.0 < entry["ssim_mesh"] <= 1.0 for entry in validation)
    config = json.loads((refined / "config.json").read_text())
    assert config["format"] == "facedub-refiner" and config["res"] == 128
    assert config["source"]["source_sha256"] == d3_short.meta.source_sha256
    model, _, _ = load_refiner(refined, torch.device("cpu"))
    assert float(model.head.weight.detach().abs().sum()) > 0  # it learned something


def test_a_resumed_refiner_matches_one_run_straight_through(d3_short: Faceset, refined: Path,
                                                            tmp_path: Path) -> None:
    straight = refined  # tiny() straight through its 4 steps, made once for the module
    resumed = tmp_path / "resumed"
    assert refine(d3_short, resumed, tiny(steps=2)).step == 2
    assert refine(d3_short, resumed, tiny(steps=4)).step == 4
    first, _, _ = load_refiner(straight, torch.device("cpu"))
    second, _, _ = load_refiner(resumed, torch.device("cpu"))
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(),
                                 strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    # The swaps' weights above are the best held-out state, which may be step 2's (saved
    # before the resume): the step-4 weights show the resume itself (its optimizer state).
    latest = _weights(resumed / "model.safetensors")
    for name, value in _weights(straight / "model.safetensors").items():
        assert torch.allclose(value, latest[name], atol=1e-6), name
    assert [entry["step"] for entry in _log(resumed) if "loss" in entry] == [2, 4]


def test_a_resumed_refiner_keeps_its_held_out_split(d3_short: Faceset, tmp_path: Path) -> None:
    folder = tmp_path / "split"
    first = refine(d3_short, folder, tiny(steps=2, holdout_share=0.3))
    resumed = refine(d3_short, folder, tiny(steps=4))  # the default share: ignored
    saved = json.loads((folder / "config.json").read_text())["refine_settings"]
    assert saved["holdout_share"] == 0.3
    # The held-out faces are the same ones: the first validation after the resume
    # measures the mesh faces it measured before.
    mesh = [entry["ssim_mesh"] for entry in _log(folder) if "ssim_mesh" in entry]
    assert len(mesh) == 2 and mesh[0] == mesh[1]
    assert first.step == 2 and resumed.step == 4


def test_a_folder_of_the_older_held_out_rule_is_refused(d3_short: Faceset, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    refine(d3_short, folder, tiny(steps=2))
    config = json.loads((folder / "config.json").read_text())
    settings = config["refine_settings"]
    del settings["holdout_share"]
    settings["holdout_every"] = 10
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(FacedubError, match=r"older `facedub refine`.*new -o folder"):
        refine(d3_short, folder, tiny(steps=4))


def test_a_refiner_is_refused_for_another_source(refined: Path, pair: Pair) -> None:
    with pytest.raises(FacedubError, match="refined for person"):
        refine(pair[1], refined, tiny(steps=6))


def test_other_model_arguments_are_refused_on_resume(refined: Path, d3_short: Faceset) -> None:
    with pytest.raises(FacedubError, match="was refined with arguments"):
        refine(d3_short, refined, tiny(steps=6, width=8))


def test_a_time_limit_stops_refining_and_saves(d3_short: Faceset, tmp_path: Path) -> None:
    result = refine(d3_short, tmp_path / "timed", tiny(steps=1000, minutes=1e-6))
    assert result.step == 1 and result.stopped is None
    state = ckpt.read_state(tmp_path / "timed")
    assert state is not None and state.step == 1


def test_too_few_faces_are_refused(d3_short: Faceset, tmp_path: Path) -> None:
    few = replace(d3_short, records=d3_short.faces_of()[:3])
    with pytest.raises(FacedubError, match="at least 8 views"):
        refine(few, tmp_path / "few", tiny())
    assert not (tmp_path / "few").exists()


SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from facedub.faceset import load_faceset
    from facedub.train.refine import refine
    from facedub.train.refine_config import RefineConfig
    config = RefineConfig(width=4, levels=2, batch=2, steps=100000, warmup=0, device="cpu",
                          threads=1, pairs_per_face=1, log_every=1, save_every=1000,
                          preview_every=1000, validate_every=1000)
    result = refine(load_faceset(Path(sys.argv[1])), Path(sys.argv[2]), config)
    print(json.dumps({"step": result.step, "stopped": result.stopped}))
""")


def test_sigterm_saves_a_loadable_checkpoint_of_the_last_step(d3_short: Faceset, tmp_path: Path
                                                             ) -> None:
    run = tmp_path / "refiner"
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(d3_short.root), str(run)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if (run / "log.jsonl").is_file() and len(_log(run)) >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[1][-2000:]
    os.kill(process.pid, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["stopped"] == "SIGTERM"
    state = ckpt.read_state(run)
    assert state is not None and state.step == result["step"] >= 2
    assert not list(run.glob("*.next.*")) and not list(run.glob(".*partial*"))
    load_refiner(run, torch.device("cpu"))


def _scored(monkeypatch: pytest.MonkeyPatch, scores: list[float]) -> None:
    """Held-out evaluations that score `scores` in turn (BEST_METRIC), whatever the model;
    then their real scores."""
    refine_module = importlib.import_module("facedub.train.refine")
    real, given = refine_module.validate_refiner, iter(scores)

    def fake(*args: Any) -> tuple[dict[str, float], Any]:
        scores, gains = real(*args)
        return {**scores, BEST_METRIC: next(given, scores[BEST_METRIC])}, gains

    monkeypatch.setattr(refine_module, "validate_refiner", fake)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return safetensors.torch.load_file(str(path))


def test_the_best_held_out_state_is_kept_and_swaps_use_it(refined: Path) -> None:
    best = read_best(refined)
    assert best is not None and best.step in (2, 4)
    scores = [entry[BEST_METRIC] for entry in _log(refined) if BEST_METRIC in entry]
    assert best.score == pytest.approx(max(scores), abs=1e-5)
    model, _, state = load_refiner(refined, torch.device("cpu"))
    assert state.step == best.step
    for name, value in _weights(refined / "best.safetensors").items():
        assert torch.equal(model.state_dict()[name], value), name


def test_a_later_worse_evaluation_does_not_replace_the_best(
        d3_short: Faceset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _scored(monkeypatch, [0.9, 0.5, 0.4])
    folder = tmp_path / "overfit"
    result = refine(d3_short, folder, tiny(steps=4))
    assert result.best is not None and (result.best.step, result.best.score) == (2, 0.9)
    assert [entry["best_step"] for entry in _log(folder) if "best_step" in entry] == [2, 2]
    model, _, state = load_refiner(folder, torch.device("cpu"))
    assert state.step == 2
    latest = _weights(folder / "model.safetensors")
    assert any(not torch.equal(model.state_dict()[name], value)
               for name, value in latest.items())  # the step-4 weights were not shipped
    # A resume continues from the latest state, and still keeps the step-2 best.
    resumed = refine(d3_short, folder, tiny(steps=6))
    assert resumed.step == 6 and resumed.best is not None and resumed.best.step == 2
    straight = refine(d3_short, tmp_path / "straight", tiny(steps=6))  # scores run out: real
    for name, value in _weights(folder / "model.safetensors").items():
        assert torch.allclose(value, _weights(straight.root / "model.safetensors")[name],
                              atol=1e-6), name


def test_export_uses_the_best_state_and_an_old_folder_its_latest(
        refined: Path, tmp_path: Path) -> None:
    best = read_best(refined)
    assert best is not None
    exported = tmp_path / "best.onnx"
    export_refiner_onnx(refined, exported)
    assert read_refiner_onnx_info(exported).step == best.step
    old = tmp_path / "old"
    shutil.copytree(refined, old)
    (old / "best.safetensors").unlink()
    (old / "best.json").unlink()
    _, _, state = load_refiner(old, torch.device("cpu"))
    assert state.step == 4


def test_the_refiners_inputs_carry_the_stubble_as_it_is(d3_short: Faceset) -> None:
    """The refiner learns a self-reenactment whose truth keeps the source's stubble: its
    mesh-swapped inputs must not restyle it (the default "hair" takes its hue out)."""
    from facedub.train.refine_data import _engine_over

    source = d3_short
    indices = np.arange(len(source.faces_of()))
    engine = _engine_over(source, indices, 1.0, np.random.default_rng(0))
    assert engine.config.stubble == "as-is"
