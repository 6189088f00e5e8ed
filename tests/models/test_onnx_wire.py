"""ONNX's wire format read and written without onnx (`models.onnx_wire`): the metadata
onnx itself reads, the occlusion graph's bytes onnx's helpers wrote, and a swap's
start-up that never imports onnx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from facedub.composite.occlusion import _occluder_state, occluder_weights
from facedub.errors import FacedubError
from facedub.models.export import onnx_metadata
from facedub.models.occluder_graph import BN_EPS, OCCLUDER_OUT, OCCLUDER_RES, occluder_graph
from facedub.models.onnx_wire import model_metadata_props

SRC = Path(__file__).resolve().parents[2] / "src"


def _identity_model(metadata: dict[str, str]) -> onnx.ModelProto:
    shape = [1, 3, 8, 8]
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, shape)],
                              [numpy_helper.from_array(np.ones((64, 64), np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="test", doc_string="a model")
    helper.set_model_props(model, metadata)
    return model


def test_metadata_is_what_onnx_reads() -> None:
    metadata = {"format": "facedub-refiner-onnx", "version": "1", "name": "Zoë ünïcode",
                "empty": "", "json": '{"a": [1, 2]}'}
    data = _identity_model(metadata).SerializeToString()
    read = model_metadata_props(data)
    parsed = onnx.load_from_string(data)
    assert read == {entry.key: entry.value for entry in parsed.metadata_props} == metadata
    assert model_metadata_props(_identity_model({}).SerializeToString()) == {}


@pytest.mark.parametrize("damage", [
    b"not a model",  # wire type 6
    b"\x08",  # a varint cut short
    b"\x72\x10ab",  # metadata_props longer than the file
    b"\x08" + b"\xff" * 11,  # a varint over 64 bits
])
def test_damaged_bytes_are_refused(damage: bytes) -> None:
    with pytest.raises(ValueError):
        model_metadata_props(damage)


def test_a_truncated_or_foreign_file_is_a_clear_error(tmp_path: Path) -> None:
    data = _identity_model({"format": "facedub-refiner-onnx", "version": "1"}
                           ).SerializeToString()
    (tmp_path / "cut.onnx").write_bytes(data[:len(data) // 2])
    with pytest.raises(FacedubError, match="not a readable ONNX file"):
        onnx_metadata(tmp_path / "cut.onnx", "facedub-refiner-onnx", 1)
    (tmp_path / "other.onnx").write_bytes(_identity_model({}).SerializeToString())
    with pytest.raises(FacedubError, match="not exported by facedub"):
        onnx_metadata(tmp_path / "other.onnx", "facedub-refiner-onnx", 1)
    (tmp_path / "whole.onnx").write_bytes(data)
    assert onnx_metadata(tmp_path / "whole.onnx", "facedub-refiner-onnx", 1)["version"] == "1"


def _reference_graph(state: dict[str, np.ndarray], levels: int, scaled: bool,
                     split: bool) -> bytes:
    """`occluder_graph` as onnx's helpers built it (main eacd747)."""
    nodes: list[Any] = []
    weights: list[Any] = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def folded(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        scale = state[f"{prefix}.1.weight"] / np.sqrt(state[f"{prefix}.1.running_var"] + BN_EPS)
        kernel = state[f"{prefix}.0.weight"] * scale[:, None, None, None]
        return kernel, state[f"{prefix}.1.bias"] - state[f"{prefix}.1.running_mean"] * scale

    def block(prefix: str, source: str, stride: int = 1) -> str:
        kernel, bias = folded(prefix)
        nodes.append(helper.make_node(
            "Conv", [source, constant(f"{prefix}.w", kernel), constant(f"{prefix}.b", bias)],
            [f"{prefix}.conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride] * 2))
        nodes.append(helper.make_node("Relu", [f"{prefix}.conv"], [prefix]))
        return prefix

    def split_block(prefix: str, resized: str, skip: str) -> str:
        kernel, bias = folded(prefix)
        channels = kernel.shape[1] - state[f"{skip}.0.weight"].shape[0]
        nodes.append(helper.make_node(
            "Conv", [resized, constant(f"{prefix}.w_up", kernel[:, :channels]),
                     constant(f"{prefix}.b", bias)],
            [f"{prefix}.up"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node(
            "Conv", [skip, constant(f"{prefix}.w_skip", kernel[:, channels:])],
            [f"{prefix}.skip"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Add", [f"{prefix}.up", f"{prefix}.skip"],
                                      [f"{prefix}.conv"]))
        nodes.append(helper.make_node("Relu", [f"{prefix}.conv"], [prefix]))
        return prefix

    if scaled:
        x = block("stem", "image")
    else:
        nodes.append(helper.make_node("Mul", ["image", constant("two", np.array(2.0))], ["x2"]))
        nodes.append(helper.make_node("Sub", ["x2", constant("one", np.array(1.0))], ["x"]))
        x = block("stem", "x")
    skips = []
    for level in range(levels - 1):
        x = block(f"down.{level}.1", block(f"down.{level}.0", x, stride=2))
        skips.append(x)
    skips.pop()
    scales = constant("scales", np.array([1, 1, 2, 2]))
    for level in range(levels - 2):
        nodes.append(helper.make_node("Resize", [x, "", scales], [f"up.{level}.resized"],
                                      mode="linear",
                                      coordinate_transformation_mode="half_pixel"))
        if split:
            x = split_block(f"up.{level}", f"up.{level}.resized", skips.pop())
            continue
        nodes.append(helper.make_node("Concat", [f"up.{level}.resized", skips.pop()],
                                      [f"up.{level}.cat"], axis=1))
        x = block(f"up.{level}", f"up.{level}.cat")
    nodes.append(helper.make_node(
        "Conv", [x, constant("head.w", state["head.weight"]),
                 constant("head.b", state["head.bias"])], ["logits"], kernel_shape=[1, 1]))
    graph = helper.make_graph(
        nodes, "occluder",
        [helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT,
                                       [1, 3, OCCLUDER_RES, OCCLUDER_RES])],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT,
                                       [1, 1, OCCLUDER_OUT, OCCLUDER_OUT])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("split", [False, True])
def test_the_occlusion_graph_is_the_bytes_onnx_wrote(scaled: bool, split: bool) -> None:
    state, widths = _occluder_state(occluder_weights())
    built = occluder_graph(state, levels=len(widths), scaled=scaled, split=split)
    assert built == _reference_graph(state, len(widths), scaled, split)
    onnx.checker.check_model(onnx.load_from_string(built))


def test_a_swap_starts_without_importing_onnx() -> None:
    """The swap's modules, the refiner's metadata and the compositor with its occlusion
    network: onnx is not imported (a fresh interpreter)."""
    script = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "import facedub.cli, facedub.swap, facedub.engines.refiner, facedub.engines.mesh\n"
        "from facedub.composite.compositor import CompositeConfig, Compositor\n"
        "from facedub.models.refiner_export import read_refiner_onnx_info\n"
        "Compositor(CompositeConfig(occlusion='auto'))\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    path = Path(folder) / 'r.onnx'\n"
        "    path.write_bytes(sys.stdin.buffer.read())\n"
        "    try:\n"
        "        read_refiner_onnx_info(path)\n"
        "    except Exception as error:\n"
        "        assert 'facedub metadata' in str(error), error\n"
        "print('onnx' in sys.modules)\n")
    data = _identity_model({"format": "facedub-refiner-onnx", "version": "1"}
                           ).SerializeToString()
    done = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True,
                          check=True, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert done.stdout.decode().strip() == "False", done.stderr.decode()
