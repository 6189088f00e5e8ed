"""Round 48: `facedub eval` stopped by Ctrl-C said "interrupted; run the same command again
to resume", and the same command again measured everything from the start (its analyses
were its own, in a temporary folder; the report folder is removed). Round 50: it resumes
(evaluate/resume.py), and says so; nothing half-written is left at -o."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.cli import files as cli_files
from facedub.cli.terminal import RichProgress


class _CtrlCAtTheFirstStep(RichProgress):
    """The terminal's bar, with Ctrl-C pressed as the first step of the work is done
    (Python raises KeyboardInterrupt there, in the middle of the evaluation's code)."""

    def advance(self, steps: int = 1) -> None:
        raise KeyboardInterrupt


def test_an_interrupted_evaluation_says_it_resumes(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_files, "RichProgress", _CtrlCAtTheFirstStep)
    target = faces_dir / "still_biden_frontal.jpg"
    report = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "eval", "--source", str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
        "--target", str(target), "--swapped", str(target), "-o", str(report)])
    assert result.exit_code == 130, result.output
    said = " ".join(result.output.split())
    assert "interrupted; run the same command again to resume" in said, said
    assert not report.exists()
