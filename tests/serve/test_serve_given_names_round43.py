"""Round 43's review: an engine's or analysis's refusal reached the browser with the
server's path ("/srv/work/uploads/9e5c3593d11a288c.jpg: its face is turned 55 degrees"),
from the preview, the persons and the live socket; only the jobs renamed it. Every one
names the file as the user named it now."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from serve_support import send_request

from facedub.engines.mesh import MeshEngineConfig
from facedub.errors import FacedubError
from facedub.serve import work as serve_work
from facedub.serve.app import ServeConfig, create_app
from facedub.serve.store import Store, Upload
from facedub.serve.work import Workbench

TURNED = "its face is turned 55 degrees"


def _refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine refuses its source, naming the file it was given (as mesh_usable
    does); the analysis hands back a stand-in."""
    def engine(faceset: Any, config: Any, source_path: Path, **kwargs: Any) -> Any:
        raise FacedubError(f"{source_path}: {TURNED}")

    monkeypatch.setattr(serve_work, "analysed", lambda path, *a, **k: SimpleNamespace(root=path))
    monkeypatch.setattr(serve_work, "MeshEngine", engine)
    monkeypatch.setattr(serve_work, "cache_folder", lambda *a: None)


def _upload(app: Any, tmp_path: Path, name: str) -> str:
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (96, 96), (120, 100, 90)).save(photo)
    response = send_request(app, "POST", "/api/upload", content=photo.read_bytes(),
                     headers={"x-filename": name})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_the_preview_names_a_refused_source_as_uploaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refusing(monkeypatch)
    app = create_app(ServeConfig(tmp_path / "work", tmp_path / "config"))
    source = _upload(app, tmp_path, "my profile.jpg")
    target = _upload(app, tmp_path, "target.jpg")
    response = send_request(app, "POST", "/api/preview",
                     json={"source": source, "target": target, "frame": 0})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": f"my profile.jpg: {TURNED}"}


def test_the_persons_name_a_refused_target_as_uploaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def damaged(path: Path, *args: Any, **kwargs: Any) -> Any:
        raise FacedubError(f"{path}: only 11 of the 45 frames decode")

    monkeypatch.setattr(serve_work, "analysed", damaged)
    app = create_app(ServeConfig(tmp_path / "work", tmp_path / "config"))
    target = _upload(app, tmp_path, "holiday.jpg")
    response = send_request(app, "GET", f"/api/uploads/{target}/persons")
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "holiday.jpg: only 11 of the 45 frames decode"}


def test_the_engine_the_live_socket_makes_names_its_source_as_uploaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refusing(monkeypatch)
    store = Store(tmp_path / "work")
    upload_id, path = store.new_upload_file(".jpg")
    Image.new("RGB", (96, 96)).save(path)
    store.add_upload(Upload(upload_id, "side.jpg", "photo", path.name, path.stat().st_size))
    with pytest.raises(FacedubError) as refused:
        Workbench(store, tmp_path / "config").engine(upload_id, MeshEngineConfig())
    assert str(refused.value) == f"side.jpg: {TURNED}"
