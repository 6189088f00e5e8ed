"""Ctrl-C during a swap: the pipeline's threads are stopped and waited for before the
engine they use is closed, so the command exits 130 with its one line, leaves nothing
beside the output, and a second Ctrl-C during that shutdown changes none of it.

A warm swap from a video source with a refiner, interrupted on a loaded machine, once
crashed (SIGSEGV) instead: the KeyboardInterrupt's traceback kept the pipeline's
generators alive, so the engine thread ran on, in MediaPipe, while the command closed
the engine's landmarker and the interpreter exited. Here the engine thread is held at a
frame until the main thread either closes the engine (the crash's order) or waits for
that thread (the right one), and the interrupt is sent while it is held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
PHOTO = "still_paul_rudd_frontal_studio.jpg"

# Run in the child before the command: the engine thread holds frame 2 until the engine is
# closed or the main thread waits in a join (polled, so no timing decides the outcome;
# the minute is only a safety net); the main thread, compositing frame 0, sends itself
# SIGINT once frame 2 is held, and SECOND more while it waits for the held thread.
HOOKS = """
import importlib, os, signal, sys, threading, time
from facedub.engines.mesh import MeshEngine
swap = importlib.import_module("facedub.swap")  # the package's `swap` is the function

held, closed = threading.Event(), threading.Event()
main = threading.main_thread()
SECOND = int(os.environ["SECOND"])

def main_joins():
    frame = sys._current_frames().get(main.ident)
    while frame is not None:
        if frame.f_code.co_name in ("join", "_wait_for_tstate_lock"):
            return True
        frame = frame.f_back
    return False

engine_face = swap.FrameSwapper.engine_face
def held_engine_face(self, frame):
    if frame.index == 2:
        held.set()
        deadline = time.monotonic() + 60
        while not closed.is_set() and not main_joins() and time.monotonic() < deadline:
            time.sleep(0.01)
        for _ in range(SECOND):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    return engine_face(self, frame)
swap.FrameSwapper.engine_face = held_engine_face

finish = swap.FrameSwapper.finish
def interrupting_finish(self, face):
    if face.frame.index == 0:
        held.wait(60)
        os.kill(os.getpid(), signal.SIGINT)
    return finish(self, face)
swap.FrameSwapper.finish = interrupting_finish

close = MeshEngine.close
def reporting_close(self):
    running = sorted(t.name for t in threading.enumerate()
                     if t.name in ("facedub-prefetch", "facedub-sink"))
    print(f"pipeline threads at engine close: {running}", file=sys.stderr, flush=True)
    closed.set()
    close(self)
MeshEngine.close = reporting_close

from facedub.cli import app
sys.argv = ["facedub", *sys.argv[1:]]
app()
"""


def _default_signals() -> None:
    """In the child: SIGINT handled as Python does (a test run started in the background
    hands its children an ignored SIGINT, which the command rightly keeps ignoring)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("second", [0, 2], ids=["one-ctrl-c", "three-ctrl-c"])
def test_ctrl_c_stops_the_pipeline_before_the_engine_is_closed(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path,
        second: int) -> None:
    clip = short_clip(CLIP, 0.4)  # 10 frames
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    hooks = tmp_path / "hooks.py"
    hooks.write_text(HOOKS, encoding="utf-8")
    env = {**os.environ, "SECOND": str(second), "PYTHONFAULTHANDLER": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(hooks), "swap", "--source", str(faces_dir / PHOTO), "--target",
         str(clip), "-o", str(out_dir / "out.mp4"), "--work-dir", str(tmp_path / "work")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        preexec_fn=_default_signals)
    assert "pipeline threads at engine close: []" in done.stderr, done.stderr
    assert done.returncode == 130, done.stderr
    assert ("interrupted; the same command again keeps the analyses made so far and renders "
            "from the first frame") in done.stderr
    for noise in ("Traceback", "Exception ignored", "Fatal Python error"):
        assert noise not in done.stderr, done.stderr
    assert sorted(out_dir.iterdir()) == [], "a staged or half-written file was left"


def test_a_second_ctrl_c_does_not_cut_the_cleanup_short() -> None:
    """The second Ctrl-C lands in the `finally` that stops the threads and removes the
    staged file; it must not raise there again."""
    from facedub.cli.terminal import terminate_cleanly

    cleaned = False
    with pytest.raises(KeyboardInterrupt), terminate_cleanly():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises here
        finally:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            cleaned = True
    assert cleaned


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_inside_an_import_exits_like_any_other(signum: int) -> None:
    """Ctrl-C during the command's first imports: Python re-raises it as the import's own
    error (seen: `RuntimeError: Error calling __set_name__`, dlib's `ImportError:
    initialization failed`), which printed a traceback and exited 1."""
    import typer

    from facedub.cli.terminal import user_errors
    from facedub.errors import Terminated

    stop = KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)

    @user_errors
    def command() -> None:
        try:
            raise stop
        except BaseException as error:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance") from error

    with pytest.raises(typer.Exit) as exited:
        command()
    assert exited.value.exit_code == 128 + signum
