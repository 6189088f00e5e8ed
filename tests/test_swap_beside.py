"""A source photo is analysed beside the target's analysis (`swap.analyse_beside`), on
the core MediaPipe's pacing of the target's analysis leaves partly idle; the source's
errors and Ctrl-C still come first and stop the target's analysis, which resumes later."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from facedub import media
from facedub.cli import app
from facedub.engines import registry
from facedub.engines.base import SwapEngine
from facedub.errors import FacedubError
from facedub.extract import extract
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.run import AnalysisStoppedError
from facedub.extract.safety import EXPLICIT_CLASSES
from facedub.faceset import load_faceset
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_beside, analyse_target

D3 = "clip_liveportrait_d3_woman_headturn.mp4"
SOURCE, TARGET = "still_biden_frontal.jpg", "still_rose_leslie_frontal.jpg"
SHORT_FRAMES = 30
WAIT_S = 60.0  # long enough for a loaded machine; the tests pass in a few seconds


class _Detector:
    """Passes everything, without NudeNet's load."""

    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        return {label: 0.0 for label in EXPLICIT_CLASSES}


class _Frames(NoProgress):
    """Counts the frames analysed; `reached` is set at `frames`; `stop` too, if given."""

    def __init__(self, frames: int, stop: threading.Event | None = None) -> None:
        self.count = 0
        self.frames = frames
        self.reached = threading.Event()
        self.stop = stop

    def advance(self, steps: int = 1) -> None:
        self.count += steps
        if self.count >= self.frames:
            self.reached.set()
            if self.stop is not None:
                self.stop.set()


class _Engine:
    """Stands in for an opened engine: only its close is watched."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def short_clip(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 30 frames of D3: a target analysed in seconds."""
    clip = tmp_path_factory.mktemp("clip") / "d3_30.mp4"
    info = media.probe(faces_dir / D3)
    with media.VideoWriter(clip, info.width, info.height, info.fps,
                           preset="ultrafast") as writer:
        for frame in media.iter_frames(faces_dir / D3):
            if frame.index >= SHORT_FRAMES:
                break
            writer.write(frame.image, frame.time)
    return clip


def _target_is_being_analysed() -> bool:
    return any(thread.name.startswith("facedub-target") for thread in threading.enumerate())


def test_a_stopped_analysis_resumes_where_it_stopped(faces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "faces"
    config = ExtractConfig(max_frames=24, crop_size=64)
    stop = threading.Event()
    with pytest.raises(AnalysisStoppedError):
        extract(faces_dir / D3, out, config, _Frames(10, stop), _Detector(), stop=stop)
    with pytest.raises(FacedubError, match="incomplete"):
        load_faceset(out)
    result = extract(faces_dir / D3, out, config, detector=_Detector())
    assert 9 <= result.frames_resumed <= 11
    assert result.frames_analysed == 24
    assert [r.frame for r in result.faceset.records] == list(range(24))


def test_the_engine_opens_while_the_target_is_analysed(short_clip: Path,
                                                       tmp_path: Path) -> None:
    """The opener sees the target's analysis under way: it waits for its third frame
    (opened before the analysis, as before, it would wait in vain)."""
    progress = _Frames(3)
    engine = _Engine()

    def open_engine() -> SwapEngine:
        assert progress.reached.wait(WAIT_S), "the target's analysis did not run beside"
        return engine  # type: ignore[return-value]

    config = SwapConfig(tmp_path / "work", tmp_path / "config")
    faceset, opened = analyse_beside(short_clip, config, progress, open_engine,
                                     AnalysisModels(_Detector()))
    assert opened is engine and not engine.closed
    assert faceset.meta.complete and faceset.faces_of()


def test_a_failing_source_stops_the_target_analysis_and_its_error_comes_first(
        short_clip: Path, tmp_path: Path) -> None:
    progress = _Frames(3)

    def open_engine() -> SwapEngine:
        assert progress.reached.wait(WAIT_S)
        raise FacedubError("source: no face found")

    config = SwapConfig(tmp_path / "work", tmp_path / "config")
    with pytest.raises(FacedubError, match="source: no face found"):
        analyse_beside(short_clip, config, progress, open_engine,
                       AnalysisModels(_Detector()))
    assert not _target_is_being_analysed()  # stopped and waited for, not left running
    assert progress.count < SHORT_FRAMES  # stopped, not analysed to the end
    # What it analysed is resumed: the swap's next analysis of the target finishes it.
    resumed = _Frames(SHORT_FRAMES)
    faceset = analyse_target(short_clip, config, resumed,
                             models=AnalysisModels(_Detector()))
    assert faceset.meta.complete
    assert resumed.count == SHORT_FRAMES  # the stopped run's frames counted as done
    assert faceset.meta.frames_analysed == SHORT_FRAMES


def test_ctrl_c_while_the_source_opens_stops_the_target_analysis(short_clip: Path,
                                                                 tmp_path: Path) -> None:
    progress = _Frames(2)

    def open_engine() -> SwapEngine:
        assert progress.reached.wait(WAIT_S)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyse_beside(short_clip, SwapConfig(tmp_path / "work", tmp_path / "config"),
                       progress, open_engine, AnalysisModels(_Detector()))
    assert not _target_is_being_analysed()
    assert progress.count < SHORT_FRAMES


def test_a_failing_target_closes_the_opened_engine(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(blank)
    engine = _Engine()
    with pytest.raises(FacedubError, match="no face"):
        analyse_beside(blank, SwapConfig(tmp_path / "work", tmp_path / "config"),
                       NoProgress(), lambda: engine,  # type: ignore[arg-type,return-value]
                       AnalysisModels(_Detector()))
    assert engine.closed


def test_the_swap_command_opens_a_source_photo_beside_the_target(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened_beside: list[bool] = []
    real_open = registry.open_engine

    def open_engine(name: str, request: registry.EngineRequest) -> SwapEngine:
        opened_beside.append(_target_is_being_analysed())
        return real_open(name, request)

    monkeypatch.setattr(registry, "open_engine", open_engine)
    monkeypatch.setattr(AnalysisModels, "detector", lambda self: _Detector())
    out = tmp_path / "out.jpg"
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / SOURCE), "--target", str(faces_dir / TARGET),
        "--work-dir", str(tmp_path / "work"), "--job-id", "7", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert opened_beside == [True]
