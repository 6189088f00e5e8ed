"""Atomic file output: write to a temporary sibling, fsync, then rename into place.

A crash, Ctrl-C or error leaves either the old file or no file at the destination, never a
half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from facedub.errors import FacedubError


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`, else delete it.

    The temporary name keeps the extension, so tools that pick a format by suffix (FFmpeg,
    OpenCV) still work on it.
    """
    path = Path(path)
    tmp = _new_sibling(path)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_sibling(path: Path) -> Path:
    """Create an empty, unique `.name.XXXXXXXX.partial.ext` beside `path`. Created with
    mode 0666 so the process umask applies, as for any new file (mkstemp's 0600 would
    need the umask read, and reading it means setting it: a race with other threads)."""
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FacedubError(f"{path.parent}: could not create a temporary file beside {path.name}")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_json_object(path: Path, format_name: str, kind: str, remedy: str) -> dict[str, Any]:
    """A JSON object whose "format" field is `format_name`. Raises FacedubError naming the
    file, what is wrong and `remedy` (what to do) when it is not."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FacedubError(f"{path}: not valid JSON ({error}); the {kind} is damaged, "
                           f"{remedy}") from error
    if not isinstance(raw, dict) or raw.get("format") != format_name:
        raise FacedubError(f"{path}: not a facedub {kind} file")
    return raw


def sha256_listing(files: Iterable[Path]) -> str:
    """One hash for a set of files: sha256 of their "name:sha256" lines, in the given order
    (a photo folder, a run folder)."""
    listing = "".join(f"{Path(p).name}:{sha256_file(Path(p))}\n" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
