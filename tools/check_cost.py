"""CPU and wall time of a faceset folder's explicit-content check (a folder without a valid
mark: every crop is looked at), whole, and rerun after a stop at crop `--stop-at`.

    PYTHONPATH=src python tools/check_cost.py FACESET LABEL [--repeats N] [--stop-at 100]

Prints one tab-separated row per run: label, run, crops looked at, CPU s, wall s. Each run
uses a fresh work folder (the passes are kept there).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from facedub.extract.safety import ExplicitContentDetector, NudeNetDetector
from facedub.extract.workspace import checked_faceset


class Counted:
    """NudeNet, counting its looks; a KeyboardInterrupt (as Ctrl-C raises it) at look
    `stop_at`."""

    def __init__(self, detector: ExplicitContentDetector, stop_at: int | None = None) -> None:
        self.detector, self.stop_at, self.looks = detector, stop_at, 0

    def scores(self, image: np.ndarray) -> Mapping[str, float]:
        self.looks += 1
        if self.looks == self.stop_at:
            raise KeyboardInterrupt
        return self.detector.scores(image)


def timed(folder: Path, work: Path, detector: Counted) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    checked_faceset(folder, work, detector=detector)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("faceset", type=Path)
    parser.add_argument("label")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--stop-at", type=int, default=100)
    args = parser.parse_args()
    nudenet = NudeNetDetector()  # loaded once, before any timing
    for _ in range(args.repeats):
        work = Path(tempfile.mkdtemp(prefix="check-cost-"))
        try:
            whole = Counted(nudenet)
            cpu, wall = timed(args.faceset, work / "whole", whole)
            print(f"{args.label}\twhole\t{whole.looks}\t{cpu:.2f}\t{wall:.2f}")
            with contextlib.suppress(KeyboardInterrupt):  # the stop this measures
                checked_faceset(args.faceset, work / "stopped",
                                detector=Counted(nudenet, args.stop_at + 1))
            again = Counted(nudenet)
            cpu, wall = timed(args.faceset, work / "stopped", again)
            print(f"{args.label}\trerun after a stop at crop {args.stop_at}\t{again.looks}"
                  f"\t{cpu:.2f}\t{wall:.2f}")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
