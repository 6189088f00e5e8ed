"""Reading a composited-stage refiner folder (`facedub refine --stage composited`).

The same files as a refiner folder (facedub.models.refiner_run: config.json, model and
optimizer checkpoints, state.json, best.safetensors and best.json, log.jsonl), with
config.json's "stage" "composited", its arch `CROP_ARCH` and that network's arguments: the
swap runs it on the compositor's finished crop (facedub.models.crop_refiner), and a
folder without "stage" is a refiner run before the compositor ("mesh").

torch is imported only where weights are read: the stage of a folder is read without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facedub.errors import FacedubError, field_problem
from facedub.faces.align import COVERAGES, Coverage
from facedub.fsutil import read_json_object
from facedub.models import run as ckpt
from facedub.models.refiner_run import (
    BEST_FILE,
    COMPOSITED_STAGE,
    MESH_STAGE,
    REFINER_FORMAT,
    REFINER_VERSION,
    parse_identity,
    read_best,
    stage_of,
)
from facedub.models.run import FacesetInfo, RunState

if TYPE_CHECKING:
    import torch

    from facedub.models.crop_refiner import CropRefiner, CropRefinerArgs

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CropRefinerInfo:
    """A composited-stage refiner folder's config.json, parsed."""

    root: Path
    run_id: str
    arch: str
    args: CropRefinerArgs
    coverage: Coverage
    source: FacesetInfo
    identity: tuple[float, ...] | None
    raw: dict[str, Any]


def refiner_stage(root: Path) -> str:
    """The stage of the refiner folder `root` (its config.json must exist)."""
    raw = read_json_object(Path(root) / ckpt.CONFIG_FILE, REFINER_FORMAT, "refiner folder",
                           "pass the -o folder of `facedub refine`")
    return stage_of(raw)


def read_crop_refiner_info(root: Path) -> CropRefinerInfo:
    path = Path(root) / ckpt.CONFIG_FILE
    if not path.is_file():
        raise FacedubError(f"{root}: not a facedub refiner ({ckpt.CONFIG_FILE} missing); "
                           "make one with `facedub refine SOURCE -o FOLDER`")
    raw = read_json_object(path, REFINER_FORMAT, "refiner folder",
                           "pass the -o folder of `facedub refine`")
    return parse_crop_refiner_config(raw, path)


def parse_crop_refiner_config(raw: dict[str, Any], path: Path) -> CropRefinerInfo:
    from facedub.models.crop_refiner import CROP_ARCH, crop_refiner_args_from_json

    if raw.get("version") != REFINER_VERSION:
        raise FacedubError(f"{path}: refiner format version {raw.get('version')} is not "
                           f"supported (this facedub reads {REFINER_VERSION}); refine again")
    if stage_of(raw) != COMPOSITED_STAGE:
        raise FacedubError(f"{path.parent} is a refiner of the mesh engine's face (stage "
                           f"{MESH_STAGE}); pass --stage {MESH_STAGE} to resume it, or "
                           "choose a new -o folder")
    try:
        coverage = raw["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        if raw["arch"] != CROP_ARCH:
            raise ValueError(f"arch {raw['arch']!r}")
        return CropRefinerInfo(root=path.parent, run_id=str(raw["run_id"]), arch=CROP_ARCH,
                               args=crop_refiner_args_from_json(raw["args"]),
                               coverage=coverage, source=FacesetInfo(**raw["source"]),
                               identity=parse_identity(raw.get("identity")), raw=raw)
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: {field_problem(error)}; the refiner "
                           "folder is damaged, refine again in a new folder") from error


def load_crop_refiner(root: Path, device: torch.device
                      ) -> tuple[CropRefiner, CropRefinerInfo, RunState]:
    """The composited-stage refiner of a folder that swaps use, verified, in eval mode on
    `device`: the best held-out state if the folder has one, else the latest checkpoint.
    The RunState returned carries the step of the weights loaded."""
    from facedub.models.crop_refiner import CropRefiner

    info = read_crop_refiner_info(root)
    state = ckpt.read_state(root)
    if state is None:
        raise FacedubError(f"{root}: holds no checkpoint yet; refine longer (a checkpoint "
                           "is saved every --save-every steps and when refining stops)")
    model = CropRefiner(info.args)
    best = read_best(root)
    if best is None:
        ckpt.load_weights(info, state, model)
    else:
        state = replace(state, step=best.step, model_sha256=best.sha256)
        ckpt.load_weights(info, state, model, BEST_FILE)
    return model.to(device).eval(), info, state
