"""SIGTERM or SIGHUP while the command line loads (before any command handles signals)
ends as one line and 143 or 129, as a Ctrl-C there ends 130 (facedub.__main__); before,
Python's default killed the process without a word (exit -15). A signal the process was
started ignoring stays ignored."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Run as `python -c`: the process signals itself as the command modules load, and waits
# in the import for the handler to run (a handler runs between two bytecodes).
STARTUP = textwrap.dedent("""
    import os, signal, sys, time

    class SignalledImport:
        def find_spec(self, name, path=None, target=None):
            if name == "facedub.cli.files":
                os.kill(os.getpid(), {signum})
                for _ in range(200):
                    time.sleep(0.01)
            return None

    sys.meta_path.insert(0, SignalledImport())
    sys.argv = ["facedub", "--version"]
    from facedub.__main__ import main
    main()
""")


def _start(signum: int, ignored: bool = False) -> subprocess.CompletedProcess[str]:
    def ignore() -> None:
        signal.signal(signum, signal.SIG_IGN)

    return subprocess.run([sys.executable, "-c", STARTUP.format(signum=int(signum))],
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=ignore if ignored else None)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_while_loading_exits_with_one_line(signum: signal.Signals) -> None:
    run = _start(signum)
    assert run.returncode == 128 + signum, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == \
        [f"stopped by {signum.name} while starting; nothing was written"]


def test_a_hangup_ignored_by_nohup_stays_ignored() -> None:
    run = _start(signal.SIGHUP, ignored=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip()  # the version: the command ran on


COMMAND = textwrap.dedent("""
    import os, signal, sys, time

    class SignalledImport:
        def find_spec(self, name, path=None, target=None):
            if name == "facedub.train.refine":  # refine's own imports, before its handlers
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(200):
                    time.sleep(0.01)
            return None

    sys.meta_path.insert(0, SignalledImport())
    sys.argv = ["facedub", "refine", sys.argv[1], "-o", sys.argv[2]]
    from facedub.__main__ import main
    main()
""")


def test_a_stop_inside_a_command_before_its_handlers_exits_with_its_line(
        tmp_path: Path) -> None:
    source, out = tmp_path / "photos", tmp_path / "refiner"
    source.mkdir()
    run = subprocess.run([sys.executable, "-c", COMMAND, str(source), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 143, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("terminated; nothing was left")
    assert not out.exists()
