"""An evaluation's work kept between runs, so that Ctrl-C in a long `facedub eval` loses
nothing: the same command again resumes.

Kept in a folder of the work folder, one per report folder (`eval/<report name>-<key>`):
the source's and the target's analyses (`extract` resumes them itself), the target written
as the output was (`output_path.write_reference`, moved into place whole), and every
measured frame, one JSON line each, appended and flushed as the frame is finished
(`MeasuredFrames`). A resumed run replays the frames measured before through the
stateful steps only (the landmark model's tracking, the occlusion masks' easing, the crops
the report's pictures are cut from) and takes their measures from the lines, so its
report is the report an uninterrupted run writes (test). A changed input or option (the
inputs' content, the settings, facedub's version) empties the folder and starts afresh; a
finished evaluation removes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from facedub import __version__
from facedub.evaluate.config import EvalConfig
from facedub.evaluate.metrics import FrameMetrics
from facedub.evaluate.occluded_identity import FilledDescriptors
from facedub.fsutil import listing_digest, sha256_file, write_json_atomic

log = logging.getLogger(__name__)

EVAL_FOLDER = "eval"  # in the work folder
KEY_FILE = "key.json"
MEASURED_FILE = "measured.jsonl"
# The seconds the stopped runs spent, so that the resumed report's time is the whole
# evaluation's (it said only the last run's). A run killed outright (SIGKILL, power) adds
# nothing: its seconds are not in it.
SECONDS_FILE = "seconds.json"
FORMAT = "facedub-eval-work-1"
# An evaluation stopped and never run again is removed as a later one starts: its
# analyses and measures are only minutes of work to make again.
UNUSED_SECONDS = 7 * 24 * 3600
_FOLDER_NAME = re.compile(r".{1,40}-[0-9a-f]{20}")

# (frame, swapped face descriptor (128,), the same with the kept occluders filled or None)
Described = tuple[int, np.ndarray, FilledDescriptors | None]


@dataclass(frozen=True)
class SavedFrame:
    """One measured frame as a run wrote it: its metrics (digests included) and, where its
    identity was described, the descriptors (`measure`'s `described` entry)."""

    metrics: FrameMetrics
    described: Described | None


class MeasuredFrames:
    """The frames measured so far, in order from the first: read from `path` (a line cut
    short by a kill is dropped) and appended to as frames are measured."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._saved = _read_lines(self._path)
        self._file: TextIO | None = None

    def __len__(self) -> int:
        return len(self._saved)

    def get(self, frame: int) -> SavedFrame | None:
        return self._saved.get(frame)

    def add(self, saved: SavedFrame) -> None:
        """Append one measured frame, whole (written and flushed at once)."""
        if self._file is None:
            self._rewrite()  # without a torn last line of a killed run
            self._file = open(self._path, "a", encoding="utf-8")  # noqa: SIM115 (closed)
        self._file.write(json.dumps(_frame_json(saved)) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._saved[saved.metrics.frame] = saved

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _rewrite(self) -> None:
        text = "".join(json.dumps(_frame_json(saved)) + "\n" for saved in self._saved.values())
        partial = self._path.with_name(f".{self._path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self._path)


@dataclass(frozen=True)
class EvalWork:
    """The work folder of one evaluation (`open_work`)."""

    folder: Path
    measured_before: int  # frames an earlier, stopped run measured
    analysed_before: bool  # an earlier run's analyses are there
    keeps: bool = True  # False: a temporary folder, whose measured frames are not kept
    seconds_before: float = 0.0  # what the earlier, stopped runs spent

    @property
    def source_dir(self) -> Path:
        return self.folder / "source"

    @property
    def target_dir(self) -> Path:
        return self.folder / "target"

    @property
    def measured_file(self) -> Path:
        return self.folder / MEASURED_FILE

    def reference(self, suffix: str) -> Path:
        """Where the written target is kept (`suffix` picks its format)."""
        return self.folder / f"written{suffix.lower()}"

    def resumed_line(self) -> str | None:
        """What the command says as it resumes; None for a fresh start."""
        spent = (f" ({self.seconds_before:.1f} s of work, counted in the report's time)"
                 if self.seconds_before > 0 else "")
        if self.measured_before:
            return (f"resuming the evaluation stopped earlier: its analyses and the "
                    f"{self.measured_before} frames it measured are kept{spent}")
        if self.analysed_before:
            return ("resuming the evaluation stopped earlier: its analyses so far are "
                    f"kept{spent}")
        return None

    def keep_seconds(self, seconds: float) -> None:
        """A stopped run spent `seconds`: added to the earlier runs' for the report."""
        if self.keeps:
            with contextlib.suppress(OSError):  # the report's time is not worth an error
                write_json_atomic(self.folder / SECONDS_FILE,
                                  {"seconds": round(self.seconds_before + seconds, 3)})

    def remove(self) -> None:
        """Remove the folder (done, or refused), and the evaluations' folder if it is
        left empty."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.folder.parent.rmdir()


def open_work(work_dir: Path, source: Path, target: Path, swapped: Path, out_dir: Path,
              config: EvalConfig) -> EvalWork:
    """The work folder of evaluating `swapped` into the report folder `out_dir`: kept from
    a stopped run of the same inputs and options, else emptied for a fresh start. Folders
    of evaluations unused for `UNUSED_SECONDS` are removed."""
    root = Path(work_dir) / EVAL_FOLDER
    # Resolved, as the command's lock on -o is: the same report through a symlink (or
    # "..") had a second folder, and a stop there left two for one report.
    out = Path(out_dir).resolve()
    name = hashlib.sha256(str(out).encode()).hexdigest()[:20]
    folder = root / f"{out.name[:40]}-{name}"
    remove_unused(root, time.time(), keep=folder)
    key = {"format": FORMAT, "key": _inputs_key(source, target, swapped, config)}
    if folder.is_dir() and _read_key(folder / KEY_FILE) != key:
        if any(folder.iterdir()):
            log.info("%s: the inputs or options changed since the evaluation stopped; "
                     "measuring afresh", out)
        shutil.rmtree(folder)
    fresh = not folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)
    if fresh:
        write_json_atomic(folder / KEY_FILE, key)
    measured = len(MeasuredFrames(folder / MEASURED_FILE))
    analysed = any((folder / part).is_dir() for part in ("source", "target"))
    return EvalWork(folder, measured, analysed, seconds_before=_read_seconds(folder))


def remove_unused(root: Path, now: float, keep: Path | None = None) -> list[Path]:
    """Remove the evaluations' folders under `root` unused for `UNUSED_SECONDS` (only
    folders of this module's naming that hold its key file)."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in sorted(root.iterdir()):
            if (entry == keep or entry.is_symlink() or not _FOLDER_NAME.fullmatch(entry.name)
                    or not (entry / KEY_FILE).is_file()):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > UNUSED_SECONDS:
                    shutil.rmtree(entry)
                    removed.append(entry)
    return removed


def _inputs_key(source: Path, target: Path, swapped: Path, config: EvalConfig) -> str:
    """One hash of what the evaluation reads: the inputs' content, the settings (the
    landmark model by its content), facedub's version."""
    settings: dict[str, Any] = {}
    for field in fields(config):
        value = getattr(config, field.name)
        if field.name == "cache_dir":  # where a cache is kept changes no measure
            continue
        if field.name == "landmarker" or (field.name in ("gallery", "target_person")
                                          and value is not None):
            value = _content(Path(value))
        settings[field.name] = value
    parts = {"version": __version__, "settings": settings,
             "source": _content(source), "target": _content(target),
             "swapped": _content(swapped)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _content(path: Path) -> str:
    """sha256 of a file, or of a folder's files (their relative names and contents)."""
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return listing_digest((p.relative_to(path).as_posix(), sha256_file(p)) for p in files)


def _read_seconds(folder: Path) -> float:
    """The seconds the stopped runs spent (`EvalWork.keep_seconds`; 0 if unknown)."""
    data = _read_key(folder / SECONDS_FILE)
    seconds = data.get("seconds") if isinstance(data, dict) else None
    if not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds <= 0:
        return 0.0
    return float(seconds)


def _read_key(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _frame_json(saved: SavedFrame) -> dict[str, Any]:
    row: dict[str, Any] = {"metrics": asdict(saved.metrics)}
    if saved.described is not None:
        _, descriptor, filled = saved.described
        row["descriptor"] = _array_json(descriptor)
        if filled is not None:
            row["filled"] = {"swapped": _array_json(filled.swapped),
                             "target": _array_json(filled.target),
                             "source": _array_json(filled.source), "share": filled.share}
    return row


def _frame_of(row: dict[str, Any]) -> SavedFrame:
    names = {field.name for field in dataclasses.fields(FrameMetrics)}
    metrics = FrameMetrics(**{k: v for k, v in row["metrics"].items() if k in names})
    if "descriptor" not in row:
        return SavedFrame(metrics, None)
    filled = row.get("filled")
    return SavedFrame(metrics, (metrics.frame, _array_of(row["descriptor"]), None
                                if filled is None else FilledDescriptors(
                                    _array_of(filled["swapped"]), _array_of(filled["target"]),
                                    _array_of(filled["source"]), float(filled["share"]))))


def _array_json(array: np.ndarray) -> dict[str, Any]:
    # Each value through Python's float: a float32 or float64 comes back to the bit.
    return {"dtype": str(array.dtype), "shape": list(array.shape),
            "values": [float(value) for value in np.ravel(array)]}


def _array_of(raw: dict[str, Any]) -> np.ndarray:
    return np.asarray(raw["values"], dtype=raw["dtype"]).reshape(raw["shape"])


def _read_lines(path: Path) -> dict[int, SavedFrame]:
    """The frames in `path`, in order; reading stops at a line that is not whole (a kill
    as it was written) or out of order."""
    saved: dict[int, SavedFrame] = {}
    for line in _lines(path):
        try:
            frame = _frame_of(json.loads(line))
        except (ValueError, KeyError, TypeError):
            break
        if saved and frame.metrics.frame <= next(reversed(saved)):
            break
        saved[frame.metrics.frame] = frame
    return saved


def _lines(path: Path) -> Iterator[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            return
        yield line
