"""Analyses that later commands reuse, kept in a work folder keyed by the input's content.

`facedub swap` analyses its target and source through here, so running it again with
other compositing options (or after Ctrl-C) skips the analysis already done. Swaps that
run at the same time (a batch, the web app, two terminals) share the folder: one analyses
an input while the others wait for it, then reuse its analysis.

Every changed input is a new analysis (a photo folder with one photo added, a clip
re-exported), and nothing removed the old ones: the folder grew by a video's crops and
masks for every input ever swapped. An analysis nothing has used for `UNUSED_SECONDS` is
removed as the next analysis starts; every use stamps it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

from facedub import __version__
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.crop_verdicts import CropVerdicts, crop_verdicts_path
from facedub.extract.models import AnalysisModels
from facedub.extract.run import crops_of, extract, open_source
from facedub.extract.safety import (
    PASSED_FORMAT,
    REFUSAL_THRESHOLD,
    ExplicitContentDetector,
    NudeNetDetector,
    check_crops_are_allowed,
    marked_crops,
)
from facedub.faceset import (
    FACES_DIR,
    FORMAT_NAME,
    MASKS_DIR,
    META_FILE,
    Faceset,
    is_faceset,
    load_faceset,
)
from facedub.fsutil import (
    exclusive_lock,
    listing_digest,
    lock_if_free,
    sha256_file,
    write_json_atomic,
)
from facedub.progress import Progress

log = logging.getLogger(__name__)

CHANGED_RETRIES = 3  # times an input found changed after the lock is hashed again
# An analysis (or a photo folder's verdicts) not used for this long is removed as the next
# analysis starts: remade on demand, it is a cache. A month, not the week of an abandoned
# swap's segments (batch/resumable.py): an analysis is minutes of work to make again.
UNUSED_SECONDS = 30 * 24 * 3600
# `analysed`'s folder names: the input's name (up to 40 characters) and a 20-digit key;
# nothing else in the work folder (a user's own folder there) is ever removed.
_ANALYSIS_NAME = re.compile(r".{1,40}-[0-9a-f]{20}")
_VERDICTS_NAME = re.compile(r"\.(photos|faceset|crops)-[0-9a-f]{20}\.json")


def photo_verdicts(media: Path, work_dir: Path) -> Path | None:
    """Where the readability of a photo folder's photos is kept, in the work folder
    (by the folder's absolute path); None for a file."""
    if not Path(media).is_dir():
        return None
    key = hashlib.sha256(str(Path(media).resolve()).encode()).hexdigest()[:20]
    return Path(work_dir) / f".photos-{key}.json"


def analysed(media: Path, work_dir: Path, config: ExtractConfig,
             progress: Progress | None = None,
             detector: ExplicitContentDetector | None = None,
             models: AnalysisModels | None = None) -> Faceset:
    """The faceset of `media` (a faceset folder is used as it is), extracted into the work
    folder on first use and resumed or reused after that. `models`: shared with the
    caller's other analyses (`extract`)."""
    if Path(media).is_dir() and is_faceset(media):
        return checked_faceset(media, work_dir, progress, detector, models)
    settings = json.dumps(replace(config, person_reference=None).resumable_settings(),
                          sort_keys=True)
    # facedub's version and the landmark model take part: after an upgrade of either the
    # analysis is made again rather than silently reused.
    made_by = f"{__version__}:{sha256_file(config.landmarker)}"
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    for attempt in range(CHANGED_RETRIES):
        verdicts = photo_verdicts(media, work_dir)
        _stamp_used(verdicts)
        source = open_source(media, verdicts)
        key = hashlib.sha256(f"{source.sha256}:{settings}:{made_by}".encode()).hexdigest()[:20]
        folder = Path(work_dir) / f"{source.path.name[:40]}-{key}"
        if attempt == 0:
            # After the lookup, leaving the analysis in hand: pruned first, a 30-day-old
            # analysis (and its verdicts) this very call was about to reuse was deleted
            # and made again from scratch.
            remove_unused(Path(work_dir), time.time(), keep=(folder, verdicts))
        # Unlocked, two swaps of one input at once both wrote every frame into the folder:
        # each frame twice, split into dozens of tracks, and frames of the chosen person
        # lost.
        with exclusive_lock(Path(work_dir) / f".{folder.name}.lock",
                            on_wait=functools.partial(log.warning, "waiting for another "
                                                      "facedub analysing %s", source.path.name)):
            # The hash was taken before the wait: a file replaced meanwhile would reuse
            # (and skip the explicit-content check of) the analysis of what it was.
            if source.unchanged():
                faceset = extract(media, folder, config, progress, detector, source,
                                  models).faceset
                _stamp_used(folder)
                return faceset
        log.warning("%s changed while waiting to be analysed; reading it again",
                    source.path.name)
    raise FacedubError(f"{media}: kept changing while facedub read it; wait until it is "
                       "completely written, then run again")


def checked_faceset(folder: Path, work_dir: Path | None, progress: Progress | None = None,
                    detector: ExplicitContentDetector | None = None,
                    models: AnalysisModels | None = None) -> Faceset:
    """The faceset folder `folder` (given as an input: swap --source, train, refine, eval)
    once its crops passed the explicit-content check: trusted where its mark (written by
    the extraction that made it, `safety.mark_crops`) names exactly its crops, or where this
    work folder recorded their pass; else every crop is looked at (NudeNet by default),
    the pass recorded in `work_dir` (never in `folder`: an input is not modified), and a
    refusal raised. It was used unchecked: a hand-made folder, an older facedub's, or one
    whose crops were edited after its extraction. Each crop's pass is kept in `work_dir` as
    the check goes (`crop_verdicts`): a check stopped part way resumes at the crops not yet
    passed, and a crop changed since its pass is looked at again. `models`: NudeNet shared
    with the caller's analyses, loaded only if a crop is to be looked at."""
    faceset = load_faceset(folder)
    crops = crops_of(faceset)
    hashes = {crop: sha256_file(crop) for crop in crops}  # read once, for both uses below
    digest = listing_digest((crop.name, hashes[crop]) for crop in crops)
    if marked_crops(folder, digest):
        return faceset
    record = faceset_verdict(digest, work_dir) if work_dir is not None else None
    if record is not None and _recorded_pass(record, digest):
        _stamp_used(record)
        return faceset
    names = {crop: crop.relative_to(faceset.root).as_posix() for crop in crops}
    kept = CropVerdicts(crop_verdicts_path(folder, work_dir)) if work_dir is not None \
        else None
    todo = [crop for crop in crops if kept is None or not kept.passed(names[crop],
                                                                       hashes[crop])]
    if kept is not None and len(todo) < len(crops):
        log.info("%s: %d of %d crops passed the check before; checking the other %d",
                 folder, len(crops) - len(todo), len(crops), len(todo))
    if todo:
        if models is not None:
            detector = models.detector()
        on_passed = None if kept is None else (
            lambda finding: kept.add(names[finding.path], hashes[finding.path], finding))
        try:
            check_crops_are_allowed(folder, todo, detector or NudeNetDetector(), progress,
                                    on_passed)
        finally:  # stopped or refused too: the crops that passed stay passed
            if kept is not None:
                kept.save()
    if record is not None and kept is not None:
        with contextlib.suppress(OSError):  # a read-only work folder: checked again next time
            record.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(record, {
                "format": PASSED_FORMAT, "passed": True, "crops_sha256": digest,
                "crops_checked": len(crops),
                "max_score": kept.max_score(set(names.values())),
                "threshold": REFUSAL_THRESHOLD, "tool": f"facedub {__version__}"})
    return faceset


def faceset_verdict(crops_sha256: str, work_dir: Path) -> Path:
    """Where the work folder records that crops of hash `crops_sha256` passed the check
    (keyed by their content: a copy of the folder elsewhere is the same verdict)."""
    return Path(work_dir) / f".faceset-{crops_sha256[:20]}.json"


def _recorded_pass(record: Path, crops_sha256: str) -> bool:
    try:
        raw = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(raw, dict) and raw.get("format") == PASSED_FORMAT
            and raw.get("passed") is True and raw.get("crops_sha256") == crops_sha256
            and raw.get("threshold") == REFUSAL_THRESHOLD)


def still_used(faceset: Faceset, work_dir: Path) -> bool:
    """Stamp an analysis of `work_dir` that a caller keeps in memory (the web app's
    source analyses) as used now; False where it is gone (removed by hand, or unused for
    `UNUSED_SECONDS` and pruned before this stamp): analyse it again then. Stamped under
    the analysis's lock, which the pruner takes too, so a prune cannot fall between its
    age check and this stamp. A faceset outside `work_dir` (given as a folder) is left."""
    root = Path(faceset.root)
    if root.parent != Path(work_dir) or not _ANALYSIS_NAME.fullmatch(root.name):
        return root.is_dir()
    with exclusive_lock(Path(work_dir) / f".{root.name}.lock"):
        if not (root / META_FILE).is_file():
            return False
        _stamp_used(root)
        return True


def remove_unused(work_dir: Path, now: float,
                  keep: tuple[Path | None, ...] = ()) -> list[Path]:
    """Remove the analyses (and photo folders' verdicts) in `work_dir` that nothing has
    used for `UNUSED_SECONDS` before `now`, except those in `keep`; what was removed. An
    analysis whose lock another facedub holds (analysing it, or waiting to) is left, and
    so are the lock files themselves (see `fsutil.exclusive_lock`: never unlinked; empty
    files). Only what facedub made goes: a faceset.json of facedub's own format, or the
    empty faces/ and masks/ of an analysis killed as it began; never a symlink."""
    removed: list[Path] = []
    try:
        entries = sorted(work_dir.iterdir())
    except OSError:
        return removed
    kept = {Path(path).name for path in keep if path is not None}
    for entry in entries:
        if entry.name in kept or entry.is_symlink() or not _unused(entry, now):
            continue
        if _VERDICTS_NAME.fullmatch(entry.name):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
        elif _ANALYSIS_NAME.fullmatch(entry.name) and _is_analysis(entry):
            with lock_if_free(work_dir / f".{entry.name}.lock") as free:
                if free and _unused(entry, now):  # not used while the lock was taken
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
    if removed:
        log.info("removed %d analyses unused for %d days from %s", len(removed),
                 UNUSED_SECONDS // 86400, work_dir)
    return removed


def _is_analysis(folder: Path) -> bool:
    """A folder facedub made: a faceset.json of facedub's format, or only the empty
    faces/ and masks/ an analysis killed as it began leaves (`extract`). A user's own
    folder of that name pattern with a faces/ folder in it (a backup) was removed."""
    with contextlib.suppress(OSError, ValueError):  # unreadable: not ours to judge
        if (folder / META_FILE).is_file():
            raw = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            return (isinstance(raw, dict) and raw.get("format") == FORMAT_NAME
                    and str(raw.get("tool", "")).startswith("facedub"))
        entries = list(folder.iterdir())
        return bool(entries) and all(
            entry.name in (FACES_DIR, MASKS_DIR) and entry.is_dir()
            and not entry.is_symlink() and not any(entry.iterdir()) for entry in entries)
    return False


def _unused(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > UNUSED_SECONDS
    except OSError:  # removed meanwhile (another facedub's clean-up)
        return False


def _stamp_used(path: Path | None) -> None:
    """Mark `path` used now (its modification time); a read-only work folder is left."""
    if path is not None:
        with contextlib.suppress(OSError):
            os.utime(path)
