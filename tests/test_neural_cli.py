"""The neural engine end to end through the command line: train, export, swap."""

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facedub import media
from facedub.cli import app
from facedub.faceset import Faceset
from facedub.provenance import verify

runner = CliRunner()
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def _run(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def run_folder(extracted: Callable[..., Faceset],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = extracted("clip_liveportrait_d3_woman_headturn.mp4", max_frames=60, crop_size=128)
    target = extracted(KATIE, max_frames=40, crop_size=128)
    run = tmp_path_factory.mktemp("neural") / "run"
    output = _run("train", source.root, target.root, "-o", run, "--steps", "3", "--batch",
                  "2", "--device", "cpu", "--threads", "1")
    assert "trained to step 3" in output
    return run


@pytest.mark.parametrize("exported", [False, True])
def test_train_export_and_swap_a_video(run_folder: Path, exported: bool,
                                       short_clip: Callable[[str, float], Path],
                                       tmp_path: Path) -> None:
    model = run_folder
    if exported:
        model = tmp_path / "swap.onnx"
        _run("export", run_folder, "-o", model)
    target = short_clip(KATIE, 1.0)
    out = tmp_path / "swapped.mp4"
    _run("swap", "--engine", "neural", "--model", model, "--target", target, "-o", out)
    before, after = media.probe(target), media.probe(out)
    assert after.frame_count == before.frame_count
    assert (after.width, after.height, after.fps) == (before.width, before.height, before.fps)
    assert after.has_audio
    marks = verify(out)
    assert marks.exit_code == 0 and marks.manifest.valid
    roles = {fact.role for fact in marks.manifest.facts.inputs}  # type: ignore[union-attr]
    assert roles == {"model", "target"}
