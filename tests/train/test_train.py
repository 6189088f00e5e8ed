import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models import build_model
from facedub.progress import NoProgress
from facedub.train import TrainConfig, train
from facedub.train import checkpoint as ckpt

# Bounds on waits for a state (they return as it is there): minutes on a loaded machine,
# not a timing.
BOUND_SECONDS = 600

Pair = tuple[Faceset, Faceset]


def _log(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(pair: Pair, tiny_config: Callable[..., TrainConfig],
            tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run trained 30 steps."""
    run = tmp_path_factory.mktemp("run") / "run"
    result = train(*pair, run, tiny_config())
    assert result.step == 30 and result.stopped is None
    return run


def test_thirty_steps_lower_the_loss_and_leave_preview_and_checkpoint(trained: Path) -> None:
    losses = [entry["loss"] for entry in _log(trained) if "loss" in entry]
    assert len(losses) == 6
    assert losses[-1] < 0.85 * losses[0]
    assert sorted(p.name for p in (trained / "previews").iterdir()) == [
        "0000010.png", "0000020.png", "0000030.png"]
    state = ckpt.read_state(trained)
    assert state is not None and state.step == 30
    validation = [entry for entry in _log(trained) if "ssim_a" in entry]
    assert [entry["step"] for entry in validation] == [10, 20, 30]
    config = json.loads((trained / "config.json").read_text())
    assert config["arch"] == "df" and config["res"] == 64 and config["coverage"] == "whole"
    assert len(config["source"]["source_sha256"]) == 64


def test_saved_model_loads_and_gives_identical_outputs(trained: Path, pair: Pair,
                                                       tiny_config: Callable[..., TrainConfig]
                                                       ) -> None:
    first, _, _ = ckpt.load_run(trained, torch.device("cpu"))
    second, _, _ = ckpt.load_run(trained, torch.device("cpu"))
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(first(x)[0], second(x)[0])
        assert torch.equal(first.render(x, "b")[1], second.render(x, "b")[1])


def test_a_finished_run_is_not_trained_again(trained: Path, pair: Pair,
                                             tiny_config: Callable[..., TrainConfig]) -> None:
    before = (trained / "model.safetensors").read_bytes()
    result = train(*pair, trained, tiny_config())
    assert result.step == 30
    assert (trained / "model.safetensors").read_bytes() == before


def test_resume_continues_at_the_step_with_the_same_optimizer_state(
        pair: Pair, tiny_config: Callable[..., TrainConfig], tmp_path: Path) -> None:
    interrupted, straight = tmp_path / "interrupted", tmp_path / "straight"
    train(*pair, interrupted, tiny_config(steps=10, log_every=5))
    saved = torch.load(interrupted / "optimizer.pt", weights_only=True)
    model, info, state = ckpt.load_run(interrupted, torch.device("cpu"))
    optimizer = torch.optim.AdamW(model.parameters())
    ckpt.load_optimizer(info, state, optimizer)
    restored = optimizer.state_dict()
    for key, values in saved["state"].items():
        for name, value in values.items():
            assert torch.equal(restored["state"][key][name], value)
    result = train(*pair, interrupted, tiny_config(steps=20, log_every=5))
    assert result.step == 20
    assert [entry["step"] for entry in _log(interrupted) if "loss" in entry] == [5, 10, 15, 20]
    # Batches are seeded by step, so stopping and resuming changes nothing.
    train(*pair, straight, tiny_config(steps=20, log_every=5))
    resumed, _, _ = ckpt.load_run(interrupted, torch.device("cpu"))
    uninterrupted, _, _ = ckpt.load_run(straight, torch.device("cpu"))
    for (name, a), (_, b) in zip(resumed.state_dict().items(),
                                 uninterrupted.state_dict().items(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), name


class _InterruptAt(NoProgress):
    """Raises KeyboardInterrupt from the progress display, as a UI thread may."""

    def __init__(self, step: int) -> None:
        self.step, self.seen = step, 0

    def advance(self, steps: int = 1) -> None:
        self.seen += steps
        if self.seen >= self.step:
            raise KeyboardInterrupt


def test_keyboard_interrupt_between_steps_saves_that_step(
        pair: Pair, tiny_config: Callable[..., TrainConfig], tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        train(*pair, tmp_path / "run", tiny_config(steps=30, save_every=100),
              progress=_InterruptAt(7))
    state = ckpt.read_state(tmp_path / "run")
    assert state is not None and state.step == 7
    result = train(*pair, tmp_path / "run", tiny_config(steps=9, save_every=100))
    assert result.step == 9


def test_changed_weights_file_is_refused(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "copy"
    _copy_run(trained, run)
    data = bytearray((run / "model.safetensors").read_bytes())
    data[-100] ^= 0xFF
    (run / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(FacedubError, match="does not match the sha256"):
        ckpt.load_run(run, torch.device("cpu"))


def test_a_crash_between_commit_and_rename_still_loads_the_new_checkpoint(
        trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "copy"
    _copy_run(trained, run)
    model, info, _ = ckpt.load_run(run, torch.device("cpu"))
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    monkeypatch.setattr(ckpt, "promote_pending", lambda root: None)  # the "crash"
    later = ckpt.save_checkpoint(info, model, torch.optim.AdamW(model.parameters()),
                                 ckpt.RunState(31, 1.0, {}, 0))
    assert (run / "model.next.safetensors").is_file()
    loaded, _, loaded_state = ckpt.load_run(run, torch.device("cpu"))
    assert loaded_state.step == 31 == later.step
    assert torch.equal(next(loaded.parameters()), next(model.parameters()))
    assert not (run / "model.next.safetensors").exists()


def test_weights_without_state_are_not_overwritten(trained: Path, pair: Pair,
                                                   tiny_config: Callable[..., TrainConfig],
                                                   tmp_path: Path) -> None:
    run = tmp_path / "copy"
    _copy_run(trained, run)
    (run / "state.json").unlink()
    with pytest.raises(FacedubError, match=r"no state\.json"):
        train(*pair, run, tiny_config(steps=40))
    with pytest.raises(FacedubError, match="no checkpoint"):
        ckpt.load_run(run, torch.device("cpu"))


def test_weights_of_another_run_are_refused(trained: Path, pair: Pair,
                                            tiny_config: Callable[..., TrainConfig],
                                            tmp_path: Path) -> None:
    other = tmp_path / "other"
    train(*pair, other, tiny_config(steps=1, width=16, model="liae"))
    run = tmp_path / "copy"
    _copy_run(trained, run)
    for name in ("model.safetensors", "optimizer.pt", "state.json"):
        (run / name).write_bytes((other / name).read_bytes())
    with pytest.raises(FacedubError, match="another run"):
        ckpt.load_run(run, torch.device("cpu"))


def test_weights_of_another_shape_are_refused(trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "copy"
    _copy_run(trained, run)
    info = ckpt.read_run_info(run)
    wider = build_model("df", replace(info.args, width=16))
    state = ckpt.RunState(step=30, train_seconds=1.0, losses={}, seed=0)
    ckpt.save_checkpoint(info, wider, torch.optim.AdamW(wider.parameters()), state)
    with pytest.raises(FacedubError, match="does not fit a df model"):
        ckpt.load_run(run, torch.device("cpu"))


def test_resume_refuses_another_resolution_model_or_faceset(
        trained: Path, pair: Pair, tiny_config: Callable[..., TrainConfig]) -> None:
    with pytest.raises(FacedubError, match="trained at --res 64; pass --res 64"):
        train(*pair, trained, tiny_config(res=128, steps=40))
    with pytest.raises(FacedubError, match="--model df"):
        train(*pair, trained, tiny_config(model="liae", steps=40))
    with pytest.raises(FacedubError, match="source faces of person"):
        train(pair[1], pair[0], trained, tiny_config(steps=40))


def test_output_folder_that_is_not_a_run_is_refused(
        pair: Pair, tiny_config: Callable[..., TrainConfig], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FacedubError, match="not a facedub run"):
        train(*pair, tmp_path, tiny_config(steps=1))


def test_liae_trains(pair: Pair, tiny_config: Callable[..., TrainConfig],
                     tmp_path: Path) -> None:
    result = train(*pair, tmp_path / "liae", tiny_config(model="liae", steps=10))
    assert result.step == 10 and np.isfinite(result.losses["loss"])
    model, info, _ = ckpt.load_run(tmp_path / "liae", torch.device("cpu"))
    assert info.arch == "liae" and type(model).__name__ == "LIAE"


SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from facedub.faceset import load_faceset
    from facedub.train import preset_config, train
    config = preset_config("cpu", res=64, width=8, latent=32, decoder_width=8, batch=4,
                           device="cpu", threads=1, steps=100000, log_every=1,
                           save_every=1000, preview_every=1000, validate_every=1000)
    result = train(load_faceset(Path(sys.argv[1])), load_faceset(Path(sys.argv[2])),
                   Path(sys.argv[3]), config)
    print(json.dumps({"step": result.step, "stopped": result.stopped}))
""")


# SIGHUP (a closed terminal, a dropped ssh session) killed the run at once on main: every
# step since the last checkpoint (up to --save-every, 500) was lost (round 48).
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_saves_a_loadable_checkpoint_of_the_last_step(stop: signal.Signals, pair: Pair,
                                                              tmp_path: Path) -> None:
    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(pair[0].root), str(pair[1].root), str(run)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Bounds only (each wait returns as its state is there): the model, the facesets and
    # three steps took 120 s and more at load 30; the stop's save is seconds.
    deadline = time.monotonic() + BOUND_SECONDS
    while not ((run / "log.jsonl").is_file() and len(_log(run)) >= 3):
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, f"no third step logged in {BOUND_SECONDS} s"
        time.sleep(0.2)
    os.kill(process.pid, stop)
    stdout, stderr = process.communicate(timeout=BOUND_SECONDS)
    assert process.returncode == 0, stderr[-2000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["stopped"] == stop.name
    state = ckpt.read_state(run)
    assert state is not None and state.step == result["step"] >= 3
    assert max(entry["step"] for entry in _log(run)) <= state.step
    ckpt.load_run(run, torch.device("cpu"))


def _copy_run(source: Path, destination: Path) -> None:
    destination.mkdir()
    for name in ("config.json", "model.safetensors", "optimizer.pt", "state.json"):
        (destination / name).write_bytes((source / name).read_bytes())
