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
import safetensors.torch
import torch

from facedub.faceset import Faceset
from facedub.train import TrainConfig, train
from facedub.train.checkpoint import load_run
from facedub.train.distributed import Distributed, from_environment

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


def _last_losses(run: Path) -> dict[str, float]:
    entries = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return next(e for e in reversed(entries) if "loss" in e)


def test_the_environment_says_who_is_who() -> None:
    assert from_environment({}) is None
    assert from_environment({"WORLD_SIZE": "1", "RANK": "0"}) is None
    ranks = from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert ranks == Distributed(rank=3, world=4, local_rank=1)
    assert not ranks.leader
    assert [Distributed(r, 4, r).shard(8) for r in range(4)] == [
        slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 8)]


def test_two_gloo_processes_take_the_same_steps_as_one(
        pair: tuple[Faceset, Faceset], tiny_config: Callable[..., TrainConfig],
        tmp_path: Path) -> None:
    """Same global batch and seed: the same losses and weights after 5 steps."""
    source, target = pair
    config = tiny_config(steps=5, batch=4, seed=3, log_every=5, save_every=5,
                         preview_every=1000, validate_every=1000)
    train(source, target, tmp_path / "one", config)

    port = _free_port()
    settings = json.dumps({k: v for k, v in asdict(config).items()})
    ranks = []
    for rank in (0, 1):
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
               "OMP_NUM_THREADS": "1"}
        ranks.append(subprocess.Popen(
            [sys.executable, "-c", RANK_SCRIPT, str(source.root), str(target.root),
             str(tmp_path / "two"), settings], env=env, stderr=subprocess.PIPE, text=True))
    for process in ranks:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors

    one, two = _last_losses(tmp_path / "one"), _last_losses(tmp_path / "two")
    assert one["step"] == two["step"] == 5
    for key in ("loss", "loss_a", "loss_b", "loss_mask"):
        assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-5), key
    weights_one = safetensors.torch.load_file(tmp_path / "one" / "model.safetensors")
    weights_two = safetensors.torch.load_file(tmp_path / "two" / "model.safetensors")
    for name, tensor in weights_one.items():
        # Adam divides by sqrt(v): float-order differences of tiny gradients grow a little.
        torch.testing.assert_close(weights_two[name], tensor, rtol=1e-3, atol=1e-4)

    # Resumed with another number of processes (one), the run goes on as the other does.
    longer = replace(config, steps=8, log_every=3)
    train(source, target, tmp_path / "one", longer)
    train(source, target, tmp_path / "two", longer)
    one, two = _last_losses(tmp_path / "one"), _last_losses(tmp_path / "two")
    assert one["step"] == two["step"] == 8
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-3)


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
    deadline = time.monotonic() + 240
    while not (run / "previews" / "0000002.png").exists():  # two steps are done
        assert group.poll() is None and time.monotonic() < deadline, group.stderr
        time.sleep(0.2)
    os.killpg(group.pid, signal.SIGTERM)
    group.communicate(timeout=120)

    model, info, state = load_run(run, torch.device("cpu"))  # checks both files' sha256
    assert state.step >= 2
    assert not list(run.glob("*.pending*")) and not list(run.glob(".*partial*"))
    del model, info
