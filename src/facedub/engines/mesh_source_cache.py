"""The mesh engine's per-source-face analyses kept on disk beside the faceset: each
face's cleaned crop (`SourceFaces.clean_crop`: `without_light`, `clean_weights`, about
40 ms a 512 px face) and its mouth interior (`mesh_mouth.mouth_interior`, about 30 ms),
made on a face's first use and read back (under a millisecond) by every later swap from
that source, and after the in-memory cache evicted them.

Layout, inside the folder `cache_folder` names: the faceset folder where facedub made it
(the work folder's analysis of a source); for a faceset the user gave as the source, a
folder of its own in the work folder (an input is never written to):

    mesh-cache/SETTINGS/cache.json           what the folder holds: the format, the
                                             settings and the code they were made with
    mesh-cache/SETTINGS/STEM.KIND.safetensors one array a face (KIND "clean",
                                             "interior", "asymmetry": its light's
                                             `light_asymmetry`, or "crop": the crop as
                                             decoded, for the faces whose light was given
                                             back); its metadata repeats the key
    mesh-cache/SETTINGS/source.KIND.safetensors a reading of the whole source (KIND
                                             "stubble", "moustache":
                                             `SourceFaces.kept_reading`), keyed by the
                                             faces it reads, in a folder of its own

SETTINGS is a hash of what every face's arrays depend on alike: the settings
(`lift_shadows`, `no_catchlights`), the crop size, facedub's version, NumPy's and
OpenCV's, and the source text of the modules that compute them (any edit makes them
again). Each file's own key adds the face's landmarks and its crop's file size and
modification time: a re-extracted faceset's face is made again, not read stale.
safetensors and JSON only, never pickle; every file is written atomically (a Ctrl-C or
crash leaves the old file or none, never half of one; not synced to the disk, a cache
needs no durability), and a file that does not read back as expected is made again.
Where the faceset folder cannot be written (read only), faces are made as before and
nothing is kept.

Disk: about 1 MB a 512 px face used (its RGBA crop), the mouth interior only its
non-zero box (a few kB), the light's asymmetry under 1 kB, and 0.75 MB more for a face
whose light was given back (15 of 200 frames of the webcam source's swap).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import math
import os
import re
import stat
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

from facedub import __version__
from facedub.fsutil import remove_stale_partials_in, write_bytes_atomic, write_json_atomic

log = logging.getLogger(__name__)

FORMAT_NAME = "facedub-mesh-source-cache"
FORMAT_VERSION = 1
CACHE_DIR = "mesh-cache"
VALUES = "values"  # the one tensor of a file: the array's non-zero box
HEADER_LIMIT = 1 << 16  # bytes of safetensors header a file of ours can have
Like = tuple[tuple[int, ...], np.dtype[Any]]  # an array's shape and dtype


def code_fingerprint(roots: Iterable[str]) -> str | None:
    """sha256 of the source text of the facedub modules `roots` (imported names) and of
    every facedub module they import in turn, with facedub's version and NumPy's and
    OpenCV's: what the cached arrays are computed with. None where a module's source cannot
    be read (then nothing is cached: a change could not be told)."""
    digest = hashlib.sha256(f"{__version__}:{np.__version__}:{cv2.__version__}".encode())
    pending, seen = sorted(set(roots)), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        text = _module_text(name)
        if text is None:
            return None
        digest.update(name.encode() + b"\0" + text)
        pending.extend(match.decode() for match in _IMPORTS.findall(text))
    return digest.hexdigest()


_IMPORTS = re.compile(rb"^(?:from|import) (facedub(?:\.\w+)*)", re.MULTILINE)


def _module_text(name: str) -> bytes | None:
    """The source of the module `name` (a package's __init__), None where not found."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    source = getattr(module, "__file__", None)
    if source is None or not str(source).endswith(".py"):
        return None
    try:
        return Path(source).read_bytes()
    except OSError:
        return None


def cache_folder(faceset_root: Path, work_dir: Path) -> Path:
    """The folder whose CACHE_DIR keeps the mesh engine's arrays of the faceset at
    `faceset_root`: the faceset folder itself where it lies in the work folder `work_dir`
    (facedub's own analysis of a source), else `work_dir`/source-faces-HASH, HASH of the
    faceset's resolved path (a faceset given as the source is an input: never written)."""
    root, work = Path(faceset_root).resolve(), Path(work_dir).resolve()
    if root.is_relative_to(work):
        return root
    name = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return work / f"source-faces-{name}"


class SourceCache:
    """Arrays by (kind, face) in `folder` (`cache_folder`), under the `settings` and
    `code` (a `code_fingerprint`) they were made with. `get` returns the stored array or
    makes, stores and returns it."""

    def __init__(self, folder: Path, settings: dict[str, Any], code: str) -> None:
        self._settings = {**settings, "code": code}
        name = hashlib.sha256(json.dumps(self._settings, sort_keys=True).encode()
                              ).hexdigest()[:16]
        self._folder = Path(folder) / CACHE_DIR / name
        self._writable = True  # until a write fails: then only made, never kept
        self._described = False  # cache.json written by this instance

    @property
    def folder(self) -> Path:
        return self._folder

    def holds(self, kind: str, stem: str) -> bool:
        """Whether a file of the array `kind` of the face `stem` is there (not whether it
        reads back: `get` checks that)."""
        return (self._folder / f"{stem}.{kind}.safetensors").is_file()

    def get(self, kind: str, stem: str, key: str, like: Like,
            make: Callable[[], np.ndarray]) -> np.ndarray:
        """The array `kind` of the face whose crop is named `stem`, stored under its own
        `key` (its landmarks, its crop file), of the shape and dtype `like` (a file of
        another is never read, however it came there); made by `make` and stored when
        missing, unreadable or made under another key."""
        path = self._folder / f"{stem}.{kind}.safetensors"
        stored = _read(path, key, like)
        if stored is not None:
            return stored
        array = make()
        if self._writable and key:  # no key: its crop file unreadable, never matched
            self._write(path, array, key)
        return array

    def _write(self, path: Path, array: np.ndarray, key: str) -> None:
        box = _nonzero_box(array)
        metadata = {"format": FORMAT_NAME, "version": str(FORMAT_VERSION), "key": key,
                    "shape": json.dumps(list(array.shape)), "dtype": array.dtype.str,
                    "box": json.dumps([[s.start, s.stop] for s in box])}
        data = safetensors.numpy.save({VALUES: np.ascontiguousarray(array[box])},
                                      metadata=metadata)
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            if not self._described:
                # What a killed writer left half-written here, of any face, removed once:
                # listed again for each file written (hundreds a first swap), the folder's
                # listing and its names' matching took 2.7 ms a file (0.55 s of a first
                # swap's CPU; BENCHMARKS.md, thirty-fourth round).
                remove_stale_partials_in(self._folder)
                write_json_atomic(self._folder / "cache.json",
                                  {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                                   "settings": self._settings})
                self._described = True
            # Not synced to the disk: after a power cut a missing or torn file is made
            # again (`_read` checks its header, size and key).
            write_bytes_atomic(path, data, durable=False, swept=True)
        except OSError as error:
            self._writable = False
            log.warning("%s: the mesh engine's source analyses cannot be kept there (%s); "
                        "they are made again on every swap", self._folder, error)


def face_key(landmarks: np.ndarray, face_from_frame: np.ndarray, crop: Path) -> str:
    """A face's own part of its arrays' key: its landmarks and alignment as read (the
    arrays' bytes) and its crop file's size and modification time ('' where it cannot be
    read: then never matched)."""
    try:
        status = crop.stat()
    except OSError:
        return ""
    digest = hashlib.sha256(np.ascontiguousarray(landmarks).tobytes())
    digest.update(np.ascontiguousarray(face_from_frame).tobytes())
    digest.update(f"{status.st_size}:{status.st_mtime_ns}".encode())
    return digest.hexdigest()


def _read(path: Path, key: str, like: Like) -> np.ndarray | None:
    """The array stored at `path` under `key`, shaped and typed as `like`; None where
    missing, damaged, of another format, key, shape or type, or not a plain file of at
    most the size such an array takes (a faceset from elsewhere may hold anything)."""
    shape, dtype = like
    data = _file_bytes(path, HEADER_LIMIT + 8 + dtype.itemsize * math.prod(shape))
    if not key or data is None:
        return None
    metadata = _metadata(data)
    if (metadata is None or metadata.get("format") != FORMAT_NAME
            or metadata.get("version") != str(FORMAT_VERSION) or metadata.get("key") != key):
        return None
    try:
        if json.loads(metadata["shape"]) != list(shape) or metadata["dtype"] != dtype.str:
            return None
        box = tuple(slice(int(a), int(b)) for a, b in json.loads(metadata["box"]))
        values = safetensors.numpy.load(data)[VALUES]
        array = np.zeros(shape, dtype=dtype)
        if values.dtype != array.dtype or values.shape != array[box].shape:
            return None
    except (KeyError, TypeError, ValueError, OverflowError, SafetensorError) as error:
        log.debug("%s: unreadable (%s); made again", path, error)
        return None
    if values.shape == array.shape:
        return values  # the whole array: no copy
    array[box] = values
    return array


def _file_bytes(path: Path, limit: int) -> bytes | None:
    """The bytes of `path` where it is a plain file of at most `limit` bytes (not a link
    to a device or a huge file); None otherwise or where it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(status.st_size + 1)  # not `limit`: read() allocates that
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _metadata(data: bytes) -> dict[str, str] | None:
    """The `__metadata__` of a safetensors file's bytes (None where it has no readable
    header: too short, torn, or not JSON)."""
    if len(data) < 8:
        return None
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(HEADER_LIMIT, len(data) - 8):
        return None
    try:
        header = json.loads(data[8:8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else None


def _nonzero_box(array: np.ndarray) -> tuple[slice, ...]:
    """A 2-D array's box holding all its non-zero values (an empty box for zeros): the
    mouth interior is a few kB of it, not 1 MB. Any other array whole (a crop is)."""
    if array.ndim != 2:
        return tuple(slice(0, n) for n in array.shape[:2])
    rows = np.flatnonzero(array.any(axis=1))
    columns = np.flatnonzero(array.any(axis=0))
    if rows.size == 0:
        return (slice(0, 0), slice(0, 0))
    return (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1))
