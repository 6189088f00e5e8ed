"""refine --stage composited: a refiner of the compositor's finished crop
(facedub.models.crop_refiner), trained on the source's own composited faces.

A refiner before the compositor loses what it learns there (its renderings' +0.010 became
-0.0010 to -0.0016 on the composited held-out faces; BENCHMARKS.md, Refiner, twenty-fourth
and twenty-fifth rounds). This one learns what the swap shows: the source video's
training frames cut in two halves, each half swapped from the other through the swap's
own path and compositor with the mesh engine (`refine_composited.swapped_faces`); the
composited crops and their own frames are the training pairs. The held-out stretch is
`refine`'s composited check (refine_composited.composited_holdout): every
`validate_every` steps the network runs on its mesh engine's composited faces through the
swap's own `engines.refiner.refine_composited` (its correction's fine band only, under
the sharpness gain, as the swap keeps it), and the state with the best face SSIM is
kept as best.safetensors (best.json: metric "composited_refined", baseline the mesh
engine's); when training ends one line says whether it beats the mesh engine.

Like `refine`: progress, checkpoints every `save_every` steps and when stopped (SIGINT,
SIGTERM, SIGHUP; atomic safetensors), resume with the same command (the same patches: a
pure function of seed and step), a folder made for another source refused. It needs the
source video (photos and facesets have no frames to swap from each other).

Loss (train/refine_crop_loss.py): of what the swap shows of the correction, its fine
band: 1 - SSIM of luma plus L1 on the face region of 64 px patches, plus
`sharpness_weight` times how much further from the truth's the patch's sharpness went;
AdamW at the twenty-fifth round's tool's settings. The held-out check reads the swap's
sharpness gain too (`engines.refiner.composited_band_gain`).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from facedub import __version__
from facedub.composite.compositor import Compositor
from facedub.engines.refiner import (
    TorchCropRefiner,
    crop_scale,
    face_lightness,
    refine_composited,
)
from facedub.errors import FacedubError
from facedub.evaluate import realism
from facedub.faceset import Faceset
from facedub.fsutil import write_json_atomic
from facedub.models.crop_refiner import CROP_ARCH, CropRefiner, CropRefinerArgs
from facedub.models.crop_refiner_run import (
    LIGHT_FILE,
    TrainedLight,
    parse_crop_refiner_config,
    read_crop_refiner_info,
)
from facedub.models.refiner_run import (
    COMPOSITED_METRIC,
    COMPOSITED_STAGE,
    REFINER_FORMAT,
    REFINER_VERSION,
    BestState,
    RefinerInfo,
    check_refiner_source,
    person_identity,
    read_best,
)
from facedub.models.run import CONFIG_FILE, FacesetInfo, select_device
from facedub.progress import NoProgress, Progress
from facedub.train import checkpoint as ckpt
from facedub.train.loop import (
    _round,
    _stop_on_signals,
    _StopFlag,
    _torch_threads,
)
from facedub.train.refine import MIN_FACES, RefineRun, SessionRecord, enough_faces
from facedub.train.refine_composited import (
    CompositedHoldout,
    CompositedScore,
    HeldOutFace,
    OtherPersonError,
    compare,
    composited,
    composited_holdout,
    cut,
    stretch_compositor,
    stretch_edges,
    swapped_faces,
)
from facedub.train.refine_crop_loss import (
    TrainingFace,
    band_kernel,
    gaussian_window,
    patch_loss,
    patches,
)
from facedub.train.refine_data import FaceSplit, split_faces
from facedub.train.refine_run import save_best

log = logging.getLogger(__name__)

# The most faces each half keeps for training, spread evenly (memory: a 512 px face's
# crops are about 1.3 MB as kept here); the webcam split's halves hold 58 each.
HALF_FACES = 100
NO_GAINS = (1.0, 1.0, 1.0)  # best.json's band gate: the crop refiner has none


@dataclass(frozen=True)
class CropRefineConfig:
    """`refine --stage composited`'s settings. `minutes`: of training (the steps' own
    time), 0 for no limit; the run stops at `steps` or `minutes`, whichever comes first.
    The defaults: 20 minutes, about 5,000 steps on one free core (0.23 CPU s a step of
    96 px patches)."""

    steps: int = 12000
    minutes: float = 20.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch: int = 8
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    save_every: int = 250
    validate_every: int = 250
    log_every: int = 25
    holdout_share: float = 0.15
    # The weight of refine_crop_loss.sharpness_rise. Through the band alone the network
    # learnt to smooth: held out, +0.0023 face SSIM at step 1250, but the face's sharpness
    # mismatch against the target 0.198 -> 0.346 and its grain's 0.395 -> 0.708 (the
    # swap's sharpness gain then kept none of it). With 0.1: +0.0012 at step 750 with
    # both lower (0.176, 0.374), the gain cutting 1 face of 22 (BENCHMARKS.md, Refiner,
    # twenty-seventh round).
    sharpness_weight: float = 0.1
    args: CropRefinerArgs = field(default_factory=CropRefinerArgs)

    def __post_init__(self) -> None:
        for name in ("batch", "steps", "save_every", "validate_every", "log_every"):
            if getattr(self, name) < 1:
                raise FacedubError(f"--{name.replace('_', '-')} must be at least 1")
        if not (self.minutes >= 0 and self.lr > 0 and self.threads >= 0):
            raise FacedubError("--minutes and --threads must be 0 or more, --lr above 0")
        if not 0.0 < self.holdout_share <= 0.5:
            raise FacedubError("the held-out share must be above 0 and at most 0.5")
        if self.sharpness_weight < 0.0:
            raise FacedubError("the sharpness weight must be 0 or more")

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["args"] = self.args.to_json()
        return values


def refine_composited_stage(source: Faceset, run_dir: Path, config: CropRefineConfig,
                            video: Path, work_dir: Path,
                            progress: Progress | None = None) -> RefineRun:
    """Train (or resume) the composited-stage refiner of `source`'s chosen person in
    `run_dir`, from `video` (the media `source` was analysed from; `work_dir` the
    analyses' cache, where the cuts live while the run needs them)."""
    progress = progress or NoProgress()
    records = enough_faces(source, "give a longer video")
    info, state, model, optimizer = _open(Path(run_dir), source, config)
    if state.step >= config.steps or _out_of_time(state.train_seconds, config):
        log.info("%s is already refined to step %d", run_dir, state.step)
        return RefineRun(info.root, state.step, state.losses, {}, state.train_seconds, None,
                         read_best(info.root))
    split = split_faces(len(records), config.holdout_share, "blocks")
    holdout = composited_holdout(video, source, split, work_dir, progress, owner=info.root)
    if holdout is None or holdout.folder is None:
        raise FacedubError(f"{video}: the composited stage learns from the source video's "
                           "own frames swapped and composited, and needs its held-out "
                           "stretch (see the lines above); give the source video, or refine "
                           "with --stage mesh")
    training = halves_faces(video, source, split, work_dir, holdout.folder, progress)
    write_json_atomic(info.root / LIGHT_FILE, trained_light(training).to_json())
    log.info("refining the composited crop: step %d to %d, %d training faces, %d held out",
             state.step, config.steps, len(training), len(holdout.faces))
    progress.start(config.steps, "refine (composited)")
    progress.advance(state.step)
    try:
        with _stop_on_signals() as stop, _torch_threads(config.threads):
            session = _Session(info, config, model, optimizer, progress, holdout)
            result = session.run(state, training, stop)
    finally:
        progress.finish()
    if result.stopped is None:
        holdout.remove()  # the run has ended; a stopped one keeps its cuts to resume
    verdict = result.verdict()
    if verdict is not None and result.beats_mesh():
        log.info("%s", verdict)
    elif verdict is not None:
        log.warning("%s", verdict.replace("refine longer", "refine longer (--stage "
                                          "composited)"))
    return result


def halves_faces(video: Path, source: Faceset, split: FaceSplit, work_dir: Path, folder: Path,
                 progress: Progress) -> tuple[TrainingFace, ...]:
    """The training frames (up to the last training face) cut in two halves, each swapped
    from the other with the mesh engine through the swap's path and composited: at most
    HALF_FACES faces of each, as the swap shows them, with their own crops."""
    edges = stretch_edges(source, split)
    if edges is None:
        raise FacedubError(f"{source.root}: nothing is held out to choose the best state on")
    last_training = edges[0]
    middle = last_training // 2
    halves = (cut(video, 0, middle, folder / "half-a.mp4"),
              cut(video, middle + 1, last_training, folder / "half-b.mp4"))
    faces: list[TrainingFace] = []
    for mine, theirs in ((halves[0], halves[1]), (halves[1], halves[0])):
        try:
            made, faceset, swap_config = swapped_faces(theirs, mine, work_dir, progress,
                                                       HALF_FACES,
                                                       person=source.person_descriptor())
        except OtherPersonError as error:
            raise FacedubError(f"{video}: {error}; the composited stage cannot tell the "
                               "source's person in half of its frames") from error
        compositor = stretch_compositor(mine, faceset, swap_config)
        for face in made:
            shown, alpha = composited(compositor, face.target, face.swapped)
            faces.append(TrainingFace(shown, alpha.astype(np.float16), face.target.image,
                                      face.region, face.target.in_frame))
    if len(faces) < MIN_FACES:
        raise FacedubError(f"{video}: {len(faces)} faces swapped between its halves; the "
                           f"composited stage learns from at least {MIN_FACES}")
    return tuple(faces)


def trained_light(faces: Sequence[TrainingFace]) -> TrainedLight:
    """The light `faces` show: the lowest and highest of their true crops' mean L*
    inside the alpha above one half (and the frame), as the swap reads a target's
    (`engines.refiner.fits_light`). The network learns one recording's light: on a
    target lit 30 L* darker (the webcam man under a torch) its band lowered the face
    SSIM on every frame (BENCHMARKS.md, Refiner, twenty-ninth round)."""
    values = [face_lightness(face.truth, _shown_face(face)) for face in faces]
    read = [value for value in values if math.isfinite(value)]
    if not read:
        raise FacedubError("no training face has a pixel inside its alpha to read its "
                           "light from")
    return TrainedLight(min(read), max(read))


def _shown_face(face: TrainingFace) -> np.ndarray:
    """(S, S) bool: `face`'s alpha above one half, inside the frame."""
    shown = face.alpha.astype(np.float32) > 0.5
    return shown if face.in_frame is None else shown & face.in_frame


def _out_of_time(seconds: float, config: CropRefineConfig) -> bool:
    return config.minutes > 0 and seconds >= config.minutes * 60.0


def new_crop_refiner_info(root: Path, args: CropRefinerArgs, source: Faceset,
                          settings: dict[str, Any]) -> RefinerInfo[CropRefinerArgs]:
    raw = {"format": REFINER_FORMAT, "version": REFINER_VERSION, "stage": COMPOSITED_STAGE,
           "facedub_version": __version__, "run_id": uuid.uuid4().hex, "arch": CROP_ARCH,
           "args": args.to_json(), "coverage": source.meta.coverage,
           "source": asdict(FacesetInfo.of(source)), "identity": person_identity(source),
           "refine_settings": settings}
    return parse_crop_refiner_config(raw, Path(root) / CONFIG_FILE)


def _check_same_loss(info: RefinerInfo[CropRefinerArgs], config: CropRefineConfig) -> None:
    """A resume goes on under the loss its steps were taken with: a folder of the
    fifty-first round (its whole correction's loss, no `sharpness_weight` in its settings)
    or of another sharpness weight is refused, not continued under another objective."""
    settings = info.raw.get("refine_settings")
    kept = settings.get("sharpness_weight") if isinstance(settings, dict) else None
    if kept != config.sharpness_weight:
        loss = ("an earlier facedub's loss (the whole correction)" if kept is None
                else f"sharpness weight {kept}")
        raise FacedubError(f"{info.root} was refined with {loss}; this refine trains through "
                           f"the shown band with sharpness weight {config.sharpness_weight}: "
                           "choose a new -o folder")


def _open(root: Path, source: Faceset, config: CropRefineConfig
          ) -> tuple[RefinerInfo[CropRefinerArgs], ckpt.RunState, CropRefiner, torch.optim.AdamW]:
    """Resume the composited-stage refiner in `root`, or start one there."""
    state = None
    if ckpt.is_run(root):
        info = read_crop_refiner_info(root)
        if info.args != config.args:
            raise FacedubError(f"{root} was refined with arguments {info.args.to_json()}; "
                               "choose a new -o folder")
        _check_same_loss(info, config)
        check_refiner_source(info.source, info.identity, str(root), source)
        state = ckpt.saved_state(root)
    else:
        ckpt.refuse_foreign_folder(root, "refiner")
        info = new_crop_refiner_info(root, config.args, source, config.to_json())
        info.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(info.root / CONFIG_FILE, info.raw)
    torch.manual_seed(config.seed)
    model = CropRefiner(info.args)
    if state is not None:
        ckpt.load_weights(info, state, model)
    model.to(select_device(config.device))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    return info, ckpt.start_or_resume(info, state, optimizer, config.seed), model, optimizer


class _Session(SessionRecord):
    """One call's loop: the model, its optimiser and where training stands."""

    info: RefinerInfo[CropRefinerArgs]
    config: CropRefineConfig
    model: CropRefiner
    optimizer: torch.optim.AdamW

    def __init__(self, info: RefinerInfo[CropRefinerArgs], config: CropRefineConfig,
                 model: CropRefiner,
                 optimizer: torch.optim.AdamW, progress: Progress,
                 holdout: CompositedHoldout) -> None:
        self.info, self.config, self.model, self.optimizer = info, config, model, optimizer
        self.progress, self.holdout = progress, holdout
        self.device = next(model.parameters()).device
        self.window = gaussian_window().to(self.device)
        self.kernel = band_kernel().to(self.device)
        # a resume keeps beating its own best
        self.best: BestState | None = read_best(info.root)
        self.composited: CompositedScore | None = None
        self.step, self.seconds = 0, 0.0
        self.losses: dict[str, float] = {}
        self.validation: dict[str, float] = {}

    def run(self, state: ckpt.RunState, faces: Sequence[TrainingFace], stop: _StopFlag
            ) -> RefineRun:
        config = self.config
        self.step, self.seconds, self.losses = state.step, state.train_seconds, state.losses
        if self.best is None:
            self._validate()  # step 0 (the identity): the mesh engine's own score
        total, count = 0.0, 0
        self.model.train()
        try:
            while (self.step < config.steps and stop.reason is None
                   and not _out_of_time(self.seconds, config)):
                started = time.perf_counter()
                batch = patches(faces, config.batch,
                                np.random.default_rng([config.seed, self.step, 3]), self.device)
                loss = patch_loss(self.model, batch, self.window, self.kernel,
                                  config.sharpness_weight)
                self.optimizer.zero_grad(set_to_none=True)
                if not math.isfinite(float(loss.detach())):
                    raise FacedubError(f"the loss became {float(loss.detach())} at step "
                                       f"{self.step + 1}; resume with a lower --lr (the last "
                                       "checkpoint is intact)")
                loss.backward()  # type: ignore[no-untyped-call]
                self.optimizer.step()
                total, count = total + float(loss.detach()), count + 1
                self.step += 1
                self.progress.advance()
                self.seconds += time.perf_counter() - started
                if self.step % config.log_every == 0:
                    self.losses = {"loss": total / count}
                    total, count = 0.0, 0
                    self._log({"step": self.step, "seconds": round(self.seconds, 2),
                               **_round(self.losses)})
                if self.step % config.validate_every == 0:
                    self._validate()
                if self.step % config.save_every == 0:
                    self._save()
        except KeyboardInterrupt:
            self._save()  # between steps the weights are whole: keep them
            raise
        if self.step % config.save_every:
            self._validate()
            self._save()
        return RefineRun(self.info.root, self.step, self.losses, self.validation,
                         self.seconds, stop.reason, self.best, self.composited)

    def _validate(self) -> None:
        """Score the held-out faces through the swap's own step; keep the state if it
        beats the best so far."""
        score = composited_crop_score(self.model, self.holdout)
        if score is None:
            log.warning("step %d: no composited held-out face could be scored; this check "
                        "keeps the best state as it is", self.step)
            return
        self.validation = score.as_validation()
        if self.best is None or score.refined > self.best.score:
            self.best = save_best(self.info, self.model, self.step, score.refined,
                                  NO_GAINS, COMPOSITED_METRIC, score.mesh)
            self.composited = score
        self._log_check()


def composited_crop_score(model: CropRefiner, holdout: CompositedHoldout
                          ) -> CompositedScore | None:
    """The held-out faces' face SSIM with `model` run on the mesh engine's composited
    crops as the swap runs it (`refine_composited`), against the mesh engine's (None
    where no face could be read); the model is left in the mode it was in."""
    was_training = model.training
    backend = TorchCropRefiner(model.eval())
    compositor = holdout.compositor()  # fresh: the per-track state as the mesh's reading
    values = []
    try:
        for face in holdout.faces:
            values.append(refined_ssim(backend, compositor, face))
    finally:
        model.train(was_training)
    return compare(values, [face.mesh_ssim for face in holdout.faces])


def refined_ssim(backend: TorchCropRefiner, compositor: Compositor, face: HeldOutFace
                 ) -> float:
    """One held-out face's face SSIM, composited by `compositor` and refined by
    `backend` as the swap does it."""
    made = compositor.composite(face.target, face.swapped)
    image = refine_composited(backend, made.image, made.alpha, face.target.image,
                              face.target.in_frame, crop_scale(face.target.face_from_frame))
    shown, _ = composited_image(image, made.alpha, face.target.image)
    return realism.fidelity(face.target.image, shown, face.region).ssim


def composited_image(image: np.ndarray, alpha: np.ndarray, target_image: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(the crop as the paste-back shows it (uint8), the alpha (float32)): as
    refine_composited.composited reads a compositor's."""
    weight = alpha.astype(np.float32)[..., None]
    shown = image * weight + target_image * (1.0 - weight)
    return np.clip(shown + 0.5, 0, 255).astype(np.uint8), alpha.astype(np.float32)
