"""Reading a refiner folder: what `refine` writes (facedub.train.refine_run) and the
refined engine and the exporter read.

The same files as a `train` run folder (facedub.train.checkpoint writes them,
facedub.models.run verifies them), with its own config.json:

    config.json         format "facedub-refiner" and version, run id, architecture and its
                        arguments, crop coverage, the source faceset (media sha256, person),
                        the settings of the first run
    model.safetensors   weights (metadata: run id, architecture, step)
    optimizer.pt        AdamW state, read with weights_only=True
    state.json          step, training seconds, losses, sha256 of the two files above
    best.safetensors    the weights of the best held-out evaluation so far (BEST_METRIC),
                        the ones swaps and `export` use; absent in folders of older versions
    best.json           its step, score, sha256 and the band gate's gains chosen with it
                        (written after it, like state.json)
    log.jsonl, previews/  one line per interval; PNG grids: input, refined, truth

A refiner belongs to one source person: it is refused with any other source.

torch (with facedub.models.refiner) is imported only where a folder's weights or arguments
are read: an exported refiner's source check comes through here without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from facedub.errors import FacedubError, field_problem
from facedub.faces.align import COVERAGES, Coverage
from facedub.faces.identity import DESCRIPTOR_SIZE, distance
from facedub.faceset import Faceset
from facedub.fsutil import read_json_object
from facedub.models import run as ckpt
from facedub.models.run import FacesetInfo, RunFolder, RunState

if TYPE_CHECKING:
    import torch

    from facedub.models.refiner import Gains, Refiner, RefinerArgs

REFINER_FORMAT = "facedub-refiner"
REFINER_VERSION = 1
# Identity distance (dlib descriptors, same-person threshold 0.6) below which other media
# of a source still count as the refiner's person: stricter than recognition's threshold.
SAME_SOURCE_PERSON = 0.5
BEST_FILE = "best.safetensors"
BEST_STATE_FILE = "best.json"
# Held-out SSIM of what the compositor's default `--color detail` keeps of the refined
# face: the closest to what a swap shows that the renderings alone can read.
BEST_METRIC = "kept_refined"
# The evaluation's face SSIM of the source's held-out stretch swapped and composited
# (train/refine_composited.py): what a swap shows, where `refine` has the source video.
COMPOSITED_METRIC = "composited_refined"
# Where in the swap a refiner runs (config.json's "stage"): on the mesh engine's face,
# before the compositor (every folder that says none), or on the compositor's finished
# crop (facedub.models.crop_refiner_run).
MESH_STAGE = "mesh"
COMPOSITED_STAGE = "composited"
STAGES = (MESH_STAGE, COMPOSITED_STAGE)
# What each stage's refiner corrects, for the message that refuses a folder of the other.
STAGE_SUBJECTS = {MESH_STAGE: "the mesh engine's face", COMPOSITED_STAGE: "the composited crop"}

log = logging.getLogger(__name__)
# A stage's network's arguments (RefinerArgs, CropRefinerArgs), for RefinerInfo.
ArgsT = TypeVar("ArgsT")
# The network a refiner folder holds (Refiner, CropRefiner), for load_swap_weights.
ModelT = TypeVar("ModelT", bound="torch.nn.Module")


@dataclass(frozen=True)
class RefinerInfo(Generic[ArgsT]):
    """A refiner folder's config.json, parsed, either stage: `args` are the stage's
    network's (RefinerArgs at the mesh stage, crop_refiner.CropRefinerArgs at the
    composited one)."""

    root: Path
    run_id: str
    arch: str
    args: ArgsT
    coverage: Coverage
    source: FacesetInfo
    identity: tuple[float, ...] | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class BestState:
    """best.json: the step and held-out score of best.safetensors, its sha256, and the
    gains of the refiner's band gate (low, mid, fine) chosen on the held-out faces with
    those weights (facedub.models.refiner; (1, 1, 1) in folders older than the gate);
    `metric`: what `score` measures (BEST_METRIC in folders older than the choice), and
    `baseline`: the mesh engine's own score on it (None where it has none: the renderings'
    or older folders)."""

    step: int
    score: float
    sha256: str
    gains: Gains = (1.0, 1.0, 1.0)
    metric: str = BEST_METRIC
    baseline: float | None = None


def is_refiner(root: Path) -> bool:
    """True if `root` is a folder whose config.json says it is a refiner."""
    path = Path(root) / ckpt.CONFIG_FILE
    if not path.is_file():
        return False
    try:
        read_json_object(path, REFINER_FORMAT, "refiner folder", "")
    except FacedubError:
        return False
    return True


def read_refiner_config(root: Path) -> tuple[dict[str, Any], Path]:
    """The config.json of the refiner folder `root` (either stage), and its path."""
    path = Path(root) / ckpt.CONFIG_FILE
    if not path.is_file():
        raise FacedubError(f"{root}: not a facedub refiner ({ckpt.CONFIG_FILE} missing); "
                           "make one with `facedub refine SOURCE -o FOLDER`")
    raw = read_json_object(path, REFINER_FORMAT, "refiner folder",
                           "pass the -o folder of `facedub refine`")
    return raw, path


def read_refiner_info(root: Path) -> RefinerInfo[RefinerArgs]:
    return parse_refiner_config(*read_refiner_config(root))


def read_best(root: Path) -> BestState | None:
    """The folder's best held-out state, or None if it has none (an older folder, or no
    held-out evaluation yet)."""
    path = Path(root) / BEST_STATE_FILE
    if not path.is_file():
        return None
    raw = read_json_object(path, REFINER_FORMAT, "refiner folder",
                           f"delete it and {BEST_FILE} to use the latest weights")
    try:
        gains = tuple(float(g) for g in raw.get("gains", (1.0, 1.0, 1.0)))
        if len(gains) != 3:
            raise ValueError(f"gains {gains!r}")
        baseline = raw.get("baseline")
        return BestState(step=int(raw["step"]), score=float(raw["score"]),
                         sha256=str(raw["sha256"]), gains=(gains[0], gains[1], gains[2]),
                         metric=str(raw.get("metric", BEST_METRIC)),
                         baseline=None if baseline is None else float(baseline))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: {field_problem(error)}; delete it and "
                           f"{BEST_FILE} to use the latest weights") from error


def load_refiner(root: Path, device: torch.device
                 ) -> tuple[Refiner, RefinerInfo[RefinerArgs], RunState]:
    """The refiner of a folder that swaps use, verified, in eval mode on `device`: the
    best held-out state with its band gate if the folder has one, else the latest
    checkpoint, whole. The RunState returned carries the step of the weights loaded."""
    from facedub.models.refiner import Refiner

    info = read_refiner_info(root)
    model, state, best = load_swap_weights(root, info, lambda: Refiner(info.args))
    if best is not None:
        model.set_gains(best.gains)
    return model.to(device).eval(), info, state


def load_swap_weights(root: Path, info: RunFolder, make: Callable[[], ModelT]
                      ) -> tuple[ModelT, RunState, BestState | None]:
    """A model `make`s, with the weights of the refiner folder `root` (either stage) that
    swaps use: the best held-out state if the folder has one, else the latest checkpoint;
    the RunState of the weights loaded, and the best state (None: none)."""
    state = ckpt.read_state(root)
    if state is None:
        raise FacedubError(f"{root}: holds no checkpoint yet; refine longer (a checkpoint "
                           "is saved every --save-every steps and when refining stops)")
    model = make()
    best = read_best(root)
    if best is None:
        ckpt.load_weights(info, state, model)
    else:
        state = replace(state, step=best.step, model_sha256=best.sha256)
        ckpt.load_weights(info, state, model, BEST_FILE)
    return model, state, best


def person_identity(faceset: Faceset) -> tuple[float, ...] | None:
    """The mean identity descriptor (128 floats) of the faceset's chosen person, or None
    if it was never described."""
    for person in faceset.meta.persons:
        if person.id == faceset.meta.person and person.descriptor is not None:
            return tuple(round(float(value), 6) for value in person.descriptor)
    return None


def check_refiner_source(source: FacesetInfo, identity: tuple[float, ...] | None,
                         refiner_name: str, faceset: Faceset) -> None:
    """Refuse a refiner (or its export) trained for another person than `faceset`'s
    chosen one: it would paint that other person's skin onto this face. The same person
    in other media (a photo of the person whose video trained it) is accepted when the
    identity descriptors agree within SAME_SOURCE_PERSON."""
    given = FacesetInfo.of(faceset)
    if source.same_person(given):
        return
    found = person_identity(faceset)
    if identity is not None and found is not None:
        gap = distance(np.asarray(identity), np.asarray(found))
        if gap < SAME_SOURCE_PERSON:
            log.info("%s: refined on %s, used with %s (identity distance %.2f: the same "
                     "person)", refiner_name, source.source_name, given.source_name, gap)
            return
    raise FacedubError(
        f"{refiner_name} was refined for person {source.person} of {source.source_name}, "
        f"not for person {given.person} of {given.source_name}; pass that source, or "
        f"refine one for this source with `facedub refine {given.source_name} -o FOLDER`")


def parse_identity(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    identity = tuple(float(v) for v in value)
    if len(identity) != DESCRIPTOR_SIZE:
        raise ValueError(f"identity of {len(identity)} values")
    return identity


def stage_of(raw: dict[str, Any]) -> str:
    """The stage a refiner's config.json says it runs at (MESH_STAGE where it says none:
    every folder before the composited stage)."""
    stage = raw.get("stage", MESH_STAGE)
    if stage not in STAGES:
        raise FacedubError(f"refiner stage {stage!r} is none of {', '.join(STAGES)}; this "
                           "facedub cannot run it: refine again")
    return str(stage)


def parse_stage_config(raw: dict[str, Any], path: Path, stage: str, arch: str,
                       parse_args: Callable[[Any], ArgsT]) -> RefinerInfo[ArgsT]:
    """The config.json `raw` (read from `path`) of a refiner of `stage` and `arch`, its
    network's arguments read by `parse_args`; a missing or bad field is a FacedubError
    saying the folder is damaged."""
    if raw.get("version") != REFINER_VERSION:
        raise FacedubError(f"{path}: refiner format version {raw.get('version')} is not "
                           f"supported (this facedub reads {REFINER_VERSION}); refine again")
    found = stage_of(raw)
    if found != stage:
        raise FacedubError(f"{path.parent} is a refiner of {STAGE_SUBJECTS[found]} (stage "
                           f"{found}); pass --stage {found} to resume it, or choose a new "
                           "-o folder")
    try:
        coverage = raw["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        if raw["arch"] != arch:
            raise ValueError(f"arch {raw['arch']!r}")
        return RefinerInfo(root=path.parent, run_id=str(raw["run_id"]), arch=arch,
                           args=parse_args(raw["args"]), coverage=coverage,
                           source=FacesetInfo(**raw["source"]),
                           identity=parse_identity(raw.get("identity")), raw=raw)
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: {field_problem(error)}; the refiner "
                           "folder is damaged, refine again in a new folder") from error


def parse_refiner_config(raw: dict[str, Any], path: Path) -> RefinerInfo[RefinerArgs]:
    from facedub.models.refiner import REFINER_ARCH, refiner_args_from_json

    return parse_stage_config(raw, path, MESH_STAGE, REFINER_ARCH, refiner_args_from_json)
