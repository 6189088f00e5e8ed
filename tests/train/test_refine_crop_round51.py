"""`refine --stage composited` (train/refine_crop.py): a refiner of the compositor's
finished crop, trained on the source video's own halves swapped and composited, its best
state chosen on the composited held-out stretch; resume, refusal, export."""

import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.engines.refiner import open_crop_refiner
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.crop_refiner_run import (
    read_crop_refiner_info,
    read_trained_light,
    refiner_stage,
)
from facedub.models.export import onnx_metadata
from facedub.models.refiner_export import (
    COMPOSITED_ONNX_VERSION,
    REFINER_ONNX_FORMAT,
    REFINER_ONNX_VERSION,
    export_refiner_onnx,
    read_refiner_onnx_info,
)
from facedub.models.refiner_run import COMPOSITED_METRIC, COMPOSITED_STAGE, read_best
from facedub.models.run import read_state
from facedub.progress import NoProgress
from facedub.train.refine import RefineRun
from facedub.train.refine_composited import HELDOUT_FOLDER
from facedub.train.refine_crop import CropRefineConfig, refine_composited_stage
from facedub.train.refine_crop_loss import patches

D3 = "clip_liveportrait_d3_woman_headturn.mp4"  # d3_short's clip (conftest)
Pair = tuple[Faceset, Faceset]
runner = CliRunner()


def tiny(**overrides: int | float) -> CropRefineConfig:
    settings: dict[str, int | float] = {"steps": 4, "minutes": 0.0, "batch": 2,
                                        "save_every": 2, "validate_every": 2, "log_every": 2,
                                        "holdout_share": 0.2}
    settings.update(overrides)
    return CropRefineConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(d3_short: Faceset, faces_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[RefineRun, Path, Path]:
    """A tiny composited-stage refiner of the d3 clip's first 30 frames: (result, folder,
    work folder)."""
    root = tmp_path_factory.mktemp("crop")
    result = refine_composited_stage(d3_short, root / "refiner", tiny(), faces_dir / D3,
                                     root / "work")
    return result, root / "refiner", root / "work"


def _log(folder: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def test_a_tiny_run_on_real_frames_keeps_the_best_composited_state(
        trained: tuple[RefineRun, Path, Path]) -> None:
    result, folder, work = trained
    assert refiner_stage(folder) == COMPOSITED_STAGE
    assert read_crop_refiner_info(folder).arch == "crop-conv"
    state = read_state(folder)
    assert state is not None and state.step == 4 == result.step
    checks = [entry for entry in _log(folder) if "composited_refined" in entry]
    # Step 0 is the identity: the mesh engine's own faces, to the bit.
    assert [entry["step"] for entry in checks] == [0, 2, 4]
    assert checks[0]["composited_refined"] == checks[0]["composited_mesh"]
    assert len({entry["composited_mesh"] for entry in checks}) == 1
    best = read_best(folder)
    assert best is not None and best == result.best
    assert best.metric == COMPOSITED_METRIC and best.baseline is not None
    top = max(checks, key=lambda entry: entry["composited_refined"])
    assert best.score == pytest.approx(top["composited_refined"], abs=1e-4)
    assert 0.5 < best.baseline < 0.999
    assert result.verdict() is not None
    # The run has ended: its cuts (the stretch's and the halves') are gone.
    assert not any((work / HELDOUT_FOLDER).glob("*/*.mp4"))


def test_a_resume_goes_on_from_the_saved_step(
        d3_short: Faceset, faces_dir: Path, trained: tuple[RefineRun, Path, Path],
        tmp_path: Path) -> None:
    _, folder, work = trained
    resumed = tmp_path / "refiner"
    shutil.copytree(folder, resumed)
    result = refine_composited_stage(d3_short, resumed, tiny(steps=6), faces_dir / D3, work)
    assert result.step == 6
    steps = [entry["step"] for entry in _log(resumed) if "loss" in entry]
    assert steps == [2, 4, 6]  # the first run's lines kept, once each
    # Already there: nothing trained, nothing made.
    again = refine_composited_stage(d3_short, resumed, tiny(steps=6), faces_dir / D3, work)
    assert again.step == 6 and again.validation == {}


def test_the_patches_are_the_same_for_the_same_seed_and_step(
        trained: tuple[RefineRun, Path, Path]) -> None:
    """A resumed run draws what it would have drawn (the rng is a pure function of the
    seed and the step)."""
    from facedub.train.refine_crop_loss import TrainingFace

    rng = np.random.default_rng(0)
    faces = [TrainingFace(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8),
                          np.ones((96, 96), np.float16),
                          rng.integers(0, 255, (96, 96, 3), dtype=np.uint8),
                          np.ones((96, 96), bool)) for _ in range(3)]
    one = patches(faces, 4, np.random.default_rng([0, 7, 3]))
    two = patches(faces, 4, np.random.default_rng([0, 7, 3]))
    assert all(bool((getattr(one, name) == getattr(two, name)).all())
               for name in ("shown", "alpha", "truth", "seen", "weight"))
    assert one.shown.shape == (4, 3, 96, 96) and one.alpha.shape == (4, 1, 96, 96)


def test_another_source_is_refused(pair: Pair, faces_dir: Path,
                                   trained: tuple[RefineRun, Path, Path]) -> None:
    _, folder, work = trained
    with pytest.raises(FacedubError, match="refined for person"):
        refine_composited_stage(pair[1], folder, tiny(steps=8), faces_dir / D3, work)


@pytest.mark.parametrize("kept", [None, 0.5])
def test_a_folder_trained_under_another_loss_is_refused(
        d3_short: Faceset, faces_dir: Path, trained: tuple[RefineRun, Path, Path], tmp_path: Path,
        kept: float | None) -> None:
    """A fifty-first round folder (its whole correction's loss: no `sharpness_weight` in
    its settings) or one of another weight is refused, not resumed under another loss
    (review, fifty-second round); the folder is left as it was."""
    _, folder, work = trained
    older = tmp_path / "refiner"
    shutil.copytree(folder, older)
    config = json.loads((older / "config.json").read_text())
    if kept is None:
        del config["refine_settings"]["sharpness_weight"]
    else:
        config["refine_settings"]["sharpness_weight"] = kept
    (older / "config.json").write_text(json.dumps(config))
    before = sorted((p.name, p.stat().st_mtime_ns) for p in older.iterdir())
    with pytest.raises(FacedubError, match="choose a new -o folder"):
        refine_composited_stage(d3_short, older, tiny(steps=6), faces_dir / D3, work)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in older.iterdir()) == before


def test_the_stage_of_a_folder_is_kept_on_the_command_line(
        trained: tuple[RefineRun, Path, Path], faces_dir: Path) -> None:
    _, folder, _ = trained
    result = runner.invoke(app, ["refine", str(faces_dir / D3), "-o", str(folder),
                                 "--stage", "mesh"])
    assert result.exit_code != 0
    assert "was refined with --stage composited" in result.output


def test_the_composited_stage_needs_a_video(pair: Pair, tmp_path: Path) -> None:
    result = runner.invoke(app, ["refine", str(pair[0].root), "-o", str(tmp_path / "r"),
                                 "--stage", "composited"])
    assert result.exit_code != 0
    assert "give the source video" in result.output
    assert not (tmp_path / "r").exists()


def test_export_writes_a_composited_stage_onnx(trained: tuple[RefineRun, Path, Path],
                                               tmp_path: Path) -> None:
    _, folder, _ = trained
    out = tmp_path / "crop.onnx"
    export_refiner_onnx(folder, out)
    info = read_refiner_onnx_info(out)
    best = read_best(folder)
    assert info.stage == COMPOSITED_STAGE and info.reach == 4
    assert best is not None and info.step == best.step
    assert info.light is not None and info.light == read_trained_light(folder)


def test_the_run_keeps_the_light_of_its_training_faces(trained: tuple[RefineRun, Path, Path]
                                                       ) -> None:
    """light.json (fifty-fourth round): the lowest and highest mean L* of the training
    faces, which the swap's folder opens with (and gates the band by)."""
    _, folder, _ = trained
    light = read_trained_light(folder)
    assert light is not None and 5.0 < light.low <= light.high < 95.0
    opened = open_crop_refiner(folder)
    assert opened is not None and opened.light == light


def test_an_older_facedub_refuses_the_composited_export(trained: tuple[RefineRun, Path, Path],
                                                         tmp_path: Path) -> None:
    """The composited stage's export is version 2: a facedub that reads only the mesh
    stage's version 1 refuses it, saying to export it again, instead of reading it as a
    mesh-stage refiner of 0 px; and a version-1 file that says "composited" is refused."""
    import onnx

    _, folder, _ = trained
    out = tmp_path / "crop.onnx"
    export_refiner_onnx(folder, out)
    with pytest.raises(FacedubError, match=r"version 2 is not supported.*export it again"):
        onnx_metadata(out, REFINER_ONNX_FORMAT, REFINER_ONNX_VERSION)  # an older reader
    assert onnx_metadata(out, REFINER_ONNX_FORMAT, COMPOSITED_ONNX_VERSION)["stage"] == \
        COMPOSITED_STAGE
    proto = onnx.load(str(out))
    for prop in proto.metadata_props:
        if prop.key == "version":
            prop.value = str(REFINER_ONNX_VERSION)
    relabelled = tmp_path / "relabelled.onnx"
    onnx.save(proto, str(relabelled))
    with pytest.raises(FacedubError, match="export it again"):
        read_refiner_onnx_info(relabelled)


class _TermAtStep(NoProgress):
    """Progress that sends this process SIGTERM when the training bar reaches `step`
    (in the main thread, so the run's own handler takes it before the next step): a
    SIGTERM at a known step, whatever the machine's speed."""

    def __init__(self, step: int) -> None:
        self.step, self.count, self.training = step, 0, False

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        del total, unit
        self.training = description.startswith("refine")
        self.count = 0

    def advance(self, steps: int = 1) -> None:
        if not self.training:
            return
        self.count += steps
        if steps and self.count == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_sigterm_keeps_a_checkpoint_and_the_same_command_resumes(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path) -> None:
    folder, work = tmp_path / "refiner", tmp_path / "work"
    stopped = refine_composited_stage(d3_short, folder, tiny(steps=6), faces_dir / D3, work,
                                      _TermAtStep(3))
    assert stopped.stopped == "SIGTERM" and stopped.step == 3
    state = read_state(folder)
    assert state is not None and state.step == 3  # saved between save_every's steps
    assert not list(folder.glob("*.next.*")) and not list(folder.glob(".*partial*"))
    assert any((work / HELDOUT_FOLDER).glob("*/*.mp4"))  # its cuts kept to resume
    resumed = refine_composited_stage(d3_short, folder, tiny(steps=6), faces_dir / D3, work)
    assert resumed.stopped is None and resumed.step == 6
    assert [entry["step"] for entry in _log(folder) if "loss" in entry] == [2, 4, 6]
    assert not any((work / HELDOUT_FOLDER).glob("*/*.mp4"))


@pytest.mark.parametrize("kind", ["folder", "onnx"])
def test_the_swap_refuses_it_for_another_source(pair: Pair, d3_short: Faceset, kind: str,
                                                trained: tuple[RefineRun, Path, Path],
                                                tmp_path: Path) -> None:
    """`swap --refiner` with a composited-stage refiner (its folder or its export) of the
    woman's clip and the man's source: refused when the engine is built, before a frame."""
    from facedub.engines.base import EngineFacts
    from facedub.engines.refiner import load_refined_engine

    _, folder, _ = trained
    path = folder
    if kind == "onnx":
        path = tmp_path / "crop.onnx"
        export_refiner_onnx(folder, path)

    class _Base:
        coverage = pair[1].meta.coverage
        facts = EngineFacts("mesh", {}, ())
        crop_size = 64

    with pytest.raises(FacedubError, match="refined for person"):
        load_refined_engine(_Base(), pair[1], path)  # type: ignore[arg-type]
    class _Own(_Base):
        coverage = d3_short.meta.coverage

    assert load_refined_engine(_Own(), d3_short, path) is not None  # type: ignore[arg-type]
