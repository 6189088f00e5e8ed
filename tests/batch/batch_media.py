"""Test media for the batch tests: jobs files over the shared media, a faceless photo,
and clips cut without re-encoding (their keyframes stay where they were)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import av
import numpy as np
from PIL import Image

RUDD = "still_paul_rudd_frontal_studio.jpg"
BIDEN = "still_biden_frontal.jpg"
ROSE = "still_rose_leslie_frontal.jpg"
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def faceless_photo(folder: Path) -> Path:
    """A grey photo with nobody in it: its job fails with a one-line reason."""
    path = folder / "nobody.png"
    Image.fromarray(np.full((240, 320, 3), 128, dtype=np.uint8)).save(path)
    return path


def write_jobs(folder: Path, jobs: list[dict[str, object]],
               defaults: dict[str, object] | None = None) -> Path:
    """A jobs file in `folder`; values are written as TOML strings, numbers or booleans."""

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return repr(item)
        return '"' + str(item).replace("\\", "\\\\") + '"'

    lines = []
    if defaults:
        lines.append("[defaults]")
        lines.extend(f"{key} = {value(item)}" for key, item in defaults.items())
    for job in jobs:
        lines.append("[[job]]")
        lines.extend(f"{key} = {value(item)}" for key, item in job.items())
    path = folder / "jobs.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

def remuxed_excerpt(source: Path, seconds: float, out: Path) -> Path:
    """The first `seconds` of `source` (video and audio packets copied as they are)."""
    with av.open(str(source)) as reader, av.open(str(out), mode="w") as writer:
        streams = {s.index: writer.add_stream_from_template(s)
                   for s in (reader.streams.video[0], *reader.streams.audio[:1])}
        for packet in reader.demux(*[reader.streams[i] for i in streams]):
            if packet.dts is None or packet.pts is None:
                continue
            if float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            writer.mux(packet)
    return out


class AnalysisHold:
    """`target`'s analysis lock in `work` (the batch worker's `_analysis_lock`), held from
    its making until `release()`: a job waits on it before its target's analysis, in the
    stage "the target", until the test lets it go, whatever the machine's speed."""

    def __init__(self, work: Path, target: Path) -> None:
        locks = work / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:20]
        self._lock: IO[str] | None = open(locks / name, "w")  # noqa: SIM115 (held past here)
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file lets the lock go
            self._lock = None


@contextlib.contextmanager
def analysis_held(work: Path, target: Path) -> Iterator[None]:
    """Hold `target`'s analysis lock in `work` for the block (`AnalysisHold`)."""
    hold = AnalysisHold(work, target)
    try:
        yield
    finally:
        hold.release()


def running_worker(driver: subprocess.Popen[str] | subprocess.Popen[bytes], out: Path,
                   timeout: float = 300) -> int | None:
    """The pid of the worker running job 1 of the batch `driver` writes into `out`, once
    its running note is there (None if the driver ended first or `timeout` passed)."""
    note = out / ".facedub-batch" / "running" / "1.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return int(json.loads(note.read_text())["pid"])
        if driver.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie has exited; only its entry is left
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
            return False
    return True
