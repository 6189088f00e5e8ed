"""Training speed of the neural engine against the original 2017 Deepfakes autoencoder.

Times full training steps (forward, losses, backward, gradient clipping, optimizer step)
on synthetic batches of `--batch` faces per person, for `df` and `liae` at each `--res`
and for the 2017 reference at 64 px (its only size). Configurations are timed in
interleaved rounds, so a machine whose load changes during the run slows all of them
alike; each figure is the median step time after warm-up. With --inference, also the
time to swap one face with the PyTorch and the onnxruntime engines. Prints markdown
tables; writes JSON with --out.

    python benchmarks/train_speed.py --inference --out /tmp/speed.json
    python benchmarks/train_speed.py --device cuda --preset gpu-128 --res 128 256
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from facedub.engines.base import SwapEngine, TargetFace
from facedub.engines.neural import NeuralEngine, OnnxEngine
from facedub.models import build_model
from facedub.models.export import OnnxInfo, onnx_graph
from facedub.models.reference2017 import Reference2017, reference_optimizer
from facedub.train import preset_config, select_device, train_step
from facedub.train.data import Batch
from facedub.types import HeadPose


@dataclass
class Case:
    name: str
    res: int
    params: int
    step: Callable[[], None]
    times: list[float]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--preset", default="cpu", help="model sizes of this preset")
    parser.add_argument("--res", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--inference", action="store_true",
                        help="also time one-face swaps: PyTorch engine vs onnxruntime engine")
    parser.add_argument("--calls", type=int, default=30, help="timed swaps per round")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    torch.manual_seed(0)
    cases = [_facedub_case(arch, res, args.preset, args.batch, device)
             for res in args.res for arch in ("df", "liae")]
    if not args.no_reference:
        cases.append(_reference_case(args.batch, device))
    load_before = os.getloadavg()
    for case in cases:
        for _ in range(args.warmup):
            case.step()
    for _ in range(args.rounds):
        for case in cases:
            for _ in range(args.steps):
                started = time.perf_counter()
                case.step()
                _sync(device)
                case.times.append(time.perf_counter() - started)
    report = _report(cases, args, device, load_before)
    print(table(report))
    if args.inference:
        report["inference"] = inference_speed(args.res, args.preset, device, args.rounds,
                                              args.calls)
        print()
        print(inference_table(report["inference"]))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _facedub_case(arch: str, res: int, preset: str, batch: int, device: torch.device) -> Case:
    config = preset_config(preset, model=arch, res=res, batch=batch)
    model = build_model(arch, config.model_args()).to(device)
    cuda = device.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.5, 0.999),
                                  weight_decay=config.weight_decay)
    batches = [_synthetic(batch, res).to(device, channels_last=cuda) for _ in range(2)]
    autocast = cuda and torch.cuda.is_bf16_supported()
    weights = config.loss_weights()

    def step() -> None:
        train_step(model, optimizer, batches[0], batches[1], weights, config.grad_clip,
                   autocast)

    return Case(arch, res, sum(p.numel() for p in model.parameters()), step, [])


def _reference_case(batch: int, device: torch.device) -> Case:
    model = Reference2017().to(device)
    optimizer = reference_optimizer(model)
    a, b = (torch.rand(batch, 3, 64, 64, device=device) for _ in range(2))

    def step() -> None:
        # The original trained each decoder with its own optimizer call; one combined
        # step costs the same arithmetic.
        loss = ((model.render(a, "a") - a).abs().mean()
                + (model.render(b, "b") - b).abs().mean())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()

    return Case("reference2017", 64, sum(p.numel() for p in model.parameters()), step, [])


def inference_speed(resolutions: list[int], preset: str, device: torch.device, rounds: int,
                    calls: int) -> list[dict[str, Any]]:
    """Milliseconds per face of NeuralEngine (PyTorch) and OnnxEngine (onnxruntime) on the
    same randomly initialised models, timed in interleaved rounds."""
    engines: list[tuple[str, int, str, SwapEngine]] = []
    folder = Path(tempfile.mkdtemp(prefix="facedub-speed-"))
    for res in resolutions:
        for arch in ("df", "liae"):
            config = preset_config(preset, model=arch, res=res)
            model = build_model(arch, config.model_args()).to(device).eval()
            path = folder / f"{arch}-{res}.onnx"
            onnx.save(onnx_graph(model.cpu(), res), str(path))
            info = OnnxInfo(res=res, coverage="whole", arch=arch, step=0, metadata={})
            engines.append((arch, res, "torch", NeuralEngine(model.to(device), "whole")))
            engines.append((arch, res, "onnxruntime", OnnxEngine(path, info, str(device.type))))
    times: dict[int, list[float]] = {i: [] for i in range(len(engines))}
    for round_index in range(rounds + 1):
        for index, (_, res, _, engine) in enumerate(engines):
            face = _target_face(res)
            for _ in range(calls):
                started = time.perf_counter()
                engine.swap_face(face)
                if round_index:  # the first round warms up
                    times[index].append(time.perf_counter() - started)
    return [{"model": arch, "res": res, "runtime": runtime,
             "ms_per_face": round(1000 * statistics.median(times[i]), 2),
             "p90_ms": round(1000 * sorted(times[i])[int(0.9 * len(times[i]))], 2)}
            for i, (arch, res, runtime, _) in enumerate(engines)]


def inference_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | res | runtime | ms/face (median) | p90 ms |",
             "| --- | ---: | --- | ---: | ---: |"]
    lines += [f"| {r['model']} | {r['res']} | {r['runtime']} | {r['ms_per_face']} | "
              f"{r['p90_ms']} |" for r in rows]
    return "\n".join(lines)


def _target_face(res: int) -> TargetFace:
    image = (np.random.default_rng(res).random((res, res, 3)) * 255).astype(np.uint8)
    return TargetFace(image=image, face_landmarks=np.zeros((478, 3), np.float32),
                      face_from_frame=np.eye(2, 3), pose=HeadPose(0.0, 0.0, 0.0),
                      blendshapes=np.zeros(52, np.float32), time=0.0, track=0)


def _synthetic(batch: int, res: int) -> Batch:
    """Smooth random images (what convolutions see of faces matters little for speed)."""
    images = torch.nn.functional.interpolate(torch.rand(batch, 3, res // 8, res // 8),
                                             size=(res, res), mode="bilinear")
    mask = torch.zeros(batch, 1, res, res)
    mask[..., res // 8: -res // 8, res // 8: -res // 8] = 1.0
    return Batch(inputs=images, targets=images.clone(), masks=mask, eyes_mouth=mask * 0.2)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def _report(cases: list[Case], args: argparse.Namespace, device: torch.device,
            load_before: tuple[float, float, float]) -> dict[str, Any]:
    reference = next((c for c in cases if c.name == "reference2017"), None)
    reference_rate = 1.0 / statistics.median(reference.times) if reference else None
    rows = []
    for case in cases:
        median = statistics.median(case.times)
        rows.append({"model": case.name, "res": case.res, "batch": args.batch,
                     "params_m": round(case.params / 1e6, 2),
                     "ms_per_step": round(1000 * median, 1),
                     "steps_per_s": round(1.0 / median, 3),
                     "faces_per_s": round(2 * args.batch / median, 1),
                     "vs_reference": round((1.0 / median) / reference_rate, 2)
                     if reference_rate else None,
                     "times_s": [round(t, 4) for t in case.times]})
    device_name = (torch.cuda.get_device_name(device) if device.type == "cuda"
                   else platform.processor() or platform.machine())
    return {"benchmark": "train_speed", "device": str(device), "device_name": device_name,
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "preset": args.preset,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "rows": rows}


def table(report: dict[str, Any]) -> str:
    lines = [f"device {report['device']} ({report['device_name']}), "
             f"{report['torch_threads']} torch threads, load average "
             f"{report['load_average_before'][0]:.1f} -> {report['load_average_after'][0]:.1f}",
             "",
             "| model | res | batch | params (M) | ms/step | steps/s | faces/s | vs 2017 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in report["rows"]:
        ratio = "" if row["vs_reference"] is None else f"{row['vs_reference']:.2f}x"
        lines.append(f"| {row['model']} | {row['res']} | {row['batch']} | {row['params_m']} | "
                     f"{row['ms_per_step']} | {row['steps_per_s']} | {row['faces_per_s']} | "
                     f"{ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
