"""Round 45: `extract -o a/missing/faces` created a/missing (and every folder above it that
was missing) while `swap -o a/missing/out.mp4` was refused. Every command's -o now agrees:
facedub creates the output itself (a file, or the one folder -o names), never the folders
above it; a missing one is refused in one line that says to create it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_cases import Inputs, refused, run_cli

from facedub.fsutil import check_writable_output


def _commands(inputs: Inputs, out: Path, jobs: Path) -> dict[str, list[object]]:
    return {
        "swap": ["swap", "--source", inputs.photo, "--target", inputs.photo, "-o",
                 out.with_suffix(".jpg")],
        "extract": ["extract", inputs.photo, "-o", out],
        "train": ["train", inputs.faceset, inputs.faceset, "-o", out],
        "refine": ["refine", inputs.clip, "-o", out],
        "eval": ["eval", "--source", inputs.photo, "--target", inputs.photo, "--swapped",
                 inputs.photo, "-o", out],
        "batch": ["batch", jobs, "-o", out],
        "export": ["export", inputs.faceset, "-o", out.with_suffix(".onnx")],
    }


@pytest.mark.parametrize("command", ["swap", "extract", "train", "refine", "eval", "batch",
                                     "export"])
def test_an_output_in_a_missing_folder_is_refused_by_every_command(
        inputs: Inputs, tmp_path: Path, command: str) -> None:
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(f'[[job]]\nsource = "{inputs.photo}"\ntarget = "{inputs.photo}"\n',
                    encoding="utf-8")
    missing = tmp_path / "missing"
    args = _commands(inputs, missing / "deeper" / "out", jobs)[command]
    output = Path(str(args[-1]))
    refused(args, output, [inputs.photo, inputs.faceset, inputs.clip],
            f"the folder {output.parent} does not exist; create it")  # main: extract,
    assert not missing.exists()  # train, refine, eval and batch created it


def test_an_output_folder_in_an_existing_folder_is_still_created(inputs: Inputs,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "faces"
    outcome = run_cli(["extract", inputs.photo, "-o", out])
    assert outcome.code == 0, outcome.output
    assert (out / "faceset.json").is_file()


def test_a_work_folder_is_created_with_its_parents(tmp_path: Path) -> None:
    # The default work folder lies under the user's cache folder, which a first run may
    # not have: its parents are made (`parents=True`), an -o's never.
    work = tmp_path / "cache" / "facedub" / "work"
    check_writable_output(work, "--work-dir", folder=True, parents=True)
    assert not (tmp_path / "cache").exists()  # checked only: made when first used
