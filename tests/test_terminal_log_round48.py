"""Round 48, in a real (pseudo-)terminal: a warning logged while a progress bar is drawn
(training's "SIGINT received: saving and stopping after this step", a folder's skipped
photos, "waiting for another facedub analysing ...") landed on the end of the bar's line,
"train df ━━ 12/400 0.8 steps/s ... left  WARNING facedub.train.loop: SIGINT received",
and the bar went on below it. It is now a line of its own above the bar."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from test_cli_terminal import run_in_terminal, run_python_in_terminal

# The command's own set-up (`facedub`'s callback configures logging), then a bar with a
# warning logged half way, as the training loop's signal handler does.
SCRIPT = textwrap.dedent("""
    import logging
    from facedub.cli.app import main
    from facedub.cli.terminal import RichProgress
    main(verbose=False, version=False)
    bar = RichProgress(unit="steps")
    bar.start(4, "train df")
    bar.advance()
    bar._bar.refresh()  # drawn before the warning (a 0.3 s sleep for rich's 10 Hz refresh
    # was not that on a loaded machine: the test then read no bar before it)
    logging.getLogger("facedub.train.loop").warning("SIGINT received: saving and stopping")
    bar._bar.refresh()
    bar.advance(3)
    bar.finish()
""")


def test_a_warning_during_a_bar_is_a_line_of_its_own() -> None:
    code, drawn = run_python_in_terminal(["-c", SCRIPT])
    assert code == 0, drawn
    warned = [line for line in drawn.splitlines() if "SIGINT received" in line]
    assert warned, drawn
    before = drawn[:drawn.index("SIGINT received")].splitlines()
    assert any("━" in line and "1/4" in line for line in before), drawn  # the bar, drawn
    assert all(line.strip() == "WARNING facedub.train.loop: SIGINT received: saving and "
               "stopping" for line in warned), warned  # was: the bar, then the warning
    bars = [line for line in drawn.splitlines() if "━" in line]
    assert "4/4" in bars[-1], drawn  # the bar goes on, and ends done
    assert drawn.rstrip().splitlines()[-1] == bars[-1].rstrip()  # below the warning


def test_every_command_names_its_arguments_as_readme_does() -> None:
    """`facedub extract` and `verify` said "Missing argument 'media'" and showed "{media}"
    in their usage, where README (and every other command) says MEDIA and FILE."""
    from typer.testing import CliRunner

    from facedub.cli import app

    for command, name in (("extract", "MEDIA"), ("verify", "FILE")):
        result = CliRunner().invoke(app, [command])
        assert result.exit_code == 2
        assert f"Missing argument '{name}'" in result.output, result.output
        usage = CliRunner().invoke(app, [command, "--help"]).output.splitlines()[0]
        assert usage == f"Usage: facedub {command} [OPTIONS] {{{name}}}", usage


@pytest.mark.parametrize("columns", [40, 60])
def test_a_narrow_terminal_keeps_the_count_and_the_time_left(columns: int, short_clip: object,
                                                             tmp_path: Path) -> None:
    """At 60 columns the bar cut its count to "4…" and its times to "0:…"; at 40 it showed
    neither count nor bar ("extract cl…l_mouth.m…   7.7 frames… le…"). It now leaves out
    what matters least: the elapsed time and a bar's length, then the bar and the speed."""
    clip = short_clip("clip_liveportrait_d3_woman_headturn.mp4", 0.5)  # type: ignore[operator]
    code, drawn = run_in_terminal(["extract", str(clip), "-o", str(tmp_path / "faces"),
                                   "--size", "64", "--max-frames", "6"], columns=columns)
    assert code == 0, drawn
    bars = [line.rstrip() for line in drawn.splitlines() if line.startswith("extr")]
    assert bars, drawn
    final = bars[-1]
    assert " 6/6 " in final and final.endswith("left"), final
    assert len(final) <= columns, final
