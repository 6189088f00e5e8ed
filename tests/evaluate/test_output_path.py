"""The texture measures' zero: the target written the way facedub writes an output.

A clip whose face is the target's own, marked and encoded as a swap writes it (with its
provenance sidecar), must score ~0 on sharpness and grain mismatch: measured against the
raw target it scored 0.10 / 0.26 on d18 (the watermark's floor on the flat wall). A face
blurred or noised before the marks must still score high. The edited faces go in a clip
of their own: the encoder's look-ahead spreads an edit's bits to the frames before it
(0.03-0.12 on the unedited frames of a mixed clip), which is the measure's noise on a real
swap, not its zero.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.evaluate import EvalConfig, Report, evaluate
from facedub.evaluate.output_path import OutputPath, WrittenFrames, output_path_of
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.provenance.manifest import write_sidecar
from facedub.provenance.mark import OutputMarks, job_facts
from facedub.swap import SwapConfig, recorded_settings

TARGET_CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"
SOURCE_PHOTO = "still_biden_frontal.jpg"
JOB_ID = 4242
FRAMES = 8
# The edited clip: frames 0-3 have the face blurred, 4-7 noised (before the marks).
BLURRED, NOISED = range(0, 4), range(4, 8)


def _face_inside(image: np.ndarray, analyser: FaceAnalyser) -> np.ndarray:
    """Bool (H, W): the hull of the face's landmarks, a little inside it."""
    points = analyser.analyse(image, 0.0)[0].landmarks[:, :2]
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    return cv2.erode(mask, np.ones((9, 9), dtype=np.uint8)).astype(bool)


def _blurred(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    soft = cv2.GaussianBlur(image, (0, 0), 3.0)
    return np.where(inside[..., None], soft, image)


def _noised(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    noise = np.random.default_rng(0).normal(0.0, 6.0, image.shape)
    grainy = np.clip(image + noise, 0, 255).astype(np.uint8)
    return np.where(inside[..., None], grainy, image)


def _write_output(target: Path, out: Path, config: SwapConfig, edit: bool) -> Path:
    """`target`'s first FRAMES frames (`edit`: blurred and noised as BLURRED and NOISED
    say), marked and encoded as `swap` writes an output, with the sidecar it leaves."""
    assert config.job_id is not None
    marks = OutputMarks(config.job_id, visible_label=config.visible_label)
    info = media.probe(target)
    edits: dict[range, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        BLURRED: _blurred, NOISED: _noised}
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser, \
            media.VideoWriter(out, info.width, info.height, info.fps, crf=config.crf,
                              preset=config.preset) as writer:
        for frame in media.iter_frames(target):
            if frame.index >= FRAMES:
                break
            image = frame.image
            for frames, edited in edits.items():
                if edit and frame.index in frames:
                    image = edited(image, _face_inside(image, analyser))
            writer.write(marks.mark(image), frame.time)
    write_sidecar(out, job_facts("mesh", {"swap": recorded_settings(config)},
                                 (("target", target),), config.job_id, marks.payload))
    return out


def _evaluated(faces_dir: Path, folder: Path, edit: bool) -> Report:
    config = SwapConfig(work_dir=folder, config_dir=folder, job_id=JOB_ID)
    output = _write_output(faces_dir / TARGET_CLIP, folder / "out.mp4", config, edit)
    return evaluate(faces_dir / SOURCE_PHOTO, faces_dir / TARGET_CLIP, output,
                    folder / "report", EvalConfig(max_frames=FRAMES))


@pytest.fixture(scope="module")
def perfect(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _evaluated(faces_dir, tmp_path_factory.mktemp("perfect"), edit=False)


@pytest.fixture(scope="module")
def edited(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _evaluated(faces_dir, tmp_path_factory.mktemp("edited"), edit=True)


def _mean(report: Report, name: str, frames: range) -> float:
    values = [f.value(name) for f in report.frames if f.frame in frames and f.status == "ok"]
    assert len(values) == len(frames), f"frames {frames} not all measured"
    return float(np.mean(values))


def test_the_output_path_is_read_from_the_sidecar(faces_dir: Path, tmp_path: Path) -> None:
    config = SwapConfig(work_dir=tmp_path, config_dir=tmp_path, job_id=JOB_ID, crf=23,
                        preset="fast", visible_label=False)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"")
    write_sidecar(out, job_facts("mesh", {"swap": recorded_settings(config)},
                                 (("target", faces_dir / TARGET_CLIP),), JOB_ID, None))
    assert output_path_of(out) == OutputPath(JOB_ID, False, 23, "fast")
    assert output_path_of(tmp_path / "other.mp4") is None  # no sidecar: the raw target


def test_written_frames_are_found_by_time_past_a_dropped_one(tmp_path: Path) -> None:
    out = tmp_path / "written.mp4"
    times = (0.0, 0.04, 0.12, 0.16)  # the frame at 0.08 was dropped
    with media.VideoWriter(out, 64, 64, Fraction(25), crf=0) as writer:
        for time in times:
            writer.write(np.full((64, 64, 3), round(time * 1000), dtype=np.uint8), time)
    frames = WrittenFrames(out, tolerance=0.02)
    found = [frames.at(time) for time in (0.0, 0.04, 0.08, 0.12, 0.16, 0.20)]
    assert [None if image is None else int(image[32, 32, 1]) for image in found] == [
        0, 40, None, 120, 160, None]
    assert WrittenFrames(None, tolerance=0.02).at(0.0) is None


def test_the_target_written_as_an_output_scores_zero_texture_mismatch(
        perfect: Report) -> None:
    # Against the raw target these frames scored 0.10 (sharpness) and 0.26 (grain).
    assert _mean(perfect, "sharpness_mismatch", range(FRAMES)) < 0.05
    assert _mean(perfect, "grain_mismatch", range(FRAMES)) < 0.05


def test_a_blurred_or_noised_face_still_scores_high(edited: Report) -> None:
    assert _mean(edited, "sharpness_mismatch", BLURRED) > 0.3
    assert _mean(edited, "grain_mismatch", NOISED) > 0.5


def test_two_evaluations_of_one_output_read_the_same(perfect: Report, faces_dir: Path,
                                                     tmp_path: Path) -> None:
    """frames.csv names what each frame was read from, and two evaluations of one output
    read it the same, every column to the byte. The reference each writes once varied
    with the process's history (x264's macroblock tree reads memory it never wrote: in
    the full test run every frame's written digest differed); it is written from zeroed
    memory now (`output_path.zeroed_allocations`, BENCHMARKS.md "Evaluation speed",
    thirty-seventh round), so the texture columns are compared too."""
    output = perfect.out_dir.parent / "out.mp4"
    again = evaluate(faces_dir / SOURCE_PHOTO, faces_dir / TARGET_CLIP, output,
                     tmp_path / "report", EvalConfig(max_frames=FRAMES))
    first_rows, again_rows = _csv_rows(perfect.csv), _csv_rows(again.csv)
    assert len(first_rows) == len(again_rows) == FRAMES
    for one, two in zip(first_rows, again_rows, strict=True):
        assert one == two, f"frame {one['frame']}: one output, two readings"
    written = [f.written_digest for f in perfect.frames]
    swapped = [f.swapped_digest for f in perfect.frames]
    assert all(written) and all(swapped) and len(set(swapped)) == FRAMES


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
