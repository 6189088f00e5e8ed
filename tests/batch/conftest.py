"""Jobs files over the shared test media, written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

RUDD = "still_paul_rudd_frontal_studio.jpg"
BIDEN = "still_biden_frontal.jpg"
ROSE = "still_rose_leslie_frontal.jpg"
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def faceless_photo(folder: Path) -> Path:
    """A grey photo with nobody in it: its job fails with a one-line reason."""
    path = folder / "nobody.png"
    Image.fromarray(np.full((240, 320, 3), 128, dtype=np.uint8)).save(path)
    return path


def write_jobs(folder: Path, jobs: list[dict[str, object]],
               defaults: dict[str, object] | None = None) -> Path:
    """A jobs file in `folder`; values are written as TOML strings, numbers or booleans."""

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return repr(item)
        return '"' + str(item).replace("\\", "\\\\") + '"'

    lines = []
    if defaults:
        lines.append("[defaults]")
        lines.extend(f"{key} = {value(item)}" for key, item in defaults.items())
    for job in jobs:
        lines.append("[[job]]")
        lines.extend(f"{key} = {value(item)}" for key, item in job.items())
    path = folder / "jobs.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
