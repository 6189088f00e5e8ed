"""Round 45: a stop callback that fails is raised, not retried. `join_through_interrupts`
retried its `on_interrupt` on every error, so one raising an ordinary error (a bug) spun
forever at a full core after a Ctrl-C; only a stop signal's exception is retried."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# In a child process, so that a regression (the spin) fails on the timeout instead of
# hanging the test run. The sink's one item ends once its callback has been called (and
# raised): the error must wait for it. The Ctrl-C is sent once close waits for the item
# (before: a 0.3 s timer and an item of 1 s, which a loaded machine could turn round).
_CHILD = textwrap.dedent("""
    import signal, sys, threading, time
    from facedub.threads import BackgroundSink, join_through_interrupts

    called, ended = threading.Event(), threading.Event()

    def item(_: int) -> None:
        called.wait(120)  # ends once the callback was called: a bound, not a timing
        time.sleep(0.2)  # its last work, after the callback (a raise before it is a bug)
        ended.set()

    sink = BackgroundSink[int](item, depth=2)
    sink.put(0)

    def broken() -> None:
        called.set()
        raise RuntimeError("a bug in the stop callback")

    def waits() -> bool:
        frame = sys._current_frames().get(threading.main_thread().ident)
        codes = set()
        while frame is not None:
            codes.add(frame.f_code)
            frame = frame.f_back
        return {join_through_interrupts.__code__, threading.Event.wait.__code__} <= codes

    def ctrl_c() -> None:
        while not waits():
            time.sleep(0.01)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=ctrl_c, daemon=True).start()
    try:
        sink.close(on_interrupt=broken)
    except BaseException as error:
        print(type(error).__name__, type(error.__context__).__name__, ended.is_set())
""")


def _run_child(tmp_path: Path) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              env=env, timeout=120)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError("the failing stop callback was retried until the timeout "
                             "(a spin at a full core)") from expired
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_stop_callback_that_fails_is_raised_once_the_worker_ends(tmp_path: Path) -> None:
    raised, during, item_ended = _run_child(tmp_path)
    # The callback's error, from the Ctrl-C it was called for ...
    assert (raised, during) == ("RuntimeError", "KeyboardInterrupt")
    # ... once the item in hand ended, not before: what follows frees what it uses.
    assert item_ended == "True"
