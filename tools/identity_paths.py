"""Eval's two paths to nearer-the-source, side by side on every frame of one swap.

    python tools/identity_paths.py SOURCE TARGET_CLIP SWAPPED OUT_DIR [CACHE_DIR]

SOURCE, TARGET_CLIP and SWAPPED as `benchmarks/quality.py` used them (its `targets/`
clip, its `swapped.mp4`); CACHE_DIR: a quality run's `cache/` (the gallery's
descriptors; default OUT_DIR/cache). `facedub eval` measures a frame's identity on one of two paths
(`evaluate.measure._with_identity`):
- the person path, where the swap keeps less than MIN_SHARE of the face in front of it:
  the whole swapped frame, described on the landmarks found in it, against the source
  person's descriptor (the photo at its own resolution) and the target person's (the
  mean of the clip's descriptors, at the clip's own poses);
- the filled path, where it keeps more (a hand, glasses frames): the aligned crops of the
  swapped and target face of that frame and the source's faces cut into the same crop
  space, the kept region filled alike in all of them.

Here `evaluate` runs in process with every frame on the filled path (MIN_SHARE below
zero: a frame that keeps nothing is filled nowhere), and both paths' descriptors are
kept, so that each frame's margin d(source) - d(target) (negative: nearer the source) is
printed on the person path, the filled path, and the person path with one reference or
the described face taken from the filled path:
- `person`: eval's person path (eval's own margin on frames that keep nothing);
- `src crop`: the source's crops instead of the source person;
- `tgt frame`: the same frame's target crop instead of the target person;
- `swap crop`: the swapped crop instead of the whole swapped frame;
- `filled`: the filled path (eval's own margin on frames that keep an occluder).
A person's frames: OUT_DIR (the report) stays outside the repository.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = ("person", "src crop", "tgt frame", "swap crop", "filled")


@dataclass(frozen=True)
class Described:
    """One described frame: the person path's descriptor of the whole swapped frame and
    the filled path's descriptors (`evaluate.occluded_identity.FilledDescriptors`)."""

    frame: int
    whole: np.ndarray
    swapped: np.ndarray
    target: np.ndarray
    source: np.ndarray
    share: float


def margins(row: Described, source: np.ndarray, target: np.ndarray) -> tuple[float, ...]:
    """The frame's margin per COLUMNS, `source` and `target` the persons' descriptors."""
    def margin(face: np.ndarray, to_source: np.ndarray, to_target: np.ndarray) -> float:
        return float(np.linalg.norm(face - to_source) - np.linalg.norm(face - to_target))

    return (margin(row.whole, source, target), margin(row.whole, row.source, target),
            margin(row.whole, source, row.target), margin(row.swapped, source, target),
            margin(row.swapped, row.source, row.target))


def nearer_counts(rows: Sequence[Described], yaws: dict[int, str], source: np.ndarray,
                  target: np.ndarray) -> dict[str, dict[str, tuple[int, int]]]:
    """Per column, per yaw bin (`yaws`: frame to bin): frames nearer the source, frames."""
    counts: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in COLUMNS}
    for row in rows:
        for name, value in zip(COLUMNS, margins(row, source, target), strict=True):
            nearer, total = counts[name].get(yaws[row.frame], (0, 0))
            counts[name][yaws[row.frame]] = (nearer + int(value < 0.0), total + 1)
    return counts


def measured(source: Path, target: Path, swapped: Path, out: Path, cache: Path
             ) -> tuple[list[Described], np.ndarray, np.ndarray, dict[int, str]]:
    """Evaluate `swapped` with every frame on the filled path, as `benchmarks/quality.py`
    does otherwise (its gallery, 40 frames), keeping both paths' descriptors."""
    from facedub.evaluate import EvalConfig, evaluate

    occluded = importlib.import_module("facedub.evaluate.occluded_identity")
    measure = importlib.import_module("facedub.evaluate.measure")
    kept: dict[str, Any] = {}
    with_identity = measure._with_identity

    def recorded(frames: Any, described: Any, person: Any, gallery: Any) -> Any:
        kept["described"] = list(described)
        kept["target"] = person.descriptor
        kept["source"] = next(p for p in gallery if p.role == "source").descriptor
        return with_identity(frames, described, person, gallery)

    share, measure._with_identity = occluded.MIN_SHARE, recorded
    occluded.MIN_SHARE = -1.0
    try:
        report = evaluate(source, target, swapped, out,
                          EvalConfig(gallery=Path(__file__).resolve().parents[2] / "shared"
                                     / "data" / "faces", max_frames=40, cache_dir=cache))
    finally:
        occluded.MIN_SHARE, measure._with_identity = share, with_identity
    rows = [Described(frame, whole, filled.swapped, filled.target, filled.source,
                      filled.share) for frame, whole, filled in kept["described"]
            if filled is not None]
    yaws = {frame.frame: frame.yaw_bin for frame in report.frames}
    return rows, kept["source"], kept["target"], yaws


def main(argv: list[str]) -> None:
    source, target, swapped, out = (Path(arg) for arg in argv[:4])
    cache = Path(argv[4]) if len(argv) > 4 else out / "cache"
    rows, person_source, person_target, yaws = measured(source, target, swapped, out, cache)
    print("frame  bin    share  " + "  ".join(f"{name:>9s}" for name in COLUMNS))
    for row in rows:
        values = margins(row, person_source, person_target)
        print(f"{row.frame:5d}  {yaws[row.frame]:5s}  {row.share:.3f}  "
              + "  ".join(f"{value:+9.3f}" for value in values))
    for name, bins in nearer_counts(rows, yaws, person_source, person_target).items():
        print(f"{name:>9s}: " + ", ".join(f"{key} {nearer} of {total}"
                                           for key, (nearer, total) in sorted(bins.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
