"""Analyses that later commands reuse, kept in a work folder keyed by the input's content.

`facedub swap` analyses its target and source through here, so running it again with
other compositing options (or after Ctrl-C) skips the analysis already done. Swaps that
run at the same time (a batch, the web app, two terminals) share the folder: one analyses
an input while the others wait for it, then reuse its analysis.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import replace
from pathlib import Path

from facedub import __version__
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.run import extract, open_source
from facedub.extract.safety import ExplicitContentDetector
from facedub.faceset import Faceset, is_faceset, load_faceset
from facedub.fsutil import exclusive_lock, sha256_file
from facedub.progress import Progress

log = logging.getLogger(__name__)

CHANGED_RETRIES = 3  # times an input found changed after the lock is hashed again


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
        return load_faceset(media)
    settings = json.dumps(replace(config, person_reference=None).resumable_settings(),
                          sort_keys=True)
    # facedub's version and the landmark model take part: after an upgrade of either the
    # analysis is made again rather than silently reused.
    made_by = f"{__version__}:{sha256_file(config.landmarker)}"
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    for _ in range(CHANGED_RETRIES):
        source = open_source(media, photo_verdicts(media, work_dir))
        key = hashlib.sha256(f"{source.sha256}:{settings}:{made_by}".encode()).hexdigest()[:20]
        folder = Path(work_dir) / f"{source.path.name[:40]}-{key}"
        # Unlocked, two swaps of one input at once both wrote every frame into the folder:
        # each frame twice, split into dozens of tracks, and frames of the chosen person
        # lost.
        with exclusive_lock(Path(work_dir) / f".{folder.name}.lock",
                            on_wait=functools.partial(log.warning, "waiting for another "
                                                      "facedub analysing %s", source.path.name)):
            # The hash was taken before the wait: a file replaced meanwhile would reuse
            # (and skip the explicit-content check of) the analysis of what it was.
            if source.unchanged():
                return extract(media, folder, config, progress, detector, source,
                               models).faceset
        log.warning("%s changed while waiting to be analysed; reading it again",
                    source.path.name)
    raise FacedubError(f"{media}: kept changing while facedub read it; wait until it is "
                       "completely written, then run again")
