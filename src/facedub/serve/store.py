"""The server's state on disk, all inside its work folder: uploads under names the server
makes, and the job queue in SQLite (`serve.sqlite3`), so a restarted server and every
browser tab see the same jobs.

A client names an upload or a job only by its id; no path a client sends is ever opened.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facedub.errors import FacedubError

DATABASE = "serve.sqlite3"
UPLOADS, RESULTS, REPORTS, PERSONS, SCRATCH = "uploads", "results", "reports", "persons", "scratch"
ANALYSES = "analyses"  # the swap's cached analyses of targets and sources

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL,
    bytes INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, state TEXT NOT NULL,
    params TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    phase TEXT NOT NULL DEFAULT '', done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0, fps REAL NOT NULL DEFAULT 0,
    eta REAL, message TEXT NOT NULL DEFAULT '', output TEXT NOT NULL DEFAULT '');
"""
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class Upload:
    id: str
    name: str  # the name the browser gave, shown only, never used as a path
    kind: str  # "photo", "video", "folder" (of photos) or "faceset"
    file: str  # the server-made file name inside uploads/, or a picked media path
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "bytes": self.bytes}


class Store:
    """The work folder: its subfolders and the SQLite database. Thread-safe (one
    connection per call, SQLite's own locking between threads and processes)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        for name in (UPLOADS, RESULTS, REPORTS, PERSONS, SCRATCH, ANALYSES):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            with self._db() as db:
                db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            # A damaged or foreign file (a disk that filled, a copy cut short) was a
            # traceback and exit 1 at start.
            database = self.root / DATABASE
            raise FacedubError(f"{database}: the job database is damaged ({error}); move it "
                               "aside to start with an empty job list (uploads and results "
                               f"stay in {self.root})") from None

    def folder(self, name: str) -> Path:
        return self.root / name

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.root / DATABASE, timeout=10)
            db.row_factory = sqlite3.Row
            try:
                with db:
                    yield db
            finally:
                db.close()

    # Uploads ------------------------------------------------------------------------
    def new_upload_file(self, suffix: str) -> tuple[str, Path]:
        upload_id = secrets.token_hex(8)
        return upload_id, self.folder(UPLOADS) / f"{upload_id}{suffix}"

    def keep_by_content(self, received: Path, sha256: str) -> str:
        """Keep a received upload (`new_upload_file`'s file, complete) under a name of its
        content, `<sha256>.<suffix>`, and return that name: the same file uploaded twice
        (or once per target, as one source for two) was two files, and every analysis
        (keyed by the file's name and content) was made twice, 14 s a 40-frame clip. Only
        the bytes are kept by content here; the entry is `add_upload`'s (one per file: a
        second upload of it is answered with the first's entry, and only an entry from a
        forty-eighth round's work folder may share a file with another). The name
        appears at once and whole (a hard link of the received file), never over a file
        already there: two uploads of one content at once both keep the first."""
        kept = received.with_name(f"{sha256[:32]}{received.suffix}")
        try:
            os.link(received, kept)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: the received file moved there
            if not kept.exists():
                _move_or_remove(received, kept)
        with contextlib.suppress(FileNotFoundError):
            received.unlink()
        return kept.name

    def add_upload(self, upload: Upload) -> Upload:
        """Add `upload`, or return the upload of the same file already here (its content,
        `keep_by_content`, or the same media-folder entry): one entry per file.

        Why one entry: the file uploaded twice was listed twice (two names of one file in
        the source and target lists, one analysis, one set of persons, the same swap
        whichever was picked); a user took the second for another file, or uploaded it
        again only because the first seemed not to have arrived. The answer names the
        entry that was already there (`Upload.name`: as first given), and the page says
        so. Two uploads of one content at once make one entry because `_db` holds
        `self._lock` round the look-up and the insert, within this process only
        (sqlite's implicit transaction begins at the INSERT, not at the SELECT, so it
        alone would not keep them together: two processes serving one work folder could
        each insert one)."""
        with self._db() as db:
            row = db.execute("SELECT * FROM uploads WHERE file = ? ORDER BY created LIMIT 1",
                             (upload.file,)).fetchone()
            if row is not None:
                return _upload(row)
            db.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                       (upload.id, upload.name, upload.kind, upload.file, upload.bytes,
                        time.time()))
        return upload

    def uploads(self) -> list[Upload]:
        """Every file once, as first added (a work folder of the forty-eighth round may
        hold two uploads of one file: the later ones stay reachable by id, for their
        jobs, but are not listed)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM uploads ORDER BY created").fetchall()
        first: dict[str, Upload] = {}
        for row in rows:
            first.setdefault(row["file"], _upload(row))
        return list(first.values())

    def upload(self, upload_id: str) -> Upload:
        with self._db() as db:
            row = db.execute("SELECT * FROM uploads WHERE id = ?", (str(upload_id),)).fetchone()
        if row is None:
            raise FacedubError(f"no upload {upload_id!r}; upload the file again")
        return _upload(row)

    def upload_path(self, upload_id: str) -> Path:
        """The file of an upload (inside uploads/), or of an entry picked from the media
        folder the server was started with (stored as the absolute path the server found)."""
        return self.folder(UPLOADS) / self.upload(upload_id).file  # absolute stays absolute

    # Jobs -----------------------------------------------------------------------------
    def add_job(self, kind: str, params: dict[str, Any]) -> int:
        now = time.time()
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO jobs (kind, state, params, created, updated) VALUES (?, ?, ?, ?, ?)",
                (kind, "queued", json.dumps(params), now, now))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def update_job(self, job_id: int, **values: Any) -> None:
        unknown = set(values) - {"state", "phase", "done", "total", "fps", "eta", "message",
                                 "output"}
        if unknown:
            raise ValueError(unknown)
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._db() as db:
            db.execute(f"UPDATE jobs SET {columns}, updated = ? WHERE id = ?",
                       (*values.values(), time.time(), job_id))

    def jobs(self) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY id DESC").fetchall()
        return [_job(row) for row in rows]

    def job(self, job_id: int) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise FacedubError(f"no job {job_id}")
        return _job(row)

    def next_queued(self) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
                             ).fetchone()
        return None if row is None else _job(row)

    def fail_interrupted(self) -> int:
        """Jobs left 'running' by a server that stopped: failed, saying so (their staged
        outputs were never moved into place). Queued jobs stay queued and run."""
        with self._db() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'failed', message = ?, updated = ? "
                "WHERE state = 'running'",
                ("the server stopped while this job ran; nothing was kept, start it again",
                 time.time()))
        return cursor.rowcount


def _upload(row: sqlite3.Row) -> Upload:
    return Upload(row["id"], row["name"], row["kind"], row["file"], row["bytes"])


def _job(row: sqlite3.Row) -> dict[str, Any]:
    job = dict(row)
    job["params"] = json.loads(job["params"])
    return job


def _move_or_remove(received: Path, kept: Path) -> None:
    """Move the received file to its content's name; if the move fails (a full disk, a
    permission), remove it before the error goes on: no upload points at it, and it stayed
    in uploads/ for good."""
    try:
        os.replace(received, kept)
    except OSError:
        received.unlink(missing_ok=True)
        raise
