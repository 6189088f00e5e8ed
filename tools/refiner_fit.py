"""A trained refiner on its own training renderings against its held-out ones, and which
band of the mesh engine's error its loss pays for (issue 13, BENCHMARKS.md, Refiner,
twenty-third round).

    python tools/refiner_fit.py --source SOURCE --refiner REFINER [--refiner ...] \
        [--work-dir DIR] [--limit 160]

The renderings are `refine`'s own (the same split, seed and settings as the first
refiner's config.json, rendered again: `_render_pairs` is seeded), shown without the
synthetic degradation (as the held-out check sees them). Per set (training, held out)
and refiner: mean SSIM inside the face mask of the mesh face and of the refined one (the
refiner's band gate, and the whole correction), of what `--color detail` keeps of each;
and per band of the refiner's gate (low, mid, fine at 128 px): the mesh error's energy
inside the mask, the share the refiner's whole correction removes, and the training loss
of the mesh face with that band of its error taken away (the share of the loss that band carries).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from facedub.engines.registry import SOURCE_CROP
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.locations import work_dir as default_work_dir
from facedub.models.refiner_run import load_refiner
from facedub.progress import NoProgress
from facedub.train.losses import masked_ssim
from facedub.train.refine import _render_pairs
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import make_refine_batch, split_faces
from facedub.train.refine_loss import detail_composed, refine_loss

BANDS = ("low", "mid", "fine")
# Training settings tried and removed: a folder trained with one read other inputs than
# this tool (and the swap) gives it, so it is refused rather than scored as if it were
# not. `target_low_pass` (the input's low band made the truth's, the target crop's in a
# swap): BENCHMARKS.md, Refiner, twenty-third round; its code is commit 71e5232 on
# branch r48-E.
REMOVED_SETTINGS = ("target_low_pass",)


def refuse_removed_settings(root: Path) -> None:
    """Exit if the refiner folder `root` was trained with a setting in REMOVED_SETTINGS
    (an exported .onnx does not say, and is let through)."""
    if not (root / "config.json").is_file():
        return
    settings = json.loads((root / "config.json").read_text()).get("refine_settings") or {}
    used = [name for name in REMOVED_SETTINGS if settings.get(name)]
    if used:
        raise SystemExit(f"{root}: trained with {', '.join(used)}, which facedub no longer "
                         "has (commit 71e5232 on branch r48-E holds it)")


def config_of(root: Path) -> RefineConfig:
    refuse_removed_settings(root)
    settings = json.loads((root / "config.json").read_text())["refine_settings"]
    known = set(RefineConfig.__dataclass_fields__)
    return RefineConfig(**{k: v for k, v in settings.items() if k in known})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, action="append", required=True)
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--limit", type=int, default=160, help="renderings a set, at most")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for root in args.refiner:
        refuse_removed_settings(root)
    config = config_of(args.refiner[0])
    faceset = analysed(args.source, args.work_dir or default_work_dir(),
                       ExtractConfig(crop_size=SOURCE_CROP), NoProgress())
    split = split_faces(len(faceset.faces_of()), config.holdout_share, config.renderings)
    train_pairs, held_pairs = _render_pairs(faceset, split, config, NoProgress())
    print(f"{len(train_pairs)} training renderings, {len(held_pairs)} held out")
    models = {}
    for root in args.refiner:
        model, _, state = load_refiner(root, torch.device("cpu"))
        label = f"{root.name} (step {state.step}, gains {model.gains})"
        models[label] = model
    sets = {}
    clean = replace(config.degradation(), chance=0.0)  # no synthetic degradation
    for name, pairs in (("training", train_pairs), ("held out", held_pairs)):
        chosen = np.linspace(0, len(pairs) - 1, min(args.limit, len(pairs))).round()
        sets[name] = make_refine_batch(pairs, chosen.astype(np.int64),
                                       np.random.default_rng(2), clean)
    weights = config.loss_weights()
    print("\n| set | refiner | mesh SSIM | refined SSIM (gate) | gain | whole correction | "
          "kept mesh | kept refined | kept gain |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    energy_rows = []
    for set_name in ("training", "held out"):
        for label, model in models.items():
            batch = sets[set_name]
            inputs, truth, mask = batch.inputs, batch.targets, batch.masks
            mesh = inputs[:, :3]
            with torch.inference_mode():
                correction = model.correction(inputs)
                low, mid, fine = model.bands(correction)
            gains = model.gains
            gated = (mesh + gains[0] * low + gains[1] * mid + gains[2] * fine).clamp(0, 1)
            whole = (mesh + correction).clamp(0, 1)
            scores = [float(masked_ssim(x, truth, mask).mean()) for x in (mesh, gated, whole)]
            kept = [float(masked_ssim(detail_composed(x, truth, mask), truth, mask).mean())
                    for x in (mesh, gated)]
            print(f"| {set_name} | {label} | {scores[0]:.4f} | {scores[1]:.4f} | "
                  f"{scores[1] - scores[0]:+.4f} | {scores[2]:.4f} | {kept[0]:.4f} | "
                  f"{kept[1]:.4f} | {kept[1] - kept[0]:+.4f} |")
            error_bands = model.bands(mesh - truth)
            refined_bands = model.bands(whole - truth)
            inside = mask > 0.5
            energies = []
            for before, after in zip(error_bands, refined_bands, strict=True):
                e_before = float((before ** 2).sum(1, keepdim=True)[inside].mean())
                e_after = float((after ** 2).sum(1, keepdim=True)[inside].mean())
                energies.append((e_before, e_after))
            # The whole face's loss, `refine`'s (RefineConfig.detail_loss off).
            base_loss = float(refine_loss(mesh, truth, mask, batch.eyes_mouth, weights, -1.0))
            without = []
            for band in error_bands:
                fixed = (mesh - band).clamp(0, 1)
                without.append(float(refine_loss(fixed, truth, mask, batch.eyes_mouth,
                                                 weights, -1.0)))
            energy_rows.append((set_name, label, energies, base_loss, without))
    print("\n| set | refiner | " + " | ".join(
        f"{b}: mesh error energy (x1e4) | {b}: share the whole correction removes | "
        f"loss without {b}'s error"
        for b in BANDS) + " | loss of the mesh face |")
    print("|---|---|" + "---:|" * (3 * len(BANDS) + 1))
    for set_name, label, energies, base_loss, without in energy_rows:
        cells = []
        for (before, after), loss in zip(energies, without, strict=True):
            cells += [f"{1e4 * before:.1f}", f"{1 - after / max(before, 1e-12):+.3f}",
                      f"{loss:.4f} ({1 - loss / base_loss:.0%} less)"]
        print(f"| {set_name} | {label} | " + " | ".join(cells) + f" | {base_loss:.4f} |")
    print(f"\nsets: {', '.join(f'{k[0]} {len(v.inputs)}' for k, v in sets.items())} "
          "renderings; SSIM means over them")


if __name__ == "__main__":
    main()
