"""`facedub -v swap` says where its time goes (forty-ninth round): it said nothing more
than without -v (a photo or a clip: no line at all before the result). Each stage's end
is one line (what, how many of how many, how long, how fast: `RichProgress`), and the
source's engine says when it is ready and whether its analysis was reused; never a line
per frame."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUDD = "still_paul_rudd_frontal_studio.jpg"
BIDEN = "still_biden_frontal.jpg"
TIMED = r"in \d+\.\d s"


def _verbose_swap(faces_dir: Path, tmp_path: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "facedub", "-v", "swap", "--target", str(faces_dir / BIDEN),
         "--source", str(faces_dir / RUDD), "-o", str(tmp_path / "out.jpg"), "--overwrite",
         "--work-dir", str(tmp_path / "work"), "--job-id", "49"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("INFO ")]


def test_a_verbose_swap_says_its_stages_with_their_times(faces_dir: Path,
                                                         tmp_path: Path) -> None:
    said = _verbose_swap(faces_dir, tmp_path)
    text = "\n".join(said)
    # The source's analysis, its engine, the target's analysis and the rendering.
    assert re.search(rf"source: extract {RUDD}: 1 of 1 frames {TIMED}", text), text
    assert re.search(rf"source: the mesh engine of {RUDD} ready {TIMED}$", text, re.M), text
    assert re.search(rf"^INFO \S+: extract {BIDEN}: 1 of 1 frames {TIMED}", text, re.M), text
    assert re.search(rf"swap {BIDEN}: 1 of 1 frames {TIMED} \(\d+\.\d frames/s\)", text), text
    assert len(said) <= 12, text  # a line per stage, not per frame or face

    # Again: both analyses come from the work folder, and it says so.
    again = "\n".join(_verbose_swap(faces_dir, tmp_path))
    assert "extract" not in again, again
    assert re.search(rf"source: the mesh engine of {RUDD} ready {TIMED} \(its analysis "
                     "reused from the work folder\\)", again), again
    assert re.search(rf"swap {BIDEN}: 1 of 1 frames {TIMED}", again), again
