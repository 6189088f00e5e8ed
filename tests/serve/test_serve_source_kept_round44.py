"""Round 44 (review): the web app keeps a source's analysis in memory and never stamped
it; a month on, another analysis pruned its folder and the next preview failed
'faces/000000_00.png: missing or unreadable; the faceset is damaged'."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from facedub.engines.mesh import MeshEngineConfig
from facedub.extract import workspace
from facedub.extract.workspace import UNUSED_SECONDS
from facedub.serve import work as serve_work
from facedub.serve.store import Store, Upload
from facedub.serve.work import Workbench


class _Clean:
    def scores(self, image: Any) -> dict[str, float]:
        del image
        return {}


def _upload(store: Store, photo: Path) -> str:
    upload_id, path = store.new_upload_file(".jpg")
    shutil.copyfile(photo, path)
    store.add_upload(Upload(upload_id, photo.name, "photo", path.name, path.stat().st_size))
    return upload_id


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    """A workbench whose analyses skip the content model and whose engine is its
    source faceset."""
    def analysed(*args: Any, **kwargs: Any) -> Any:
        return workspace.analysed(*args, **kwargs, detector=_Clean())

    monkeypatch.setattr(serve_work, "analysed", analysed)
    monkeypatch.setattr(serve_work, "MeshEngine",
                        lambda faceset, *args, **kwargs: faceset)
    return Workbench(Store(tmp_path / "work"), tmp_path / "config")


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_source_kept_in_memory_survives_a_month_of_use(bench: Workbench,
                                                         faces_dir: Path) -> None:
    source = _upload(bench.store, faces_dir / "still_paul_rudd_frontal_studio.jpg")
    faceset: Any = bench.engine(source, MeshEngineConfig())
    _age(faceset.root, UNUSED_SECONDS + 3600)  # a month on, used daily from memory
    assert bench.engine(source, MeshEngineConfig()) is faceset
    bench.target(_upload(bench.store, faces_dir / "still_biden_frontal.jpg"))  # prunes
    assert faceset.load_image(faceset.faces_of()[0]).ndim == 3


def test_a_source_whose_analysis_is_gone_is_analysed_again(bench: Workbench,
                                                           faces_dir: Path) -> None:
    source = _upload(bench.store, faces_dir / "still_paul_rudd_frontal_studio.jpg")
    faceset: Any = bench.engine(source, MeshEngineConfig())
    shutil.rmtree(faceset.root)  # pruned before this use's stamp, or removed by hand
    again: Any = bench.engine(source, MeshEngineConfig())
    assert again.load_image(again.faces_of()[0]).ndim == 3
