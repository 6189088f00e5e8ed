"""One NudeNet and one identity model for a swap's two analyses (source and target): each
loaded once, on first use, and both inputs still checked and described."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facedub.cli import app
from facedub.engines.registry import EngineRequest, open_engine
from facedub.extract import extract, models
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.safety import EXPLICIT_CLASSES, ExplicitContentError
from facedub.faces.identity import IdentityEncoder
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target

SOURCE, TARGET = "still_biden_frontal.jpg", "still_rose_leslie_frontal.jpg"


class _Loads:
    """Counts the models `AnalysisModels` loads; its detector scores `score` on every
    image it is given (and remembers their shapes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, score: float = 0.0) -> None:
        self.detectors = 0
        self.encoders = 0
        self.checked: list[tuple[int, ...]] = []
        loads = self

        class Detector:
            def __init__(self) -> None:
                loads.detectors += 1

            def scores(self, image: np.ndarray) -> dict[str, float]:
                loads.checked.append(image.shape)
                return {label: score for label in EXPLICIT_CLASSES}

        class Encoder(IdentityEncoder):
            def __init__(self) -> None:
                super().__init__()
                loads.encoders += 1

        monkeypatch.setattr(models, "NudeNetDetector", Detector)
        monkeypatch.setattr(models, "IdentityEncoder", Encoder)


def test_a_source_and_a_target_share_one_of_each_model(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _Loads(monkeypatch)
    shared = AnalysisModels()
    work = tmp_path / "work"
    engine = open_engine("mesh", EngineRequest(work, faces_dir / SOURCE, models=shared))
    try:
        faceset = analyse_target(faces_dir / TARGET, SwapConfig(work, tmp_path / "config"),
                                 NoProgress(), models=shared)
    finally:
        engine.close()
    assert (loads.detectors, loads.encoders) == (1, 1)
    assert len(loads.checked) == 2  # both photos checked, each whole
    assert faceset.records[0].descriptor is not None  # and the target described


def test_the_shared_detector_still_refuses(faces_dir: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _Loads(monkeypatch, score=0.9)
    with pytest.raises(ExplicitContentError, match="refused"):
        analyse_target(faces_dir / TARGET, SwapConfig(tmp_path / "work", tmp_path / "c"),
                       NoProgress(), models=AnalysisModels())


def test_the_swap_command_loads_each_model_once(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _Loads(monkeypatch)
    monkeypatch.setenv("FACEDUB_CONFIG_DIR", str(tmp_path / "config"))
    out = tmp_path / "out.jpg"
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / SOURCE), "--target", str(faces_dir / TARGET),
        "--work-dir", str(tmp_path / "work"), "--job-id", "7", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert (loads.detectors, loads.encoders) == (1, 1)
    assert len(loads.checked) == 2


def test_a_detector_beside_shared_models_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`extract` with both a detector and shared models would silently run the models'
    own detector: refused, so a test's detector is never ignored."""
    loads = _Loads(monkeypatch)
    shared = AnalysisModels()
    with pytest.raises(ValueError, match="inside `models`"):
        extract(tmp_path / "missing.jpg", tmp_path / "out", ExtractConfig(),
                detector=shared.detector(), models=shared)
    assert loads.detectors == 1
