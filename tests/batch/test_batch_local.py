"""`facedub batch` on the local process pool: outputs in place with their marks, a failed
job named with its reason, and the same command resuming."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from batch_media import BIDEN, ROSE, RUDD, faceless_photo, write_jobs

from facedub.batch import load_jobs
from facedub.batch.manifest import MANIFEST_FILE, job_key


def _batch(jobs: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "facedub", "batch", str(jobs), "-o", str(out),
                           *options], capture_output=True, text=True, timeout=600)


def test_a_local_batch_places_outputs_names_failures_and_resumes(faces_dir: Path,
                                                                  tmp_path: Path) -> None:
    jobs = write_jobs(tmp_path, [
        {"target": faces_dir / BIDEN, "output": "photos/rudd_biden.jpg"},
        {"target": faceless_photo(tmp_path), "output": "nobody.png", "relight": 0.5},
    ], defaults={"source": faces_dir / RUDD, "engine": "mesh"})
    out = tmp_path / "out"

    first = _batch(jobs, out, "--workers", "2")
    assert first.returncode == 1, first.stderr
    assert "job 2 (nobody.png) failed: " in first.stdout
    assert "1 done, 0 skipped (finished before), 1 failed" in first.stdout
    output = out / "photos" / "rudd_biden.jpg"
    sidecar = json.loads((out / "photos" / "rudd_biden.jpg.provenance.json").read_text())
    assert sidecar["media"] == output.name
    assert sidecar["facts"]["engine"] == "mesh"
    assert not (out / "nobody.png").exists()
    logs = sorted(p.name for p in (out / "logs").iterdir())
    assert logs == ["nobody.png.log", "photos__rudd_biden.jpg.log"]
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert list(manifest["jobs"]) == ["photos/rudd_biden.jpg"]
    assert not list((out / ".facedub-batch" / "staging").glob("*"))
    first_mtime = output.stat().st_mtime_ns

    again = _batch(jobs, out)
    assert again.returncode == 1
    assert "0 done, 1 skipped (finished before), 1 failed" in again.stdout
    # Said as it starts too (round 48: only the summary said it, at the end).
    assert ("resuming: 1 of 2 jobs finished before (batch-manifest.json); running the "
            "other 1") in " ".join(again.stderr.split()), again.stderr
    assert output.stat().st_mtime_ns == first_mtime


def test_the_job_key_follows_settings_and_input_content(faces_dir: Path,
                                                        tmp_path: Path) -> None:
    target = tmp_path / "target.jpg"
    target.write_bytes((faces_dir / BIDEN).read_bytes())
    jobs = write_jobs(tmp_path, [{"target": target, "output": "a.jpg"},
                                 {"target": target, "output": "b.jpg", "crf": 30}],
                      defaults={"source": faces_dir / RUDD})
    plain, other_setting = load_jobs(jobs, tmp_path / "out").jobs
    key = job_key(plain)
    assert job_key(other_setting) != key
    assert job_key(load_jobs(jobs, tmp_path / "out").jobs[0]) == key
    target.write_bytes((faces_dir / ROSE).read_bytes())  # same path, new content
    assert job_key(plain) != key
