"""Each crop's verdict of a faceset folder's explicit-content check, kept in the work
folder so that a check stopped part way resumes where it stopped.

A faceset folder given as an input (`workspace.checked_faceset`) has every crop looked at
(NudeNet takes 26 ms of CPU a crop: 9 s for 354). Ctrl-C, SIGTERM or a crash after 300
of them started the next run at crop 0. The crops that
passed are now kept, each by its content hash, in one file per folder in the work folder
(never in the user's folder: inputs are not modified), written atomically as the check
goes and when it stops; a rerun looks only at the crops not yet passed, and at any crop
whose content changed since it passed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path

from facedub.extract.safety import REFUSAL_THRESHOLD, Finding
from facedub.fsutil import write_json_atomic

FORMAT = "facedub-crop-verdicts"
# Written at most this often while the check runs (and once as it ends or stops): an
# atomic write with its fsyncs takes 1-5 ms, and a crop 26 ms, so writing after every crop
# of a 354-crop folder would add a tenth to the check; a kill (SIGKILL, power) loses at
# most this much of it.
SAVE_SECONDS = 2.0


def crop_verdicts_path(folder: Path, work_dir: Path) -> Path:
    """Where `folder`'s crop verdicts are kept in `work_dir` (by the folder's absolute
    path, as a photo folder's verdicts are)."""
    key = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:20]
    return Path(work_dir) / f".crops-{key}.json"


class CropVerdicts:
    """The passed crops of one faceset folder: crop path (relative to the folder) ->
    (its sha256, its highest explicit-class score). Only passes are kept: a refused crop
    is looked at again on every run."""

    def __init__(self, path: Path, now: float | None = None) -> None:
        self.path = Path(path)
        self.passes = _read(self.path)
        self._changed = False
        self._saved_at = time.monotonic() if now is None else now

    def passed(self, name: str, sha256: str) -> bool:
        """`name` (a crop of this content) passed before."""
        kept = self.passes.get(name)
        return kept is not None and kept[0] == sha256

    def add(self, name: str, sha256: str, finding: Finding) -> None:
        """Keep a crop's pass; saved now if the last save is `SAVE_SECONDS` old."""
        self.passes[name] = (sha256, round(finding.score, 4))
        self._changed = True
        if time.monotonic() - self._saved_at >= SAVE_SECONDS:
            self.save()

    def max_score(self, names: set[str]) -> float:
        return max((score for name, (_, score) in self.passes.items() if name in names),
                   default=0.0)

    def save(self) -> None:
        """Write the kept passes (atomically); a read-only work folder keeps none."""
        self._saved_at = time.monotonic()
        if not self._changed:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, {
                "format": FORMAT, "threshold": REFUSAL_THRESHOLD,
                "passed": {name: {"sha256": sha, "score": score}
                           for name, (sha, score) in sorted(self.passes.items())}})
            self._changed = False


def _read(path: Path) -> dict[str, tuple[str, float]]:
    """The kept passes; none where the file is missing, torn, foreign, or was judged
    against another threshold."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not (isinstance(raw, dict) and raw.get("format") == FORMAT
            and raw.get("threshold") == REFUSAL_THRESHOLD
            and isinstance(raw.get("passed"), dict)):
        return {}
    passes: dict[str, tuple[str, float]] = {}
    for name, entry in raw["passed"].items():
        if (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("score"), int | float)
                and entry["score"] < REFUSAL_THRESHOLD):
            passes[str(name)] = (entry["sha256"], float(entry["score"]))
    return passes
