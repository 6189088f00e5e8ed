"""A refiner trained on what is left after the compositor (issue 13, BENCHMARKS.md,
Refiner, twenty-fifth round): a small full-resolution network run on the composited
crop, inside the compositor's alpha, trained on the source's own composited faces.

    python tools/refiner_after_compositor.py --source SOURCE --out DIR [--minutes 10] \
        [--pair-source SOURCE --pair-target TARGET --refiner REFINER ...] [--steps N]

The source's faces are split as `refine` splits them (held-out share 0.15, blocks): its
training frames are cut in two halves, each half swapped through the swap's path and
compositor with the mesh engine of the other half (`refine_composited.swapped_faces`):
the composited crops and their targets are the training pairs, what the compositor
leaves of the mesh engine's error. The held-out stretch (swapped from all training
frames) chooses the best state. Then, with --pair-target, the pair's faces (swapped from
--pair-source): the mesh engine's composited face, each --refiner's (refine_face, then
the compositor), and the after-compositor network on the mesh engine's, read with the
evaluation's face SSIM, frame by frame against the mesh engine's.

The network: four 3x3 convolutions (16 channels, receptive field 9 px: the band the
oracles put the composited face's error in, 1-3.6 px of a 300 px crop), its last one
zero at the start (the identity), its output added inside the alpha. Loss: 1 - SSIM of
luma (the evaluation's window, sigma 1.5) plus L1, on 64 px patches weighted by the
face region. One torch thread. Its weights: DIR/best.safetensors (real faces' training:
keep DIR under /work/refiners, never in a repository or /tmp).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import safetensors.torch
import torch
from torch import nn

from facedub.engines import refiner as rf
from facedub.engines.registry import SOURCE_CROP
from facedub.evaluate import realism
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.faceset import Faceset
from facedub.fsutil import atomic_path
from facedub.locations import work_dir as default_work_dir
from facedub.models.crop_refiner import CropRefiner
from facedub.progress import NoProgress
from facedub.swap import SwapConfig
from facedub.train.refine_composited import (
    CompositedHoldout,
    HeldOutFace,
    compare,
    composited,
    cut,
    stretch_compositor,
    stretch_edges,
    swapped_faces,
)
from facedub.train.refine_crop_loss import gaussian_window, shown_loss
from facedub.train.refine_data import split_faces

PATCH = 64
WEIGHTS = "best.safetensors"


@dataclass(frozen=True)
class ShownFace:
    """A held-out face with the mesh engine's composited crop (uint8) and its alpha."""

    face: HeldOutFace
    shown: np.ndarray
    alpha: np.ndarray


def shown_faces(made: tuple[tuple[HeldOutFace, ...], Faceset, SwapConfig], target: Path
                ) -> tuple[ShownFace, ...]:
    """`swapped_faces`' faces of `target` composited again through a fresh compositor, in
    order (as their `mesh_ssim` was read)."""
    faces, faceset, config = made
    compositor = stretch_compositor(target, faceset, config)
    return tuple(ShownFace(face, *composited(compositor, face.target, face.swapped))
                 for face in faces)


def save_weights(model: nn.Module, path: Path) -> None:
    """The network's weights as safetensors, written whole or not at all."""
    with atomic_path(path) as partial:
        safetensors.torch.save_file(model.state_dict(), str(partial))


def load_weights(model: nn.Module, path: Path) -> None:
    model.load_state_dict(safetensors.torch.load_file(str(path)))


# The network and its loss's parts are the composited stage's own
# (facedub.models.crop_refiner, facedub.train.refine_crop): `facedub refine --stage
# composited` trains it, and this tool's weights load into a refiner folder
# (tools/refiner_crop_folder.py).
AfterCompositor = CropRefiner


def as_tensors(faces: tuple[ShownFace, ...]) -> list[tuple[torch.Tensor, ...]]:
    """Per face (shown, alpha, target, region), (1, C, S, S) float32 tensors."""
    out: list[tuple[torch.Tensor, ...]] = []
    for face in faces:
        def t(image: np.ndarray) -> torch.Tensor:
            array = image.astype(np.float32)
            array = array[..., None] if array.ndim == 2 else array
            return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()
        out.append((t(face.shown) / 255.0, t(face.alpha), t(face.face.target.image) / 255.0,
                    t(face.face.region.astype(np.float32))))
    return out


def patches(data: list[tuple[torch.Tensor, ...]], batch: int, rng: np.random.Generator
            ) -> tuple[torch.Tensor, ...]:
    chosen = []
    for index in rng.integers(len(data), size=batch):
        shown, alpha, target, region = data[index]
        inside = np.argwhere(region[0, 0].numpy() > 0.5)
        y, x = inside[rng.integers(len(inside))]
        size = shown.shape[-1]
        y0 = int(np.clip(y - PATCH // 2, 0, size - PATCH))
        x0 = int(np.clip(x - PATCH // 2, 0, size - PATCH))
        box = (..., slice(y0, y0 + PATCH), slice(x0, x0 + PATCH))
        chosen.append(tuple(part[box] for part in (shown, alpha, target, region)))
    return tuple(torch.cat([c[k] for c in chosen]) for k in range(4))


def applied(model: AfterCompositor, face: ShownFace) -> np.ndarray:
    (shown, alpha, _, _), = as_tensors((face,))
    with torch.inference_mode():
        out = model(shown, alpha)[0].permute(1, 2, 0).numpy() * 255.0
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def scored(model: AfterCompositor, faces: tuple[ShownFace, ...]) -> list[float]:
    was = model.training
    model.eval()
    values = [realism.fidelity(f.face.target.image, applied(model, f), f.face.region).ssim
              for f in faces]
    model.train(was)
    return values


def summary(name: str, values: list[float], mesh: list[float]) -> str:
    score = compare(values, mesh)
    if score is None:
        return f"| {name} | no face read | |"
    return (f"| {name} | {score.refined:.4f} | {score.gain:+.4f} ({score.gain_se:.4f}, "
            f"{score.better} of {score.faces}) |")


def train(train_faces: tuple[ShownFace, ...], held: tuple[ShownFace, ...],
          minutes: float, steps: int, out: Path, validate_every: int = 250,
          init: Path | None = None) -> tuple[AfterCompositor, dict[str, float]]:
    """`init`: weights to start from (an earlier run's, to train it on; the optimiser
    starts afresh), else the identity."""
    torch.manual_seed(0)
    model = AfterCompositor()
    if init is not None:
        load_weights(model, init)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    window = gaussian_window()
    data = as_tensors(train_faces)
    rng = np.random.default_rng(0)
    mesh = [f.face.mesh_ssim for f in held]
    start = statistics.mean(scored(model, held)) if init is not None else None
    best = (statistics.mean(mesh) if start is None else max(start, statistics.mean(mesh)), 0)
    save_weights(model, out / WEIGHTS)
    cpu_start = time.process_time()
    step = 0
    while step < steps and time.process_time() - cpu_start < minutes * 60:
        batch = patches(data, 8, rng)
        shown, alpha, truth, region = batch
        # the composited stage's loss, on the whole correction (the twenty-fifth round's)
        loss = shown_loss(model(shown, alpha), truth, region, window)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        step += 1
        if step % validate_every == 0:
            values = scored(model, held)
            score = compare(values, mesh)
            if score is None:
                continue
            mean = score.refined
            print(f"step {step} cpu {time.process_time() - cpu_start:.0f} s loss "
                  f"{float(loss.detach()):.4f} held-out {mean:.4f} "
                  f"(mesh {statistics.mean(mesh):.4f})", flush=True)
            if mean > best[0]:
                best = (mean, step)
                save_weights(model, out / WEIGHTS)
    cpu = time.process_time() - cpu_start
    load_weights(model, out / WEIGHTS)
    return model.eval(), {"steps": step, "cpu_s": cpu, "best_step": best[1],
                          "best_heldout": best[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU minutes")
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--pair-source", type=Path)
    parser.add_argument("--pair-target", type=Path)
    parser.add_argument("--refiner", type=Path, action="append", default=[])
    parser.add_argument("--max-frames", type=int, default=40)
    parser.add_argument("--init", type=Path,
                        help="weights to train on from (an earlier run's best.safetensors)")
    parser.add_argument("--reuse", action="store_true",
                        help=f"score the network an earlier run left in --out ({WEIGHTS})")
    parser.add_argument("--look", type=int, action="append", default=[],
                        help="pair face number to write as PNGs (target | mesh | refiners "
                        "| after-compositor), whole crop and its middle at 3x")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    work = default_work_dir()
    progress = NoProgress()
    faceset = analysed(args.source, work, ExtractConfig(crop_size=SOURCE_CROP), progress)
    split = split_faces(len(faceset.faces_of()), 0.15, "blocks")
    edges = stretch_edges(faceset, split)
    assert edges is not None
    last, first = edges
    middle = last // 2
    halves = (cut(args.source, 0, middle, args.out / "half-a.mp4"),
              cut(args.source, middle + 1, last, args.out / "half-b.mp4"))
    training_cut = cut(args.source, 0, last, args.out / "training.mp4")
    held_cut = cut(args.source, first, max(record.frame for record in faceset.faces_of()),
                   args.out / "heldout.mp4")
    started = time.process_time()
    made = [shown_faces(swapped_faces(halves[1 - k], halves[k], work, progress), halves[k])
            for k in (0, 1)]
    train_faces = made[0] + made[1]
    held_made = swapped_faces(training_cut, held_cut, work, progress)
    held, held_set, held_config = held_made
    held_shown = shown_faces(held_made, held_cut)
    print(f"data: {len(train_faces)} training faces (halves), {len(held)} held out, "
          f"{time.process_time() - started:.0f} CPU s", flush=True)
    print("training halves, mesh composited: "
          f"{statistics.mean(f.face.mesh_ssim for f in train_faces):.4f}")
    if args.reuse:
        model = AfterCompositor()
        load_weights(model, args.out / WEIGHTS)
        model.eval()
    else:
        model, facts = train(train_faces, held_shown, args.minutes, args.steps, args.out,
                              init=args.init)
        print(f"trained: {facts}")
    mesh = [f.mesh_ssim for f in held]
    print(f"\nheld-out stretch, {len(held)} faces, crop {held[0].target.image.shape[0]} px")
    print("| variant | face SSIM | minus mesh (se, better) |\n|---|---:|---|")
    print(summary("mesh", mesh, mesh))
    print(summary("after-compositor", scored(model, held_shown), mesh))
    holdout = CompositedHoldout(held, held_cut, held_set, held_config)
    for path in args.refiner:
        print(summary(path.name, holdout.refined_ssims(rf.open_refiner(path).backend), mesh))
    if args.pair_target is None or args.pair_source is None:
        return
    pair_target = cut(args.pair_target, 0, args.max_frames - 1, args.out / "pair-target.mp4")
    pair_made = swapped_faces(args.pair_source, pair_target, work, progress)
    pair, pair_set, pair_config = pair_made
    pair_shown = shown_faces(pair_made, pair_target)
    mesh = [f.mesh_ssim for f in pair]
    print(f"\npair, {len(pair)} faces, crop {pair[0].target.image.shape[0]} px")
    print("| variant | face SSIM | minus mesh (se, better) |\n|---|---:|---|")
    print(summary("mesh", mesh, mesh))
    print(summary("after-compositor", scored(model, pair_shown), mesh))
    pair_holdout = CompositedHoldout(pair, pair_target, pair_set, pair_config)
    for path in args.refiner:
        print(summary(path.name, pair_holdout.refined_ssims(rf.open_refiner(path).backend),
                      mesh))
    for number in args.look:
        look(pair_holdout, pair_shown[number], number, model, args.refiner, args.out)


def look(holdout: CompositedHoldout, shown_face: ShownFace, number: int,
         model: AfterCompositor, refiners: list[Path], out: Path) -> None:
    """PNGs of pair face `number`: target | mesh | each refiner | after-compositor, the
    whole crop (1x) and its middle third at 3x (nearest)."""
    face = holdout.faces[number]
    columns = [face.target.image, shown_face.shown]
    for path in refiners:
        backend = rf.open_refiner(path).backend
        compositor = holdout.compositor()
        for earlier in holdout.faces[:number + 1]:  # the per-track state as the swap's
            image = rf.refine_face(backend, earlier.swapped, earlier.target.image)
            shown, _ = composited(compositor, earlier.target,
                                  replace(earlier.swapped, image=image))
        columns.append(shown)
    columns.append(applied(model, shown_face))
    whole = np.concatenate(columns, axis=1)
    size = face.target.image.shape[0]
    box = slice(size // 3, 2 * size // 3)
    middle = np.concatenate([np.kron(c[box, box], np.ones((3, 3, 1), dtype=np.uint8))
                             for c in columns], axis=1)
    for name, image in (("1x", whole), ("3x", middle)):
        cv2.imwrite(str(out / f"look-{face.frame:03d}-{name}.png"),
                    cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
