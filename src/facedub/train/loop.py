"""train: the source and target facesets in, a trained run folder out.

Every step draws `batch` faces of each person, warps the inputs, reconstructs A with A's
path and B with B's, and takes one AdamW step on DSSIM + L1 (inside the face mask, eyes and
mouth weighted up) plus the mask loss. A run folder resumes where it stopped: same step,
same optimizer state, same batches (they are seeded by step).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from facedub.errors import FacedubError
from facedub.faces.align import COVERAGES, Coverage
from facedub.faceset import Faceset
from facedub.models import FaceModel, build_model
from facedub.models.run import RunFolder, select_device
from facedub.progress import NoProgress, Progress
from facedub.train import checkpoint as ckpt
from facedub.train.config import TrainConfig
from facedub.train.data import (
    Batch,
    FaceSamples,
    draw_batch,
    load_samples,
    sampling_weights,
    split_holdout,
)
from facedub.train.distributed import (
    Distributed,
    DistributedModel,
    Trainable,
    agree,
    check_batch,
    leader_first,
    loss_normalisers,
)
from facedub.train.losses import LossWeights, mask_loss, reconstruction_loss, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainRun:
    """Where a `train` call left the run folder.

    `losses`: mean losses of the last log interval; `validation`: the last held-out SSIM
    of each person ("ssim_a", "ssim_b"), empty without held-out faces; `stopped`: the
    signal ("SIGINT", "SIGTERM", "SIGHUP") that stopped training early, None if it ran to
    `steps`.
    """

    root: Path
    step: int
    losses: dict[str, float]
    validation: dict[str, float]
    train_seconds: float
    stopped: str | None


@runtime_checkable
class StatusProgress(Protocol):
    """A Progress that can also show a line of status (loss, speed)."""

    def status(self, text: str) -> None: ...


def train(source: Faceset, target: Faceset, run_dir: Path, config: TrainConfig,
          progress: Progress | None = None,
          distributed: Distributed | None = None) -> TrainRun:
    """Train (or resume) the swap model of `source` (person A, whose face we want) and
    `target` (person B, whose footage we swap into) in `run_dir`, up to `config.steps`.

    Checkpoints every `config.save_every` steps and at the end. SIGINT (Ctrl-C) or SIGTERM
    stop it early after saving (the result says which). A second Ctrl-C, or a
    KeyboardInterrupt raised by `progress`, propagates at once; the step it interrupts is
    saved if the weights are whole (between steps), otherwise the last checkpoint stands.

    `distributed`: this process's rank in a torch.distributed process group already
    joined (facedub.train.distributed.process_group); None for one process."""
    check_batch(config.batch, distributed)
    leader = distributed is None or distributed.leader
    progress = (progress if leader else None) or NoProgress()
    device = select_device(config.device)
    device = distributed.place(device) if distributed else device
    coverage = _common_coverage(source, target)
    check_faces(source, target)
    samples_a, held_a = split_holdout(_samples(source, config.res), config.holdout_every)
    samples_b, held_b = split_holdout(_samples(target, config.res), config.holdout_every)
    with leader_first(distributed):
        info, state, model, optimizer = _open_run(Path(run_dir), source, target, coverage,
                                                  config, device)
    if state.step >= config.steps:
        log.info("%s is already trained to step %d (--steps %d)", run_dir, state.step,
                 config.steps)
        return TrainRun(info.root, state.step, state.losses, {}, state.train_seconds, None)
    log.info("training %s at %d px on %s: step %d to %d, %d + %d faces (%d + %d held out)",
             info.arch, config.res, device, state.step, config.steps, len(samples_a),
             len(samples_b), len(held_a), len(held_b))
    progress.start(config.steps, f"train {info.arch}")
    progress.advance(state.step)
    try:
        with _stop_on_signals() as stop, _torch_threads(config.threads):
            session = _Session(info, config, model, optimizer, device, progress, distributed)
            result = session.run(state, (samples_a, samples_b), (held_a, held_b), stop)
    finally:
        progress.finish()
    return result


class _StopFlag:
    """Set by the signal handler; the loop checks it between steps."""

    def __init__(self) -> None:
        self.reason: str | None = None


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_StopFlag]:
    """For the duration of training, turn SIGINT, SIGTERM and SIGHUP into a request to
    save and stop after the current step (a second SIGINT raises KeyboardInterrupt at
    once); the previous handlers come back afterwards. A SIGHUP the process was started
    ignoring (`nohup`) stays ignored. Outside the main thread, signals are left alone
    (Python only delivers them there). SIGHUP (the terminal closed, an ssh session
    dropped) stopped the step where it was, and every step since the last checkpoint was
    lost: up to `save_every` (500 on the cpu preset, 4-8 minutes on two cores)."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    signals = tuple(sig for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                    if signal.getsignal(sig) != signal.SIG_IGN)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handle(signum: int, frame: FrameType | None) -> None:
        del frame
        if flag.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.reason = signal.Signals(signum).name
        log.warning("%s received: saving and stopping after this step", flag.reason)

    for sig in signals:
        signal.signal(sig, handle)
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Use `count` CPU threads in torch for the duration (0: leave as is). On a machine
    shared with other busy processes one thread can beat two several times over."""
    if count <= 0:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _Meter:
    """Mean losses and speed over one log interval."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0
        self.start = time.perf_counter()

    def add(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1

    def means(self) -> dict[str, float]:
        return {key: value / max(self.count, 1) for key, value in self.sums.items()}

    def steps_per_second(self) -> float:
        return self.count / max(time.perf_counter() - self.start, 1e-9)


class _Session:
    """One `train` call's loop: model, optimizer, device, and where training stands."""

    def __init__(self, info: ckpt.RunInfo, config: TrainConfig, model: FaceModel,
                 optimizer: torch.optim.AdamW, device: torch.device,
                 progress: Progress, distributed: Distributed | None = None) -> None:
        self.info, self.config, self.model, self.optimizer = info, config, model, optimizer
        self.device, self.progress = device, progress
        self.distributed = distributed
        self.leader = distributed is None or distributed.leader
        self.trainable: Trainable = (model if distributed is None
                                     else DistributedModel(model, device))
        self.weights: LossWeights = config.loss_weights()
        self.cuda = device.type == "cuda"
        # bf16 keeps float32's range, so no loss scaling is needed.
        self.autocast = self.cuda and torch.cuda.is_bf16_supported()
        self.step, self.seconds = 0, 0.0
        self.losses: dict[str, float] = {}
        self.validation: dict[str, float] = {}

    def run(self, state: ckpt.RunState, samples: tuple[FaceSamples, FaceSamples],
            held: tuple[FaceSamples, FaceSamples], stop: _StopFlag) -> TrainRun:
        config = self.config
        weights = tuple(sampling_weights(s.yaw, config.yaw_bin, config.yaw_balance)
                        for s in samples)
        self.step, self.seconds, self.losses = state.step, state.train_seconds, state.losses
        meter = _Meter()
        mid_step = False
        self.model.train()
        with ThreadPoolExecutor(max_workers=1) as pool:
            upcoming = pool.submit(self._batches, samples, weights, self.step)
            try:
                while self.step < config.steps and stop.reason is None:
                    started = time.perf_counter()
                    batch_a, batch_b = upcoming.result()
                    if self.step + 1 < config.steps:  # prepared while this step computes
                        upcoming = pool.submit(self._batches, samples, weights, self.step + 1)
                    mid_step = True
                    meter.add(self._step(batch_a, batch_b, self.step, stop))
                    self.step += 1
                    mid_step = False
                    self.progress.advance()
                    meter = self._bookkeeping(meter, samples, held)
                    # Wall time of the whole step, data, validation and saving included.
                    self.seconds += time.perf_counter() - started
            except KeyboardInterrupt:
                # Raised between steps (by a Progress, or a second Ctrl-C) the weights match
                # the step: keep them. Mid-step they may be half updated: keep the last save.
                if not mid_step:
                    self._save()
                raise
        if self.step % config.save_every:
            self._save()
        return TrainRun(self.info.root, self.step, self.losses, self.validation, self.seconds,
                        stop.reason)

    def _bookkeeping(self, meter: _Meter, samples: tuple[FaceSamples, FaceSamples],
                     held: tuple[FaceSamples, FaceSamples]) -> _Meter:
        """Log, validate, preview and save when their intervals come round; returns the
        meter for the next log interval."""
        config, step = self.config, self.step
        last = step == config.steps
        if not self.leader:  # rank 0 logs, validates, previews and saves
            return meter
        if step % config.log_every == 0 or last:
            self.losses = meter.means()
            self._log({"step": step, "seconds": round(self.seconds, 2),
                       **_round(self.losses), "steps_per_s": round(meter.steps_per_second(), 3)})
            meter = _Meter()
        if len(held[0]) and len(held[1]) and (step % config.validate_every == 0 or last):
            self.validation = validate(self.model, held[0], held[1], self.device)
            self._log({"step": step, "seconds": round(self.seconds, 2),
                       **_round(self.validation)})
        if step % config.preview_every == 0:
            faces = ckpt.preview_faces(held[0] if len(held[0]) else samples[0],
                                  held[1] if len(held[1]) else samples[1])
            ckpt.write_preview(self._preview_path(step), self.model, *faces, self.device)
        if step % config.save_every == 0:
            self._save()
        return meter

    def _batches(self, samples: tuple[FaceSamples, FaceSamples],
                 weights: tuple[np.ndarray, ...], step: int) -> tuple[Batch, Batch]:
        """The batches of step `step`: a pure function of (seed, step), so a resumed run
        draws exactly what an uninterrupted one would have."""
        augmentation = self.config.augmentation()
        shard = self.distributed.shard(self.config.batch) if self.distributed else None
        batches = []
        for person in (0, 1):
            batch = draw_batch(samples[person], weights[person], self.config.batch,
                               (self.config.seed, step, person), augmentation, shard)
            batches.append(batch.to(self.device, channels_last=self.cuda))
        return batches[0], batches[1]

    def _step(self, a: Batch, b: Batch, step: int, stop: _StopFlag) -> dict[str, float]:
        config = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = config.lr * min(1.0, (step + 1) / max(config.warmup, 1))
        normalisers = (loss_normalisers(a, b, self.weights, self.distributed)
                       if self.distributed else None)
        values = train_step(self.trainable, self.optimizer, a, b, self.weights,
                            config.grad_clip, self.autocast, normalisers)
        if self.distributed:  # the global batch's losses; all ranks stop at the same step
            values, stop.reason = agree(values, stop.reason, self.device)
        if not math.isfinite(values["loss"]):
            raise FacedubError(f"the loss became {values['loss']} at step {step + 1}; resume "
                               "with a lower --lr (the last checkpoint is intact)")
        return values

    def _save(self) -> None:
        if self.leader:
            save_state(self.info, self.model, self.optimizer, self.step, self.seconds,
                       self.losses, self.config.seed)

    def _log(self, entry: dict[str, float | int]) -> None:
        append_log(self.info.root, entry, self.progress)

    def _preview_path(self, step: int) -> Path:
        folder = self.info.root / ckpt.PREVIEWS_DIR
        folder.mkdir(exist_ok=True)
        return folder / f"{step:07d}.png"


def train_step(model: Trainable, optimizer: torch.optim.Optimizer, a: Batch, b: Batch,
               weights: LossWeights, grad_clip: float, autocast: bool,
               normalisers: tuple[torch.Tensor, torch.Tensor] | None = None
               ) -> dict[str, float]:
    """One optimisation step on a batch of each person; the losses as floats. `autocast`:
    run the model in bf16 on CUDA (losses stay float32). `normalisers`: what the
    reconstruction losses of A and B divide by (a distributed shard's; see
    facedub.train.distributed), by default their own pixel weights."""
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
        (face_a, mask_a), (face_b, mask_b) = model.reconstruct(a.inputs, b.inputs)
    norm_a, norm_b = normalisers or (None, None)
    loss_a = reconstruction_loss(face_a, a.targets, a.masks, a.eyes_mouth, weights, norm_a)
    loss_b = reconstruction_loss(face_b, b.targets, b.masks, b.eyes_mouth, weights, norm_b)
    loss_mask = mask_loss(mask_a, a.masks) + mask_loss(mask_b, b.masks)
    loss = loss_a + loss_b + weights.mask * loss_mask
    optimizer.zero_grad(set_to_none=True)
    if torch.isfinite(loss):
        loss.backward()  # type: ignore[no-untyped-call]
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
    return {"loss": float(loss.detach()), "loss_a": float(loss_a.detach()),
            "loss_b": float(loss_b.detach()), "loss_mask": float(loss_mask.detach())}


def _round(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 5) for key, value in values.items()}


def save_state(info: RunFolder, model: torch.nn.Module,
               optimizer: torch.optim.Optimizer, step: int, seconds: float,
               losses: dict[str, float], seed: int) -> None:
    """A checkpoint of `model` and `optimizer` at `step` (atomic; see checkpoint.py)."""
    state = ckpt.RunState(step=step, train_seconds=seconds, losses=_round(losses), seed=seed)
    ckpt.save_checkpoint(info, model, optimizer, state)
    log.info("saved step %d to %s", step, info.root)


def append_log(root: Path, entry: dict[str, float | int], progress: Progress) -> None:
    """One line of the run's log.jsonl, also logged and shown as the progress status."""
    with open(root / ckpt.LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    text = "  ".join(f"{key} {value}" for key, value in entry.items())
    log.info("%s", text)
    if isinstance(progress, StatusProgress):
        progress.status(text)


# The fewest faces of a person training accepts: one cpu-preset batch of different faces
# (the refiner asks as many). A faceset of one photo trained without a word, and an
# autoencoder shown one face learns that picture, not the person.
MIN_FACES = 8


def check_faces(*facesets: Faceset) -> None:
    """Refuse a faceset whose chosen person has too few faces to learn from."""
    for faceset in facesets:
        count = len(faceset.faces_of())
        if count == 0:
            raise FacedubError(f"{faceset.root}: the chosen person has no faces; extract "
                               "again")
        if count < MIN_FACES:
            raise FacedubError(
                f"{faceset.root}: {count} face{'s' * (count > 1)} of the chosen person; "
                f"training learns a person from at least {MIN_FACES} (a video's hundreds "
                "learn best): extract a video of the person, or a folder of more photos, "
                "with `facedub extract MEDIA -o FOLDER` (the mesh engine needs no training: "
                "`facedub swap --source` takes one photo)")


def _samples(faceset: Faceset, res: int) -> FaceSamples:
    if faceset.meta.crop_size < res:
        log.warning("%s: crops are %d px, training at %d px upsamples them; extract with "
                    "--size %d for sharper results", faceset.root, faceset.meta.crop_size,
                    res, res)
    return load_samples(faceset, res)


def _common_coverage(source: Faceset, target: Faceset) -> Coverage:
    coverage = source.meta.coverage
    if coverage != target.meta.coverage:
        raise FacedubError(f"the source faceset has coverage {coverage!r} and the target "
                           f"{target.meta.coverage!r}: extract both with the same --coverage")
    for value in COVERAGES:
        if value == coverage:
            return value
    raise FacedubError(f"{source.root}: unknown coverage {coverage!r}; extract again")


def _open_run(root: Path, source: Faceset, target: Faceset, coverage: Coverage,
              config: TrainConfig, device: torch.device,
              ) -> tuple[ckpt.RunInfo, ckpt.RunState, FaceModel, torch.optim.AdamW]:
    """Resume the run in `root`, or start one there."""
    state = None
    if ckpt.is_run(root):
        info = ckpt.read_run_info(root)
        ckpt.check_resumable(info, config.model, config.model_args(), coverage, source, target)
        state = ckpt.saved_state(root)
    else:
        ckpt.refuse_foreign_folder(root, "run")
        info = ckpt.new_run_info(root, config.model, config.model_args(), coverage, source,
                                 target, config.to_json())
        ckpt.write_run_info(info)
    # The initial weights follow the seed without reseeding the caller's global generator.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(info.arch, info.args)
    if state is not None:
        ckpt.load_weights(info, state, model)
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    # Built after the move, so its state lives beside the parameters (loading casts it).
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.5, 0.999),
                                  weight_decay=config.weight_decay)
    return info, ckpt.start_or_resume(info, state, optimizer, config.seed), model, optimizer
