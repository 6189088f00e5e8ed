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

from facedub.errors import FacedubError
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

# The training faces' light, written by `refine --stage composited` beside config.json.
LIGHT_FILE = "light.json"
LIGHT_FORMAT = "facedub-refiner-light"


@dataclass(frozen=True)
class TrainedLight:
    """The light a composited-stage refiner was trained under: the lowest and highest
    of its training faces' mean CIE L* (0..100; each face's true crop inside the
    compositor's alpha above one half, `engines.refiner.face_lightness`)."""

    low: float
    high: float

    def to_json(self) -> dict[str, Any]:
        return {"format": LIGHT_FORMAT, "low": round(self.low, 3), "high": round(self.high, 3)}


def trained_light_from_json(raw: Any, where: str) -> TrainedLight:
    """The TrainedLight of `raw` (a light.json's object, or the export's "light"
    metadata); FacedubError naming `where` when it is not one."""
    try:
        low, high = float(raw["low"]), float(raw["high"])
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{where}: the training light {raw!r} is malformed ({error}); "
                           "refine the folder on, and export it again") from error
    if not 0.0 <= low <= high <= 100.0:
        raise FacedubError(f"{where}: the training light {low}..{high} is not a range of "
                           "L* in 0..100; refine the folder on, and export it again")
    return TrainedLight(low, high)


def read_trained_light(root: Path) -> TrainedLight | None:
    """The training light of the composited-stage refiner folder `root`; None for a
    folder refined before facedub wrote it (its swaps keep the band on any light)."""
    path = Path(root) / LIGHT_FILE
    if not path.is_file():
        return None
    raw = read_json_object(path, LIGHT_FORMAT, "refiner's training light",
                           "refine it on (a larger --steps resumes it and writes the file again)")
    return trained_light_from_json(raw, str(path))


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
