"""A swap killed while it encodes: SIGTERM removes its staged file and exits 143; SIGKILL
cannot be caught, so the next run to the same output removes what it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hostile_cases import Inputs, run_cli


def _partials(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.partial.mp4"))


def _swap_killed_while_encoding(command: list[str], folder: Path, signum: int
                                ) -> tuple[int, str, list[Path]]:
    """Start the swap, wait for its staged file, send `signum`; (exit code, stderr, the
    staged files seen before the signal)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    seen: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None and not seen:
        seen = _partials(folder)
        time.sleep(0.02)
    os.kill(process.pid, signum)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr, seen


def test_killed_swap_leaves_nothing_for_long(inputs: Inputs, tmp_path: Path,
                                             short_clip: Callable[[str, float], Path]) -> None:
    target = short_clip("clip_liveportrait_d3_woman_headturn.mp4", 0.6)
    folder = tmp_path / "outputs"
    folder.mkdir()
    out = folder / "out.mp4"
    args = ["swap", "--source", str(inputs.photo), "--target", str(target), "-o", str(out),
            "--work-dir", str(tmp_path / "work")]
    command = [sys.executable, "-m", "facedub", *args]

    code, stderr, seen = _swap_killed_while_encoding(command, folder, signal.SIGTERM)
    assert seen, f"the swap ended before it was signalled: {stderr}"
    assert code == 143, stderr
    assert "Traceback" not in stderr and "terminated" in stderr, stderr
    assert _partials(folder) == [] and not out.exists()

    code, stderr, seen = _swap_killed_while_encoding(command, folder, signal.SIGKILL)
    assert seen and code == -signal.SIGKILL, stderr
    # SIGKILL cannot be caught: the staged file stays (with the file that signing stages
    # beside it, when the kill lands that late on a fast machine).
    assert set(seen) <= set(_partials(folder))

    outcome = run_cli(args)  # the next run to the same output cleans it up
    assert outcome.code == 0, outcome.output
    assert _partials(folder) == [] and out.stat().st_size > 0
    assert sorted(p.name for p in folder.iterdir()) == ["out.mp4", "out.mp4.provenance.json"]
