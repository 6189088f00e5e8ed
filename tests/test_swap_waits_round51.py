"""Round 51: `facedub swap` drew nothing for its first seconds (the imports, the checks,
the models and the source read before the source's bar: 10 s on a fresh clone's first
run) and nothing between the target's analysis bar at its end and the swap's bar (the
analysis's tracks and persons, the glasses learned, the compositor: 3-10 s). Each is now
a line naming the stage (`RichProgress.wait`), drawn when the stage begins. The terminal
test asserts the order of what was drawn, never that a refresh caught something."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from facedub.cli.terminal import _shorten
from facedub.progress import Progress, waits_ended_on_failure
from facedub.swap import SwapConfig
from test_cli_terminal import run_in_terminal

# The modules themselves (`facedub.swap` the package also names its function).
swap_module = importlib.import_module("facedub.swap")
resumable_module = importlib.import_module("facedub.batch.resumable")
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


class _SetUpReachedError(Exception):
    """Raised where the swap's set-up begins (the test has seen what it must)."""


def _analysis_with_two_bars(target: Path, config: SwapConfig, progress: Progress,
                            *args: object) -> Any:
    """The target's analysis as a video's draws it: its "extract" bar, then its content
    check's "check" bar."""
    for description in (f"extract {target.name}", f"check {target.name}"):
        progress.start(1, description)
        progress.advance()
        progress.finish()
    return object()  # the faceset: the set-up fails before it reads it


class _EngineSetUp:
    """An engine whose description is the set-up's first step (`resumable_swap`)."""

    @property
    def facts(self) -> object:
        raise _SetUpReachedError


def _set_up_reached(*args: object) -> object:
    raise _SetUpReachedError


@pytest.mark.parametrize("resumable", [False, True], ids=["swap", "resumable_swap"])
def test_the_set_up_is_named_once_after_the_analysis_bars_and_ended_if_it_fails(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, resumable: bool) -> None:
    """The set-up's name is drawn once the analysis has ended, not after each of its
    bars (it flashed between "extract" and "check"), and not left drawn when the set-up
    fails."""
    target = tmp_path / "clip.mp4"
    config = SwapConfig(work_dir=tmp_path / "work", config_dir=tmp_path / "config")
    recorded = _Recorded()
    # Both analyse through `swap.target_analysed_named`.
    monkeypatch.setattr(swap_module, "analyse_target", _analysis_with_two_bars)
    monkeypatch.setattr(swap_module, "frame_swapper", _set_up_reached)
    with pytest.raises(_SetUpReachedError):
        if resumable:
            resumable_module.resumable_swap(target, _EngineSetUp(),  # type: ignore[arg-type]
                                            tmp_path / "out.mp4", config, (), recorded)
        else:
            swap_module.swap(target, _EngineSetUp(),  # type: ignore[arg-type]
                             tmp_path / "out.mp4", config, recorded)
    bars = [call for description in ("extract", "check")
            for call in (("start", f"{description} clip.mp4"), ("advance", 1), ("finish",))]
    assert recorded.calls == [("wait", "reading clip.mp4"), *bars,
                              ("wait", "setting up the swap"), ("finish",)], recorded.calls


class _Plain:
    """A Progress that cannot name stages (a batch worker's frame file)."""

    def __init__(self) -> None:
        self.finished = 0

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass

    def finish(self) -> None:
        self.finished += 1


def test_a_progress_that_names_no_stage_is_left_as_it_is_when_the_block_fails() -> None:
    plain = _Plain()
    with pytest.raises(ValueError), waits_ended_on_failure(plain):
        raise ValueError("no faces")
    assert plain.finished == 0  # its bars are its caller's to end


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
