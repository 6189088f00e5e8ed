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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facedub.fsutil import read_json_object
from facedub.models import run as ckpt
from facedub.models.refiner_run import (
    COMPOSITED_STAGE,
    REFINER_FORMAT,
    RefinerInfo,
    load_swap_weights,
    parse_stage_config,
    read_refiner_config,
    stage_of,
)
from facedub.models.run import RunState

if TYPE_CHECKING:
    import torch

    from facedub.models.crop_refiner import CropRefiner, CropRefinerArgs

log = logging.getLogger(__name__)


def refiner_stage(root: Path) -> str:
    """The stage of the refiner folder `root` (its config.json must exist)."""
    raw = read_json_object(Path(root) / ckpt.CONFIG_FILE, REFINER_FORMAT, "refiner folder",
                           "pass the -o folder of `facedub refine`")
    return stage_of(raw)


def read_crop_refiner_info(root: Path) -> RefinerInfo[CropRefinerArgs]:
    return parse_crop_refiner_config(*read_refiner_config(root))


def parse_crop_refiner_config(raw: dict[str, Any], path: Path
                              ) -> RefinerInfo[CropRefinerArgs]:
    from facedub.models.crop_refiner import CROP_ARCH, crop_refiner_args_from_json

    return parse_stage_config(raw, path, COMPOSITED_STAGE, CROP_ARCH,
                              crop_refiner_args_from_json)


def load_crop_refiner(root: Path, device: torch.device
                      ) -> tuple[CropRefiner, RefinerInfo[CropRefinerArgs], RunState]:
    """The composited-stage refiner of a folder that swaps use, verified, in eval mode on
    `device`: the best held-out state if the folder has one, else the latest checkpoint.
    The RunState returned carries the step of the weights loaded."""
    from facedub.models.crop_refiner import CropRefiner

    info = read_crop_refiner_info(root)
    model, state, _ = load_swap_weights(root, info, lambda: CropRefiner(info.args))
    return model.to(device).eval(), info, state
