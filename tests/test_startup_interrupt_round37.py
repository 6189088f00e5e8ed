"""A Ctrl-C while the command line loads (before any command handles signals) ends as one
line and exit code 130, not a traceback and exit 1 (facedub.__main__)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from facedub.__main__ import INTERRUPTED_EXIT
from facedub.errors import raised_from

# Run as `python -c`: a finder raises, as a Ctrl-C would, when the command modules load.
STARTUP = textwrap.dedent("""
    import sys

    def ctrl_c():
        raise KeyboardInterrupt

    def ctrl_c_inside_import():
        # What a native module's or a dataclass's import turns a Ctrl-C into: its own
        # error, raised while the KeyboardInterrupt was being handled.
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("Error calling __set_name__")

    def broken_import():
        raise ImportError("a real broken install")

    class InterruptedImport:
        def find_spec(self, name, path=None, target=None):
            if name == "facedub.cli.files":
                {raise_it}()
            return None

    sys.meta_path.insert(0, InterruptedImport())
    sys.argv = ["facedub", "--version"]
    from facedub.__main__ import main
    main()
""")


def _start(raise_it: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", STARTUP.format(raise_it=raise_it)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("raise_it", ["ctrl_c", "ctrl_c_inside_import"])
def test_a_ctrl_c_while_loading_exits_130_with_one_line(raise_it: str) -> None:
    run = _start(raise_it)
    assert run.returncode == INTERRUPTED_EXIT
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == \
        "interrupted while starting; nothing was written"


def test_a_broken_import_is_not_taken_for_a_ctrl_c() -> None:
    run = _start("broken_import")
    assert run.returncode == 1
    assert "ImportError: a real broken install" in run.stderr


def test_the_chain_is_searched_through_causes_and_contexts() -> None:
    interrupt = KeyboardInterrupt()
    middle = RuntimeError("while importing")
    middle.__context__ = interrupt
    outer = ImportError("initialization failed")
    outer.__cause__ = middle
    assert raised_from(outer, (KeyboardInterrupt,)) is interrupt
    assert raised_from(middle, (ValueError,)) is None


def test_the_command_line_still_starts() -> None:
    run = subprocess.run([sys.executable, "-m", "facedub", "--version"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip()
