"""A composited-stage refiner folder (what `facedub refine --stage composited` writes,
which `facedub swap --refiner` and `facedub export` read) from the weights
tools/refiner_after_compositor.py trained (its DIR/best.safetensors), so those weights
can be swapped through the CLI and measured with benchmarks/refiner_quality.py.

    python tools/refiner_crop_folder.py --weights DIR/best.safetensors --source VIDEO \
        --out REFINER --step N --score S --baseline B

--step, --score and --baseline: the tool's best state's step and held-out face SSIM and
the mesh engine's there (written to best.json as `refine` writes them). Real faces'
weights: keep REFINER under /work/refiners, never in a repository or /tmp.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import safetensors.torch
import torch

from facedub.engines.registry import SOURCE_CROP
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.fsutil import write_json_atomic
from facedub.locations import work_dir as default_work_dir
from facedub.models.crop_refiner import CropRefiner
from facedub.models.refiner_run import COMPOSITED_METRIC
from facedub.models.run import CONFIG_FILE
from facedub.progress import NoProgress
from facedub.train.loop import save_state
from facedub.train.refine_crop import NO_GAINS, CropRefineConfig, new_crop_refiner_info
from facedub.train.refine_run import save_best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--step", type=int, required=True)
    parser.add_argument("--score", type=float, required=True)
    parser.add_argument("--baseline", type=float, required=True)
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; choose a new folder")
    faceset = analysed(args.source, default_work_dir(), ExtractConfig(crop_size=SOURCE_CROP),
                       NoProgress())
    config = CropRefineConfig()
    settings = {**config.to_json(), "made_by": "tools/refiner_crop_folder.py",
                "weights": str(args.weights)}
    info = new_crop_refiner_info(args.out, config.args, faceset, settings)
    info.root.mkdir(parents=True)
    write_json_atomic(info.root / CONFIG_FILE, info.raw)
    model = CropRefiner(info.args)
    model.load_state_dict(safetensors.torch.load_file(str(args.weights)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    save_state(info, model, optimizer, args.step, 0.0, {}, config.seed)
    save_best(info, model, args.step, args.score, NO_GAINS, COMPOSITED_METRIC, args.baseline)
    print(f"{args.out}: composited-stage refiner, step {args.step}")


if __name__ == "__main__":
    main()
