"""Writing a refiner folder's config.json and its best held-out weights, and refusing to
resume one that belongs to another source or other arguments. Reading it is
facedub.models.refiner_run's."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from facedub import __version__
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.fsutil import write_bytes_atomic, write_json_atomic
from facedub.models.refiner import REFINER_ARCH, Gains, RefinerArgs
from facedub.models.refiner_run import (
    BEST_FILE,
    BEST_METRIC,
    BEST_STATE_FILE,
    REFINER_FORMAT,
    REFINER_VERSION,
    BestState,
    RefinerInfo,
    check_refiner_source,
    parse_refiner_config,
    person_identity,
)
from facedub.models.run import CONFIG_FILE, FacesetInfo, RunFolder, pending_path
from facedub.train.checkpoint import weights_bytes
from facedub.train.refine_data import RENDERINGS


def new_refiner_info(root: Path, args: RefinerArgs, source: Faceset,
                     settings: dict[str, Any]) -> RefinerInfo[RefinerArgs]:
    raw = {"format": REFINER_FORMAT, "version": REFINER_VERSION,
           "facedub_version": __version__, "run_id": uuid.uuid4().hex, "arch": REFINER_ARCH,
           "args": args.to_json(), "res": args.res, "coverage": source.meta.coverage,
           "source": asdict(FacesetInfo.of(source)), "identity": person_identity(source),
           "refine_settings": settings}
    return parse_refiner_config(raw, Path(root) / CONFIG_FILE)


def write_refiner_info(info: RefinerInfo[RefinerArgs]) -> None:
    info.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(info.root / CONFIG_FILE, info.raw)


def check_refiner_resumable(info: RefinerInfo[RefinerArgs], args: RefinerArgs,
                            source: Faceset) -> None:
    """Raise FacedubError, saying what to do, unless refining `args` on `source`
    continues the run `info` describes."""
    if info.args != args:
        raise FacedubError(f"{info.root} was refined with arguments {info.args.to_json()}; "
                           f"pass --res {info.args.res} to resume it, or choose a new -o "
                           "folder")
    check_refiner_source(info.source, info.identity, str(info.root), source)


def saved_holdout_share(info: RefinerInfo[RefinerArgs], given: float) -> float:
    """The held-out share the run in `info` started with, so a resume keeps its split
    (`given` if the folder records none). A folder of the older rule is refused: its
    held-out blocks lay between its training blocks, and one log would mix two measures."""
    settings = info.raw.get("refine_settings")
    settings = settings if isinstance(settings, dict) else {}
    share = settings.get("holdout_share")
    if isinstance(share, int | float) and not isinstance(share, bool):
        if not 0.0 <= float(share) <= 0.5:  # NaN too: a hand-edited or foreign config.json
            raise FacedubError(f"{info.root}: its held-out share {share!r} is not between 0 "
                               "and 0.5 (as `RefineConfig` takes it); choose a new -o folder")
        return float(share)
    if "holdout_every" in settings:
        raise FacedubError(f"{info.root} was started by an older `facedub refine` that held "
                           "out blocks between its training frames, so it cannot resume with "
                           "a held-out stretch; choose a new -o folder (the refiner in it "
                           "still works with `swap --refiner`)")
    return given


def saved_renderings(info: RefinerInfo[RefinerArgs], given: str) -> str:
    """How the run in `info` started making its renderings (RefineConfig.renderings), so a
    resume renders its training and held-out faces as before, whatever it is given (the
    CLI cannot set it): a resumed "halves" run rendered as "blocks" would judge its best
    state on other held-out renderings. A folder that records none predates the choice
    and rendered "blocks"; `given` is kept only when the folder has no settings at all."""
    settings = info.raw.get("refine_settings")
    if not isinstance(settings, dict):
        return given
    renderings = settings.get("renderings", "blocks")
    if renderings not in RENDERINGS:
        raise FacedubError(f"{info.root}: its renderings {renderings!r} are none of "
                           f"{', '.join(RENDERINGS)}; choose a new -o folder")
    return str(renderings)


def save_best(info: RunFolder, model: torch.nn.Module, step: int, score: float,
              gains: Gains, metric: str = BEST_METRIC, baseline: float | None = None
              ) -> BestState:
    """Write `model` as the folder's best held-out state, with the band gate's `gains`
    chosen for it, its `score` by `metric` and the mesh engine's `baseline` there. As a
    checkpoint: the weights
    under their pending name, then best.json (the commit), then the rename; a reader
    finishes a rename a crash interrupted, and a crash before best.json keeps the old."""
    weights = weights_bytes(info, model, step)
    best = BestState(step=step, score=score, sha256=hashlib.sha256(weights).hexdigest(),
                     gains=gains, metric=metric, baseline=baseline)
    write_bytes_atomic(pending_path(info.root / BEST_FILE), weights)
    write_json_atomic(info.root / BEST_STATE_FILE, {"format": REFINER_FORMAT, **asdict(best)})
    os.replace(pending_path(info.root / BEST_FILE), info.root / BEST_FILE)
    return best
