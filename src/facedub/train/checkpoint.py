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
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import safetensors.torch
import torch
from safetensors import SafetensorError

from facedub import __version__
from facedub.align import COVERAGES, Coverage
from facedub.errors import FacedubError
from facedub.faceset import RECORDS_FILE, Faceset
from facedub.fsutil import atomic_path, read_json_object, write_bytes_atomic, write_json_atomic
from facedub.models import FaceModel, ModelArgs, build_model, model_args_from_json
from facedub.train.data import FaceSamples

RUN_FORMAT = "facedub-run"
RUN_VERSION = 1
CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "state.json"
LOG_FILE = "log.jsonl"
PREVIEWS_DIR = "previews"
PREVIEW_ROWS = 4  # faces of each person in a preview grid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FacesetInfo:
    """What a run remembers of a faceset, to refuse resuming with another one."""

    source_name: str
    source_sha256: str
    person: int
    faces: int
    crop_size: int
    records_sha256: str

    @staticmethod
    def of(faceset: Faceset) -> FacesetInfo:
        records = (faceset.root / RECORDS_FILE).read_bytes()
        return FacesetInfo(source_name=faceset.meta.source_name,
                           source_sha256=faceset.meta.source_sha256,
                           person=faceset.meta.person, faces=len(faceset.faces_of()),
                           crop_size=faceset.meta.crop_size,
                           records_sha256=hashlib.sha256(records).hexdigest())

    def same_person(self, other: FacesetInfo) -> bool:
        return (self.source_sha256, self.person) == (other.source_sha256, other.person)


class SavedArgs(Protocol):
    def to_json(self) -> dict[str, int]: ...


class CheckpointOwner(Protocol):
    """What the checkpoint functions need of a run's config: a run folder of `train`
    (RunInfo) or of `refine` (facedub.train.refiner_run.RefinerInfo)."""

    @property
    def root(self) -> Path: ...

    @property
    def run_id(self) -> str: ...

    @property
    def arch(self) -> str: ...

    @property
    def args(self) -> SavedArgs: ...


@dataclass(frozen=True)
class RunInfo:
    """A run's config.json, parsed."""

    root: Path
    run_id: str
    arch: str
    args: ModelArgs
    coverage: Coverage
    source: FacesetInfo
    target: FacesetInfo
    raw: dict[str, Any]


@dataclass(frozen=True)
class RunState:
    """A run's state.json: where training stands at the last checkpoint."""

    step: int
    train_seconds: float
    losses: dict[str, float]
    seed: int
    model_sha256: str = ""
    optimizer_sha256: str = ""


def new_run_info(root: Path, arch: str, args: ModelArgs, coverage: Coverage,
                 source: Faceset, target: Faceset, settings: dict[str, Any]) -> RunInfo:
    raw = {"format": RUN_FORMAT, "version": RUN_VERSION, "facedub_version": __version__,
           "run_id": uuid.uuid4().hex, "arch": arch, "args": args.to_json(),
           "res": args.res, "coverage": coverage, "source": asdict(FacesetInfo.of(source)),
           "target": asdict(FacesetInfo.of(target)), "train_settings": settings}
    return _parse_config(raw, root / CONFIG_FILE)


def write_run_info(info: RunInfo) -> None:
    info.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(info.root / CONFIG_FILE, info.raw)


def is_run(root: Path) -> bool:
    return (Path(root) / CONFIG_FILE).is_file()


def read_run_info(root: Path) -> RunInfo:
    path = Path(root) / CONFIG_FILE
    if not path.is_file():
        raise FacedubError(f"{root}: not a facedub run ({CONFIG_FILE} missing); train one "
                           "with `facedub train SOURCE_FACES TARGET_FACES -o FOLDER`")
    return _parse_config(_read_json(path), path)


def read_state(root: Path) -> RunState | None:
    """The last checkpoint's state, or None if the run has not saved one yet."""
    path = Path(root) / STATE_FILE
    if not path.is_file():
        return None
    raw = _read_json(path)
    try:
        return RunState(step=int(raw["step"]), train_seconds=float(raw["train_seconds"]),
                        losses={str(k): float(v) for k, v in raw["losses"].items()},
                        seed=int(raw["seed"]), model_sha256=str(raw["model_sha256"]),
                        optimizer_sha256=str(raw["optimizer_sha256"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FacedubError(f"{path}: field {error} is missing or malformed; the run folder "
                           "is damaged, restore it or train again in a new folder") from error


def save_checkpoint(info: CheckpointOwner, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, state: RunState) -> RunState:
    """Write weights, optimizer state, then state.json (with both files' sha256)."""
    tensors = {name: value.detach().to("cpu", torch.float32).contiguous()
               for name, value in model.state_dict().items()}
    metadata = {"format": RUN_FORMAT, "run_id": info.run_id, "arch": info.arch,
                "args": json.dumps(info.args.to_json(), sort_keys=True),
                "step": str(state.step)}
    weights = safetensors.torch.save(tensors, metadata=metadata)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    optimizer_bytes = buffer.getvalue()
    # Crash-safe order: new files beside the old ones, then state.json (the commit), then
    # the renames; a reader finishes renames a crash interrupted (see _read_checked).
    write_bytes_atomic(_pending(info.root / MODEL_FILE), weights)
    write_bytes_atomic(_pending(info.root / OPTIMIZER_FILE), optimizer_bytes)
    saved = RunState(step=state.step, train_seconds=state.train_seconds, losses=state.losses,
                     seed=state.seed, model_sha256=hashlib.sha256(weights).hexdigest(),
                     optimizer_sha256=hashlib.sha256(optimizer_bytes).hexdigest())
    write_json_atomic(info.root / STATE_FILE, {"format": RUN_FORMAT, **asdict(saved)})
    promote_pending(info.root)
    return saved


def promote_pending(root: Path) -> None:
    """Move the weights and optimizer files of a committed checkpoint into place."""
    for name in (MODEL_FILE, OPTIMIZER_FILE):
        if _pending(root / name).is_file():
            os.replace(_pending(root / name), root / name)


def load_weights(info: CheckpointOwner, state: RunState, model: torch.nn.Module) -> None:
    """Fill `model` from model.safetensors after checking it is this run's own file."""
    path = info.root / MODEL_FILE
    data = _read_checked(path, state.model_sha256)
    try:
        tensors = safetensors.torch.load(data)
        metadata = safetensors_metadata(data)
    except (SafetensorError, OSError, ValueError) as error:
        raise FacedubError(f"{path}: not a valid safetensors file ({error}); restore the "
                           "run folder or train again") from error
    if metadata.get("run_id") != info.run_id or metadata.get("arch") != info.arch:
        raise FacedubError(f"{path}: these weights belong to another run; restore this "
                           "run's own model.safetensors or train again")
    expected = model.state_dict()
    wrong = sorted(set(expected) ^ set(tensors))
    wrong += [name for name in expected if name in tensors
              and tuple(tensors[name].shape) != tuple(expected[name].shape)]
    if wrong:
        raise FacedubError(f"{path}: does not fit a {info.arch} model with arguments "
                           f"{info.args.to_json()} (first mismatch: {wrong[0]}); the file "
                           "comes from another model, restore it or train again")
    model.load_state_dict(tensors)


def load_optimizer(info: CheckpointOwner, state: RunState,
                   optimizer: torch.optim.Optimizer) -> None:
    path = info.root / OPTIMIZER_FILE
    data = _read_checked(path, state.optimizer_sha256)
    try:
        # weights_only: tensors, numbers and containers only; never arbitrary objects.
        saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        optimizer.load_state_dict(saved)
    except Exception as error:  # torch raises a variety of types for damaged files
        raise FacedubError(f"{path}: could not be read ({error}); delete it to resume with "
                           "a fresh optimizer, or train again") from error


def load_run(root: Path, device: torch.device) -> tuple[FaceModel, RunInfo, RunState]:
    """The trained model of a run folder, verified, in eval mode on `device`."""
    info = read_run_info(root)
    state = read_state(root)
    if state is None:
        raise FacedubError(f"{root}: holds no checkpoint yet; train longer (a checkpoint is "
                           "saved every --save-every steps and when training stops)")
    model = build_model(info.arch, info.args)
    load_weights(info, state, model)
    return model.to(device).eval(), info, state


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
        picks = np.linspace(0, len(samples) - 1, min(PREVIEW_ROWS, len(samples)))
        return samples.images[np.round(picks).astype(np.int64)]

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


def _pending(path: Path) -> Path:
    return path.with_name(f"{path.stem}.next{path.suffix}")


def _read_checked(path: Path, sha256: str) -> bytes:
    """The file's bytes if their sha256 is the one state.json recorded. If a crash came
    between committing state.json and renaming the new file into place, the new file is
    still under its pending name: use it and finish the rename."""
    pending = _pending(path)
    if pending.is_file():
        data = pending.read_bytes()
        if hashlib.sha256(data).hexdigest() == sha256:
            with contextlib.suppress(OSError):  # a read-only copy of a run still loads
                os.replace(pending, path)
            return data
    if not path.is_file():
        raise FacedubError(f"{path}: missing; restore the run folder or train again")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FacedubError(f"{path}: does not match the sha256 recorded in {STATE_FILE} "
                           "(the file was changed or comes from another run); restore this "
                           "run's own file or train again in a new folder")
    return data


def safetensors_metadata(data: bytes) -> dict[str, str]:
    """The "__metadata__" of a safetensors file's bytes (an 8-byte little-endian header
    length, then a JSON header); ValueError if the header is malformed."""
    if len(data) < 8:
        raise ValueError("file too short")
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise ValueError("header longer than the file")
    header = json.loads(data[8:8 + length].decode("utf-8"))
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(metadata, dict):
        raise ValueError("malformed metadata")
    return {str(key): str(value) for key, value in metadata.items()}


def _read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path, RUN_FORMAT, "run folder",
                            "restore it or train again in a new folder")


def _parse_config(raw: dict[str, Any], path: Path) -> RunInfo:
    if raw.get("version") != RUN_VERSION:
        raise FacedubError(f"{path}: run format version {raw.get('version')} is not "
                           f"supported (this facedub reads {RUN_VERSION}); train again")
    try:
        coverage = raw["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        return RunInfo(root=path.parent, run_id=str(raw["run_id"]), arch=str(raw["arch"]),
                       args=model_args_from_json(raw["args"]), coverage=coverage,
                       source=FacesetInfo(**raw["source"]), target=FacesetInfo(**raw["target"]),
                       raw=raw)
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: field {error} is missing or malformed; the run folder "
                           "is damaged, restore it or train again in a new folder") from error
