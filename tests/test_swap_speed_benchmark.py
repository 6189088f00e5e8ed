"""benchmarks/swap_speed.py measures `facedub swap` as a user runs it: without --preset the
command's own default x264 preset (it passed "medium" until the twenty-sixth round, about
21 CPU ms a frame more encoding at 512 px than the swap's default)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def swap_speed(benchmark_module: Callable[[str], ModuleType]) -> ModuleType:
    return benchmark_module("swap_speed")


def test_no_preset_is_the_swaps_own(swap_speed: ModuleType, tmp_path: Path) -> None:
    command = swap_speed.swap_command(tmp_path / "clip.mp4", tmp_path / "work", None)
    assert command[command.index("swap") + 1:] == [
        "--source", str(swap_speed.SHARED_FACES / swap_speed.SOURCE),
        "--target", str(tmp_path / "clip.mp4"), "--work-dir", str(tmp_path / "work")]


def test_a_named_preset_is_passed(swap_speed: ModuleType, tmp_path: Path) -> None:
    command = swap_speed.swap_command(tmp_path / "clip.mp4", tmp_path / "work", "medium")
    assert command[-2:] == ["--preset", "medium"]


def test_the_preset_is_not_given_by_default(swap_speed: ModuleType,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["swap_speed.py"])
    seen: list[str | None] = []

    def stop(target: Path, work: Path, preset: str | None) -> list[str]:
        seen.append(preset)
        raise SystemExit(0)

    monkeypatch.setattr(swap_speed, "swap_command", stop)
    monkeypatch.setattr(swap_speed.media, "probe", lambda path: None)
    with pytest.raises(SystemExit):
        swap_speed.main()
    assert seen == [None]
