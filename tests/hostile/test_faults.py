"""Faults of the machine and crafted files: a full disk (a small tmpfs), images over PIL's
decompression-bomb limit, a pickled optimizer state. Each is one line and exit code 2."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_cases import Inputs, fill, listing, refused, run_cli, small_tmpfs

from facedub.faceset import load_faceset
from facedub.train import config as train_config
from facedub.train import preset_config
from facedub.train import train as run_train

TINY_MODEL = {"res": 64, "width": 8, "latent": 32, "decoder_width": 8, "batch": 2,
              "warmup": 0, "device": "cpu", "threads": 1, "steps": 1, "save_every": 1,
              "preview_every": 100, "validate_every": 100, "holdout_every": 100}


@pytest.fixture(scope="module")
def run(inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained one step with a model small enough to save in a moment."""
    faceset = load_faceset(inputs.faceset)
    root = tmp_path_factory.mktemp("hostile-run") / "run"
    run_train(faceset, faceset, root, preset_config("cpu", **TINY_MODEL))
    return root


@pytest.fixture
def tiny_cpu_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    """`facedub train` (preset cpu) trains the tiny model: the faults are the point."""
    monkeypatch.setitem(train_config.PRESETS, "cpu", preset_config("cpu", **TINY_MODEL))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs with about 16 KiB left."""
    with small_tmpfs(tmp_path / "full", "2m") as folder:
        fill(folder, 16 * 1024)
        yield folder


def test_extract_on_a_full_disk(inputs: Inputs, full_disk: Path) -> None:
    out = full_disk / "faces"
    refused(["extract", inputs.clip, "-o", out], out, [inputs.clip], "disk is full")


def test_train_on_a_full_disk(inputs: Inputs, full_disk: Path, tiny_cpu_preset: None) -> None:
    out = full_disk / "run"
    refused(["train", inputs.faceset, inputs.faceset, "-o", out], out, [inputs.faceset],
            "disk is full")


def test_swap_on_a_full_disk(inputs: Inputs, full_disk: Path, tmp_path: Path) -> None:
    out = full_disk / "out.mp4"
    refused(["swap", "--source", inputs.photo, "--target", inputs.clip, "-o", out,
             "--work-dir", tmp_path / "work"], out, [inputs.photo, inputs.clip],
            "disk is full")


def test_swap_with_a_full_work_dir(inputs: Inputs, full_disk: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    refused(["swap", "--source", inputs.photo, "--target", inputs.clip, "-o", out,
             "--work-dir", full_disk / "work"], out, [inputs.photo, inputs.clip],
            "disk is full")


def test_export_on_a_full_disk(run: Path, full_disk: Path) -> None:
    out = full_disk / "swap.onnx"
    refused(["export", run, "-o", out], out, [run], "disk is full")


def test_eval_on_a_full_disk_leaves_no_report(inputs: Inputs, full_disk: Path) -> None:
    out = full_disk / "report"
    refused(["eval", "--source", inputs.photo, "--target", inputs.clip, "--swapped",
             inputs.clip, "-o", out, "--max-frames", "4"], out, [inputs.photo, inputs.clip],
            "disk is full")


def _bomb_png(path: Path, side: int = 20_000) -> Path:
    """A PNG whose header claims side x side pixels (4x PIL's limit) in a few hundred bytes;
    PIL refuses it when opening, before decoding a pixel."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grey
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))
    return path


def test_decompression_bombs(inputs: Inputs, tmp_path: Path) -> None:
    bomb = _bomb_png(tmp_path / "bomb.png")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    out = outputs / "faces"
    refused(["extract", bomb, "-o", out], out, [bomb], "too large to read safely")
    out = outputs / "out.png"
    refused(["swap", "--source", inputs.photo, "--target", bomb, "-o", out, "--work-dir",
             tmp_path / "work"], out, [bomb, inputs.photo], "too large to read safely")
    refused(["swap", "--source", bomb, "--target", inputs.photo, "-o", outputs / "o.jpg",
             "--work-dir", tmp_path / "work"], outputs / "o.jpg", [bomb, inputs.photo],
            "too large to read safely")
    before = listing(tmp_path)
    outcome = run_cli(["verify", bomb])
    assert outcome.code == 2 and "Traceback" not in outcome.output, outcome.output
    assert len(outcome.output.strip().splitlines()) == 1, outcome.output
    assert "too large to read safely" in outcome.output and listing(tmp_path) == before


class _Payload:
    """Stands for any class a crafted checkpoint could name."""


def test_pickled_optimizer_state_is_refused_in_one_line(run: Path, tmp_path: Path,
                                                        inputs: Inputs,
                                                        tiny_cpu_preset: None) -> None:
    crafted = tmp_path / "run"
    shutil.copytree(run, crafted)
    data = pickle.dumps({"state": _Payload()})
    (crafted / "optimizer.pt").write_bytes(data)
    state = json.loads((crafted / "state.json").read_text())
    state["optimizer_sha256"] = hashlib.sha256(data).hexdigest()
    (crafted / "state.json").write_text(json.dumps(state))
    outcome = refused(["train", inputs.faceset, inputs.faceset, "-o", crafted, "--steps", "2"],
                      crafted, [inputs.faceset], "refused")
    assert "weights_only" not in outcome.output
