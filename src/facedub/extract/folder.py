"""A folder of photos as a source: the photos facedub can read, and those it skips.

One HEIC, a cut-short download or a stray non-image among a phone's 300 photos stopped
`extract`, `swap --source`, `train` and `refine` with that one file's line: the user had
to find and move it, then run again for the next one. The readable photos are used and
one line names what was left out and why; only a folder with none readable is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from facedub import media

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


def folder_photos(folder: Path, photos: tuple[Path, ...]) -> FolderPhotos:
    """Sort `photos` (a folder's, by name) into usable and skipped, and say in one line
    (a warning) which were skipped and why."""
    usable: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for photo in photos:
        problem = photo_problem(photo)
        if problem is None:
            usable.append(photo)
        else:
            skipped.append((photo, problem))
    if skipped and usable:
        log.warning("%s: skipping %d of %d photos facedub cannot read (%s); the other %d "
                    "are used", folder, len(skipped), len(photos), skipped_names(skipped),
                    len(usable))
    return FolderPhotos(tuple(usable), tuple(skipped))


def skipped_names(skipped: tuple[tuple[Path, str], ...] | list[tuple[Path, str]]) -> str:
    """'a.heic: HEIC, convert it to JPEG; b.jpg: cut short and 2 more'."""
    named = "; ".join(f"{path.name}: {why}" for path, why in skipped[:SKIPPED_NAMED])
    more = len(skipped) - SKIPPED_NAMED
    return named + (f" and {more} more" if more > 0 else "")
