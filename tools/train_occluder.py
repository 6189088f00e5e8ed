"""Train OccluderNet (facedub.models.occluder) and write its weights as safetensors.

The data are face crops of clips and photos in which nothing covers the face (none of the
clips with glasses, hands or microphones: those are kept for checking), aligned at 128 px
with the "whole" coverage (every `--every`th frame) and cached in one .npz;
tools/occluder_synthesis.py draws the occluders (with occluder_looks.py and
occluder_fingers.py; `--hand-photo` names the photo whose hands' skin textures the
clasped fingers). The clips used for the shipped weights, and how long it trained, are
in the README's model table. Usage:

    python tools/train_occluder.py CLIP_OR_PHOTO... --cache /tmp/occluder_crops.npz \\
        --minutes 30 --out src/facedub/data/occluder.safetensors --preview /tmp/preview.png
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from occluder_fingers import hand_patches
from occluder_synthesis import RES, Crops, sample
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.nn import functional

from facedub import media
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import face_mask
from facedub.models.occluder import OCCLUDER_OUT, OccluderNet, occluder_metadata
from facedub.models.occluder_graph import OCCLUDER_WIDTHS, occluder_widths

log = logging.getLogger("train_occluder")


def load_crops(paths: list[Path], cache: Path, every: int) -> Crops:
    """Aligned 128 px crops and their landmarks of every face in `paths`, cached."""
    if cache.is_file():
        data = np.load(cache)
        return Crops(data["images"], data["landmarks"])
    images, landmarks = [], []
    model = resolve_landmarker_model()
    for path in paths:
        photo = media.is_photo_path(path)
        with FaceAnalyser(max_faces=2, video=not photo, model_path=model) as analyser:
            for frame in media.iter_frames(path):
                if frame.index % every:
                    continue
                for face in analyser.analyse(frame.image, frame.time):
                    aligned = align_face(frame.image, face.landmarks, RES, "whole")
                    images.append(aligned.image)
                    landmarks.append(aligned.face_landmarks[:, :2])
        log.info("%s: %d crops so far", path.name, len(images))
    crops = Crops(np.stack(images), np.stack(landmarks).astype(np.float32))
    np.savez(cache, images=crops.images, landmarks=crops.landmarks)
    return crops


def batch(rng: np.random.Generator, crops: Crops, indices: np.ndarray, window: int = RES
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (B, 3, W, W), labels and loss weights (B, 1, W/2, W/2); the weight is
    higher inside the face, where a mistake shows. A `window` below 128 trains on random
    windows of the crops at the same scale (the net is convolutional): cheaper steps."""
    pairs = [sample(rng, crops, int(i)) for i in indices]
    images = np.stack([image for image, _ in pairs]).transpose(0, 3, 1, 2)
    small = (OCCLUDER_OUT, OCCLUDER_OUT)
    labels = np.stack([cv2.resize(label, small, interpolation=cv2.INTER_AREA)
                       for _, label in pairs])[:, None]
    weights = np.stack([1.0 + 3.0 * face_mask(crops.landmarks[i] * (OCCLUDER_OUT / RES),
                                              OCCLUDER_OUT, forehead=True)
                        for i in indices])[:, None]
    x0, y0 = (int(v) * 2 for v in rng.integers(0, (RES - window) // 2 + 1, 2))
    images = images[..., y0:y0 + window, x0:x0 + window]
    half = (slice(None), slice(None), slice(y0 // 2, (y0 + window) // 2),
            slice(x0 // 2, (x0 + window) // 2))
    return (torch.from_numpy(np.ascontiguousarray(images)),
            torch.from_numpy(np.ascontiguousarray(labels[half])),
            torch.from_numpy(np.ascontiguousarray(weights[half].astype(np.float32))))


def loss_of(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted cross-entropy plus a soft IoU term: the cross-entropy alone settles for
    finding most of a large occluder, and the composite shows every pixel it misses."""
    entropy = functional.binary_cross_entropy_with_logits(logits, labels, weight=weights)
    probability = torch.sigmoid(logits)
    overlap = (probability * labels * weights).sum()
    union = ((probability + labels - probability * labels) * weights).sum()
    return entropy + 0.5 * (1.0 - (overlap + 1.0) / (union + 1.0))


def train(crops: Crops, minutes: float, batch_size: int, window: int, seed: int, out: Path,
          preview: Path | None, init: Path | None = None, lr: float = 3e-3,
          freeze_norm: bool = False, keep: bool = False,
          widths: tuple[int, ...] = OCCLUDER_WIDTHS) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    order = rng.permutation(len(crops.images))
    held = order[: max(16, len(order) // 20)]
    used = order[len(held):]
    model = OccluderNet(widths)
    if init is not None:  # go on from earlier weights (batch-norm counters are not kept)
        model.load_state_dict(load_file(str(init)), strict=False)
    teacher = None
    if keep and init is not None:  # the earlier net's marks stay the target off the occluders
        teacher = OccluderNet(widths)
        teacher.load_state_dict(load_file(str(init)), strict=False)
        teacher.eval()
    if freeze_norm:  # a fine-tune that keeps the shipped weights' batch statistics
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.requires_grad_(False)
    trained = [value for value in model.parameters() if value.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=1e-4)
    started, step, losses = time.monotonic(), 0, []
    budget = minutes * 60.0
    while time.monotonic() - started < budget:
        progress = (time.monotonic() - started) / budget
        cosine_lr(optimiser, lr, 0.05, progress)
        images, labels, weights = batch(rng, crops, rng.choice(used, batch_size), window)
        if teacher is not None:
            with torch.no_grad():
                labels = torch.maximum(labels, torch.sigmoid(teacher(images)))
        _train_mode(model, freeze_norm)
        step = optimiser_step(optimiser, loss_of(model(images), labels, weights), losses,
                              step, started, log)
        if step % 500 == 0:  # a usable file early, in case the run is stopped
            save_weights(model, out, {"steps": step})
    scores = evaluate(model, crops, held, np.random.default_rng(seed + 1), preview)
    scores.update(steps=step, minutes=(time.monotonic() - started) / 60)
    save_weights(model, out, scores)
    return scores


def cosine_lr(optimiser: torch.optim.Optimizer, lr: float, floor: float,
              progress: float) -> None:
    """The learning rate decayed from `lr` to `floor` x `lr` along a cosine over the time
    budget (`progress` from 0 to 1)."""
    for group in optimiser.param_groups:
        group["lr"] = lr * (floor + (1.0 - floor) * 0.5 * (1 + np.cos(np.pi * progress)))


def optimiser_step(optimiser: torch.optim.Optimizer, loss: torch.Tensor, losses: list[float],
                   step: int, started: float, logger: logging.Logger) -> int:
    """One step on `loss` (its value appended to `losses`), the mean of the last 50
    logged every 50 steps; returns the step count after it."""
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    losses.append(loss.item())
    step += 1
    if step % 50 == 0:
        logger.info("step %d  %.1f min  loss %.4f", step, (time.monotonic() - started) / 60,
                    float(np.mean(losses[-50:])))
    return step


def _train_mode(model: OccluderNet, freeze_norm: bool) -> None:
    model.train()
    if freeze_norm:  # the running means and variances stay as they were
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()


def save_weights(model: OccluderNet, out: Path, scores: dict[str, float]) -> None:
    """`model`'s weights, its widths and `scores` (metadata) to `out`, atomically: a
    stopped run leaves the last whole file."""
    tensors = {name: value.detach().contiguous() for name, value in model.state_dict().items()
               if value.dtype.is_floating_point}
    staged = out.with_suffix(".partial")
    save_file(tensors, str(staged), metadata={**occluder_metadata(model),
                                              "training": json.dumps(scores)})
    staged.replace(out)


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), "pt") as weights:
        return dict(weights.metadata() or {})


def evaluate(model: OccluderNet, crops: Crops, held: np.ndarray, rng: np.random.Generator,
             preview: Path | None) -> dict[str, float]:
    """IoU of the occluders inside the face on held-out faces with fresh occluders."""
    model.eval()
    images, labels, weights = batch(rng, crops, np.resize(held, 64))
    with torch.no_grad():
        predicted = torch.sigmoid(model(images))
    inside = weights > 1.5
    hit = ((predicted > 0.5) & (labels > 0.5) & inside).sum().item()
    union = (((predicted > 0.5) | (labels > 0.5)) & inside).sum().item()
    if preview is not None:
        _write_preview(preview, images[:16], labels[:16], predicted[:16])
    return {"held_out_iou": hit / max(union, 1)}


def _write_preview(path: Path, images: torch.Tensor, labels: torch.Tensor,
                   predicted: torch.Tensor) -> None:
    rows = []
    for image, label, guess in zip(images, labels, predicted, strict=True):
        picture = (image.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
        masks = [cv2.resize((m[0].numpy() * 255).astype(np.uint8), (RES, RES))
                 for m in (label, guess)]
        rows.append(np.hstack([picture] + [np.dstack([m] * 3) for m in masks]))
    grid = np.vstack([np.hstack(rows[i:i + 4]) for i in range(0, len(rows), 4)])
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="clips and photos")
    parser.add_argument("--cache", type=Path, help="crops .npz (made once)")
    parser.add_argument("--average", nargs=2, type=Path, help="two weight files to average")
    parser.add_argument("--every", type=int, default=3, help="every Nth frame of a clip")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--window", type=int, default=96, help="training window, pixels")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--preview", type=Path)
    parser.add_argument("--init", type=Path, help="weights to go on training from")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--freeze-norm", action="store_true",
                        help="keep the batch-norm layers as --init has them")
    parser.add_argument("--keep", action="store_true",
                        help="learn what --init marks as well as the drawn occluders")
    parser.add_argument("--widths", type=int, nargs="+", default=list(OCCLUDER_WIDTHS),
                        help="channels at 128, 64, 32, 16 and 8 px (as many levels as given)")
    parser.add_argument("--hand-photo", type=Path,
                        help="multi_group_of_six_sitcom_cast.jpg: real hand skin for fingers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.average:
        first, second = (load_file(str(path)) for path in args.average)
        widths = {occluder_widths(_metadata(path)) for path in args.average}
        if len(widths) != 1:
            parser.error(f"--average: the two files' widths differ: {sorted(widths)}")
        save_file({name: (first[name] + second[name]) / 2 for name in first}, str(args.out),
                  metadata={**occluder_metadata(OccluderNet(widths.pop())),
                            "training": json.dumps(
                                {"mean_of": [path.name for path in args.average]})})
        return
    if not args.inputs or args.cache is None:
        parser.error("give clips or photos and --cache (or --average)")
    torch.set_num_threads(args.threads)
    crops = load_crops(args.inputs, args.cache, args.every)
    if args.hand_photo is not None:
        crops = replace(crops, hands=hand_patches(args.hand_photo))
    log.info("%d face crops", len(crops.images))
    scores = train(crops, args.minutes, args.batch, args.window, args.seed, args.out,
                   args.preview, args.init, args.lr, args.freeze_norm,
                   args.keep, tuple(args.widths))
    log.info("done: %s", json.dumps(scores))


if __name__ == "__main__":
    main()
