"""Atomic file output: write to a temporary sibling, fsync, then rename into place.

A crash, Ctrl-C or error leaves either the old file or no file at the destination, never a
half-written one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePath
from typing import Any

from facedub.errors import FacedubError


@contextlib.contextmanager
def atomic_path(path: Path, durable: bool = True, swept: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`, else delete it.

    The temporary name keeps the extension, so tools that pick a format by suffix (FFmpeg,
    OpenCV) still work on it. `durable` False skips the two fsyncs: for a cache, whose
    missing or torn file after a power cut is only made again, where they cost more than
    the write (7-20 ms of wall clock a file here). `swept` True: the caller removed the
    folder's stale partials already (`remove_stale_partials_in`, once for the many files
    it writes there), so the folder is not listed again for `path`'s own.
    """
    path = Path(path)
    if not swept:
        remove_stale_partials(path)
    tmp: Path | None = None
    try:
        tmp = _new_sibling(path)
        yield tmp
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
            # And what this process staged beside it in turn (signing stages the signed
            # copy beside the staged file): a stop signal that lands as that inner file is
            # made or moved can leave it, and its own clean-up never runs.
            for nested in tmp.parent.glob(f".{glob.escape(tmp.stem)}.{os.getpid()}.*"
                                          f".partial{glob.escape(tmp.suffix)}"):
                nested.unlink(missing_ok=True)
        raise


def _new_sibling(path: Path) -> Path:
    """Create an empty, unique `.name.PID.XXXXXXXX.partial.ext` beside `path` (the process
    id lets `remove_stale_partials` tell a dead writer's file from a live one). Created with
    mode 0666 so the process umask applies, as for any new file (mkstemp's 0600 would
    need the umask read, and reading it means setting it: a race with other threads)."""
    for _ in range(100):
        tmp = path.parent / (f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}"
                              f".partial{path.suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FacedubError(f"{path.parent}: could not create a temporary file beside {path.name}")


@contextlib.contextmanager
def exclusive_lock(lock_file: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (created if missing) for the block; a second
    holder, in another process or another thread, waits until the first is done.
    `on_wait` is called once, before waiting, if the lock is held elsewhere.

    The file is never removed: unlinking a lock file while a waiter holds it open would
    let a third process lock a new file of the same name beside the waiter. Closing the
    descriptor releases the lock, also when the process dies. Where the lock file can be
    neither created nor opened (a read-only work folder, where no analysis can be written
    either, only reused), the block runs unlocked rather than failing.
    """
    fd = _lock_descriptor(lock_file)
    if fd is None:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def lock_if_free(lock_file: Path) -> Iterator[bool]:
    """`exclusive_lock`'s lock on `lock_file` if no one holds it: True inside the block
    then, False (and nothing held) where another holder has it or the file cannot be
    opened. For work that is skipped, not waited for, while another facedub is busy (the
    work folder's clean-up of unused analyses)."""
    fd = _lock_descriptor(lock_file)
    if fd is None:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _lock_descriptor(lock_file: Path) -> int | None:
    """`lock_file` opened (created if missing) for `flock`, which needs no write access;
    None where it can be neither created nor opened."""
    try:
        return os.open(lock_file, os.O_RDONLY | os.O_CREAT, 0o666)
    except OSError:
        try:
            return os.open(lock_file, os.O_RDONLY)
        except OSError:
            return None


@contextlib.contextmanager
def sole_writer(output: Path, lock_dir: Path, kind: str = "folder") -> Iterator[None]:
    """Refuse, with a message, a second facedub writing `output` (a `kind`: folder or
    file) while this block runs.

    The lock file lives in `lock_dir` (facedub's own work folder), named by the output's
    absolute path, so nothing is left at or beside the output. Where `lock_dir` cannot be
    made, the block runs unlocked (as `exclusive_lock` does)."""

    def refuse() -> None:
        raise FacedubError(f"{output}: another facedub is writing this {kind} now; wait for "
                           f"it to finish, or choose another {kind}")

    key = hashlib.sha256(os.fsencode(Path(output).resolve())).hexdigest()[:24]
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        yield
        return
    with exclusive_lock(lock_dir / f"{key}.lock", on_wait=refuse):
        yield


def write_bytes_atomic(path: Path, data: bytes, durable: bool = True,
                       swept: bool = False) -> None:
    with atomic_path(path, durable, swept) as tmp:
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
        # With the remedy, as for broken JSON: "fakerun/config.json: not a facedub run
        # folder file" said nothing of what to do.
        raise FacedubError(f"{path}: not a facedub {kind} file" + (f"; {remedy}" if remedy
                                                                   else ""))
    return raw


def sha256_listing(files: Iterable[Path]) -> str:
    """One hash for a set of files: sha256 of their "name:sha256" lines, in the given order
    (a photo folder, a run folder)."""
    return listing_digest((Path(p).name, sha256_file(Path(p))) for p in files)


def listing_digest(named_hashes: Iterable[tuple[str, str]]) -> str:
    """`sha256_listing` of files whose (name, sha256) pairs are already known."""
    listing = "".join(f"{name}:{digest}\n" for name, digest in named_hashes)
    return hashlib.sha256(listing.encode()).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_partials(path: Path) -> list[Path]:
    """Delete temporary files that `atomic_path` left beside `path` in a process that no
    longer runs (killed with SIGKILL, or a power cut); returns what was removed. The
    process id in each name tells whose it is: a running writer's file is kept."""
    path = Path(path)
    # .out.PID.RANDOM.partial.mp4, and files staged beside a staged file in turn (signing):
    # ..out.PID.RANDOM.partial.PID.RANDOM.partial.mp4
    pattern = re.compile(rf"\.+{re.escape(path.stem)}\.(\d+)\.[^.]+\.partial"
                         rf"(?:\.\d+\.[^.]+\.partial)*{re.escape(path.suffix)}")
    return _remove_dead_writers(path.parent, pattern)


# Any file `_new_sibling` makes, of any name: its (first) writer's process id.
_ANY_PARTIAL = re.compile(r"\.+.+?\.(\d+)\.[0-9a-f]+\.partial(?:\.\d+\.[0-9a-f]+\.partial)*"
                          r"(?:\.[^.]*)?")


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file put there since apart from the one there before (a staged output
    moved into place has a new inode): device, inode and modification time (ns); None
    where there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_mtime_ns


@contextlib.contextmanager
def published_whole(output: Path, description: Path) -> Iterator[None]:
    """The block moves `output` into place, then writes `description` beside it (the
    provenance sidecar). An error or stop signal anywhere in it, after the move too,
    removes the output this block put there and its description: SIGTERM just after a
    swap's move left out.mp4 without its sidecar, and said "nothing was left
    half-written". An output that was there before and not replaced stays."""
    before = file_identity(output)
    try:
        yield
    except BaseException:
        if file_identity(output) not in (None, before):
            output.unlink(missing_ok=True)
            description.unlink(missing_ok=True)
        raise


_STAGED_NAME = re.compile(r"(?P<stem>\..+?)(?P<stages>(?:\.\d+\.[0-9a-f]+\.partial)+)"
                          r"(?P<suffix>\.[^.]*)?")


def unstaged(path: str) -> str:
    """The file a staged (`_new_sibling`) name will become: an error while writing
    `..out.PID.X.partial.PID.X.partial.mp4` (an encode staged beside a staged output)
    named that to the user, not out.mp4. Any other path as it is."""
    staged = Path(path)
    match = _STAGED_NAME.fullmatch(staged.name)
    stages = match["stages"].count(".partial") if match else 0
    if match is None or not match["stem"].startswith("." * stages):
        return path
    # each staging put one dot before the name
    return str(staged.with_name(match["stem"][stages:] + (match["suffix"] or "")))


def remove_stale_partials_in(folder: Path) -> list[Path]:
    """`remove_stale_partials` for every file in `folder` at once: one listing for a
    writer of many files there (the mesh engine's source cache writes hundreds: listed
    and matched again for each one, a first swap spent 0.55 s of CPU on it)."""
    return _remove_dead_writers(Path(folder), _ANY_PARTIAL)


def remove_own_partials_under(folder: Path) -> list[Path]:
    """Delete this process's half-written files anywhere under `folder` (a kept work folder
    of a stopped command: a stop that lands while a file is being staged, or in a thread
    that does not unwind, leaves it); returns what was removed."""
    removed: list[Path] = []
    own = str(os.getpid())
    for candidate in Path(folder).rglob("*.partial*"):
        match = _ANY_PARTIAL.fullmatch(candidate.name)
        if match and match.group(1) == own:
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _remove_dead_writers(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    """Delete the files in `folder` whose whole name `pattern` matches and whose writer
    (the process id in its first group) no longer runs; returns what was removed."""
    removed: list[Path] = []
    with contextlib.suppress(OSError):
        for candidate in folder.iterdir():
            match = pattern.fullmatch(candidate.name)
            if match and not _process_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    candidate.unlink()
                    removed.append(candidate)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


MAX_NAME_BYTES = 255  # ext4, xfs, btrfs, tmpfs, APFS and NTFS all stop here
# A file output is written as `.NAME.PID.XXXXXXXX.partial.EXT` (`_new_sibling`: 26 bytes
# more, with a 7-digit pid) and gets `NAME.provenance.json` beside it (16 more), itself
# staged the same way: its name may use what is left.
FILE_NAME_EXTRA = 26 + 16
MAX_FILE_NAME_BYTES = MAX_NAME_BYTES - FILE_NAME_EXTRA


def check_output_name(path: PurePath, role: str = "", folder: bool = False) -> None:
    """Refuse a name the file system cannot hold: any folder name over 255 bytes, and a
    file name over 213, for the staged copy and the provenance sidecar written beside it
    (a 229-byte swap -o passed, and failed after the whole swap, naming its temporary
    file: "cannot write to . (File name too long); choose another output folder")."""
    prefix = f"{role} " if role else ""
    parts = path.parts
    for index, part in enumerate(parts):
        size = len(os.fsencode(part))
        limit = MAX_NAME_BYTES if folder or index < len(parts) - 1 else MAX_FILE_NAME_BYTES
        if size > limit:
            why = ("file systems allow 255" if limit == MAX_NAME_BYTES else
                   f"at most {limit}: facedub writes a temporary copy and a "
                   ".provenance.json beside it under longer names")
            raise FacedubError(f"{prefix}{part[:24]}...: name too long ({size} bytes; {why}); "
                               "choose a shorter one")


def check_writable_output(path: Path, role: str, *, inputs: Sequence[Path] = (),
                          overwrite: bool = False, folder: bool = False,
                          parents: bool = False) -> None:
    """Refuse, before any work, an output that cannot or must not be written.

    `role` names the option in messages ("-o", "--plot"). A file output (`folder` False)
    must not be a folder, nor exist unless `overwrite`; a folder output may exist (stages
    resume into it) but not as a file. Neither may be an input or lie inside one. The
    folder that will hold it must exist and accept a new file: that is tried, so a
    read-only file system, /proc or missing permission are found now, not after minutes.
    `parents`: a folder output whose missing parents facedub creates (a work folder,
    by default under the user's cache folder, which a first run may not have).

    Every -o agrees: facedub creates the output (a file, or the one folder -o names), never
    the folders above it. `extract -o a/missing/faces` created a/missing while
    `swap -o a/missing/out.mp4` was refused: a mistyped parent (`-o ~/Vidoes/faces`)
    made a folder tree where the user would not look for the result.
    """
    path = Path(path)
    check_output_name(path, role, folder)
    _refuse_dangling_folder_link(path, role)
    if path.is_symlink() and not path.exists():
        _refuse_looping_link(path, path, role)  # `-o loop`: it exists, and loops
        # A dangling link was taken for a new name and replaced by a regular file (the
        # place it names was never written). GNU cp refuses the same ("not writing
        # through dangling symlink"): where the user meant the output is not ours to guess.
        own = "folder" if folder else "file"
        raise FacedubError(f"{role} {path}: is a link to {os.readlink(path)}, which does not "
                           f"exist; give the {own}'s own path, or remove the link")
    if not folder and path.is_symlink() and path.is_file():
        # --overwrite replaced the link by a regular file and left the file it names as
        # it was. Not written through (as cp does) either: the output's sidecar is named
        # after -o, so the file and its description would lie in two places (verify of
        # the real file finds none). Said without --overwrite too, not "exists" first.
        raise FacedubError(f"{role} {path}: is a link to {os.readlink(path)}; to replace "
                           f"that file give its own path ({role} {path.resolve()}), or "
                           "remove the link")
    resolved = path.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if resolved == source or source in resolved.parents:
            raise FacedubError(f"{role} {path}: is an input or inside one ({given}); write "
                               "the output outside the inputs")
    if folder:
        if path.exists() and not path.is_dir():
            raise FacedubError(f"{role} {path}: exists and is not a folder; give a folder")
        holder = path if path.is_dir() else path.parent
        if not holder.is_dir():
            _require_folder(_nearest_existing(holder), role, path)
            if not parents:
                raise FacedubError(f"{role} {path}: the folder {holder} does not exist; "
                                   "create it")
            holder = _nearest_existing(holder)
    else:
        if path.is_dir():
            raise FacedubError(f"{role} {path}: is a folder; give a file name")
        if path.exists() and not overwrite:
            raise FacedubError(f"{role} {path}: exists; pass --overwrite to replace it, or "
                               "choose another name")
        holder = path.parent
        if not holder.is_dir():
            _require_folder(_nearest_existing(holder), role, path)
            raise FacedubError(f"{role} {path}: the folder {holder} does not exist; create it")
    _require_writable(holder, role, path)


def _refuse_dangling_folder_link(path: Path, role: str) -> None:
    """Refuse an output below a link that points nowhere (`-o shots/out.mp4` where `shots`
    links to an unmounted disk or a moved folder): it was "the folder shots does not
    exist; create it", and `mkdir shots` then fails with "File exists"."""
    for folder in reversed(path.parents):
        if folder.is_symlink() and not folder.exists():
            # A loop (`ln -s loop loop`): resolving it raised RuntimeError, a traceback.
            _refuse_looping_link(folder, path, role)
            # Resolved: a relative link's target reads from the link's folder, not ours.
            points_to = folder.resolve()
            raise FacedubError(f"{role} {path}: {folder} is a link to {points_to}, "
                               "which does not exist; create (or mount) that folder, or "
                               "choose an output outside the link")


def _refuse_looping_link(link: Path, path: Path, role: str) -> None:
    """Refuse `link` (the output `path` or a folder above it) if resolving it loops:
    naming the link that loops, which is `link` itself (`ln -s loop loop`) or one it
    passes through (`deep -> loop/x`: deep was said to loop, and it does not)."""
    try:
        link.resolve()
        return
    except RuntimeError:
        looping = _looping_link(link)
    if looping == Path(os.path.abspath(link)):
        where = "which loops back on itself; fix or remove the link"
    else:
        shown = looping if link.is_absolute() or looping is None else Path(
            os.path.relpath(looping))
        where = ("and resolving it loops (ELOOP)" if shown is None else
                 f"which passes through {shown}, a link that loops back on itself; fix or "
                 f"remove {shown}")
    other = "choose another name" if link == path else "choose an output outside it"
    raise FacedubError(f"{role} {path}: {'it' if link == path else link} is a link to "
                       f"{os.readlink(link)}, {where}, or {other}")


def _looping_link(link: Path) -> Path | None:
    """The first link met twice while resolving `link` (absolute), as realpath walks it:
    one name at a time, each link replaced by its target; None if none is."""
    resolved = Path(os.sep)
    pending = list(Path(os.path.abspath(link)).parts[1:])
    seen: set[Path] = set()
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            resolved = resolved.parent
            continue
        candidate = resolved / name
        if not os.path.islink(candidate):
            resolved = candidate
            continue
        if candidate in seen:
            return candidate
        seen.add(candidate)
        target = Path(os.readlink(candidate))
        if target.is_absolute():
            resolved = Path(os.sep)
        pending = [*target.parts[1 if target.is_absolute() else 0:], *pending]
    return None


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _require_folder(existing: Path, role: str, path: Path) -> None:
    """`existing`, the nearest part of the output's path that exists, must be a folder: an
    output below a file (`-o photo.jpg/out.mp4`) was told to create a folder the file's
    name already takes, or "cannot write into it (not a directory)"."""
    if existing.exists() and not existing.is_dir():
        raise FacedubError(f"{role} {path}: {existing} is a file, not a folder; choose an "
                           "output in a folder")


def _require_writable(folder: Path, role: str, path: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".facedub-probe-", dir=folder)
    except OSError as error:
        raise FacedubError(f"{role} {path}: cannot write into {folder} "
                           f"({describe_os_error(error)}); choose another place") from error
    os.close(fd)
    os.unlink(probe)


def describe_os_error(error: OSError) -> str:
    """The reason of an OSError in a few words, with what to do for the common ones."""
    advice = {errno.ENOSPC: "the disk is full; free some space",
              errno.EDQUOT: "the disk quota is used up; free some space",
              errno.EROFS: "read-only file system",
              errno.EACCES: "permission denied", errno.EPERM: "not permitted",
              errno.ENAMETOOLONG: "file name too long"}
    return advice.get(error.errno or 0, error.strerror or type(error).__name__)


def last_written(folder: Path) -> float:
    """When anything in `folder` was last written (its own time: a file removed); infinity
    if the folder went meanwhile (another run's clean-up: not ours to judge)."""
    try:
        times = [folder.stat().st_mtime]
        for item in folder.iterdir():
            with contextlib.suppress(OSError):  # removed meanwhile
                times.append(item.stat().st_mtime)
    except OSError:
        return float("inf")
    return max(times)
