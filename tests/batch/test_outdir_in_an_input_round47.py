"""Round 47: `facedub batch jobs.toml -o RUN` where RUN is a neural job's model run folder
wrote batch's state folder, its logs (and, for a valid model, the manifest and the output)
among the model's files: an input modified. A job's output inside its own model folder
(`output = "run/x.jpg"` with the model at OUTDIR/run) was accepted too, while `facedub
swap --model run -o run/x.jpg` is refused. Both are now refused as the jobs file is read:
one line naming the line, exit code 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from facedub.batch import load_jobs
from facedub.errors import FacedubError

PHOTO = "still_rose_leslie_frontal.jpg"


def _neural_job(folder: Path, target: Path, model: str, output: str) -> Path:
    path = folder / "jobs.toml"
    path.write_text(f'[[job]]\nengine = "neural"\nmodel = "{model}"\ntarget = "{target}"\n'
                    f'output = "{output}"\n', encoding="utf-8")
    return path


def _run_folder(folder: Path) -> Path:
    run = folder / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")  # what matters: it is an input, left as it is
    return run


def test_outdir_that_is_a_jobs_model_folder_is_refused_and_nothing_is_written(
        faces_dir: Path, tmp_path: Path) -> None:
    run = _run_folder(tmp_path)
    jobs = _neural_job(tmp_path, faces_dir / PHOTO, "run", "rose.jpg")
    ended = subprocess.run([sys.executable, "-m", "facedub", "batch", str(jobs), "-o",
                            str(run)], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "FACEDUB_WORK_DIR": str(tmp_path / "work")})
    assert ended.returncode == 2, ended.stderr  # main: 0 (the job failed on the stand-in)
    assert ended.stderr.strip().splitlines() == [
        f"error: {jobs}:3: [[job]] 1, model: {run} is OUTDIR ({run}) or holds it: batch "
        "writes its outputs, logs and manifest there; give -o a folder outside the inputs"]
    # main: .facedub-batch and logs beside it
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


def test_outdir_inside_a_jobs_model_folder_is_refused(faces_dir: Path, tmp_path: Path) -> None:
    _run_folder(tmp_path)
    jobs = _neural_job(tmp_path, faces_dir / PHOTO, "run", "rose.jpg")
    with pytest.raises(FacedubError, match=r"model: .*run is OUTDIR .* or holds it"):
        load_jobs(jobs, tmp_path / "run" / "out")


def test_an_output_inside_its_own_jobs_model_folder_is_refused(faces_dir: Path,
                                                               tmp_path: Path) -> None:
    _run_folder(tmp_path)
    jobs = _neural_job(tmp_path, faces_dir / PHOTO, "run", "run/rose.jpg")
    with pytest.raises(FacedubError, match=r"jobs.toml:5: \[\[job\]\] 1, output: 'run/rose.jpg' "
                                           r"lies inside the job's model"):
        load_jobs(jobs, tmp_path)  # main: accepted, written among the model's files


def test_an_outdir_holding_the_inputs_files_is_fine(faces_dir: Path, tmp_path: Path) -> None:
    """Outputs beside the target in its own folder change no input (other names)."""
    target = tmp_path / PHOTO
    target.write_bytes((faces_dir / PHOTO).read_bytes())
    (tmp_path / "models").mkdir()
    _run_folder(tmp_path / "models")
    jobs = _neural_job(tmp_path, target, "models/run", "swapped.jpg")
    assert load_jobs(jobs, tmp_path).jobs[0].output == "swapped.jpg"
