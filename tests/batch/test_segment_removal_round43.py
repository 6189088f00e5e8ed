"""Round 43's review: a segmented swap removes its segments (seconds for gigabytes) after
its output and sidecar are published whole and before it returns; a stop during that
removal said "nothing was left half-written, run the same command again", and the same
command then refused the whole output as existing. It says the output is whole now."""

from __future__ import annotations

import importlib
import signal
from pathlib import Path
from typing import Any

import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt
from typer.testing import CliRunner

from facedub.batch import resumable
from facedub.cli import app
from facedub.errors import Terminated
from facedub.provenance.manifest import sidecar_path

SEGMENT_SECONDS = 0.8  # 2.5 s of a clip with a keyframe every 0.48 s: 3 segments


def test_a_stop_while_the_segments_are_removed_says_the_output_is_whole(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = remuxed_excerpt(faces_dir / KATIE, 2.5, tmp_path / "long.mp4")
    plan = resumable.plan_segments

    def short_segments(path: Path, *args: Any) -> Any:
        return plan(path, SEGMENT_SECONDS)

    removed: list[Path] = []
    rmtree = resumable.shutil.rmtree

    def stopped_removal(path: Path, *args: Any, **kwargs: Any) -> None:
        if not any(Path(path).glob("segment-*.json")):  # a first run's empty folder
            rmtree(path, *args, **kwargs)
            return
        removed.append(Path(path))
        raise Terminated(signal.SIGTERM)  # as it lands while the segments are removed

    monkeypatch.setattr(resumable, "plan_segments", short_segments)
    monkeypatch.setattr(resumable.shutil, "rmtree", stopped_removal)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.mp4"
    result = CliRunner().invoke(app, ["swap", "--source", str(faces_dir / RUDD),
                                      "--target", str(target), "-o", str(out),
                                      "--work-dir", str(tmp_path / "work"), "--job-id", "7"])
    assert result.exit_code == 143, result.output
    assert len(removed) == 1 and removed[0].parent.name == resumable.RESUME_FOLDER
    assert "nothing was left half-written" not in result.output, result.output
    assert "run the same command again" not in result.output, result.output
    assert "terminated after out.mp4 was written whole" in result.output, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.mp4",
                                                            "out.mp4.provenance.json"]


def test_a_stop_before_an_overwrite_is_published_is_not_taken_for_a_whole_output(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are judged new by the output's identity: an earlier output and its
    sidecar at -o (--overwrite) are not this run's."""
    swap_module = importlib.import_module("facedub.swap")
    photo = faces_dir / RUDD
    out = tmp_path / "out.jpg"
    runner = CliRunner()
    args = ["swap", "--source", str(photo), "--target", str(photo), "-o", str(out),
            "--work-dir", str(tmp_path / "work"), "--job-id", "7"]
    assert runner.invoke(app, args).exit_code == 0
    before = out.read_bytes(), sidecar_path(out).read_bytes()

    def stopped(*args: Any, **kwargs: Any) -> Any:
        raise Terminated(signal.SIGTERM)

    monkeypatch.setattr(swap_module, "frame_swapper", stopped)
    result = runner.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 143, result.output
    assert "nothing was left half-written" in result.output, result.output
    assert "written whole" not in result.output, result.output
    assert (out.read_bytes(), sidecar_path(out).read_bytes()) == before
