"""Round 48: the same file uploaded twice (or once per target, as one source photo for two
targets) was two files in uploads/, named by upload id, and the analysis (keyed by the
file's name and content) was made twice: 14 s again for a 40-frame clip. The uploads'
bytes are now kept by content. Round 49: and the same file is one upload, listed once
(the second upload is answered with the first's entry, `Store.add_upload`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from serve_support import send_request

from facedub.engines.mesh import MeshEngineConfig
from facedub.extract import workspace
from facedub.serve import work as serve_work
from facedub.serve.app import ServeConfig, create_app
from facedub.serve.store import PERSONS, UPLOADS, Store, Upload
from facedub.serve.work import Workbench

PHOTO = "still_paul_rudd_frontal_studio.jpg"


class _Clean:
    def scores(self, image: Any) -> dict[str, float]:
        del image
        return {}


@pytest.fixture(autouse=True)
def _quick_analyses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real analyses, less the content model (its own tests cover it); the engine is its
    source faceset."""
    def analysed(*args: Any, **kwargs: Any) -> Any:
        return workspace.analysed(*args, **kwargs, detector=_Clean())

    monkeypatch.setattr(serve_work, "analysed", analysed)
    monkeypatch.setattr(serve_work, "MeshEngine", lambda faceset, *args, **kwargs: faceset)


def _upload(app: Any, content: bytes, name: str) -> str:
    response = send_request(app, "POST", "/api/upload", content=content,
                     headers={"x-filename": name})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _analyses(work: Path) -> list[str]:
    return sorted(entry.name for entry in (work / "analyses").iterdir()
                  if entry.is_dir() and not entry.name.startswith("."))


def test_a_file_uploaded_twice_is_analysed_once(tmp_path: Path, faces_dir: Path) -> None:
    work = tmp_path / "work"
    app = create_app(ServeConfig(work, tmp_path / "config"))
    photo = (faces_dir / PHOTO).read_bytes()
    first = _upload(app, photo, "me.jpg")
    again = send_request(app, "POST", "/api/upload", content=photo,
                         headers={"x-filename": "me again.jpg"}).json()
    # Round 49: one entry per file; the second upload is answered with the first's
    # (listed twice, the two names read as two files).
    assert again == {"id": first, "name": "me.jpg", "kind": "photo", "bytes": len(photo),
                     "already": True}
    listed = {u["id"]: u["name"] for u in send_request(app, "GET", "/api/uploads").json()}
    assert listed == {first: "me.jpg"}

    response = send_request(app, "GET", f"/api/uploads/{first}/persons")
    assert response.status_code == 200, response.text
    assert [p["person"] for p in response.json()] == [0]
    assert len(_analyses(work)) == 1
    assert sorted(p.name for p in (work / PERSONS).iterdir()) == [f"{first}-0.jpg"]
    assert len(list((work / UPLOADS).iterdir())) == 1  # the bytes once, nothing left over

    # As a source, for two targets: the analysis in hand, not another.
    bench = Workbench(Store(work), tmp_path / "config")
    source: Any = bench.engine(first, MeshEngineConfig())
    assert bench.engine(first, MeshEngineConfig()) is source
    assert len(_analyses(work)) == 2  # the target's and the source's


def test_a_work_folder_with_one_file_uploaded_twice_lists_it_once(
        tmp_path: Path, faces_dir: Path) -> None:
    """A forty-eighth round's work folder may hold two uploads of one file: listed once
    (the first), the second still reachable by id for its jobs."""
    store = Store(tmp_path / "work")
    kept = store.folder(UPLOADS) / "content.jpg"
    kept.write_bytes((faces_dir / PHOTO).read_bytes())
    for upload_id, name in (("a1", "me.jpg"), ("b2", "me again.jpg")):
        with store._db() as db:  # as round 48 wrote them: no look-up first
            db.execute("INSERT INTO uploads VALUES (?, ?, 'photo', 'content.jpg', 1, ?)",
                       (upload_id, name, float(len(upload_id + name))))
    assert [(u.id, u.name) for u in store.uploads()] == [("a1", "me.jpg")]
    assert store.upload("b2").name == "me again.jpg"
    other = store.folder(UPLOADS) / "other.jpg"
    other.write_bytes(b"x")
    added = store.add_upload(Upload("c3", "other.jpg", "photo", other.name, 1))
    assert added.id == "c3" and [u.id for u in store.uploads()] == ["a1", "c3"]


def test_different_files_stay_apart(tmp_path: Path, faces_dir: Path) -> None:
    """Keyed by content: a photo with one byte more is another file."""
    work = tmp_path / "work"
    app = create_app(ServeConfig(work, tmp_path / "config"))
    photo = (faces_dir / PHOTO).read_bytes()
    _upload(app, photo, "me.jpg")
    _upload(app, photo + b"\0", "me.jpg")
    assert len(list((work / UPLOADS).iterdir())) == 2


def test_a_received_file_is_kept_whole_and_never_over_another(tmp_path: Path) -> None:
    """Two uploads of one content at once: the first kept file stays (its inode: a swap
    may be reading it), the second's received file goes; nothing else is left."""
    store = Store(tmp_path / "work")
    _, first = store.new_upload_file(".jpg")
    _, second = store.new_upload_file(".jpg")
    first.write_bytes(b"same bytes")
    second.write_bytes(b"same bytes")
    digest = "ab" * 32
    name = store.keep_by_content(first, digest)
    inode = (store.folder(UPLOADS) / name).stat().st_ino
    assert store.keep_by_content(second, digest) == name == f"{digest[:32]}.jpg"
    assert (store.folder(UPLOADS) / name).stat().st_ino == inode
    assert [p.name for p in store.folder(UPLOADS).iterdir()] == [name]


def test_a_failed_move_leaves_no_received_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Review R of round 48, D2: on a file system without hard links the received file is
    moved to its content's name; when that move failed too (a full disk, a permission),
    the id-named received file stayed in uploads/ with no upload pointing at it."""
    store = Store(tmp_path / "work")
    _, received = store.new_upload_file(".jpg")
    received.write_bytes(b"some bytes")

    def no_links(source: Path, link: Path) -> None:
        raise OSError(1, "Operation not permitted")

    def no_room(source: Path, destination: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(os, "replace", no_room)
    with pytest.raises(OSError, match="No space left"):
        store.keep_by_content(received, "cd" * 32)
    assert list(store.folder(UPLOADS).iterdir()) == []  # was: the received file
