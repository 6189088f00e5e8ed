"""The media folder given to `facedub serve --media DIR`: photos, videos, folders of
photos and facesets the page may pick by name instead of uploading them.

The page sends only a name; it is looked up in the server's own listing of the folder
(its direct entries), so nothing the client sends ever becomes part of a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facedub import media
from facedub.faceset import is_faceset
from facedub.serve.security import VIDEO_SUFFIXES


@dataclass(frozen=True)
class LibraryEntry:
    name: str
    kind: str  # photo | video | folder | faceset
    path: Path


def library(folder: Path | None) -> list[LibraryEntry]:
    """The entries of the media folder facedub can use, sorted by name."""
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        kind = _kind(path)
        if kind is not None:
            found.append(LibraryEntry(path.name, kind, path.resolve()))
    return found


def pick(folder: Path | None, name: str) -> LibraryEntry | None:
    """The entry called exactly `name` in the server's listing, or None."""
    return next((entry for entry in library(folder) if entry.name == name), None)


def _kind(path: Path) -> str | None:
    if path.is_file():
        if media.is_photo_path(path):
            return "photo"
        return "video" if path.suffix.lower() in VIDEO_SUFFIXES else None
    if path.is_dir():
        if is_faceset(path):
            return "faceset"
        return "folder" if media.photos_in(path) else None
    return None
