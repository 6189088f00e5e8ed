"""Reading a run folder: the trained model and what it was trained on, verified. The engine,
the exporter and training (to resume) all load runs through here; `facedub.train.checkpoint`
writes them (the folder's layout is described there). Never pickle.

torch is imported only by the functions that load weights or pick a device: a swap with an
exported (.onnx) refiner reads FacesetInfo from here and must not pay torch's ~1 s start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from safetensors import SafetensorError

from facedub.errors import FacedubError, field_problem
from facedub.faces.align import COVERAGES, Coverage
from facedub.faceset import RECORDS_FILE, Faceset
from facedub.fsutil import read_json_object
from facedub.models import build_model, model_args_from_json

if TYPE_CHECKING:
    import torch

    from facedub.models import FaceModel, ModelArgs

RUN_FORMAT = "facedub-run"
RUN_VERSION = 1
CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "state.json"


def select_device(name: str) -> torch.device:
    """"auto": CUDA, then Apple MPS, then CPU; otherwise the named device, if present."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise FacedubError("--device cuda: no CUDA device found; use --device auto or cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise FacedubError("--device mps: Apple MPS is not available; use --device auto or cpu")
    return torch.device(name)


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
    def to_json(self) -> dict[str, Any]: ...


class RunFolder(Protocol):
    """What loading and saving weights need of a folder's parsed config.json: a `train`
    run (RunInfo) or a `refine` refiner (facedub.models.refiner_run.RefinerInfo)."""

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


def is_run(root: Path) -> bool:
    return (Path(root) / CONFIG_FILE).is_file()


def read_run_info(root: Path) -> RunInfo:
    path = Path(root) / CONFIG_FILE
    if not path.is_file():
        raise FacedubError(f"{root}: not a facedub run ({CONFIG_FILE} missing); train one "
                           "with `facedub train SOURCE_FACES TARGET_FACES -o FOLDER`")
    return parse_run_config(read_run_json(path), path)


def read_state(root: Path) -> RunState | None:
    """The last checkpoint's state, or None if the run has not saved one yet."""
    path = Path(root) / STATE_FILE
    if not path.is_file():
        return None
    raw = read_run_json(path)
    try:
        return RunState(step=int(raw["step"]), train_seconds=float(raw["train_seconds"]),
                        losses={str(k): float(v) for k, v in raw["losses"].items()},
                        seed=int(raw["seed"]), model_sha256=str(raw["model_sha256"]),
                        optimizer_sha256=str(raw["optimizer_sha256"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FacedubError(f"{path}: {field_problem(error)}; the run folder "
                           "is damaged, restore it or train again in a new folder") from error


def load_weights(info: RunFolder, state: RunState, model: torch.nn.Module,
                 name: str = MODEL_FILE) -> None:
    """Fill `model` from the folder's weights file `name` (model.safetensors, or a
    refiner's best.safetensors with its own sha256 in `state`) after checking it is this
    run's own file."""
    import safetensors.torch

    path = info.root / name
    data = read_checked(path, state.model_sha256)
    try:
        tensors = safetensors.torch.load(data)
        metadata = safetensors_metadata(data)
    except (SafetensorError, OSError, ValueError) as error:
        raise FacedubError(f"{path}: not a valid safetensors file ({error}); restore the "
                           "run folder or train again") from error
    if metadata.get("run_id") != info.run_id or metadata.get("arch") != info.arch:
        raise FacedubError(f"{path}: these weights belong to another run; restore this "
                           f"run's own {name} or train again")
    expected = model.state_dict()
    wrong = sorted(set(expected) ^ set(tensors))
    wrong += [name for name in expected if name in tensors
              and tuple(tensors[name].shape) != tuple(expected[name].shape)]
    if wrong:
        raise FacedubError(f"{path}: does not fit a {info.arch} model with arguments "
                           f"{info.args.to_json()} (first mismatch: {wrong[0]}); the file "
                           "comes from another model, restore it or train again")
    model.load_state_dict(tensors)


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


def pending_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.next{path.suffix}")


def read_checked(path: Path, sha256: str) -> bytes:
    """The file's bytes if their sha256 is the one state.json recorded. If a crash came
    between committing state.json and renaming the new file into place, the new file is
    still under its pending name: use it and finish the rename."""
    pending = pending_path(path)
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
        raise FacedubError(f"{path}: does not match the sha256 the run recorded for "
                           "it (the file was changed or comes from another run); restore this "
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


def read_run_json(path: Path) -> dict[str, Any]:
    return read_json_object(path, RUN_FORMAT, "run folder",
                            "restore it or train again in a new folder")


def parse_run_config(raw: dict[str, Any], path: Path) -> RunInfo:
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
        raise FacedubError(f"{path}: {field_problem(error)}; the run folder "
                           "is damaged, restore it or train again in a new folder") from error
