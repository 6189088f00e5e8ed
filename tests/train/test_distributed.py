"""Training across processes (torch.distributed, gloo on CPU): two processes take the
same steps as one, and SIGTERM to a torchrun group leaves a valid checkpoint."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch

from facedub.faceset import Faceset
from facedub.train import TrainConfig, train
from facedub.train.checkpoint import load_run
from facedub.train.distributed import Distributed, from_environment

# Bounds on waits for a state (they return as it is there): minutes on a loaded machine,
# not a timing.
BOUND_SECONDS = 600

RANK_SCRIPT = """
import json, sys
from facedub.faceset import load_faceset
from facedub.train import preset_config, select_device, train
from facedub.train.distributed import from_environment, process_group
source, target, run, settings = sys.argv[1:5]
config = preset_config("cpu", **json.loads(settings))
distributed = from_environment()
with process_group(distributed, select_device(config.device)):
    train(load_faceset(source), load_faceset(target), run, config, None, distributed)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_environment_says_who_is_who() -> None:
    assert from_environment({}) is None
    assert from_environment({"WORLD_SIZE": "1", "RANK": "0"}) is None
    ranks = from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert ranks == Distributed(rank=3, world=4, local_rank=1)
    assert not ranks.leader
    assert [Distributed(r, 4, r).shard(8) for r in range(4)] == [
        slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 8)]


def _train_in_two_processes(source: Faceset, target: Faceset, run: Path,
                            config: TrainConfig) -> None:
    port = _free_port()
    settings = json.dumps(asdict(config))
    ranks = []
    for rank in (0, 1):
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
               "OMP_NUM_THREADS": "1"}
        ranks.append(subprocess.Popen(
            [sys.executable, "-c", RANK_SCRIPT, str(source.root), str(target.root),
             str(run), settings], env=env, stderr=subprocess.PIPE, text=True))
    for process in ranks:
        _, errors = process.communicate(timeout=BOUND_SECONDS)
        assert process.returncode == 0, errors


def _step_losses(run: Path) -> list[dict[str, float]]:
    entries = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return [e for e in entries if "loss" in e]


def _first_gradients(run: Path) -> list[torch.Tensor]:
    """The gradients of the first step, from the optimizer state saved after it: AdamW's
    first moment after one step is (1 - beta1) * gradient."""
    state = torch.load(run / "optimizer.pt", weights_only=True)
    beta1 = state["param_groups"][0]["betas"][0]
    return [entry["exp_avg"] / (1.0 - beta1) for _, entry in sorted(state["state"].items())]


def test_two_gloo_processes_take_the_same_steps_as_one(
        pair: tuple[Faceset, Faceset], tiny_config: Callable[..., TrainConfig],
        tmp_path: Path) -> None:
    """Same global batch and seed: the same gradients, then the same losses every step."""
    source, target = pair
    first = tiny_config(steps=1, batch=4, seed=3, log_every=1, save_every=5,
                        preview_every=1000, validate_every=1000)
    train(source, target, tmp_path / "one", first)
    _train_in_two_processes(source, target, tmp_path / "two", first)
    # The first step's gradients agree up to the order of float sums (about 3e-6 of each
    # tensor's largest value): a wrong shard, normaliser or loss scale is far beyond that.
    gradients = zip(_first_gradients(tmp_path / "two"), _first_gradients(tmp_path / "one"),
                    strict=True)
    for two, one in gradients:
        torch.testing.assert_close(two, one, rtol=1e-3, atol=1e-4 * float(one.abs().max()))

    # Later weights are not compared element by element: Adam divides by sqrt(v), so the
    # last bits of a near-zero gradient decide a whole step of lr for that weight, and
    # those grow from step to step (in float64 both runs agree to 1e-15 after 5 steps).
    # The loss of every step shows each step's batches and model are the same.
    config = replace(first, steps=5)
    train(source, target, tmp_path / "one", config)
    _train_in_two_processes(source, target, tmp_path / "two", config)
    ones, twos = _step_losses(tmp_path / "one"), _step_losses(tmp_path / "two")
    assert [e["step"] for e in ones] == [e["step"] for e in twos] == [1, 2, 3, 4, 5]
    for one, two in zip(ones, twos, strict=True):
        for key in ("loss", "loss_a", "loss_b", "loss_mask"):
            assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-5), (one["step"], key)

    # Resumed with another number of processes (one), the run goes on as the other does.
    longer = replace(config, steps=8, log_every=3)
    train(source, target, tmp_path / "one", longer)
    train(source, target, tmp_path / "two", longer)
    one_last, two_last = _step_losses(tmp_path / "one")[-1], _step_losses(tmp_path / "two")[-1]
    assert one_last["step"] == two_last["step"] == 8
    assert two_last["loss"] == pytest.approx(one_last["loss"], rel=1e-3)


@pytest.mark.slow
def test_sigterm_to_a_torchrun_group_leaves_a_valid_checkpoint(
        pair: tuple[Faceset, Faceset], tmp_path: Path) -> None:
    source, target = pair
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
               "--master-port", str(_free_port()), "-m", "facedub", "train",
               str(source.root), str(target.root), "-o", str(run), "--batch", "4",
               "--steps", "100000", "--threads", "1", "--device", "cpu",
               "--save-every", "100000", "--preview-every", "1"]
    group = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    # Bounds only (each wait returns as its state is there): two gloo ranks' start and
    # two steps took up to 240 s at load 30.
    deadline = time.monotonic() + BOUND_SECONDS
    while not (run / "previews" / "0000002.png").exists():  # two steps are done
        assert group.poll() is None and time.monotonic() < deadline, group.stderr
        time.sleep(0.2)
    os.killpg(group.pid, signal.SIGTERM)
    group.communicate(timeout=BOUND_SECONDS)

    model, info, state = load_run(run, torch.device("cpu"))  # checks both files' sha256
    assert state.step >= 2
    assert not list(run.glob("*.pending*")) and not list(run.glob(".*partial*"))
    del model, info
