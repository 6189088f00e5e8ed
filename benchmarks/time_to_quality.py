"""How long the neural engine trains before it reconstructs held-out faces well.

Extracts two shared clips (cached in --work), trains a preset in chunks of --every steps
(each chunk resumes the run, which also exercises resuming), and after every chunk
measures the reconstruction SSIM of held-out faces of each person (every 20th face, inside
its face mask). Reports the steps and minutes of training until each person, and both,
reach --target. Prints a markdown table; writes JSON with --out.

    python benchmarks/time_to_quality.py --out /tmp/ttq.json            # CPU preset
    python benchmarks/time_to_quality.py --preset gpu-128 --device cuda --out gpu.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from facedub.extract import extract
from facedub.extract.config import ExtractConfig
from facedub.train import preset_config, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
CLIPS = ("clip_liveportrait_d3_woman_headturn.mp4",
         "clip_liveportrait_d12_man_glasses_headturn_hand.mp4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=CLIPS[0], help="clip of person A in ../shared")
    parser.add_argument("--target", default=CLIPS[1], help="clip of person B in ../shared")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--model", default=None, help="df or liae (default: the preset's)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--target-ssim", type=float, default=0.80)
    parser.add_argument("--every", type=int, default=100, help="steps between measurements")
    parser.add_argument("--max-minutes", type=float, default=60.0)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "facedub-ttq")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a TrainConfig field, e.g. --set lr=5e-4 (repeatable)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.work.mkdir(parents=True, exist_ok=True)
    facesets = [extract(SHARED / name, args.work / Path(name).stem, ExtractConfig()).faceset
                for name in (args.source, args.target)]
    label = "-".join([args.preset, args.model or "preset", *args.set]).replace("=", "")
    run_dir = args.work / f"run-{label}-{int(time.time())}"
    overrides: dict[str, Any] = {"model": args.model, "device": args.device,
                                 "threads": args.threads, "validate_every": args.every,
                                 "log_every": args.every, "save_every": 10 * args.every,
                                 "preview_every": 10 * args.every, "holdout_every": 20,
                                 **dict(_parse_setting(item) for item in args.set)}
    history: list[dict[str, float]] = []
    reached: dict[str, dict[str, float] | None] = {"a": None, "b": None, "both": None}
    wall_start = time.perf_counter()
    step = 0
    while (time.perf_counter() - wall_start) / 60 < args.max_minutes:
        step += args.every
        config = preset_config(args.preset, steps=step, **overrides)
        result = train(facesets[0], facesets[1], run_dir, config)
        point = {"step": result.step, "train_minutes": result.train_seconds / 60,
                 "wall_minutes": (time.perf_counter() - wall_start) / 60,
                 "load": os.getloadavg()[0], **result.validation}
        history.append(point)
        print(json.dumps({k: round(v, 4) for k, v in point.items()}), flush=True)
        for key, values in (("a", ["ssim_a"]), ("b", ["ssim_b"]), ("both", ["ssim_a", "ssim_b"])):
            if reached[key] is None and all(point.get(v, 0) >= args.target_ssim for v in values):
                reached[key] = point
        if reached["both"] is not None or result.stopped:
            break
    report = {"benchmark": "time_to_quality", "preset": args.preset,
              "config": preset_config(args.preset, **overrides).to_json(),
              "source": args.source, "target": args.target, "target_ssim": args.target_ssim,
              "device": str(config.device), "torch_threads": torch.get_num_threads(),
              "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "reached": reached, "history": history, "run_dir": str(run_dir)}
    print(table(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _parse_setting(item: str) -> tuple[str, Any]:
    field, _, text = item.partition("=")
    value: Any = text
    for kind in (int, float):
        try:
            value = kind(text)
            break
        except ValueError:
            continue
    if text in ("true", "false"):
        value = text == "true"
    return field.strip().replace("-", "_"), value


def table(report: dict[str, Any]) -> str:
    rows = ["| person | steps | training minutes | wall minutes | SSIM |",
            "| --- | ---: | ---: | ---: | ---: |"]
    last = report["history"][-1] if report["history"] else {}
    for key, label in (("a", "A (source)"), ("b", "B (target)"), ("both", "both")):
        point = report["reached"][key]
        if point is None:
            ssim = ", ".join(f"{last.get(k, float('nan')):.3f}" for k in ("ssim_a", "ssim_b"))
            rows.append(f"| {label} | not reached by step {last.get('step', 0)} | | | {ssim} |")
            continue
        ssim = min(point.get(k, 1.0) for k in (["ssim_a", "ssim_b"] if key == "both"
                                                else [f"ssim_{key}"]))
        rows.append(f"| {label} | {point['step']:.0f} | {point['train_minutes']:.1f} | "
                    f"{point['wall_minutes']:.1f} | {ssim:.3f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
