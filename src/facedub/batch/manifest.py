"""The batch manifest, `OUTDIR/batch-manifest.json`: for every finished job, the key of
what made it (its inputs' content hashes and its settings) and the sha256 of the output.

A job is skipped when its output is there, unchanged, and its key is the one recorded:
running the same command again resumes a batch. Only the driver writes the manifest, after
each job's files are in place, always atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from facedub.batch.jobs import MANIFEST_FILE, JobSpec
from facedub.errors import FacedubError
from facedub.fsutil import read_json_object, sha256_file, write_json_atomic
from facedub.provenance.mark import input_fact

MANIFEST_FORMAT = "facedub-batch-manifest"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FinishedJob:
    key: str  # job_key() of the run that made the output
    output_sha256: str
    frames: int
    frames_swapped: int
    seconds: float
    attempts: int
    finished: str  # ISO 8601, UTC


def job_key(job: JobSpec) -> str:
    """sha256 of the inputs' content hashes and the job's settings. The facedub version is
    left out on purpose: upgrading does not redo a finished batch (delete the manifest to
    force that)."""
    inputs = {role: input_fact(role, path).sha256 for role, path in job.inputs()}
    text = json.dumps({"inputs": inputs, "settings": job.settings()}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Manifest:
    """The finished jobs of one OUTDIR, by output name."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / MANIFEST_FILE
        self.jobs: dict[str, FinishedJob] = {}
        if self.path.is_file():
            self.jobs = _read(self.path)

    def is_done(self, job: JobSpec, key: str, out_dir: Path) -> bool:
        """The output exists, is the one recorded, and was made from the same key."""
        finished = self.jobs.get(job.output)
        output = Path(out_dir) / job.output
        return (finished is not None and finished.key == key and output.is_file()
                and sha256_file(output) == finished.output_sha256)

    def record(self, output: str, finished: FinishedJob) -> None:
        self.jobs[output] = finished
        write_json_atomic(self.path, {
            "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION,
            "jobs": {name: asdict(job) for name, job in sorted(self.jobs.items())}})


def _read(path: Path) -> dict[str, FinishedJob]:
    raw = read_json_object(path, MANIFEST_FORMAT, "batch manifest",
                           "delete it to run every job again")
    jobs = raw.get("jobs")
    if not isinstance(jobs, dict):
        raise FacedubError(f"{path}: malformed (no \"jobs\" object); delete it to run every "
                           "job again")
    # Each entry checked by name: a missing field read as "FinishedJob.__init__() missing
    # 6 required positional arguments: ...", an entry that is no object as "argument
    # after ** must be a mapping, not int".
    fields = [field.name for field in dataclasses.fields(FinishedJob)]
    finished: dict[str, FinishedJob] = {}
    for name, entry in jobs.items():
        missing = fields if not isinstance(entry, dict) else [f for f in fields
                                                               if f not in entry]
        if missing:
            raise FacedubError(f"{path}: malformed (job {name!r} lacks "
                               f"{', '.join(missing)}); delete it to run every job again")
        finished[str(name)] = FinishedJob(**{f: entry[f] for f in fields})
    return finished
