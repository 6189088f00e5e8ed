"""Round 46: `facedub serve` on a work folder whose job database is damaged (a disk that
filled, a copy cut short) or not a database ended in a traceback and exit 1. It is now one
line saying which file and what to do, exit 2; nothing else in the folder is touched."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.errors import FacedubError
from facedub.serve.store import DATABASE, Store


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _made(folder: Path) -> Path:
    store = Store(folder)
    store.add_job("swap", {"source": "s", "target": "t"})
    return folder / DATABASE


@pytest.mark.parametrize("damage", ["cut short", "not a database"])
def test_a_damaged_job_database_is_one_line_that_says_what_to_do(
        tmp_path: Path, damage: str) -> None:
    database = _made(tmp_path / "made")
    work = tmp_path / "work"
    shutil.copytree(tmp_path / "made", work)
    damaged = (database.read_bytes()[:5000] if damage == "cut short"
               else b"these are not the jobs you are looking for\n" * 50)
    (work / DATABASE).write_bytes(damaged)
    with pytest.raises(FacedubError, match="the job database is damaged"):
        Store(work)  # main: sqlite3.DatabaseError
    result = CliRunner().invoke(app, ["serve", "--work-dir", str(work), "--port",
                                      str(_free_port())])
    assert result.exit_code == 2, result.output  # main: 1, a traceback
    (line,) = result.output.strip().splitlines()
    assert f"{work / DATABASE}: the job database is damaged" in line
    assert "move it aside" in line
    assert (work / DATABASE).read_bytes() == damaged  # left for the user to look at
