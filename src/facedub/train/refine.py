"""refine: a source faceset in, a trained refiner folder out.

First the mesh engine renders every source face from other source faces (see
facedub.train.refine_data); then every step degrades a batch of those renderings and
takes one AdamW step on DSSIM + L1 between the refined face and the true one (inside the
face mask, eyes and mouth weighted up; train/refine_loss.py has the measured variants).
Like `train`: checkpoints every `save_every` steps and when stopped (SIGINT, SIGTERM),
resumes with the same command, draws the same batches after a resume (seeded by step),
and refuses a folder made for another source. Every held-out evaluation chooses the
refiner's band gate on the held-out faces (train/refine_gate.py), and one that beats the
best so far is kept as best.safetensors with its gains in best.json: the state swaps and
`export` use (a run that overfits late does not ship its worse end), while a resume
continues from the latest, ungated while it trains. Given the source video, "beats" is
read on the composited faces of the source's held-out stretch, swapped through the swap's
own path (train/refine_composited.py), against the mesh engine's composited faces: a
refiner that does not beat the mesh engine there says so when training ends.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import torch

from facedub.engines.mesh_usable import check_usable
from facedub.errors import FacedubError
from facedub.faceset import FaceRecord, Faceset
from facedub.fsutil import atomic_path
from facedub.models.refiner import BANDS, WHOLE, Gains, Refiner, RefinerArgs
from facedub.models.refiner_run import (
    BEST_METRIC,
    COMPOSITED_METRIC,
    BestState,
    RefinerInfo,
    read_best,
    read_refiner_info,
)
from facedub.models.run import RunFolder, select_device
from facedub.progress import NoProgress, Progress
from facedub.train import checkpoint as ckpt
from facedub.train.data import Batch, FaceSamples, load_samples
from facedub.train.loop import (
    _Meter,
    _round,
    _stop_on_signals,
    _StopFlag,
    _torch_threads,
    append_log,
    save_state,
)
from facedub.train.losses import LossWeights
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import (
    FaceSplit,
    RefinePairs,
    make_pairs,
    make_refine_batch,
    split_faces,
)
from facedub.train.refine_gate import choose_gains, held_out, joined
from facedub.train.refine_loss import refine_loss
from facedub.train.refine_run import (
    check_refiner_resumable,
    new_refiner_info,
    save_best,
    saved_holdout_share,
    saved_renderings,
    write_refiner_info,
)

if TYPE_CHECKING:  # the check swaps through the media stack, which training needs not
    from facedub.train.refine_composited import CompositedHoldout, CompositedScore

log = logging.getLogger(__name__)

MIN_FACES = 8  # two pools of a few faces each, or the mesh engine has nothing to choose
PREVIEW_ROWS = 4
VALIDATION_BATCH = 16


@dataclass(frozen=True)
class RefineRun:
    """Where a `refine` call left the folder. `validation`: held-out scores and the band
    gate chosen on them (`validate_refiner`);
    `stopped`: the signal that stopped it early, None if it reached its steps or minutes;
    `best`: the best held-out state, the one swaps use (None: none evaluated yet);
    `composited`: the best state's composited held-out score against the mesh engine's,
    when this call scored it (None without the source video, from photos, or where the
    best state is a resumed run's: best.json keeps its score and the mesh baseline)."""

    root: Path
    step: int
    losses: dict[str, float]
    validation: dict[str, float]
    train_seconds: float
    stopped: str | None
    best: BestState | None = None
    composited: CompositedScore | None = None

    def beats_mesh(self) -> bool | None:
        """Whether the best state beats the mesh engine on the composited held-out faces
        (None where it was not scored there)."""
        best = self.best
        if best is None or best.metric != COMPOSITED_METRIC or best.baseline is None:
            return None
        return best.score > best.baseline

    def verdict(self) -> str | None:
        """One line: whether the best state beats the mesh engine on the composited
        held-out faces (None without that check)."""
        beats, best = self.beats_mesh(), self.best
        if beats is None or best is None or best.baseline is None:
            return None
        score = self.composited
        spread = ("" if score is None else
                  f", se {score.gain_se:.4f}, {score.better} of {score.faces} faces better")
        told = (f"the refiner's best state (step {best.step}) on the held-out stretch, "
                f"composited: face SSIM {best.score:.4f} against the mesh engine's "
                f"{best.baseline:.4f} ({best.score - best.baseline:+.4f}{spread})")
        if beats:
            return told + ": it beats the mesh engine"
        return (told + ": it does NOT beat the mesh engine alone; swap without --refiner, "
                "or refine longer")


def refine(source: Faceset, run_dir: Path, config: RefineConfig,
           progress: Progress | None = None, video: Path | None = None,
           work_dir: Path | None = None) -> RefineRun:
    """Train (or resume) the refiner of `source`'s chosen person in `run_dir`, up to
    `config.steps` steps or `config.minutes` of training, whichever comes first.
    `video`: the media `source` was analysed from, and `work_dir` the analyses' cache:
    with both, the best state is chosen on the composited held-out stretch
    (refine_composited) and the result says whether it beats the mesh engine."""
    progress = progress or NoProgress()
    records = enough_faces(source, "give a video or a folder of more photos")
    # A source the mesh engine refuses (every face a profile) makes no refiner a swap uses.
    check_usable([record.pose.yaw for record in records], source.root)
    device = select_device(config.device)
    info, state, model, optimizer = _open(Path(run_dir), source, config, device)
    if state.step >= config.steps or _out_of_time(state.train_seconds, config):
        log.info("%s is already refined to step %d", run_dir, state.step)
        return RefineRun(info.root, state.step, state.losses, {}, state.train_seconds, None,
                         read_best(info.root))
    # A resume keeps the split and renderings the run started with (its held-out scores
    # stay one measure), whatever it is given.
    config = replace(config, renderings=saved_renderings(info, config.renderings))
    split = split_faces(len(records), saved_holdout_share(info, config.holdout_share),
                        config.renderings)
    train_pairs, held_pairs = _render_pairs(source, split, config, progress)
    holdout = (_composited_holdout(video, source, split, work_dir, info.root, progress)
               if video is not None and work_dir is not None else None)
    log.info("refining at %d px on %s: step %d to %d, %d renderings (%d held out)",
             config.res, device, state.step, config.steps, len(train_pairs), len(held_pairs))
    progress.start(config.steps, "refine")
    progress.advance(state.step)
    try:
        with _stop_on_signals() as stop, _torch_threads(config.threads):
            session = _Session(info, config, model, optimizer, device, progress, holdout)
            result = session.run(state, train_pairs, held_pairs, stop)
    finally:
        progress.finish()
    if holdout is not None and result.stopped is None:
        holdout.remove()  # the run has ended; a stopped one keeps its cuts to resume
    verdict = result.verdict()
    if verdict is not None and result.beats_mesh():
        log.info("%s", verdict)
    elif verdict is not None:
        log.warning("%s", verdict)  # shown without -v: the one thing to know
    return result


def _composited_holdout(video: Path, source: Faceset, split: FaceSplit, work_dir: Path,
                        run_dir: Path, progress: Progress) -> CompositedHoldout | None:
    """The composited check's stretch, unless the folder's saved best state was chosen on
    the renderings (a folder begun without the check): a resume keeps that measure, so
    the stretch would be made and scored for nothing."""
    saved = read_best(run_dir)
    if saved is not None and saved.metric == BEST_METRIC:
        log.warning("%s: its best state (step %d) was chosen by %s; this run keeps choosing "
                    "by it (no composited held-out check)", run_dir, saved.step, saved.metric)
        return None
    return composited_holdout(video, source, split, work_dir, progress, owner=run_dir)


def composited_holdout(video: Path, source: Faceset, split: FaceSplit, work_dir: Path,
                       progress: Progress, owner: Path) -> CompositedHoldout | None:
    """`refine_composited.composited_holdout`, imported when called: it swaps through the
    media stack (PyAV), and training must import without it (a lent GPU machine)."""
    from facedub.train import refine_composited

    return refine_composited.composited_holdout(video, source, split, work_dir, progress,
                                                owner=owner)


def _render_pairs(source: Faceset, split: FaceSplit, config: RefineConfig,
                  progress: Progress) -> tuple[RefinePairs, RefinePairs]:
    """(training, held-out) mesh renderings; the same on every resume (seeded). No
    held-out face is a training truth; the blocks render the held-out faces from each
    other, the halves from the training faces, as a swap renders its target from the
    source the refiner learnt (refine_data)."""
    faces = load_samples(source, config.res)
    rng = np.random.default_rng([config.seed, 1])
    copies, shares = split.copies(config.pairs_per_face), split.thinned_shares()
    if copies != config.pairs_per_face:
        # An engine over the whole other half renders a face one way only (refine_data).
        log.info("the %s renderings make one rendering of each face (pairs_per_face=%d "
                 "is the blocks')", split.renderings, config.pairs_per_face)
    progress.start(len(source.faces_of()), "render mesh faces")
    try:
        made = [make_pairs(source, faces, mine, theirs, rng, copies, progress, shares)
                for mine, theirs in split.training_jobs()]
        held = [make_pairs(source, faces, mine, theirs, rng, copies, progress, shares)
                for mine, theirs in split.held_jobs() if len(mine)]
    finally:
        progress.finish()
    training = _joined(made, faces)
    return training, _joined(held, faces) if held else training


def _joined(parts: list[RefinePairs], faces: FaceSamples) -> RefinePairs:
    return RefinePairs(mesh=np.concatenate([p.mesh for p in parts]),
                       mesh_mask=np.concatenate([p.mesh_mask for p in parts]),
                       truth=np.concatenate([p.truth for p in parts]), faces=faces)


def enough_faces(source: Faceset, remedy: str) -> tuple[FaceRecord, ...]:
    """The faces of `source`'s chosen person, refused below MIN_FACES (either stage);
    `remedy`: the message's end, what to give instead."""
    records = source.faces_of()
    if len(records) < MIN_FACES:
        raise FacedubError(f"{source.root}: {len(records)} faces of the chosen person; a "
                           f"refiner learns from at least {MIN_FACES} views of the person: "
                           f"{remedy}")
    return records

class _Seeded(Protocol):
    @property
    def seed(self) -> int: ...


class SessionRecord:
    """What both stages' training sessions (this module's, train/refine_crop.py's) keep
    and write: the checkpoint of where they stand, and their log's lines."""

    info: RunFolder
    config: _Seeded
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    progress: Progress
    step: int
    seconds: float
    losses: dict[str, float]
    validation: dict[str, float]
    best: BestState | None

    def _save(self) -> None:
        save_state(self.info, self.model, self.optimizer, self.step, self.seconds,
                   self.losses, self.config.seed)

    def _log(self, entry: dict[str, float | int]) -> None:
        append_log(self.info.root, entry, self.progress)

    def _log_check(self) -> None:
        """The log's line of a held-out check: its scores and the step swaps use."""
        self._log({"step": self.step, "seconds": round(self.seconds, 2),
                   **_round(self.validation),
                   **({} if self.best is None else {"best_step": self.best.step})})


class _Session(SessionRecord):
    """One `refine` call's loop: model, optimizer, device, and where training stands."""

    info: RefinerInfo[RefinerArgs]
    config: RefineConfig
    model: Refiner
    optimizer: torch.optim.AdamW

    def __init__(self, info: RefinerInfo[RefinerArgs], config: RefineConfig, model: Refiner,
                 optimizer: torch.optim.AdamW, device: torch.device,
                 progress: Progress, holdout: CompositedHoldout | None = None) -> None:
        self.info, self.config, self.model, self.optimizer = info, config, model, optimizer
        self.device, self.progress, self.holdout = device, progress, holdout
        self.metric = BEST_METRIC if holdout is None else COMPOSITED_METRIC
        self.composited: CompositedScore | None = None
        self.weights: LossWeights = config.loss_weights()
        # bf16 keeps float32's range, so no loss scaling is needed.
        self.autocast = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.step, self.seconds = 0, 0.0
        self.losses: dict[str, float] = {}
        self.validation: dict[str, float] = {}
        self.best = read_best(info.root)  # a resume keeps beating its own best
        if self.best is not None and self.best.metric != self.metric:
            # Scores of another measure do not compare, and a state chosen by one may be
            # better than any this run makes: the folder keeps the measure its best state
            # was chosen by. The renderings' score is read at every check; a composited
            # best without the source video (a faceset folder) is kept as it is.
            log.warning("%s: its best state (step %d) was chosen by %s; this run keeps "
                        "choosing by it%s", info.root, self.best.step, self.best.metric,
                        "" if self.best.metric == BEST_METRIC else
                        " and keeps that state: give the source video to score it again")
            self.metric = self.best.metric

    def run(self, state: ckpt.RunState, pairs: RefinePairs, held: RefinePairs,
            stop: _StopFlag) -> RefineRun:
        config = self.config
        self.step, self.seconds, self.losses = state.step, state.train_seconds, state.losses
        # Held-out faces as a swap meets them: a rendering from other frames carries the
        # real error, with nothing synthetic added (the gate is chosen on these).
        fixed = make_refine_batch(held, np.arange(min(len(held), 4 * VALIDATION_BATCH)),
                                  np.random.default_rng([config.seed, 2]),
                                  replace(config.degradation(), chance=0.0))
        meter = _Meter()
        self.model.train()
        try:
            while (self.step < config.steps and stop.reason is None
                   and not _out_of_time(self.seconds, config)):
                started = time.perf_counter()
                batch = self._batch(pairs, self.step)
                meter.add(self._step(batch))
                self.step += 1
                self.progress.advance()
                meter = self._bookkeeping(meter, fixed)
                self.seconds += time.perf_counter() - started
        except KeyboardInterrupt:
            # Between steps (a Progress or a second Ctrl-C raised it) the weights are
            # whole: keep them. A step is too short here to be worth telling apart.
            self._save()
            raise
        if self.step % config.save_every:
            self._validate(fixed)
            self._save()
        return RefineRun(self.info.root, self.step, self.losses, self.validation,
                         self.seconds, stop.reason, self.best, self.composited)

    def _batch(self, pairs: RefinePairs, step: int) -> Batch:
        """A pure function of (seed, step): a resumed run draws what it would have."""
        rng = np.random.default_rng([self.config.seed, step, 3])
        chosen = rng.choice(len(pairs), size=self.config.batch)
        batch = make_refine_batch(pairs, chosen, rng, self.config.degradation())
        return batch.to(self.device)

    def _step(self, batch: Batch) -> dict[str, float]:
        config = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = config.lr * min(1.0, (self.step + 1) / max(config.warmup, 1))
        whole = config.whole_weight if config.detail_loss else -1.0
        values = refine_step(self.model, self.optimizer, batch, self.weights, whole,
                             config.energy_weight, config.grad_clip, self.autocast)
        if not math.isfinite(values["loss"]):
            raise FacedubError(f"the loss became {values['loss']} at step {self.step + 1}; "
                               "resume with a lower --lr (the last checkpoint is intact)")
        return values

    def _bookkeeping(self, meter: _Meter, fixed: Batch) -> _Meter:
        config, step = self.config, self.step
        if step % config.log_every == 0:
            self.losses = meter.means()
            self._log({"step": step, "seconds": round(self.seconds, 2), **_round(self.losses),
                       "steps_per_s": round(meter.steps_per_second(), 3)})
            meter = _Meter()
        if step % config.validate_every == 0:
            self._validate(fixed)
        if step % config.preview_every == 0:
            self._preview(fixed, step)
        if step % config.save_every == 0:
            self._save()
        return meter

    def _validate(self, fixed: Batch) -> None:
        """Score the held-out faces, keep the weights if they beat the best so far, and
        log both (the status line names the step swaps use)."""
        self.validation, gains = validate_refiner(self.model, fixed, self.device)
        composited = None
        if self.holdout is not None:
            composited = composited_score(self.model, gains, self.holdout)
            if composited is None:
                log.warning("step %d: no composited held-out face could be scored; this "
                            "check keeps the best state as it is", self.step)
            else:
                self.validation.update(composited.as_validation())
        score = self.validation.get(self.metric)
        if score is not None and (self.best is None or score > self.best.score):
            # The mesh engine's score is the baseline of a composited score only.
            baseline = (composited.mesh if composited is not None
                        and self.metric == COMPOSITED_METRIC else None)
            self.best = save_best(self.info, self.model, self.step, score, gains,
                                  self.metric, baseline)
            self.composited = composited
        self._log_check()

    def _preview(self, fixed: Batch, step: int) -> None:
        folder = self.info.root / ckpt.PREVIEWS_DIR
        folder.mkdir(exist_ok=True)
        write_refiner_preview(folder / f"{step:07d}.png", self.model, fixed, self.device)


def refine_step(model: Refiner, optimizer: torch.optim.Optimizer, batch: Batch,
                weights: LossWeights, whole: float, energy: float, grad_clip: float,
                autocast: bool) -> dict[str, float]:
    """One optimisation step; the loss as a float. `whole`, `energy`: see refine_loss.
    `autocast`: bf16 on CUDA."""
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
        refined = model(batch.inputs)
    loss = refine_loss(refined, batch.targets, batch.masks, batch.eyes_mouth, weights, whole,
                       energy)
    optimizer.zero_grad(set_to_none=True)
    if torch.isfinite(loss):
        loss.backward()  # type: ignore[no-untyped-call]
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
    return {"loss": float(loss.detach())}


def validate_refiner(model: Refiner, fixed: Batch, device: torch.device
                     ) -> tuple[dict[str, float], Gains]:
    """Scores of the held-out faces and the band gate chosen on them (refine_gate).
    Mean SSIM inside the truth's face mask of the mesh engine's faces ("ssim_mesh"), of
    the refined ones through the chosen gate ("ssim_refined"), and of what the
    compositor's `--color detail` keeps of each ("kept_mesh", "kept_refined"); "kept_whole":
    of the refined faces with the whole correction (no gate); "gain_low", "gain_mid",
    "gain_fine": the gains."""
    was_training = model.training
    model.eval()
    parts = [held_out(model, fixed.inputs[part].to(device), fixed.targets[part].to(device),
                      fixed.masks[part].to(device))
             for part in (slice(start, start + VALIDATION_BATCH)
                          for start in range(0, len(fixed.inputs), VALIDATION_BATCH))]
    model.train(was_training)
    faces = joined(parts)
    gains = choose_gains(faces)
    refined = faces.refined(gains)
    scores = {"ssim_mesh": faces.whole(faces.inputs), "ssim_refined": faces.whole(refined),
              "kept_mesh": faces.kept(faces.inputs), "kept_refined": faces.kept(refined),
              "kept_whole": faces.kept(faces.refined(WHOLE))}
    return {**scores, **{f"gain_{band}": gain for band, gain in zip(BANDS, gains,
                                                                     strict=True)}}, gains


def composited_score(model: Refiner, gains: Gains, holdout: CompositedHoldout
                     ) -> CompositedScore | None:
    """`model` through the band gate `gains`, as swaps would run its state, on the
    composited held-out faces (None where no face could be read); the model is left as
    it was (its gains, its mode)."""
    from facedub.engines.refiner import TorchRefiner  # the swap's backend of a folder

    was_training, was_gated = model.training, model.gains
    model.set_gains(gains)
    try:
        return holdout.score(TorchRefiner(model))
    finally:
        model.set_gains(was_gated)
        model.train(was_training)


def write_refiner_preview(path: Path, model: Refiner, fixed: Batch,
                          device: torch.device) -> None:
    """A PNG grid, one row per held-out face: input, refined, truth."""
    was_training = model.training
    model.eval()
    inputs = fixed.inputs[:PREVIEW_ROWS].to(device)
    with torch.inference_mode():
        refined = model(inputs).cpu()
    model.train(was_training)
    columns = [inputs[:, :3].cpu(), refined, fixed.targets[:PREVIEW_ROWS]]
    pixels = [column.float().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
              for column in columns]
    grid = np.concatenate([np.concatenate(list(column), axis=0) for column in pixels], axis=1)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
            raise FacedubError(f"{path}: could not be written; check free disk space")


def _out_of_time(seconds: float, config: RefineConfig) -> bool:
    return config.minutes > 0 and seconds >= config.minutes * 60.0


def _open(root: Path, source: Faceset, config: RefineConfig, device: torch.device,
          ) -> tuple[RefinerInfo[RefinerArgs], ckpt.RunState, Refiner, torch.optim.AdamW]:
    """Resume the refiner in `root`, or start one there."""
    state = None
    if ckpt.is_run(root):
        info = read_refiner_info(root)
        check_refiner_resumable(info, config.model_args(), source)
        state = ckpt.saved_state(root)
    else:
        ckpt.refuse_foreign_folder(root, "refiner")
        info = new_refiner_info(root, config.model_args(), source, config.to_json())
        write_refiner_info(info)
    torch.manual_seed(config.seed)
    model = Refiner(info.args)
    if state is not None:
        ckpt.load_weights(info, state, model)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.999),
                                  weight_decay=config.weight_decay)
    return info, ckpt.start_or_resume(info, state, optimizer, config.seed), model, optimizer
