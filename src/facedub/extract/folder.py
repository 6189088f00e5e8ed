"""A folder of photos as a source: the photos facedub can read, and those it skips.

One HEIC, a cut-short download or a stray non-image among a phone's 300 photos stopped
`extract`, `swap --source`, `train` and `refine` with that one file's line: the user had
to find and move it, then run again for the next one. The readable photos are used and
one line names what was left out and why; only a folder with none readable is refused.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import PIL
from PIL import Image, UnidentifiedImageError

from facedub import media
from facedub.fsutil import write_json_atomic

log = logging.getLogger(__name__)

SKIPPED_NAMED = 3  # names a skip line lists before "and N more"


@dataclass(frozen=True)
class FolderPhotos:
    """The photos of one folder, by name: `usable` decode, `skipped` do not (each with a
    few words saying why)."""

    usable: tuple[Path, ...]
    skipped: tuple[tuple[Path, str], ...]


def photo_problem(path: Path) -> str | None:
    """Why Pillow cannot decode the photo at `path` (a few words), or None where it can.

    A JPEG is decoded at 1/8 scale (its DCT's own scaling, a few ms for 12 megapixels):
    that still reads every byte of its entropy-coded data, so a cut-short file shows."""
    if media.unreadable_heic(path):
        return "HEIC, convert it to JPEG"
    try:
        with Image.open(path) as opened:
            if opened.format == "JPEG":
                opened.draft("RGB", (max(1, opened.width // 8), max(1, opened.height // 8)))
            opened.load()
    except Image.DecompressionBombError:
        return "too large, scale it down"
    except PermissionError:
        return "not readable, check its permissions"
    except UnidentifiedImageError:
        return "not an image"
    except Exception as error:  # a damaged file fails in many ways (OSError, SyntaxError, ...)
        return "cut short" if "truncated" in str(error).lower() else "damaged"
    return None


def folder_photos(folder: Path, photos: tuple[Path, ...],
                  verdicts: Path | None = None) -> FolderPhotos:
    """Sort `photos` (a folder's, by name) into usable and skipped, and say in one line
    (a warning) which were skipped and why. `verdicts`: a file keeping each photo's
    verdict by its stamp, so that a folder read before is not decoded again (every swap
    with a folder source decoded every photo to sort it, even where its analysis was
    reused: 12 MP, 47 ms a JPEG, 307 ms a WebP; 15-90 s a run for 300 photos)."""
    known = _read_verdicts(verdicts)
    checked: dict[str, list[Any]] = {}
    usable: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for photo in photos:
        stamp = _stamp(photo)
        kept = known.get(photo.name)
        if stamp is not None and isinstance(kept, list) and len(kept) == 2 \
                and kept[0] == stamp and (kept[1] is None or isinstance(kept[1], str)):
            problem = kept[1]
        else:
            problem = photo_problem(photo)
        if stamp is not None:
            checked[photo.name] = [stamp, problem]
        if problem is None:
            usable.append(photo)
        else:
            skipped.append((photo, problem))
    if skipped and usable:
        used = "the other one is used" if len(usable) == 1 else f"the other {len(usable)} are used"
        log.warning("%s: skipping %d of %d photos facedub cannot read (%s); %s", folder,
                    len(skipped), len(photos), skipped_names(skipped), used)
    if verdicts is not None and checked != known:
        with contextlib.suppress(OSError):  # a read-only work folder: decoded next time
            write_json_atomic(verdicts, {"reader": _reader(), "photos": checked})
    return FolderPhotos(tuple(usable), tuple(skipped))


def _stamp(photo: Path) -> list[int] | None:
    """The photo's inode, size and times (ns): a file rewritten, replaced or touched is
    checked again (the change time is set by any write and by no user tool)."""
    try:
        status = photo.stat()
    except OSError:
        return None
    return [status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]


def _reader() -> str:
    """What decides the verdicts besides the file: Pillow's version and the formats it
    reads here (a HEIC plugin installed since reads what was skipped)."""
    formats = sorted(set(Image.registered_extensions().values()))
    return f"{PIL.__version__}:{','.join(formats)}"


def _read_verdicts(path: Path | None) -> dict[str, Any]:
    """The kept verdicts, by photo name; none where the file is missing, torn, foreign,
    or written by another Pillow."""
    if path is None:
        return {}
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("reader") != _reader():
        return {}
    photos = kept.get("photos")
    return photos if isinstance(photos, dict) else {}


def skipped_names(skipped: tuple[tuple[Path, str], ...] | list[tuple[Path, str]]) -> str:
    """'a.heic: HEIC, convert it to JPEG; b.jpg: cut short and 2 more'."""
    named = "; ".join(f"{path.name}: {why}" for path, why in skipped[:SKIPPED_NAMED])
    more = len(skipped) - SKIPPED_NAMED
    return named + (f" and {more} more" if more > 0 else "")
