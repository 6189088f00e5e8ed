"""Round 46: a job whose output's kind does not fit its target (a video target written to
.jpg, a photo target to .mp4) was refused naming a file beside the jobs file that nobody
gave ("jobs/x.jpg: cannot write a .jpg video"), not the job's output in OUTDIR."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_media import BIDEN, KATIE, RUDD, write_jobs

from facedub.batch import load_jobs
from facedub.errors import FacedubError


@pytest.mark.parametrize(("target", "output", "why"), [
    (KATIE, "clips/x.jpg", "cannot write a .jpg video"),
    (BIDEN, "photos/x.mp4", "the target is a photo, so the output must be a photo too")])
def test_a_mismatched_output_is_named_as_the_job_writes_it(
        faces_dir: Path, tmp_path: Path, target: str, output: str, why: str) -> None:
    (tmp_path / "jobs").mkdir()
    jobs = write_jobs(tmp_path / "jobs", [{"source": faces_dir / RUDD,
                                           "target": faces_dir / target, "output": output}])
    out_dir = tmp_path / "out"
    with pytest.raises(FacedubError) as raised:
        load_jobs(jobs, out_dir)
    message = str(raised.value)
    assert f"{out_dir / output}: " in message and why in message  # main: jobs/x.jpg
    assert str(tmp_path / "jobs" / Path(output).name) + ":" not in message


def test_a_target_beside_the_jobs_file_named_as_the_output_keeps_its_own_name(
        faces_dir: Path, tmp_path: Path) -> None:
    """Review R: the output was named by replacing the stand-in's path (jobs/NAME) in the
    message, every occurrence of it: a refused target at jobs/x.webp, written to x.webp,
    was blamed on OUTDIR/x.webp."""
    from PIL import Image

    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    animated = jobs_dir / "x.webp"
    with Image.open(faces_dir / BIDEN) as opened:
        face = opened.convert("RGB").resize((256, 256))
    face.save(animated, save_all=True, append_images=[face.rotate(5), face.rotate(10)])
    jobs = write_jobs(jobs_dir, [{"source": faces_dir / RUDD, "target": animated,
                                  "output": "x.webp"}])
    out_dir = tmp_path / "out"
    with pytest.raises(FacedubError) as raised:
        load_jobs(jobs, out_dir)
    message = str(raised.value)
    assert f"{animated}: an animated WebP of 3 frames" in message, message
    assert str(out_dir / "x.webp") not in message  # main of round 46: OUTDIR/x.webp
