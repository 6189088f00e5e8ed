"""Shared by the benchmark scripts: run a command and measure it, print a markdown table.

Timings on a shared 2-core machine are noisy: every script repeats its runs and reports
the median, and compares variants measured in the same run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_FACES = REPO.parent / "shared" / "data" / "faces"

# Runs the command as the only child of a fresh interpreter, so RUSAGE_CHILDREN's peak
# resident memory and CPU time are that command's own.
_PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(use.ru_utime + use.ru_stime, use.ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Measured:
    """Wall seconds, CPU seconds (user + system, all threads) and peak resident MB. On a
    shared machine CPU seconds move far less with the load than wall seconds do."""

    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0


def run_measured(command: Sequence[str]) -> Measured:
    """Wall time, CPU time and peak resident memory of one run; raises if the command
    fails."""
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *command],
                               capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    cpu, peak_kb = completed.stderr.strip().splitlines()[-1].split()
    return Measured(seconds, int(peak_kb) / 1024, float(cpu))


def median_of(runs: Sequence[Measured]) -> Measured:
    return Measured(statistics.median(r.seconds for r in runs),
                    max(r.peak_mb for r in runs),
                    statistics.median(r.cpu_seconds for r in runs))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def facedub_command() -> list[str]:
    return [sys.executable, "-m", "facedub"]
