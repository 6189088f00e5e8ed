"""`refine`'s held-out check on composited faces (train/refine_composited.py): the source
video's held-out stretch swapped from the frames before it, the best state chosen on it
against the mesh engine's composited faces, and a verdict when training ends."""

import dataclasses
import importlib
import json
import logging
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_refine import tiny
from typer.testing import CliRunner

from facedub import media
from facedub.cli import app
from facedub.engines.refiner import RefinerBackend
from facedub.extract.workspace import UNUSED_SECONDS
from facedub.faceset import Faceset, PersonSummary
from facedub.models.refiner_run import BEST_METRIC, COMPOSITED_METRIC, BestState, read_best
from facedub.train import refine_composited
from facedub.train.refine import RefineRun, refine
from facedub.train.refine_composited import (
    HELDOUT_FOLDER,
    CompositedScore,
    HeldOutFace,
    OtherPersonError,
    as_person,
    compare,
    composited_holdout,
    evenly_spread,
    nearest_person,
    remove_unused_stretches,
    stretch_edges,
)
from facedub.train.refine_data import split_faces

D3 = "clip_liveportrait_d3_woman_headturn.mp4"  # d3_short's clip (conftest)
# The module (facedub.train's `refine` attribute is the function).
REFINE = importlib.import_module("facedub.train.refine")


@pytest.fixture(scope="module")
def checked(d3_short: Faceset, faces_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[RefineRun, Path, Path]:
    """A tiny refiner of the d3 clip's first 30 frames, its best state chosen on the
    composited held-out stretch: (result, folder, work folder)."""
    root = tmp_path_factory.mktemp("composited")
    result = refine(d3_short, root / "refiner", tiny(), video=faces_dir / D3,
                    work_dir=root / "work")
    return result, root / "refiner", root / "work"


def test_the_best_state_is_chosen_on_the_composited_held_out_faces(
        checked: tuple[RefineRun, Path, Path]) -> None:
    result, folder, _ = checked
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    checks = [entry for entry in log if "composited_refined" in entry]
    assert [entry["step"] for entry in checks] == [2, 4]
    # The mesh engine's composited faces are the same at every check: made once.
    assert len({entry["composited_mesh"] for entry in checks}) == 1
    best = read_best(folder)
    assert best is not None and best == result.best
    assert best.metric == COMPOSITED_METRIC
    top = max(checks, key=lambda entry: entry["composited_refined"])
    assert best.step == top["step"]
    assert best.score == pytest.approx(top["composited_refined"], abs=1e-4)
    assert best.baseline == pytest.approx(top["composited_mesh"], abs=1e-4)
    # Real composited faces of a self-swap: near their target, but not it.
    assert 0.5 < best.baseline < 0.999
    assert result.composited is not None and result.composited.faces >= 5


def test_a_finished_run_leaves_no_cuts_behind(checked: tuple[RefineRun, Path, Path]) -> None:
    result, _, work = checked
    assert result.stopped is None
    assert not list((work / HELDOUT_FOLDER).glob("*/*.mp4"))


def test_the_report_carries_the_composited_score_and_the_mesh_baseline(
        checked: tuple[RefineRun, Path, Path]) -> None:
    result, _, _ = checked
    assert result.validation["composited_mesh"] == result.composited.mesh  # type: ignore[union-attr]
    verdict = result.verdict()
    assert verdict is not None
    assert f"{result.best.score:.4f}" in verdict  # type: ignore[union-attr]
    assert f"{result.best.baseline:.4f}" in verdict  # type: ignore[union-attr]
    assert ("does NOT beat" in verdict) == (not result.beats_mesh())


class _Stages:
    """A Progress that keeps the stages' descriptions."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    def start(self, total: int | None, description: str, unit: str | None = None) -> None:
        self.stages.append(description)

    def advance(self, steps: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def test_the_held_out_stretch_is_cut_after_the_last_training_frame(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    split = split_faces(len(d3_short.faces_of()), 0.2, "blocks")
    edges = stretch_edges(d3_short, split)
    assert edges is not None
    last_training, first_held = edges
    held_frames = {d3_short.faces_of()[int(i)].frame for i in split.held}
    assert last_training < first_held == min(held_frames)
    cuts: list[Path] = []

    def swapped(source: Path, target: Path, *args: Any, **kwargs: Any
                ) -> tuple[tuple[()], None, None]:
        # Kept apart: a stretch with no face read is deleted.
        cuts.extend(Path(shutil.copy(cut, tmp_path / cut.name)) for cut in (source, target))
        return (), None, None

    monkeypatch.setattr(refine_composited, "swapped_faces", swapped)
    stages = _Stages()
    composited_holdout(faces_dir / D3, d3_short, split, tmp_path / "work", stages)
    # The cutting is a stage a user sees (its bar's line), without -v.
    assert stages.stages[0].startswith("checking held-out frames")
    source_cut, target_cut = cuts
    assert media.probe(source_cut).frame_count == last_training + 1
    last_held = max(record.frame for record in d3_short.faces_of())
    assert media.probe(target_cut).frame_count == last_held + 1 - first_held
    # The target's first frame is the source video's first held-out frame (CRF 0 keeps
    # the luma; the RGB round trip moves a grey level or so), not a neighbour.
    opened = next(media.iter_frames(target_cut)).image.astype(np.float32)
    around = {frame.index: float(np.abs(frame.image - opened).mean())
              for frame in media.iter_frames(faces_dir / D3)
              if first_held - 1 <= frame.index <= first_held + 1}
    assert min(around, key=around.__getitem__) == first_held
    assert around[first_held] < 1.0


def test_a_refiner_that_does_not_beat_the_mesh_engine_says_so(
        checked: tuple[RefineRun, Path, Path], caplog: pytest.LogCaptureFixture,
        d3_short: Faceset, faces_dir: Path) -> None:
    result, folder, work = checked
    assert result.best is not None
    losing = replace(result, best=replace(result.best, score=result.best.baseline - 0.001))
    assert losing.beats_mesh() is False
    assert "does NOT beat the mesh engine" in (losing.verdict() or "")
    winning = replace(result, best=replace(result.best, score=result.best.baseline + 0.001))
    assert winning.beats_mesh() is True and "it beats" in (winning.verdict() or "")
    # refine itself says it when training ends, as a warning (shown without -v).
    with caplog.at_level(logging.INFO, logger="facedub.train.refine"):
        again = refine(d3_short, folder, tiny(steps=6), video=faces_dir / D3, work_dir=work)
    said = [r for r in caplog.records if "held-out stretch, composited" in r.getMessage()]
    assert len(said) == 1
    assert said[0].levelno == (logging.INFO if again.beats_mesh() else logging.WARNING)


def test_without_the_video_the_renderings_choose_and_no_verdict(
        d3_short: Faceset, tmp_path: Path) -> None:
    result = refine(d3_short, tmp_path / "refiner", tiny(steps=2))
    assert result.best is not None and result.best.metric == BEST_METRIC
    assert result.best.baseline is None and result.verdict() is None


def test_an_older_best_json_reads_as_the_renderings_metric(tmp_path: Path) -> None:
    best = BestState(step=2, score=0.9, sha256="0" * 64)
    assert best.metric == BEST_METRIC and best.baseline is None


def test_compare_skips_faces_either_side_could_not_read() -> None:
    score = compare([0.95, float("nan"), 0.93], [0.94, 0.9, 0.94])
    assert score.faces == 2 and score.better == 1
    assert score.gain == pytest.approx(0.0)
    assert score.refined == pytest.approx(0.94) and score.mesh == pytest.approx(0.94)


# Round fifty, E2: the reviewer's findings on the check (/tmp/r50/R/review.md, r50-E).


def test_compare_with_no_face_read_gives_no_score() -> None:
    assert compare([float("nan")], [0.9]) is None
    assert compare([], []) is None


class _Unreadable:
    """A held-out stretch none of whose faces the evaluation reads (every region NaN)."""

    faces: tuple[HeldOutFace, ...] = ()

    def score(self, refiner: RefinerBackend) -> CompositedScore | None:
        return compare([float("nan")] * 3, [float("nan")] * 3)

    def remove(self) -> None:
        pass


def test_a_check_that_reads_no_face_says_so_and_training_goes_on(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(REFINE, "composited_holdout",
                        lambda *args, **kwargs: _Unreadable())
    with caplog.at_level(logging.WARNING, logger="facedub.train.refine"):
        result = refine(d3_short, tmp_path / "refiner", tiny(), video=faces_dir / D3,
                        work_dir=tmp_path / "work")
    assert result.step == 4 and result.stopped is None
    said = [r for r in caplog.records if "no composited held-out face could be scored"
            in r.getMessage()]
    assert [r.levelno for r in said] == [logging.WARNING, logging.WARNING]  # steps 2 and 4
    assert result.best is None and result.verdict() is None


def test_a_faceset_folder_skips_the_check_with_one_line(
        d3_short: Faceset, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # `facedub refine FACESET` passes the folder as the source: no video to cut.
    split = split_faces(len(d3_short.faces_of()), 0.2, "blocks")
    with caplog.at_level(logging.INFO, logger="facedub.train.refine_composited"):
        made = composited_holdout(d3_short.root, d3_short, split, tmp_path / "work")
    assert made is None
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "is not a video file" in said[0]
    # A warning: the CLI shows it without -v, and it says why the renderings choose.
    assert caplog.records[0].levelno == logging.WARNING
    assert not (tmp_path / "work" / HELDOUT_FOLDER).exists()


def test_refine_of_a_video_on_the_command_line_runs_the_check_and_names_its_metric(
        faces_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = refine_composited.cut(faces_dir / D3, 0, 29, tmp_path / "d3-30.mp4")
    out = tmp_path / "refiner"
    result = CliRunner().invoke(app, [
        "refine", str(clip), "-o", str(out), "--steps", "2", "--batch", "2",
        "--device", "cpu", "--threads", "1", "--work-dir", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    best = read_best(out)
    assert best is not None and best.metric == COMPOSITED_METRIC
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"best held-out {COMPOSITED_METRIC} {best.score:.4f}" in said
    verdicts = [r for r in caplog.records if "held-out stretch, composited" in r.getMessage()]
    assert len(verdicts) == 1  # the verdict: one line


def test_refine_of_a_faceset_folder_on_the_command_line_names_its_metric(
        d3_short: Faceset, tmp_path: Path) -> None:
    out = tmp_path / "refiner"
    result = CliRunner().invoke(app, [
        "refine", str(d3_short.root), "-o", str(out), "--steps", "2", "--batch", "2",
        "--device", "cpu", "--threads", "1", "--work-dir", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"best held-out {BEST_METRIC} " in said
    best = read_best(out)
    assert best is not None and best.metric == BEST_METRIC


def test_the_stretch_ends_at_the_facesets_last_frame_not_its_count(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A faceset analysed every 2nd frame counts half its frames: its last index is not
    # frames_analysed - 1.
    work = tmp_path / "work"
    every_second = replace(d3_short, meta=replace(
        d3_short.meta, frames_analysed=d3_short.meta.frames_analysed // 2))
    cuts: list[Path] = []

    def swapped(source: Path, target: Path, *args: Any, **kwargs: Any
                ) -> tuple[tuple[()], None, None]:
        cuts.append(Path(shutil.copy(target, tmp_path / target.name)))  # deleted after
        return (), None, None

    monkeypatch.setattr(refine_composited, "swapped_faces", swapped)
    split = split_faces(len(d3_short.faces_of()), 0.2, "blocks")
    assert composited_holdout(faces_dir / D3, every_second, split, work) is None
    edges = stretch_edges(d3_short, split)
    assert edges is not None
    last_held = max(record.frame for record in d3_short.faces_of())
    assert media.probe(cuts[0]).frame_count == last_held + 1 - edges[1]


def test_the_held_out_faces_are_capped_evenly_and_keep_only_what_score_reads(
        d3_short: Faceset, faces_dir: Path, checked: tuple[RefineRun, Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert evenly_spread(list(range(100)), 5) == {0, 25, 50, 74, 99}
    assert evenly_spread([3, 4], 5) == {3, 4} and evenly_spread([3, 4], None) == {3, 4}
    assert {field.name for field in dataclasses.fields(HeldOutFace)} == {
        "frame", "target", "swapped", "region", "mesh_ssim"}
    _, _, work = checked
    monkeypatch.setattr(refine_composited, "HELDOUT_FACES", 4)
    split = split_faces(len(d3_short.faces_of()), 0.2, "blocks")
    holdout = composited_holdout(faces_dir / D3, d3_short, split, work)
    assert holdout is not None
    frames = [face.frame for face in holdout.faces]
    held = sorted({face.frame for face in holdout._faceset.faces_of()})
    assert len(held) > 4 and frames == sorted(evenly_spread(held, 4))
    assert frames[0] == held[0] and frames[-1] == held[-1]


class _Scored:
    """A held-out stretch whose every check scores `refined` against a mesh of 0.9."""

    faces: tuple[HeldOutFace, ...] = ()

    def __init__(self, refined: float) -> None:
        self.refined = refined

    def score(self, refiner: RefinerBackend) -> CompositedScore | None:
        return compare([self.refined], [0.9])

    def remove(self) -> None:
        pass


def test_a_resume_keeps_a_best_chosen_by_the_composited_check_without_the_video(
        d3_short: Faceset, checked: tuple[RefineRun, Path, Path], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _, folder, _ = checked
    copy = tmp_path / "refiner"
    shutil.copytree(folder, copy)
    saved = read_best(copy)
    assert saved is not None and saved.metric == COMPOSITED_METRIC
    with caplog.at_level(logging.WARNING, logger="facedub.train.refine"):
        result = refine(d3_short, copy, tiny(steps=8))  # no video: no composited check
    assert result.step == 8
    assert read_best(copy) == saved == result.best
    said = [r.getMessage() for r in caplog.records if "keeps choosing by" in r.getMessage()]
    assert len(said) == 1 and COMPOSITED_METRIC in said[0]


def test_a_resume_with_the_video_keeps_choosing_by_the_renderings(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "refiner"
    refine(d3_short, folder, tiny(steps=2))
    saved = read_best(folder)
    assert saved is not None and saved.metric == BEST_METRIC
    # A check that would call every state far better than any renderings' score.
    # The stretch is not made at all: the folder keeps the renderings' measure.
    made: list[object] = []
    monkeypatch.setattr(REFINE, "composited_holdout",
                        lambda *args, **kwargs: made.append(args) or _Scored(0.999))
    with caplog.at_level(logging.WARNING, logger="facedub.train.refine"):
        result = refine(d3_short, folder, tiny(steps=4), video=faces_dir / D3,
                        work_dir=tmp_path / "work")
    assert made == []
    said = [r.getMessage() for r in caplog.records if "keeps choosing by" in r.getMessage()]
    assert len(said) == 1 and BEST_METRIC in said[0]
    best = read_best(folder)
    assert best is not None and best == result.best and best.metric == BEST_METRIC
    assert best.baseline is None  # no composited mesh score beside a renderings' score
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    checks = {entry["step"]: entry for entry in log if BEST_METRIC in entry}
    assert not any("composited_refined" in entry for entry in checks.values())
    # The log rounds to 5 decimals: two checks can tie there (d3_short's steps 2 and 4
    # both log 0.95828), and the best is then either; its own score is the top one.
    top = max(entry[BEST_METRIC] for entry in checks.values())
    assert best.step in {step for step, entry in checks.items() if entry[BEST_METRIC] == top}
    assert best.score == pytest.approx(top, abs=1e-5) and result.verdict() is None


# Round fifty, E3: the second review's findings (/tmp/r50/R3/review.md, E2's wiring).


def _person(person_id: int, descriptor: np.ndarray | None) -> PersonSummary:
    return PersonSummary(id=person_id, faces=10, frames=10, tracks=1, descriptor=descriptor)


def test_the_stretch_swaps_the_person_nearest_the_refine_facesets() -> None:
    reference = np.zeros(128, dtype=np.float32)
    near, far = reference.copy(), reference.copy()
    near[0], far[0] = 0.15, 0.7  # distances 0.15 and 0.7 (SAME_PERSON_DISTANCE 0.6)
    # Person 0 (most screen time, the analysis's own choice) is the other person.
    assert nearest_person(reference, [_person(0, far), _person(1, near)]) == 1
    assert nearest_person(reference, [_person(0, far), _person(1, None)]) is None
    assert nearest_person(None, [_person(0, near)]) is None


def test_a_cut_without_the_refine_facesets_person_skips_the_check(d3_short: Faceset) -> None:
    reference = d3_short.person_descriptor()
    assert reference is not None
    assert as_person(d3_short, reference, "held-out").meta.person == d3_short.meta.person
    with pytest.raises(OtherPersonError, match="held-out"):
        as_person(d3_short, reference + 1.0, "held-out")  # nobody there is that person


def test_a_stretch_unused_for_a_month_is_removed(tmp_path: Path) -> None:
    stretches = tmp_path / HELDOUT_FOLDER
    old, recent, mine = (stretches / name for name in ("old", "recent", "mine"))
    for folder in (old, recent, mine):
        folder.mkdir(parents=True)
        (folder / "target.mp4").write_bytes(b"cut")
    now = 2_000_000_000.0
    for folder, age in ((old, UNUSED_SECONDS + 60), (recent, 60), (mine, UNUSED_SECONDS + 60)):
        os.utime(folder, (now - age, now - age))
    assert remove_unused_stretches(stretches, now, keep=mine) == [old]
    assert not old.exists() and recent.is_dir() and mine.is_dir()


def test_two_refiner_folders_of_one_video_cut_their_own_stretches(
        d3_short: Faceset, faces_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A run's end deletes its cuts: another run of the same video and split in the same
    # work folder must not lose the target cut it reads at every check.
    folders: list[Path] = []

    def swapped(source: Path, target: Path, *args: Any, **kwargs: Any
                ) -> tuple[tuple[()], None, None]:
        folders.append(target.parent)
        return (), None, None

    monkeypatch.setattr(refine_composited, "swapped_faces", swapped)
    split = split_faces(len(d3_short.faces_of()), 0.2, "blocks")
    for owner in ("a", "b", "a"):
        composited_holdout(faces_dir / D3, d3_short, split, tmp_path / "work",
                           owner=tmp_path / owner)
    assert folders[0] != folders[1] and folders[0] == folders[2]
