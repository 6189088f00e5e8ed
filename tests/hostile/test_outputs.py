"""Output paths that cannot or must not be written: refused in one line before any work,
inputs untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_cases import Inputs, refused, run_cli, small_tmpfs


def _swap(inputs: Inputs, out: Path, *extra: object) -> list[object]:
    return ["swap", "--source", inputs.photo, "--target", inputs.photo, "-o", out, *extra]


def test_inspect_plot_onto_an_input_is_refused(inputs: Inputs, tmp_path: Path) -> None:
    faceset = tmp_path / "faces"
    shutil.copytree(inputs.faceset, faceset)
    for target in (faceset / "faces.jsonl", faceset / "faceset.json"):
        refused(["inspect", faceset, "--plot", target], target, [faceset], "inside")


def test_inspect_plot_over_an_existing_file_needs_overwrite(inputs: Inputs,
                                                            tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    shutil.copyfile(inputs.photo, photo)
    refused(["inspect", inputs.faceset, "--plot", photo], photo, [inputs.faceset, photo],
            "--overwrite")


def test_inspect_plot_named_other_than_png_is_refused(inputs: Inputs, tmp_path: Path) -> None:
    # The map is a PNG: a .jpg name would have held PNG bytes.
    plot = tmp_path / "map.jpg"
    refused(["inspect", inputs.faceset, "--plot", plot], plot, [inputs.faceset], ".png")


def test_swap_output_inside_the_source_faceset_is_refused(inputs: Inputs,
                                                          tmp_path: Path) -> None:
    faceset = tmp_path / "faces"
    shutil.copytree(inputs.faceset, faceset)
    crop = next((faceset / "faces").glob("*.png"))
    refused(["swap", "--source", faceset, "--target", inputs.photo, "-o", crop, "--overwrite"],
            crop, [faceset, inputs.photo], "inside")


def test_swap_over_an_existing_output_needs_overwrite(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    out.write_bytes(b"an earlier result")
    refused(_swap(inputs, out), out, [inputs.photo], "--overwrite")


@pytest.mark.parametrize(("where", "message"), [
    ("/proc/facedub-test/out.jpg", "does not exist"), ("/proc/out.jpg", "cannot write")])
def test_swap_output_under_proc(inputs: Inputs, where: str, message: str) -> None:
    refused(_swap(inputs, Path(where)), Path(where), [inputs.photo], message)


def test_swap_output_that_is_a_folder(inputs: Inputs, tmp_path: Path) -> None:
    folder = tmp_path / "out.jpg"
    folder.mkdir()
    refused(_swap(inputs, folder, "--overwrite"), folder, [inputs.photo], "folder")


def test_output_names_longer_than_the_filesystem_allows(inputs: Inputs,
                                                        tmp_path: Path) -> None:
    long = tmp_path / ("a" * 300 + ".jpg")
    refused(_swap(inputs, long), long, [inputs.photo], "too long")
    refused(["extract", inputs.photo, "-o", tmp_path / ("b" * 300)], tmp_path / ("b" * 300),
            [inputs.photo], "too long")
    onnx = tmp_path / ("c" * 300 + ".onnx")
    refused(["export", inputs.faceset, "-o", onnx], onnx, [inputs.faceset], "too long")


def test_work_dir_that_is_a_file(inputs: Inputs, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "work"
    not_a_folder.write_text("a file")
    out = tmp_path / "out.jpg"
    refused(_swap(inputs, out, "--work-dir", not_a_folder), out,
            [inputs.photo, not_a_folder], "--work-dir")


def test_read_only_filesystem(inputs: Inputs, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", "1m", "ro") as read_only:
        out = read_only / "out.jpg"
        refused(_swap(inputs, out), out, [inputs.photo], "read-only")
        refused(["extract", inputs.photo, "-o", read_only / "faces"], read_only / "faces",
                [inputs.photo], "read-only")
        refused(["inspect", inputs.faceset, "--plot", read_only / "map.png"],
                read_only / "map.png", [inputs.faceset], "read-only")
        out = tmp_path / "out.jpg"
        refused(_swap(inputs, out, "--work-dir", read_only / "work"), out, [inputs.photo],
                "read-only")


def test_bogus_x264_preset(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    refused(["swap", "--source", inputs.photo, "--target", inputs.clip, "-o", out,
             "--preset", "bogus"], out, [inputs.photo, inputs.clip], "--preset bogus")


def test_eval_refused_leaves_no_folder(inputs: Inputs, tmp_path: Path) -> None:
    report = tmp_path / "report"
    refused(["eval", "--source", inputs.photo, "--target", inputs.clip, "--swapped",
             tmp_path / "missing.mp4", "-o", report], report, [inputs.photo, inputs.clip],
            "no such file")


def test_version_and_a_clean_refusal_cost_little(inputs: Inputs) -> None:
    outcome = run_cli(["--version"])
    assert outcome.code == 0 and outcome.output.startswith("facedub ")
