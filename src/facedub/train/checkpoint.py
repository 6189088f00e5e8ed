"""The run folder: what `train` writes and the engine and exporter read. Never pickle.

    config.json         format and version, run id, architecture and its arguments, crop
                        coverage, the two facesets (source media sha256, person, faces),
                        the training settings of the first run
    model.safetensors   weights; metadata repeats run id, architecture and step
    optimizer.pt        AdamW state: tensors and numbers only, read with weights_only=True
    state.json          step, training time, last losses, seed, sha256 of the two files
                        above (written last: it is what makes a checkpoint count)
    log.jsonl           one line per log interval and per validation
    previews/           PNG grids: A, A→A, A→B, B, B→B, B→A

Every file is written atomically (temporary sibling, fsync, rename). A checkpoint writes
the new weights and optimizer state as `*.next.*` files, commits by writing state.json,
then renames them into place; a reader finishes renames that a crash interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
import uuid
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import safetensors.torch
import torch

from facedub import __version__
from facedub.errors import FacedubError
from facedub.faces.align import Coverage
from facedub.faceset import Faceset
from facedub.fsutil import atomic_path, write_bytes_atomic, write_json_atomic
from facedub.models import FaceModel, ModelArgs

# Reading a run lives in models/ (inference must not import training); re-exported here
# because training reads runs too, to resume them.
from facedub.models.run import (
    CONFIG_FILE,
    MODEL_FILE,
    OPTIMIZER_FILE,
    RUN_FORMAT,
    RUN_VERSION,
    STATE_FILE,
    FacesetInfo,
    RunFolder,
    RunInfo,
    RunState,
    is_run,
    load_run,
    load_weights,
    parse_run_config,
    pending_path,
    read_checked,
    read_run_info,
    read_state,
    safetensors_metadata,
)
from facedub.spread import spread_indices
from facedub.train.data import FaceSamples

__all__ = [
    "CONFIG_FILE",
    "LOG_FILE",
    "MODEL_FILE",
    "OPTIMIZER_FILE",
    "PREVIEWS_DIR",
    "RUN_FORMAT",
    "RUN_VERSION",
    "STATE_FILE",
    "FacesetInfo",
    "RunInfo",
    "RunState",
    "check_resumable",
    "is_run",
    "load_optimizer",
    "load_run",
    "load_weights",
    "new_run_info",
    "promote_pending",
    "read_run_info",
    "read_state",
    "refuse_foreign_folder",
    "safetensors_metadata",
    "save_checkpoint",
    "saved_state",
    "trim_log",
    "weights_bytes",
    "write_preview",
    "write_run_info",
]

LOG_FILE = "log.jsonl"
PREVIEWS_DIR = "previews"
PREVIEW_ROWS = 4  # faces of each person in a preview grid

log = logging.getLogger(__name__)


def new_run_info(root: Path, arch: str, args: ModelArgs, coverage: Coverage,
                 source: Faceset, target: Faceset, settings: dict[str, Any]) -> RunInfo:
    raw = {"format": RUN_FORMAT, "version": RUN_VERSION, "facedub_version": __version__,
           "run_id": uuid.uuid4().hex, "arch": arch, "args": args.to_json(),
           "res": args.res, "coverage": coverage, "source": asdict(FacesetInfo.of(source)),
           "target": asdict(FacesetInfo.of(target)), "train_settings": settings}
    return parse_run_config(raw, root / CONFIG_FILE)


def write_run_info(info: RunInfo) -> None:
    info.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(info.root / CONFIG_FILE, info.raw)


def save_checkpoint(info: RunFolder, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, state: RunState) -> RunState:
    """Write weights, optimizer state, then state.json (with both files' sha256)."""
    weights = weights_bytes(info, model, state.step)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    optimizer_bytes = buffer.getvalue()
    # Crash-safe order: new files beside the old ones, then state.json (the commit), then
    # the renames; a reader finishes renames a crash interrupted (see models.run.read_checked).
    write_bytes_atomic(pending_path(info.root / MODEL_FILE), weights)
    write_bytes_atomic(pending_path(info.root / OPTIMIZER_FILE), optimizer_bytes)
    saved = RunState(step=state.step, train_seconds=state.train_seconds, losses=state.losses,
                     seed=state.seed, model_sha256=hashlib.sha256(weights).hexdigest(),
                     optimizer_sha256=hashlib.sha256(optimizer_bytes).hexdigest())
    write_json_atomic(info.root / STATE_FILE, {"format": RUN_FORMAT, **asdict(saved)})
    promote_pending(info.root)
    return saved


def weights_bytes(info: RunFolder, model: torch.nn.Module, step: int) -> bytes:
    """`model`'s weights as a safetensors file whose metadata names the run and step."""
    tensors = {name: value.detach().to("cpu", torch.float32).contiguous()
               for name, value in model.state_dict().items()}
    metadata = {"format": RUN_FORMAT, "run_id": info.run_id, "arch": info.arch,
                "args": json.dumps(info.args.to_json(), sort_keys=True), "step": str(step)}
    return safetensors.torch.save(tensors, metadata=metadata)


def promote_pending(root: Path) -> None:
    """Move the weights and optimizer files of a committed checkpoint into place."""
    for name in (MODEL_FILE, OPTIMIZER_FILE):
        if pending_path(root / name).is_file():
            os.replace(pending_path(root / name), root / name)


def saved_state(root: Path) -> RunState | None:
    """The state of the run in `root` to resume from (None: nothing saved yet); a folder
    that holds weights but lost its state is refused rather than trained from scratch."""
    state = read_state(root)
    if state is None and (root / MODEL_FILE).exists():
        raise FacedubError(f"{root}: holds weights but no {STATE_FILE}; restore it to "
                           "resume, or choose a new -o folder")
    return state


def refuse_foreign_folder(root: Path, kind: str) -> None:
    """A folder that is not a run (`is_run` was false) may be used only while empty."""
    if root.exists() and any(root.iterdir()):
        raise FacedubError(f"{root}: exists and is not a facedub {kind}; choose a new or "
                           "empty -o folder")


def start_or_resume(info: RunFolder, state: RunState | None,
                    optimizer: torch.optim.Optimizer, seed: int) -> RunState:
    """Step 0 for a new run; for a saved one, its optimizer loaded and its log cut back to
    the saved step."""
    if state is None:
        return RunState(step=0, train_seconds=0.0, losses={}, seed=seed)
    load_optimizer(info, state, optimizer)
    trim_log(info.root, state.step)
    log.info("resuming %s at step %d", info.root, state.step)
    return state


def load_optimizer(info: RunFolder, state: RunState,
                   optimizer: torch.optim.Optimizer) -> None:
    path = info.root / OPTIMIZER_FILE
    data = read_checked(path, state.optimizer_sha256)
    try:
        # weights_only: tensors, numbers and containers only; never arbitrary objects.
        with warnings.catch_warnings():  # torch warns about protocols before refusing
            warnings.simplefilter("ignore")
            saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        optimizer.load_state_dict(saved)
    except pickle.UnpicklingError as error:
        # torch's message suggests weights_only=False: exactly what must never be done here.
        raise FacedubError(f"{path}: holds Python objects, not only tensors, and is refused "
                           "(loading it could run code); delete it to resume with a fresh "
                           "optimizer, or train again") from error
    except Exception as error:  # torch raises a variety of types for damaged files
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise FacedubError(f"{path}: could not be read ({reason}); delete it to resume with "
                           "a fresh optimizer, or train again") from error


def check_resumable(info: RunInfo, arch: str, args: ModelArgs, coverage: Coverage,
                    source: Faceset, target: Faceset) -> None:
    """Raise FacedubError, saying what to do, unless training `arch` with `args` on these
    facesets continues the run `info` describes."""
    where = info.root
    if info.arch != arch:
        raise FacedubError(f"{where} was trained with --model {info.arch}; pass --model "
                           f"{info.arch} to resume it, or choose a new -o folder")
    if info.args.res != args.res:
        raise FacedubError(f"{where} was trained at --res {info.args.res}; pass --res "
                           f"{info.args.res} to resume it, or choose a new -o folder")
    if info.args != args:
        raise FacedubError(f"{where} was trained with model arguments {info.args.to_json()}; "
                           "resume with the same --preset and sizes, or choose a new -o "
                           "folder")
    if info.coverage != coverage:
        raise FacedubError(f"{where} was trained on {info.coverage!r} crops and these "
                           f"facesets are {coverage!r}; use facesets extracted with "
                           f"--coverage {info.coverage}, or choose a new -o folder")
    for role, saved, faceset in (("source", info.source, source),
                                 ("target", info.target, target)):
        given = FacesetInfo.of(faceset)
        if not saved.same_person(given):
            raise FacedubError(
                f"{where} was trained with {role} faces of person {saved.person} from "
                f"{saved.source_name}, but {faceset.root} holds person {given.person} from "
                f"{given.source_name}; pass the same facesets to resume, or choose a new -o "
                "folder")
        if saved.records_sha256 != given.records_sha256:
            log.warning("%s: the faces differ from the ones this run started with (extracted "
                        "again?); training continues on the new ones", faceset.root)


def trim_log(root: Path, step: int) -> None:
    """Drop log lines written after the checkpoint at `step` that a run resumes from (a
    crash can leave some), so the log reads as one run."""
    path = root / LOG_FILE
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        with contextlib.suppress(json.JSONDecodeError):
            if line.endswith("\n") and int(json.loads(line).get("step", 0)) <= step:
                kept.append(line)
    write_bytes_atomic(path, "".join(kept).encode("utf-8"))


def preview_faces(a: FaceSamples, b: FaceSamples) -> tuple[np.ndarray, np.ndarray]:
    """Up to PREVIEW_ROWS faces of each person, spread over the footage: (K, R, R, 3)."""
    def spread(samples: FaceSamples) -> np.ndarray:
        return samples.images[list(spread_indices(len(samples), PREVIEW_ROWS))]

    return spread(a), spread(b)


def write_preview(path: Path, model: FaceModel, faces_a: np.ndarray, faces_b: np.ndarray,
                  device: torch.device) -> None:
    """A PNG grid, one row per face, columns A, A→A, A→B, B, B→B, B→A."""
    rows = min(len(faces_a), len(faces_b))
    model.eval()
    with torch.inference_mode():
        def render(faces: np.ndarray, person: Literal["a", "b"]) -> np.ndarray:
            x = torch.from_numpy(faces[:rows]).to(device).permute(0, 3, 1, 2).float() / 255
            face, _ = model.render(x, person)
            pixels = face.float().clamp(0, 1).mul(255).round().byte()
            return pixels.permute(0, 2, 3, 1).cpu().numpy()  # type: ignore[no-any-return]

        columns = [faces_a[:rows], render(faces_a, "a"), render(faces_a, "b"),
                   faces_b[:rows], render(faces_b, "b"), render(faces_b, "a")]
    model.train()
    grid = np.concatenate([np.concatenate(list(column), axis=0) for column in columns], axis=1)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
            raise FacedubError(f"{path}: could not be written; check free disk space")


