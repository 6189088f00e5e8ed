"""Round 39: a mistyped command line (an unknown option or command, a value of the wrong
type, a missing option) is one line and exit code 2, as every other bad input. Click
printed three: "Usage: ...", "Try '... --help' for help.", "Error: ..."."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from facedub.cli import app


@pytest.mark.parametrize(("args", "said"), [
    (["swap", "--source", "a.jpg", "--target", "b.jpg", "-o", "c.jpg", "--mask-erode", "1e9"],
     "Invalid value for '--mask-erode': "),
    (["swap", "--source", "a.jpg", "--target", "b.jpg", "-o", "c.jpg", "--shape", "9"],
     "No such option: --shape"),
    (["export", "run"], "Missing option '--out' / '-o' (see `"),
    (["extract"], "Missing argument 'MEDIA' (see `"),
    (["swapp"], "No such command 'swapp'. Did you mean 'swap'? (see `"),
    (["--bogus", "swap"], "No such option: --bogus"),
])
def test_a_mistyped_command_line_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines
    assert lines[0].endswith(" --help`)"), lines


def test_the_console_command_says_it_in_one_line_too() -> None:
    done = subprocess.run([sys.executable, "-m", "facedub", "serve", "--port", "abc"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: Invalid value for '--port': "), done.stderr
    assert done.stderr.endswith(" (see `python -m facedub serve --help`)\n"), done.stderr


def test_facedub_alone_still_prints_the_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "Commands:" in result.output and "error" not in result.output
