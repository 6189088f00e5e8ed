"""`facedub batch`'s bar counts frames across all jobs (forty-ninth round): it counted jobs,
so a photo and a clip drew "1/2" as the photo ended and sat there for the clip's whole
swap, its time left one job's length. Now the workers' rendered frames come to the
driver (`batch.frames`); a resumed batch's total is the frames of the jobs it runs, so
its speed and time left are this run's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from batch_media import BIDEN, KATIE, RUDD, write_jobs

from facedub import media
from test_cli_terminal import run_in_terminal


def _counts(drawn: str, total: int) -> list[int]:
    """Every count the bar drew against `total`, in order."""
    return [int(done) for done in re.findall(rf"\b(\d+)/{total}\b", drawn)]


def test_the_bar_counts_frames_across_jobs_and_a_resumed_batch_its_own(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    clip = short_clip(KATIE, 0.6)
    frames = media.probe(clip).frame_count
    jobs = [{"target": faces_dir / BIDEN, "output": "biden.jpg"},
            {"target": clip, "output": "katie.mp4"}]
    defaults = {"source": faces_dir / RUDD, "engine": "mesh"}
    out, work = tmp_path / "out", tmp_path / "work"
    command = ["batch", str(write_jobs(tmp_path, jobs, defaults)), "-o", str(out),
               "--work-dir", str(work)]

    code, drawn = run_in_terminal(command, columns=100, timeout=300)
    assert code == 0, drawn
    total = 1 + frames  # the photo's one frame and the clip's
    counts = _counts(drawn, total)
    assert counts and counts[-1] == total, drawn
    # Drawn while the clip rendered, not only as each job ended.
    assert any(1 < done < total for done in counts), drawn
    assert "frames/s" in drawn and "/2 " not in drawn, drawn

    # One job more, the same clip at another quality: its frames alone are the bar.
    jobs.append({"target": clip, "output": "katie-small.mp4", "crf": 30})
    command[1] = str(write_jobs(tmp_path, jobs, defaults))
    code, drawn = run_in_terminal(command, columns=100, timeout=300)
    assert code == 0, drawn
    assert "resuming: 2 of 3 jobs finished before" in drawn, drawn
    counts = _counts(drawn, frames)
    assert counts and counts[-1] == frames, drawn
    assert "/3 " not in drawn and f"/{total + frames}" not in drawn, drawn
