"""Round 43: a SIGTERM whose handler ran while the main thread was inside a finalizer
(an object's __del__, a generator the garbage collector closed) raised Terminated where
it cannot leave: Python printed "facedub.errors.Terminated: SIGTERM" and went on, and the
command exited 0 (1 of 8 swaps stopped just after their last frame, in a terminal). The
stop is kept and ends the command with its line and 143."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from facedub.cli.terminal import terminate_cleanly
from facedub.errors import Terminated
from test_cli_terminal import run_python_in_terminal

# `facedub inspect` whose reading drops an object that is sent SIGTERM as it is freed.
COMMAND = textwrap.dedent("""
    import os, signal, sys, types
    from facedub import faceset
    from facedub.evaluate import inspection

    class Dropped:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(3))  # the handler runs here, inside the finalizer

    def inspected(folder, plot):
        Dropped()
        return types.SimpleNamespace(source="clip.mp4", frames_analysed=1, persons=[],
                                     coverage_png=plot)

    faceset.load_faceset = lambda folder: None
    inspection.inspect_faceset = inspected
    sys.argv = ["facedub", "inspect", sys.argv[1]]
    from facedub.__main__ import main
    main()
""")


def test_a_sigterm_inside_a_finalizer_ends_the_command_with_143(tmp_path: Path) -> None:
    code, text = run_python_in_terminal(["-c", COMMAND, str(tmp_path)])
    lines = [line for line in text.splitlines() if line.strip()]
    assert code == 143, text
    assert lines == ["terminated; nothing was left half-written, run the same command again"]


def test_a_stop_lost_in_a_finalizer_is_raised_when_the_block_ends() -> None:
    went_on = []
    hook = sys.unraisablehook

    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(3))

    with pytest.raises(Terminated), terminate_cleanly():
        Dropped()
        went_on.append(True)  # (the work goes on to the block's end)
    assert went_on == [True]
    assert sys.unraisablehook is hook  # the caller's again


def test_a_second_signal_after_a_lost_one_raises_where_it_lands() -> None:
    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(3))

    with pytest.raises(Terminated) as raised, terminate_cleanly():
        Dropped()
        os.kill(os.getpid(), signal.SIGHUP)
        sum(range(3))
        pytest.fail("the second signal was ignored")
    assert raised.value.signum == signal.SIGHUP


def test_a_stop_lost_in_a_finalizer_stops_the_work_while_it_runs() -> None:
    # The review's find: the lost stop waited for the whole block (a swap's whole work;
    # `serve` never ended). It is delivered again once the finalizer has returned.
    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(3))

    done = []
    with pytest.raises(Terminated), terminate_cleanly():
        Dropped()
        for _ in range(5000):  # five seconds of work at most
            time.sleep(0.001)
            done.append(True)
        pytest.fail("the lost stop waited for the work to end")
    assert len(done) < 5000


# The finalizer's own error goes on to the previous hook (pytest's, which warns of it).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_another_finalizer_error_while_a_stop_cleans_up_is_no_lost_stop() -> None:
    # The review's find: a finalizer error raised during the first stop's cleanup has
    # that stop as its context and was taken for a lost one, so the next signal raised
    # inside the cleanup's `finally`, which the first-signal-only rule exists to prevent.
    class ClosesBadly:
        def __del__(self) -> None:
            raise RuntimeError("close failed")

    cleanup = []
    with pytest.raises(Terminated) as raised, terminate_cleanly():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(3))
        finally:
            ClosesBadly()
            os.kill(os.getpid(), signal.SIGHUP)
            sum(range(3))
            cleanup.append("finished")
    assert raised.value.signum == signal.SIGTERM
    assert cleanup == ["finished"]
