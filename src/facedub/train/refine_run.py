"""Writing a refiner folder's config.json, and refusing to resume one that belongs to
another source or other arguments. Reading it is facedub.models.refiner_run's."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from facedub import __version__
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.fsutil import write_json_atomic
from facedub.models.refiner import REFINER_ARCH, RefinerArgs
from facedub.models.refiner_run import (
    REFINER_FORMAT,
    REFINER_VERSION,
    RefinerInfo,
    check_refiner_source,
    parse_refiner_config,
    person_identity,
)
from facedub.models.run import CONFIG_FILE, FacesetInfo


def new_refiner_info(root: Path, args: RefinerArgs, source: Faceset,
                     settings: dict[str, Any]) -> RefinerInfo:
    raw = {"format": REFINER_FORMAT, "version": REFINER_VERSION,
           "facedub_version": __version__, "run_id": uuid.uuid4().hex, "arch": REFINER_ARCH,
           "args": args.to_json(), "res": args.res, "coverage": source.meta.coverage,
           "source": asdict(FacesetInfo.of(source)), "identity": person_identity(source),
           "refine_settings": settings}
    return parse_refiner_config(raw, Path(root) / CONFIG_FILE)


def write_refiner_info(info: RefinerInfo) -> None:
    info.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(info.root / CONFIG_FILE, info.raw)


def check_refiner_resumable(info: RefinerInfo, args: RefinerArgs, source: Faceset) -> None:
    """Raise FacedubError, saying what to do, unless refining `args` on `source`
    continues the run `info` describes."""
    if info.args != args:
        raise FacedubError(f"{info.root} was refined with arguments {info.args.to_json()}; "
                           f"pass --res {info.args.res} to resume it, or choose a new -o "
                           "folder")
    check_refiner_source(info.source, info.identity, str(info.root), source)


def saved_holdout_share(info: RefinerInfo, given: float) -> float:
    """The held-out share the run in `info` started with, so a resume keeps its split
    (`given` if the folder records none). A folder of the older rule is refused: its
    held-out blocks lay between its training blocks, and one log would mix two measures."""
    settings = info.raw.get("refine_settings")
    settings = settings if isinstance(settings, dict) else {}
    share = settings.get("holdout_share")
    if isinstance(share, int | float) and not isinstance(share, bool):
        return float(share)
    if "holdout_every" in settings:
        raise FacedubError(f"{info.root} was started by an older `facedub refine` that held "
                           "out blocks between its training frames, so it cannot resume with "
                           "a held-out stretch; choose a new -o folder (the refiner in it "
                           "still works with `swap --refiner`)")
    return given
