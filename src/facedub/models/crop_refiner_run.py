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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facedub.faces.align import Coverage
from facedub.fsutil import read_json_object
from facedub.models import run as ckpt
from facedub.models.refiner_run import (
    COMPOSITED_STAGE,
    REFINER_FORMAT,
    load_swap_weights,
    parse_identity,
    parse_stage_config,
    read_refiner_config,
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
    return parse_crop_refiner_config(*read_refiner_config(root))


def parse_crop_refiner_config(raw: dict[str, Any], path: Path) -> CropRefinerInfo:
    from facedub.models.crop_refiner import CROP_ARCH, crop_refiner_args_from_json

    return parse_stage_config(raw, path, COMPOSITED_STAGE, CROP_ARCH,
                              lambda coverage: CropRefinerInfo(
        root=path.parent, run_id=str(raw["run_id"]), arch=CROP_ARCH,
        args=crop_refiner_args_from_json(raw["args"]), coverage=coverage,
        source=FacesetInfo(**raw["source"]), identity=parse_identity(raw.get("identity")),
        raw=raw))


def load_crop_refiner(root: Path, device: torch.device
                      ) -> tuple[CropRefiner, CropRefinerInfo, RunState]:
    """The composited-stage refiner of a folder that swaps use, verified, in eval mode on
    `device`: the best held-out state if the folder has one, else the latest checkpoint.
    The RunState returned carries the step of the weights loaded."""
    from facedub.models.crop_refiner import CropRefiner

    info = read_crop_refiner_info(root)
    model, state, _ = load_swap_weights(root, info, lambda: CropRefiner(info.args))
    return model.to(device).eval(), info, state
