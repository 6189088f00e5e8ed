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
# hanging the test run. The sink's one item ends by itself after 1 s.
_CHILD = textwrap.dedent("""
    import signal, threading, time
    from facedub.threads import BackgroundSink

    sink = BackgroundSink[int](lambda item: threading.Event().wait(1.0), depth=2)
    sink.put(0)

    def broken() -> None:
        raise RuntimeError("a bug in the stop callback")

    def ctrl_c() -> None:
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Timer(0.3, ctrl_c).start()
    began = time.monotonic()
    try:
        sink.close(on_interrupt=broken)
    except BaseException as error:
        print(type(error).__name__, type(error.__context__).__name__,
              round(time.monotonic() - began, 2))
""")


def _run_child(tmp_path: Path) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              env=env, timeout=20)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError("the failing stop callback was retried until the timeout "
                             "(a spin at a full core)") from expired
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_stop_callback_that_fails_is_raised_once_the_worker_ends(tmp_path: Path) -> None:
    raised, during, after_seconds = _run_child(tmp_path)
    # The callback's error, from the Ctrl-C it was called for ...
    assert (raised, during) == ("RuntimeError", "KeyboardInterrupt")
    # ... once the item in hand ended (1 s), not before: what follows frees what it uses.
    assert 0.9 <= float(after_seconds) < 10.0
