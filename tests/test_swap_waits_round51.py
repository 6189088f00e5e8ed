"""Round 51: `facedub swap` drew nothing for its first seconds (the imports, the checks,
the models and the source read before the source's bar: 10 s on a fresh clone's first
run) and nothing between the target's analysis bar at its end and the swap's bar (the
analysis's tracks and persons, the glasses learned, the compositor: 3-10 s). Each is now
a line naming the stage (`RichProgress.wait`), drawn when the stage begins. The terminal
test asserts the order of what was drawn, never that a refresh caught something."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub.cli.terminal import _shorten
from facedub.progress import KeptSteps, NoProgress, Progress, waiting_after_bars
from test_cli_terminal import run_in_terminal

SOURCE = "still_paul_rudd_frontal_studio.jpg"
TARGET = "still_rose_leslie_frontal.jpg"


class _Recorded:
    """A terminal-like Progress (`Waits`, `KeptSteps`) recording its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        self.calls.append(("start", description))

    def advance(self, steps: int = 1) -> None:
        self.calls.append(("advance", steps))

    def kept(self, steps: int) -> None:
        self.calls.append(("kept", steps))

    def finish(self) -> None:
        self.calls.append(("finish",))

    def wait(self, description: str) -> None:
        self.calls.append(("wait", description))


def test_each_bar_of_the_block_is_followed_by_the_stage_after_it() -> None:
    recorded = _Recorded()
    with waiting_after_bars(recorded, "setting up the swap") as progress:
        progress.start(2, "extract target.mp4")
        assert isinstance(progress, KeptSteps)  # a batch worker's steps still told apart
        progress.kept(1)
        progress.advance()
        progress.finish()
    recorded.start(2, "swap target.mp4")
    assert recorded.calls == [("start", "extract target.mp4"), ("kept", 1), ("advance", 1),
                              ("finish",), ("wait", "setting up the swap"),
                              ("start", "swap target.mp4")]


def test_a_failed_block_ends_its_stage_and_a_plain_progress_is_left_as_it_is() -> None:
    recorded = _Recorded()
    with pytest.raises(ValueError), waiting_after_bars(recorded, "setting up") as progress:
        progress.start(1, "extract")
        progress.finish()
        raise ValueError("no faces")
    assert recorded.calls[-2:] == [("wait", "setting up"), ("finish",)]  # not left drawn
    plain: Progress = NoProgress()
    with waiting_after_bars(plain, "setting up") as progress:
        assert progress is plain


def test_a_swap_names_its_start_and_its_set_up_before_the_swaps_bar(
        faces_dir: Path, tmp_path: Path) -> None:
    code, drawn = run_in_terminal([
        "swap", "--source", str(faces_dir / SOURCE), "--target", str(faces_dir / TARGET),
        "-o", str(tmp_path / "out.jpg"), "--work-dir", str(tmp_path / "work")],
        columns=80)
    assert code == 0, drawn
    in_order = ["reading the source",
                _shorten(f"extract {SOURCE}", 22),  # the source's analysis
                _shorten(f"reading {TARGET}", 56),
                _shorten(f"extract {TARGET}", 22),  # the target's
                "setting up the swap",  # main: nothing drawn between these two bars
                _shorten(f"swap {TARGET}", 22)]
    where = [drawn.find(text) for text in in_order]
    assert -1 not in where and where == sorted(where), (where, drawn)
