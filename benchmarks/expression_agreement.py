"""Issue 17's expression measures per pair, from the reports `quality.py` wrote:

    python benchmarks/expression_agreement.py OUT [OUT ...]

For every OUT/PAIR/ENGINE/report/frames.csv: mouth open/closed agreement with the target
(as `facedub eval` counts it: open is jawOpen above MOUTH_OPEN with the lips apart, and
jawOpen readings within MOUTH_TOLERANCE agree; reports without the lips columns are read
by the jaw alone), the same on the bare jawOpen threshold (as counted before 2026-12-02),
the same without the frames
whose target jawOpen lies within AMBIGUOUS of the open threshold (the landmarker's jawOpen
of one frame moves by 0.03-0.08 with the crop it is given, so there "open" is a coin
toss), smile agreement, the expression error, and the frames where the mouth disagrees.
Nothing is re-measured: both mouth agreements come from the frames.csv columns.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from _measure import markdown_table
from facedub.evaluate.metrics import MOUTH_OPEN, mouth_agrees
from facedub.evaluate.report import FRAMES_FILE

AMBIGUOUS = 0.05  # target jawOpen this close to MOUTH_OPEN counts as neither open nor closed


def _value(row: dict[str, str], key: str) -> float:
    text = row.get(key, "")
    return float(text) if text not in ("", "nan") else math.nan


def _lips(row: dict[str, str], key: str) -> float:
    """A `lips_apart` column; inf (not known: the jaw alone decides) in older reports."""
    value = _value(row, key)
    return math.inf if math.isnan(value) else value


def _share(values: list[float]) -> str:
    known = [value for value in values if not math.isnan(value)]
    return f"{100 * sum(known) / len(known):.0f}%" if known else "–"


def summarise(frames: Path) -> list[str]:
    """One table row for a report's frames.csv."""
    with frames.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("mouth_open_agree")]
    jaws = [(_value(row, "target_jaw_open"), _value(row, "swapped_jaw_open")) for row in rows]
    lips = [(_lips(row, "target_lips_apart"), _lips(row, "swapped_lips_apart")) for row in rows]
    mouth = [math.nan if math.isnan(jaw[1]) else float(mouth_agrees(*jaw, *apart))
             for jaw, apart in zip(jaws, lips, strict=True)]
    bare = [math.nan if math.isnan(swapped) else float((target > MOUTH_OPEN)
                                                       == (swapped > MOUTH_OPEN))
            for target, swapped in jaws]
    clear = [agree for agree, row in zip(mouth, rows, strict=True)
             if abs(_value(row, "target_jaw_open") - MOUTH_OPEN) >= AMBIGUOUS]
    errors = [_value(row, "expression_error") for row in rows]
    known = [error for error in errors if not math.isnan(error)]
    misses = [row["frame"] for agree, row in zip(mouth, rows, strict=True) if agree == 0.0]
    pair, engine = frames.parents[2].name, frames.parents[1].name
    return [pair, engine, str(len(rows)), _share(mouth), _share(bare),
            f"{_share(clear)} ({len(rows) - len(clear)} left out)",
            _share([_value(row, "smile_agree") for row in rows]),
            f"{sum(known) / len(known):.3f}" if known else "–",
            " ".join(misses) or "–"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="+", type=Path, help="quality.py output folder(s)")
    args = parser.parse_args()
    rows = [summarise(frames) for out in args.out
            for frames in sorted(out.glob(f"*/*/report/{FRAMES_FILE}"))]
    print(markdown_table(["pair", "engine", "frames", "mouth", "mouth, bare threshold",
                          "mouth, clear frames",
                          "smile", "expr", "mouth misses (frames)"], rows))


if __name__ == "__main__":
    main()
