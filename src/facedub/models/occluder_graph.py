"""OccluderNet's ONNX graph built from its weights alone, without torch.

The swap runs OccluderNet on onnxruntime; importing torch only to hold its 0.15 M weights
and fold the batch norms cost about 1.5 s of CPU at every `facedub swap` start (7 ms a
frame of a 200-frame clip). The weights are read as NumPy arrays (safetensors) and the
graph written here; facedub.models.occluder (the torch module, for training) builds the
same graph from its state dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from facedub.models import onnx_wire as wire

OCCLUDER_RES = 128
OCCLUDER_OUT = OCCLUDER_RES // 2
BN_EPS = 1e-5  # nn.BatchNorm2d's default
# Channels at 128, 64, 32, 16 and 8 pixels: the widths of a weights file without a
# "widths" entry in its metadata (the first shipped net's).
OCCLUDER_WIDTHS = (8, 16, 32, 48, 64)
WIDTHS_KEY = "widths"  # the safetensors metadata entry: a JSON list of ints
_BLOCK_KEYS = ("0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var")


def occluder_shapes(widths: tuple[int, ...] = OCCLUDER_WIDTHS) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor the graph needs, for OccluderNet with `widths`."""
    levels = len(widths)
    ins = {"stem": (3, widths[0])}
    for level in range(levels - 1):
        ins[f"down.{level}.0"] = (widths[level], widths[level + 1])
        ins[f"down.{level}.1"] = (widths[level + 1], widths[level + 1])
    for up, level in enumerate(reversed(range(1, levels - 1))):
        ins[f"up.{up}"] = (widths[level + 1] + widths[level], widths[level])
    shapes: dict[str, tuple[int, ...]] = {}
    for prefix, (channels_in, channels_out) in ins.items():
        shapes[f"{prefix}.0.weight"] = (channels_out, channels_in, 3, 3)
        for key in _BLOCK_KEYS[1:]:
            shapes[f"{prefix}.{key}"] = (channels_out,)
    shapes["head.weight"] = (1, widths[1], 1, 1)
    shapes["head.bias"] = (1,)
    return shapes


def occluder_widths(metadata: Mapping[str, str] | None) -> tuple[int, ...]:
    """The widths a weights file's metadata names; OCCLUDER_WIDTHS where it names none
    (files written before the width was a parameter). ValueError if malformed."""
    if not metadata or WIDTHS_KEY not in metadata:
        return OCCLUDER_WIDTHS
    # JSON, never a pickle: the file may come from anywhere.
    widths = json.loads(metadata[WIDTHS_KEY])
    if (not isinstance(widths, list) or len(widths) < 3
            or not all(isinstance(w, int) and not isinstance(w, bool) and 0 < w <= 1024
                       for w in widths)):
        raise ValueError(f"occluder widths {metadata[WIDTHS_KEY]!r}: not 3 or more "
                         "channel counts")
    return tuple(widths)


def widths_metadata(widths: tuple[int, ...]) -> dict[str, str]:
    """The metadata entry `occluder_widths` reads back."""
    return {WIDTHS_KEY: json.dumps(list(widths))}


def occluder_graph(state: Mapping[str, np.ndarray], levels: int = len(OCCLUDER_WIDTHS),
                   scaled: bool = False, split: bool = False) -> bytes:
    """The ONNX graph of OccluderNet with `levels` widths from its state dict (NumPy),
    batch norm folded into the convolutions. Input "image" (1, 3, 128, 128) RGB in
    [0, 1]; output "logits" (1, 1, 64, 64). With `scaled`, the input is already the
    net's own, 2 * image - 1 (see `scaled_input`): the graph leaves out its two
    full-size passes (Mul, Sub), which the caller makes in place more cheaply. With
    `split`, each decoder level's convolution of the upsampled and the skipped maps
    (concatenated) is made as a convolution of each, added: the same sums in another
    order (logits within about 1e-6), without the concatenation's copy."""
    # Written in ONNX's wire format directly (`onnx_wire`: the bytes onnx's helpers gave,
    # tests compare them): onnx's import, about 0.12 s of CPU, was the swap's
    # start-up's on its one busy core.
    nodes: list[bytes] = []
    weights: list[bytes] = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(wire.float_tensor(name, value))
        return name

    def folded(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """The kernel and bias of `prefix`'s convolution with its batch norm folded in."""
        scale = state[f"{prefix}.1.weight"] / np.sqrt(state[f"{prefix}.1.running_var"] + BN_EPS)
        kernel = state[f"{prefix}.0.weight"] * scale[:, None, None, None]
        return kernel, state[f"{prefix}.1.bias"] - state[f"{prefix}.1.running_mean"] * scale

    def split_block(prefix: str, resized: str, skip: str) -> str:
        """`block` of the concatenation of `resized` and `skip` (the output of the
        `block` of that name), as the sum of a convolution of each (ONNX Runtime fuses
        the sum and the ReLU into the second)."""
        kernel, bias = folded(prefix)
        channels = kernel.shape[1] - state[f"{skip}.0.weight"].shape[0]  # resized's
        nodes.append(wire.node(
            "Conv", [resized, constant(f"{prefix}.w_up", kernel[:, :channels]),
                     constant(f"{prefix}.b", bias)],
            [f"{prefix}.up"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(wire.node(
            "Conv", [skip, constant(f"{prefix}.w_skip", kernel[:, channels:])],
            [f"{prefix}.skip"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(wire.node("Add", [f"{prefix}.up", f"{prefix}.skip"],
                               [f"{prefix}.conv"]))
        nodes.append(wire.node("Relu", [f"{prefix}.conv"], [prefix]))
        return prefix

    def block(prefix: str, source: str, stride: int = 1) -> str:
        """Conv, batch norm (folded) and ReLU of the `_block` whose weights are `prefix.*`."""
        kernel, bias = folded(prefix)
        nodes.append(wire.node(
            "Conv", [source, constant(f"{prefix}.w", kernel), constant(f"{prefix}.b", bias)],
            [f"{prefix}.conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride] * 2))
        nodes.append(wire.node("Relu", [f"{prefix}.conv"], [prefix]))
        return prefix

    if scaled:
        x = block("stem", "image")
    else:
        nodes.append(wire.node("Mul", ["image", constant("two", np.array(2.0))], ["x2"]))
        nodes.append(wire.node("Sub", ["x2", constant("one", np.array(1.0))], ["x"]))
        x = block("stem", "x")
    skips = []
    for level in range(levels - 1):
        x = block(f"down.{level}.1", block(f"down.{level}.0", x, stride=2))
        skips.append(x)
    skips.pop()
    scales = constant("scales", np.array([1, 1, 2, 2]))
    for level in range(levels - 2):
        nodes.append(wire.node("Resize", [x, "", scales], [f"up.{level}.resized"],
                               mode="linear", coordinate_transformation_mode="half_pixel"))
        if split:
            x = split_block(f"up.{level}", f"up.{level}.resized", skips.pop())
            continue
        nodes.append(wire.node("Concat", [f"up.{level}.resized", skips.pop()],
                               [f"up.{level}.cat"], axis=1))
        x = block(f"up.{level}", f"up.{level}.cat")
    nodes.append(wire.node(
        "Conv", [x, constant("head.w", state["head.weight"]),
                 constant("head.b", state["head.bias"])], ["logits"], kernel_shape=[1, 1]))
    return wire.model(
        nodes, "occluder",
        [wire.float_value_info("image", [1, 3, OCCLUDER_RES, OCCLUDER_RES])],
        [wire.float_value_info("logits", [1, 1, OCCLUDER_OUT, OCCLUDER_OUT])], weights,
        opset=17, ir_version=8)


def scaled_input(canonical: np.ndarray) -> np.ndarray:
    """(1, 3, R, R) float32: the net's input from a (R, R, 3) uint8 RGB crop, 2 * (crop /
    255) - 1, for `occluder_graph(..., scaled=True)`. The values of the unscaled graph's
    Mul and Sub on crop / 255 (doubling is exact, the subtraction the same float32
    operation), made in place on one array."""
    batch = np.divide(canonical.transpose(2, 0, 1)[None], np.float32(255.0), dtype=np.float32)
    batch *= np.float32(2.0)
    batch -= np.float32(1.0)
    return batch
