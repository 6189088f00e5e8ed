"""An evaluation job's failure names the swap's result as the browser knows it
("job3-....mp4"), not the server's results folder (left by round 43's review)."""

from __future__ import annotations

from pathlib import Path

from facedub.serve.store import RESULTS, Store
from facedub.serve.work import _under_given_names


def test_an_evaluation_failure_names_the_result_not_the_server_folder(tmp_path: Path) -> None:
    store = Store(tmp_path / "work")
    swap_job = store.add_job("swap", {"source": "a" * 16, "target": "b" * 16})
    job = store.job(store.add_job("eval", {"swap_job": swap_job}))
    result = store.folder(RESULTS) / f"job{swap_job}-{'b' * 16}.mp4"
    said = _under_given_names(f"{result}: no such file; check the path", store, job)
    assert said == f"job{swap_job}-{'b' * 16}.mp4: no such file; check the path"
    assert str(tmp_path) not in said
