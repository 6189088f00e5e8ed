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
A sampled frame whose face was lost in the swap has no descriptor on either path; eval
counts it as a frame not nearer the source, and so does every column here (the frames
are printed as lost), so no count here exceeds eval's for want of them.
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
# The gallery `benchmarks/quality.py` gives eval: the shared faces beside the repository.
GALLERY = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"


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


@dataclass(frozen=True)
class Measured:
    """One swap on both paths: its described frames, the sampled frames whose face was
    lost (eval's misses), the persons' descriptors, and each frame's yaw bin."""

    rows: tuple[Described, ...]
    lost: tuple[int, ...]
    source: np.ndarray
    target: np.ndarray
    yaws: dict[int, str]


def nearer_counts(rows: Sequence[Described], yaws: dict[int, str], source: np.ndarray,
                  target: np.ndarray, lost: Sequence[int] = ()
                  ) -> dict[str, dict[str, tuple[int, int]]]:
    """Per column, per yaw bin (`yaws`: frame to bin): frames nearer the source, frames.
    A `lost` frame counts in every column as one not nearer the source, as eval counts it
    (`evaluate.measure._with_identity`)."""
    counts: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in COLUMNS}

    def add(name: str, frame: int, nearer: bool) -> None:
        found, total = counts[name].get(yaws[frame], (0, 0))
        counts[name][yaws[frame]] = (found + int(nearer), total + 1)

    for row in rows:
        for name, value in zip(COLUMNS, margins(row, source, target), strict=True):
            add(name, row.frame, value < 0.0)
    for frame in lost:
        for name in COLUMNS:
            add(name, frame, False)
    return counts


def measured(source: Path, target: Path, swapped: Path, out: Path, cache: Path,
             gallery: Path | None = GALLERY, max_frames: int = 40) -> Measured:
    """Evaluate `swapped` with every frame on the filled path, as `benchmarks/quality.py`
    does otherwise (its gallery, 40 frames), keeping both paths' descriptors.

    It patches two names of `evaluate` for the run and restores them:
    `occluded_identity.MIN_SHARE` (read at the call) and `measure._with_identity` (called
    by its module name from `measure`'s own loop). Should either be imported by name
    elsewhere, the patch would not reach it: `tests/test_identity_paths_round46.py` runs
    this on a real photo and fails then."""
    from facedub.evaluate import EvalConfig, evaluate
    from facedub.evaluate.metrics import FAILED

    occluded: Any = importlib.import_module("facedub.evaluate.occluded_identity")
    measure: Any = importlib.import_module("facedub.evaluate.measure")
    kept: dict[str, Any] = {}
    with_identity = measure._with_identity

    def recorded(frames: Any, described: Any, person: Any, people: Any) -> Any:
        kept["described"] = list(described)
        kept["target"] = person.descriptor
        kept["source"] = next(p for p in people if p.role == "source").descriptor
        return with_identity(frames, described, person, people)

    share, measure._with_identity = occluded.MIN_SHARE, recorded
    occluded.MIN_SHARE = -1.0
    try:
        report = evaluate(source, target, swapped, out,
                          EvalConfig(gallery=gallery, max_frames=max_frames, cache_dir=cache))
    finally:
        occluded.MIN_SHARE, measure._with_identity = share, with_identity
    if "described" not in kept:
        raise RuntimeError("evaluate did not call measure._with_identity: the patch no "
                           "longer reaches eval's identity step")
    unfilled = [frame for frame, _, filled in kept["described"] if filled is None]
    if unfilled:
        raise RuntimeError(f"frames {unfilled} have no filled descriptors (no source crop "
                           "in the target's crop space): the filled path cannot be read")
    rows = tuple(Described(frame, whole, filled.swapped, filled.target, filled.source,
                           filled.share) for frame, whole, filled in kept["described"])
    described = {row.frame for row in rows}
    lost = tuple(frame.frame for frame in report.frames
                 if frame.identity_sampled and frame.status in FAILED
                 and frame.frame not in described)
    yaws = {frame.frame: frame.yaw_bin for frame in report.frames}
    return Measured(rows, lost, kept["source"], kept["target"], yaws)


def main(argv: list[str]) -> None:
    source, target, swapped, out = (Path(arg) for arg in argv[:4])
    cache = Path(argv[4]) if len(argv) > 4 else out / "cache"
    found = measured(source, target, swapped, out, cache)
    print("frame  bin    share  " + "  ".join(f"{name:>9s}" for name in COLUMNS))
    for row in found.rows:
        values = margins(row, found.source, found.target)
        print(f"{row.frame:5d}  {found.yaws[row.frame]:5s}  {row.share:.3f}  "
              + "  ".join(f"{value:+9.3f}" for value in values))
    for frame in found.lost:
        print(f"{frame:5d}  {found.yaws[frame]:5s}  lost: not nearer the source in every column")
    counts = nearer_counts(found.rows, found.yaws, found.source, found.target, found.lost)
    for name, bins in counts.items():
        print(f"{name:>9s}: " + ", ".join(f"{key} {nearer} of {total}"
                                           for key, (nearer, total) in sorted(bins.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
