"""Distil a narrower OccluderNet from the shipped one (the teacher) and write its weights.

The student learns the teacher's probabilities (soft targets, weighted inside the face
as tools/train_occluder.py weights its labels, plus the logits near the decision) on two
kinds of input, half a batch each:

- real crops: the 128 px canonical crops the occlusion mask itself feeds the net
  (facedub.composite.occlusion.OcclusionMasks on every `--every`th frame's 512 px
  "whole" crop), with a little brightness, contrast and mirror jitter;
- the synthesis (tools/occluder_synthesis.py) drawn on those crops, whose labels are a
  small extra term (the teacher's marks are what the swap has been judged on).

The student starts from the teacher's own channels, the `widths` with the largest batch
norm scales at each level (`pruned_state`), so it begins near the teacher. A clip given
as PATH:SKIP leaves out its first SKIP frames (the ones the masks are judged on). Usage:

    python tools/distill_occluder.py crops CLIP[:SKIP]... --cache /tmp/distil_crops.npz
    python tools/distill_occluder.py train --cache /tmp/distil_crops.npz \\
        --widths 4 8 16 24 32 --minutes 40 --out /tmp/occluder_small.safetensors
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from occluder_synthesis import RES, Crops, sample
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file
from torch.nn import functional
from train_occluder import cosine_lr, optimiser_step, save_weights

from facedub import media
from facedub.composite.occlusion import (
    OccluderModel,
    OcclusionMasks,
    canonical_from_crop,
    occluder_weights,
)
from facedub.faces.align import align_face
from facedub.faces.geometry import apply_affine
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import face_mask
from facedub.models.occluder import OCCLUDER_OUT, OccluderNet
from facedub.models.occluder_graph import occluder_graph

log = logging.getLogger("distill_occluder")
CROP = 512  # the swap's crop size the masks were judged at
LOGIT_CLIP = 6.0  # logits beyond this are one decision; their exact size does not matter


class _Recorder:
    """The teacher's model, keeping every canonical crop it is given."""

    def __init__(self, model: OccluderModel) -> None:
        self.model, self.crops = model, []  # type: list[np.ndarray]

    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        self.crops.append(canonical.copy())
        return self.model.probabilities(canonical)


def canonical_crops(specs: list[str], every: int) -> Crops:
    """The net's canonical crops of every `every`th frame of each clip (PATH or PATH:SKIP)
    with their landmarks in the canonical crop's pixels."""
    images, landmarks = [], []
    teacher = OccluderModel()
    for spec in specs:
        path_text, _, skip_text = spec.rpartition(":") if spec.count(":") else (spec, "", "0")
        path, skip = Path(path_text), int(skip_text or 0)
        recorder = _Recorder(teacher)
        masks = OcclusionMasks(recorder)
        with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
            for frame in media.iter_frames(path):
                if frame.index < skip or frame.index % every:
                    continue
                faces = analyser.analyse(frame.image, frame.time)
                if not faces:
                    continue
                aligned = align_face(frame.image, faces[0].landmarks, CROP, "whole")
                masks(0, frame.time, aligned.image, aligned.face_landmarks)
                landmarks.append(apply_affine(canonical_from_crop(aligned.face_landmarks),
                                              aligned.face_landmarks[:, :2]))
        images.extend(recorder.crops)
        log.info("%s from frame %d: %d crops so far", path.name, skip, len(images))
    return Crops(np.stack(images), np.stack(landmarks).astype(np.float32))


def pruned_state(teacher: dict[str, torch.Tensor], widths: tuple[int, ...]
                 ) -> dict[str, torch.Tensor]:
    """The teacher's weights cut to `widths`: at each block the output channels with the
    largest batch-norm scale, and the inputs that those of the block before kept."""
    levels = len(widths)
    state: dict[str, torch.Tensor] = {}

    def cut(prefix: str, inputs: torch.Tensor, keep: int) -> torch.Tensor:
        scale = teacher[f"{prefix}.1.weight"].abs()
        outputs = torch.sort(torch.topk(scale, keep).indices).values
        state[f"{prefix}.0.weight"] = teacher[f"{prefix}.0.weight"][outputs][:, inputs].clone()
        for key in ("1.weight", "1.bias", "1.running_mean", "1.running_var"):
            state[f"{prefix}.{key}"] = teacher[f"{prefix}.{key}"][outputs].clone()
        return outputs

    kept = [cut("stem", torch.arange(3), widths[0])]
    for level in range(levels - 1):
        inner = cut(f"down.{level}.0", kept[-1], widths[level + 1])
        kept.append(cut(f"down.{level}.1", inner, widths[level + 1]))
    x = kept[-1]
    for up, level in enumerate(reversed(range(1, levels - 1))):
        deeper = teacher[f"up.{up}.0.weight"].shape[1] - teacher[f"up.{up}.1.weight"].shape[0]
        x = cut(f"up.{up}", torch.cat([x, deeper + kept[level]]), widths[level])
    state["head.weight"] = teacher["head.weight"][:, x].clone()
    state["head.bias"] = teacher["head.bias"].clone()
    return state


class Teacher:
    """The shipped net as the swap runs it (onnxruntime, one thread, the same graph):
    logits (B, 1, 64, 64) of images (B, 3, 128, 128) in [0, 1]. Several times cheaper
    than the torch module on this CPU."""

    def __init__(self, weights: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        graph = occluder_graph(load_numpy(str(weights)), scaled=True, split=True)
        self._session = ort.InferenceSession(graph, options,
                                             providers=["CPUExecutionProvider"])

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        scaled = images.numpy() * np.float32(2.0) - np.float32(1.0)
        return torch.from_numpy(np.concatenate([
            self._session.run(None, {"image": scaled[n:n + 1]})[0]
            for n in range(len(scaled))]))


def _face_weights(crops: Crops, indices: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack([
        1.0 + 3.0 * face_mask(crops.landmarks[i] * (OCCLUDER_OUT / RES), OCCLUDER_OUT,
                              forehead=True) for i in indices])[:, None].astype(np.float32))


def _jittered(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """A real crop (uint8) as float in [0, 1] with a little contrast and brightness
    jitter, mirrored half the time, rounded to uint8 levels as the swap's crops are."""
    out = image.astype(np.float32) * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15)
    out = np.clip(np.round(out), 0, 255) / 255.0
    return out[:, ::-1] if rng.random() < 0.5 else out


def batch(rng: np.random.Generator, crops: Crops, indices: np.ndarray, synthetic: int
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (B, 3, 128, 128) in [0, 1], synthesis labels (B, 1, 64, 64; -1 on real
    crops) and face weights: the first `synthetic` are drawn occluders."""
    images, labels = [], []
    small = (OCCLUDER_OUT, OCCLUDER_OUT)
    for n, index in enumerate(indices):
        if n < synthetic:
            image, label = sample(rng, crops, int(index))
            images.append(np.round(image * 255.0) / 255.0)  # uint8 levels, as in the swap
            labels.append(cv2.resize(label, small, interpolation=cv2.INTER_AREA))
        else:
            images.append(_jittered(rng, crops.images[index]))
            labels.append(np.full(small, -1.0, np.float32))
    weights = _face_weights(crops, indices)
    for n, image in enumerate(images):  # a mirrored crop's weights mirror too
        if n >= synthetic and image.strides[1] < 0:
            weights[n] = weights[n].flip(-1)
    tensor = np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), np.float32)
    return (torch.from_numpy(tensor), torch.from_numpy(np.stack(labels)[:, None]), weights)


def distil_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor,
                weights: torch.Tensor, label_share: float = 0.2) -> torch.Tensor:
    """Cross-entropy against the teacher's probabilities, the squared gap of the clipped
    logits (the decision at 0.5 is what the mask keeps), and `label_share` of the
    cross-entropy against the synthesis labels where there are any."""
    soft = functional.binary_cross_entropy_with_logits(student, torch.sigmoid(teacher),
                                                       weight=weights)
    gap = ((student.clamp(-LOGIT_CLIP, LOGIT_CLIP) - teacher.clamp(-LOGIT_CLIP, LOGIT_CLIP))
           ** 2 * weights).mean()
    drawn = labels >= 0
    if not bool(drawn.any()):
        return soft + 0.05 * gap
    hard = functional.binary_cross_entropy_with_logits(student[drawn], labels[drawn],
                                                       weight=weights[drawn])
    return soft + 0.05 * gap + label_share * hard


def agreement(student: OccluderNet, teacher: Teacher, crops: Crops, held: np.ndarray
              ) -> dict[str, float]:
    """On held-out real crops: the share of the face's 64 px pixels whose decision at 0.5
    differs, and the largest probability gap."""
    student.eval()
    flips = inside = 0.0
    largest = 0.0
    for start in range(0, len(held), 32):
        part = held[start:start + 32]
        images = torch.from_numpy(np.ascontiguousarray(
            crops.images[part].transpose(0, 3, 1, 2), np.float32) / 255.0)
        with torch.no_grad():
            mine, theirs = torch.sigmoid(student(images)), torch.sigmoid(teacher(images))
        face = _face_weights(crops, part) > 1.5
        flips += float((((mine > 0.5) != (theirs > 0.5)) & face).sum())
        inside += float(face.sum())
        largest = max(largest, float((mine - theirs).abs().max()))
    return {"held_flip_share": flips / max(inside, 1.0), "held_largest_gap": largest}


def train(crops: Crops, widths: tuple[int, ...], minutes: float, batch_size: int, seed: int,
          out: Path, lr: float) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    order = rng.permutation(len(crops.images))
    held, used = order[: max(32, len(order) // 20)], order[max(32, len(order) // 20):]
    teacher_state = load_file(str(occluder_weights()))
    teacher = Teacher(occluder_weights())
    student = OccluderNet(widths)
    student.load_state_dict(pruned_state(teacher_state, widths), strict=False)
    log.info("pruned start: %s", agreement(student, teacher, crops, held))
    optimiser = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=1e-5)
    started, step, losses = time.monotonic(), 0, []
    budget = minutes * 60.0
    while time.monotonic() - started < budget:
        progress = (time.monotonic() - started) / budget
        cosine_lr(optimiser, lr, 0.02, progress)
        images, labels, weights = batch(rng, crops, rng.choice(used, batch_size),
                                        batch_size // 2)
        target = teacher(images)
        student.train()
        step = optimiser_step(optimiser, distil_loss(student(images), target, labels, weights),
                              losses, step, started, log)
        if step % 250 == 0:
            scores = agreement(student, teacher, crops, held)
            log.info("step %d held: %s", step, scores)
            save_weights(student, out, {"steps": step, **scores})
    scores = agreement(student, teacher, crops, held)
    scores.update(steps=step, minutes=(time.monotonic() - started) / 60)
    save_weights(student, out, scores)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("crops", "train"))
    parser.add_argument("clips", nargs="*", help="PATH or PATH:SKIP (crops)")
    parser.add_argument("--cache", type=Path, required=True, help="canonical crops .npz")
    parser.add_argument("--every", type=int, default=2, help="every Nth frame of a clip")
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 8, 16, 24, 32])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--minutes", type=float, default=40.0)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (a second costs more CPU than it saves here)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    if args.stage == "crops":
        crops = canonical_crops(args.clips, args.every)
        staged = args.cache.with_suffix(".partial.npz")
        np.savez(staged, images=crops.images, landmarks=crops.landmarks)
        staged.replace(args.cache)
        return
    if args.out is None:
        parser.error("train needs --out")
    data = np.load(args.cache)
    crops = Crops(data["images"], data["landmarks"])
    log.info("%d crops", len(crops.images))
    scores = train(crops, tuple(args.widths), args.minutes, args.batch, args.seed, args.out,
                   args.lr)
    log.info("done: %s", json.dumps(scores))


if __name__ == "__main__":
    main()
