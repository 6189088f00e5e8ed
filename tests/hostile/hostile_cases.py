"""Hostile input: `refused()`, the check every case
shares: exit code 2, one line without a traceback, nothing at or beside the output, the
inputs' bytes unchanged, within a time bound.

Commands run in this process (CliRunner): a subprocess would pay MediaPipe's start-up for
each of some forty cases. Tests that need a real process (signals) start one.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app

# Not a speed check: a backstop against a refusal that came only after the work it should
# have spared (a decompression bomb decoded, a whole clip read, a wait on a lock that never
# came: minutes each when the suite was written). A refusal takes seconds here (the first
# one in a process pays the imports), so 300 s holds on a machine several times slower at
# load 30; each case's own assertions (its message, nothing written) find its bug first.
TIME_BOUND_S = 300.0


@dataclass(frozen=True)
class Inputs:
    """Writable copies of small inputs (so 'never modified' can be checked on them)."""

    photo: Path  # a frontal face, JPEG
    faceset: Path  # 6 frames of a head turn, 64 px crops, complete
    clip: Path  # 0.3 s of video with audio


def digest(path: Path) -> str:
    """sha256 over a file, or over every file name and content of a folder."""
    hasher = hashlib.sha256()
    if path.is_file():
        hasher.update(path.read_bytes())
    elif path.is_dir():
        for item in sorted(p for p in path.rglob("*")):
            hasher.update(str(item.relative_to(path)).encode())
            if item.is_file():
                hasher.update(item.read_bytes())
    return hasher.hexdigest()


def exists(path: Path) -> bool:
    """Path.exists() that answers False for names the file system cannot even hold."""
    try:
        return path.exists()
    except OSError:
        return False


def listing(folder: Path) -> set[str]:
    """Names in `folder`; under /proc without the process folders, which come and go with
    every process on the machine (a swap could not write one anyway)."""
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return set()
    if folder.resolve() == Path("/proc"):
        names = {name for name in names if not name.isdigit()}
    return names


@dataclass
class Outcome:
    code: int
    output: str
    seconds: float


def run_cli(args: list[object]) -> Outcome:
    started = time.monotonic()
    result = CliRunner().invoke(app, [str(a) for a in args])
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    return Outcome(result.exit_code, output, time.monotonic() - started)


def refused(args: list[object], output: Path, inputs: list[Path],
            message: str = "") -> Outcome:
    """Run the command and check that it was refused cleanly (see the module docstring).
    `output`: the path the command was asked to write; an existing one must be unchanged,
    and its folder must hold the same names afterwards."""
    before_inputs = {path: digest(path) for path in inputs}
    existed = exists(output)
    before_output = digest(output) if existed else None
    before_beside = listing(output.parent)
    outcome = run_cli(args)
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    assert outcome.code == 2, outcome.output
    assert "Traceback" not in outcome.output, outcome.output
    assert len(lines) == 1, outcome.output
    assert message.lower() in outcome.output.lower(), outcome.output
    if existed:
        assert digest(output) == before_output, f"{output} was changed"
    else:
        assert not exists(output), f"{output} was left behind"
    assert listing(output.parent) == before_beside, (
        f"left beside the output: {listing(output.parent) ^ before_beside}")
    for path, value in before_inputs.items():
        assert digest(path) == value, f"input {path} was modified"
    assert outcome.seconds < TIME_BOUND_S, (
        f"the refusal took {outcome.seconds:.0f} s (bound {TIME_BOUND_S:.0f} s): it did the "
        f"work it should have refused first, or waited on something that never came")
    return outcome


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str, options: str = "") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (root only); skips where mount is refused."""
    where.mkdir(parents=True, exist_ok=True)
    mount_options = f"size={size}" + (f",{options}" if options else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", mount_options, "tmpfs",
                              str(where)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()[:120]}); CI runs as "
                    "root and can")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill the filesystem of `folder` until about `leave_bytes` are free."""
    stats = shutil.disk_usage(folder)
    with open(folder / "filler.bin", "wb") as handle:
        handle.write(b"\0" * max(0, stats.free - leave_bytes))
