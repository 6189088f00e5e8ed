"""Round 43: a source the engine refuses (a profile photo: every face turned 45 degrees
or more) was said after the job had analysed the whole target (14.5 s on a 40-frame
cut); the swap job and the preview make the engine first now, and close it on every
path."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from facedub.errors import FacedubError
from facedub.serve import work as serve_work
from facedub.serve.store import Store, Upload
from facedub.serve.work import JobProgress, SwapRequest, Workbench

REFUSAL = "every face of the source is turned 45 degrees or more"


def _photo_upload(store: Store, name: str) -> str:
    upload_id, path = store.new_upload_file(".jpg")
    Image.new("RGB", (96, 96), (120, 100, 90)).save(path)
    store.add_upload(Upload(upload_id, name, "photo", path.name, path.stat().st_size))
    return upload_id


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Workbench, list[str]]:
    """A workbench whose analyses are only noted (the source's stands in) and whose
    engine refuses every source."""
    analysed: list[str] = []

    def noted(path: Path, *args: Any, **kwargs: Any) -> Any:
        analysed.append(Path(path).stem)
        return SimpleNamespace(root=tmp_path / "source-faces")

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise FacedubError(REFUSAL)

    monkeypatch.setattr(serve_work, "analysed", noted)
    monkeypatch.setattr(serve_work, "MeshEngine", refused)
    return Workbench(Store(tmp_path / "work"), tmp_path / "config"), analysed


def _request(store: Store) -> SwapRequest:
    return SwapRequest.from_json({"source": _photo_upload(store, "profile.jpg"),
                                  "target": _photo_upload(store, "target.jpg")})


def test_a_refused_source_fails_the_swap_job_before_the_target_is_analysed(
        bench: tuple[Workbench, list[str]]) -> None:
    workbench, analysed = bench
    request = _request(workbench.store)
    progress = JobProgress(workbench.store, 1, threading.Event())
    with pytest.raises(FacedubError, match="45 degrees"):
        workbench.run_swap(1, request, progress)
    assert analysed == [request.source]  # never the target's


def test_a_refused_source_fails_the_preview_before_the_target_is_analysed(
        bench: tuple[Workbench, list[str]]) -> None:
    workbench, analysed = bench
    request = _request(workbench.store)
    with pytest.raises(FacedubError, match="45 degrees"):
        workbench.preview(request, 0)
    assert analysed == [request.source]


class _Engine:
    closed = 0

    def close(self) -> None:
        _Engine.closed += 1


def test_the_engine_is_closed_when_the_targets_analysis_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbench = Workbench(Store(tmp_path / "work"), tmp_path / "config")
    monkeypatch.setattr(Workbench, "engine", lambda self, source, config: _Engine())

    def damaged(self: Workbench, upload_id: str, progress: Any = None) -> Any:
        raise FacedubError("the target is damaged")

    monkeypatch.setattr(Workbench, "target", damaged)
    request = _request(workbench.store)
    _Engine.closed = 0
    with pytest.raises(FacedubError, match="damaged"):
        workbench.run_swap(1, request, JobProgress(workbench.store, 1, threading.Event()))
    with pytest.raises(FacedubError, match="damaged"):
        workbench.preview(request, 0)
    assert _Engine.closed == 2
