"""Round 39: `verify`, `inspect` and `export` stopped by SIGTERM or SIGHUP end with one
line and 143/129, as the long commands do; they ran without the handlers and were killed
outright (exit -15/-1, no line; export's staged .onnx left beside -o). The work function
of each is replaced, in a child process, by one that signals its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = """
import importlib, os, signal, sys, time
where = importlib.import_module({module!r})
def stopped(*args, **kwargs):
    os.kill(os.getpid(), signal.{signal})
    time.sleep(30)  # the handler raises here
    raise AssertionError("not stopped")
setattr(where, {name!r}, stopped)
from facedub.__main__ import main
sys.argv = ["facedub", *sys.argv[1:]]
main()
"""
# What each command calls for its work, replaced where the command looks it up.
WORK = {"verify": ("facedub.provenance", "verify"),
        "inspect": ("facedub.evaluate.inspection", "inspect_faceset"),
        "export": ("facedub.models.export", "export_onnx")}


def _default_signals() -> None:
    """A test run started in the background ignores SIGINT, under nohup SIGHUP: the child
    gets the default handling, which the command's handlers replace."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


@pytest.mark.parametrize(("stop", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
@pytest.mark.parametrize("command", ["verify", "inspect", "export"])
def test_a_quick_command_stopped_by_a_signal_says_so_in_one_line(
        command: str, stop: str, code: int, faces_dir: Path, tmp_path: Path) -> None:
    module, name = WORK[command]
    photo = faces_dir / "still_biden_frontal.jpg"
    run = tmp_path / "run"
    run.mkdir()
    args = {"verify": [photo], "inspect": [tmp_path / "faces"],
            "export": [run, "-o", tmp_path / "swap.onnx"]}[command]
    if command == "inspect":
        _one_photo_faceset(tmp_path / "faces", photo)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER.format(module=module, name=name, signal=stop),
         command, *map(str, args)], capture_output=True, text=True, timeout=120,
        preexec_fn=_default_signals,
        env={**os.environ, "FACEDUB_WORK_DIR": str(tmp_path / "work")})
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == code, (done.returncode, lines)
    assert lines == ["terminated; nothing was left half-written, run the same command "
                     "again"], lines
    assert not list(tmp_path.rglob("*.partial*"))


def _one_photo_faceset(folder: Path, photo: Path) -> None:
    """A real faceset for inspect to load (a second or two to make)."""
    made = subprocess.run([sys.executable, "-m", "facedub", "extract", str(photo), "-o",
                           str(folder)], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
