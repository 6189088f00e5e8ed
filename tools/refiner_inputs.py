"""How far a refiner's training renderings are from their truth, against the renderings
of a self-swap pair's own target faces from its source (issue 13, BENCHMARKS.md, Refiner,
twenty-fourth round): a builder whose inputs are further from their truth than the pair's
teaches the refiner to fix errors the pair does not have.

    python tools/refiner_inputs.py --source SOURCE [--target SELF_TARGET] \
        [--renderings blocks --renderings halves | --pair-only] [--refiner REFINER ...] \
        [--res 128] [--work-dir DIR]

Per builder (`refine`'s own renderings, RefineConfig.renderings, seed 0, rendered as
`refine` renders them) and set (training, held out), and for the pair's target faces
rendered as `refine` renders its faces (its training engine over all of the source's
faces, every face its own track, no compositor: the swap's source and target, *not* the
swap's own path; tools/refiner_stages.py reads the swap's laid and composited faces with
the evaluation's face SSIM, another measure than this one): the renderings without the
synthetic degradation (as the held-out check sees them) at the refiner's resolution, mean
SSIM inside the truth's face mask of the laid mesh face and of what the compositor's
`--color detail` keeps of it ("kept": the truth's low band, the face's detail), the
error's energy in the refiner's own bands (low, mid, fine; RGB, x1e4, inside the mask)
and the share of the training loss each band's error carries (the loss of the face with
that band of its error taken away).
With `--refiner`, each refiner's gain on each set: SSIM and kept SSIM of its face (its
band gate) minus the laid mesh face's, before the compositor.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from facedub.engines.registry import SOURCE_CROP
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.faceset import Faceset
from facedub.locations import work_dir as default_work_dir
from facedub.models.refiner import BANDS, Refiner
from facedub.models.refiner_run import load_refiner
from facedub.progress import NoProgress
from facedub.train.data import load_samples
from facedub.train.losses import masked_ssim
from facedub.train.refine import _render_pairs
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import (
    RENDERINGS,
    RefinePairs,
    _engine_over,
    _reduce,
    _target_face,
    make_refine_batch,
    split_faces,
)
from facedub.train.refine_loss import detail_composed, refine_loss


@dataclass(frozen=True)
class InputScores:
    """One set of renderings: count, mean SSIM of the laid face and of what `--color
    detail` keeps of it, per band the error energy (x1e4) and the loss share."""

    count: int
    ssim: float
    kept: float
    energy: tuple[float, ...]
    loss_share: tuple[float, ...]
    refined: tuple[tuple[str, float, float], ...] = ()  # (refiner, SSIM gain, kept gain)


def target_renderings(source: Faceset, target: Faceset, res: int) -> RefinePairs:
    """Every target face rendered by `refine`'s training engine over all of the source's
    faces (refine_data's settings, each face its own track), laid over the target crop
    and reduced to `res` as `refine`'s renderings are: the pair's faces made as the
    training data is, not as the swap makes them (its engine settings, tracks and
    compositor: tools/refiner_stages.py)."""
    rng = np.random.default_rng(0)
    engine = _engine_over(source, np.arange(len(source.faces_of())), 1.0, rng)
    faces = load_samples(target, res)
    mesh, masks = [], []
    try:
        for number, record in enumerate(target.faces_of()):
            face = _target_face(target, record, 2 * res, track=number)
            swapped = engine.swap_face(face)
            alpha = swapped.mask[..., None]
            laid = swapped.image * alpha + face.image * (1.0 - alpha)
            mesh.append(_reduce(np.clip(laid + 0.5, 0, 255).astype(np.uint8), res))
            masks.append(_reduce(np.round(swapped.mask * 255).astype(np.uint8), res))
    finally:
        engine.close()
    return RefinePairs(mesh=np.stack(mesh), mesh_mask=np.stack(masks),
                       truth=np.arange(len(mesh), dtype=np.int64), faces=faces)


def scores_of(pairs: RefinePairs, config: RefineConfig, limit: int,
              refiners: dict[str, Refiner]) -> InputScores:
    chosen = np.linspace(0, len(pairs) - 1, min(limit, len(pairs))).round().astype(np.int64)
    clean = replace(config.degradation(), chance=0.0)
    batch = make_refine_batch(pairs, chosen, np.random.default_rng(2), clean)
    mesh, truth, mask = batch.inputs[:, :3], batch.targets, batch.masks
    bands = Refiner(config.model_args()).bands(mesh - truth)
    inside = mask > 0.5
    energy = tuple(1e4 * float((band ** 2).sum(1, keepdim=True)[inside].mean())
                   for band in bands)
    weights = config.loss_weights()
    base = float(refine_loss(mesh, truth, mask, batch.eyes_mouth, weights, -1.0))
    shares = tuple(1.0 - float(refine_loss((mesh - band).clamp(0, 1), truth, mask,
                                           batch.eyes_mouth, weights, -1.0)) / base
                   for band in bands)
    ssim = float(masked_ssim(mesh, truth, mask).mean())
    kept = float(masked_ssim(detail_composed(mesh, truth, mask), truth, mask).mean())
    refined = []
    for name, model in refiners.items():
        with torch.inference_mode():
            face = model(batch.inputs).clamp(0, 1)  # through its band gate, as a swap
        refined.append((name, float(masked_ssim(face, truth, mask).mean()) - ssim,
                        float(masked_ssim(detail_composed(face, truth, mask), truth,
                                          mask).mean()) - kept))
    return InputScores(count=len(chosen), ssim=ssim, kept=kept, energy=energy,
                       loss_share=shares, refined=tuple(refined))


def row(name: str, scores: InputScores) -> str:
    cells = [f"{e:.1f}, {s:.0%}" for e, s in zip(scores.energy, scores.loss_share,
                                                   strict=True)]
    gains = "; ".join(f"{refiner} {ssim:+.4f} / {kept:+.4f}"
                      for refiner, ssim, kept in scores.refined)
    return (f"| {name} | {scores.count} | {scores.ssim:.4f} | {scores.kept:.4f} | "
            + " | ".join(cells) + f" | {gains or '–'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--target", type=Path, help="the pair's self-swap target")
    parser.add_argument("--renderings", action="append", choices=RENDERINGS)
    parser.add_argument("--pair-only", action="store_true",
                        help="only the pair's renderings (with --target)")
    parser.add_argument("--refiner", type=Path, action="append", default=[])
    parser.add_argument("--res", type=int, default=128)
    parser.add_argument("--limit", type=int, default=400, help="renderings a set, at most")
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = args.work_dir or default_work_dir()
    extract = ExtractConfig(crop_size=SOURCE_CROP)
    source = analysed(args.source, work, extract, NoProgress())
    refiners = {root.name: load_refiner(root, torch.device("cpu"))[0]
                for root in args.refiner}
    for model in refiners.values():
        model.eval()
    print("| renderings | count | SSIM in the face mask | kept | "
          + " | ".join(f"{band}: error energy (x1e4), loss share" for band in BANDS)
          + " | refined minus mesh: SSIM / kept |")
    print("|---|---:|---:|---:|" + "---|" * (len(BANDS) + 1))
    for renderings in [] if args.pair_only else args.renderings or list(RENDERINGS):
        config = RefineConfig(res=args.res, renderings=renderings)
        split = split_faces(len(source.faces_of()), config.holdout_share, renderings)
        training, held = _render_pairs(source, split, config, NoProgress())
        print(row(f"{renderings}, training", scores_of(training, config, args.limit, refiners)),
              flush=True)
        print(row(f"{renderings}, held out", scores_of(held, config, args.limit, refiners)),
              flush=True)
    if args.target is not None:
        target = analysed(args.target, work, extract, NoProgress())
        config = RefineConfig(res=args.res)
        pair = target_renderings(source, target, args.res)
        print(row("the pair's target faces rendered as `refine` renders", scores_of(
            pair, config, args.limit, refiners)), flush=True)


if __name__ == "__main__":
    main()
