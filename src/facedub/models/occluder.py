"""OccluderNet: a small U-Net that marks what covers a face in an aligned crop.

Input (N, 3, 128, 128) RGB in [0, 1], the face aligned to the template at the "whole"
coverage (facedub.align). Output (N, 1, 64, 64) logits at half resolution: > 0 where
something in front of the face (a hand, glasses frames, a microphone, a cup, hair across
the face) hides it. The decoder stops at half size because the full-size level would
cost as much as all the others together, and the mask is feathered anyway. About 0.15 M
parameters, so it runs in a few milliseconds on one CPU core. Trained by
tools/train_occluder.py on real face crops with occluders composited in.
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn
from torch.nn import functional

OCCLUDER_RES = 128
OCCLUDER_OUT = OCCLUDER_RES // 2
BN_EPS = 1e-5  # nn.BatchNorm2d's default
# Channels at 128, 64, 32, 16 and 8 pixels.
OCCLUDER_WIDTHS = (8, 16, 32, 48, 64)


def _block(channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class OccluderNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = OCCLUDER_WIDTHS) -> None:
        super().__init__()
        self.stem = _block(3, widths[0])
        self.down = nn.ModuleList(
            nn.Sequential(_block(widths[i], widths[i + 1], stride=2),
                          _block(widths[i + 1], widths[i + 1]))
            for i in range(len(widths) - 1))
        # Up to the 64 px level only (see the module docstring).
        self.up = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i])
            for i in reversed(range(1, len(widths) - 1)))
        self.head = nn.Conv2d(widths[1], 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stem(image * 2.0 - 1.0)  # (N, w0, 128, 128)
        skips = []
        for down in self.down:
            x = down(x)
            skips.append(x)
        skips.pop()  # the deepest level is x itself
        for up in self.up:
            skip = skips.pop()
            x = functional.interpolate(x, size=skip.shape[-2:], mode="bilinear",
                                       align_corners=False)
            x = up(torch.cat([x, skip], dim=1))
        logits: torch.Tensor = self.head(x)  # (N, 1, 64, 64)
        return logits


def occluder_onnx(net: OccluderNet) -> bytes:
    """The ONNX graph of `net` (eval mode, batch norm folded into the convolutions), built
    directly from its weights: fast, and free of the TorchScript exporter. Input "image"
    (1, 3, 128, 128) RGB in [0, 1]; output "logits" (1, 1, 64, 64)."""
    state = {name: value.detach().numpy() for name, value in net.state_dict().items()}
    nodes: list[onnx.NodeProto] = []
    weights: list[onnx.TensorProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def block(prefix: str, source: str, stride: int = 1) -> str:
        """Conv, batch norm (folded) and ReLU of the `_block` whose weights are `prefix.*`."""
        scale = state[f"{prefix}.1.weight"] / np.sqrt(state[f"{prefix}.1.running_var"] + BN_EPS)
        kernel = state[f"{prefix}.0.weight"] * scale[:, None, None, None]
        bias = state[f"{prefix}.1.bias"] - state[f"{prefix}.1.running_mean"] * scale
        nodes.append(helper.make_node(
            "Conv", [source, constant(f"{prefix}.w", kernel), constant(f"{prefix}.b", bias)],
            [f"{prefix}.conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride] * 2))
        nodes.append(helper.make_node("Relu", [f"{prefix}.conv"], [prefix]))
        return prefix

    nodes.append(helper.make_node("Mul", ["image", constant("two", np.array(2.0))], ["x2"]))
    nodes.append(helper.make_node("Sub", ["x2", constant("one", np.array(1.0))], ["x"]))
    x = block("stem", "x")
    skips = []
    for level in range(len(net.down)):
        x = block(f"down.{level}.1", block(f"down.{level}.0", x, stride=2))
        skips.append(x)
    skips.pop()
    scales = constant("scales", np.array([1, 1, 2, 2]))
    for level in range(len(net.up)):
        nodes.append(helper.make_node("Resize", [x, "", scales], [f"up.{level}.resized"],
                                      mode="linear",
                                      coordinate_transformation_mode="half_pixel"))
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
