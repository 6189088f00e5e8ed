"""Round 43's review: a segmented swap removes its segments (seconds for gigabytes) after
its output and sidecar are published whole and before it returns; a stop during that
removal said "nothing was left half-written, run the same command again", and the same
command then refused the whole output as existing. It says the output is whole now."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from batch_media import KATIE, RUDD, remuxed_excerpt
from typer.testing import CliRunner

from facedub.batch import resumable
from facedub.cli import app
from facedub.errors import Terminated

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
