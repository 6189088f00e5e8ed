"""Round 39: a faceset or run folder that is missing, or a file given for one, is named as
what it is. Both were "not a faceset (faceset.json missing)" / "not a facedub run
(config.json missing)": a mistyped path sent no one to check it, and a photo given for a
faceset was not told to extract it first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub.cli import app


def _run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output.strip()


@pytest.mark.parametrize("command", ["inspect", "train"])
def test_a_missing_faceset_says_to_check_the_path(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "faces"
    args = [missing] if command == "inspect" else [missing, missing, "-o", tmp_path / "run"]
    assert _run(command, *args) == (2, f"error: {missing}: no such folder, so not a faceset; "
                                       "check the path, or create one with `facedub "
                                       "extract MEDIA -o FOLDER`")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_photo_given_for_a_faceset_says_to_extract_it(faces_dir: Path,
                                                       tmp_path: Path) -> None:
    photo = tmp_path / "biden.jpg"
    shutil.copy(faces_dir / "still_biden_frontal.jpg", photo)
    assert _run("inspect", photo) == (2, f"error: {photo}: a file, not a faceset folder; "
                                         f"create one from it with `facedub extract {photo} "
                                         "-o FOLDER`")


def test_export_of_a_missing_run_or_a_file_names_it(tmp_path: Path) -> None:
    missing, file = tmp_path / "run", tmp_path / "notes.txt"
    file.write_text("not a run")
    assert _run("export", missing, "-o", tmp_path / "a.onnx") == (
        2, f"error: {missing}: no such folder; check the path")
    assert _run("export", file, "-o", tmp_path / "a.onnx") == (
        2, f"error: {file}: a file; give the folder `facedub train -o` or `facedub refine -o` "
           "wrote")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_unknown_device_is_refused_with_the_mesh_engine_too(faces_dir: Path,
                                                               tmp_path: Path) -> None:
    # Without a refiner the mesh engine runs no network: "--device quantum" was accepted.
    photo = faces_dir / "still_biden_frontal.jpg"
    out = tmp_path / "out.jpg"
    assert _run("swap", "--source", photo, "--target", photo, "-o", out, "--device",
                "quantum") == (2, "error: --device quantum: use one of auto, cpu, cuda, mps")
    assert not out.exists()
