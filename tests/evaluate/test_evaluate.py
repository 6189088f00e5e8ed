"""evaluate end to end on real clips: a video against itself, a pasted identity, a video
with blanked frames, and the report's files."""

from __future__ import annotations

import csv
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.evaluate import EvalConfig, Report, evaluate
from facedub.faces.align import align_face
from facedub.faces.geometry import paste_back
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

TARGET_CLIP = "clip_liveportrait_d18_man_frontal_mouth.mp4"
SOURCE_PHOTO = "still_biden_frontal.jpg"
FRAMES = 20


@pytest.fixture(scope="module")
def self_report(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The target clip evaluated against itself: a perfect 'swap' that kept the target."""
    target = faces_dir / TARGET_CLIP
    out = tmp_path_factory.mktemp("eval") / "report"
    return evaluate(faces_dir / SOURCE_PHOTO, target, target, out, EvalConfig(max_frames=FRAMES))


def _values(report: Report, name: str) -> np.ndarray:
    values = np.array([f.value(name) for f in report.frames if f.status == "ok"])
    assert values.size, f"no frame measured {name}"
    return values


def test_video_against_itself_has_no_error_and_keeps_the_target_identity(
        self_report: Report) -> None:
    summary = self_report.summary
    assert summary.frames == FRAMES and summary.face_frames == FRAMES and summary.failed == 0
    assert np.abs(_values(self_report, "pose_error")).max() < 0.05  # degrees
    assert np.abs(_values(self_report, "expression_error")).max() < 1e-3
    assert _values(self_report, "mouth_open_agree").min() == 1.0
    temporal = [f for f in self_report.frames[1:]]
    assert all(f.flicker == 0 and f.brightness_flicker == 0 for f in temporal)
    assert max(f.landmark_jitter for f in temporal) < 0.01  # % of face height
    assert np.abs(_values(self_report, "seam_color_excess")).max() < 1e-6
    assert summary.identity.step == 1 and summary.identity.described == FRAMES
    assert summary.mean("id_distance_target") < 0.45 < summary.mean("id_distance_source")
    assert summary.mean("id_nearer_source") == 0.0
    assert summary.mean("id_retrieved") == 0.0
    assert any("every frame" in line for line in self_report.summary_lines())
    # The target is its own ideal output: perfect fidelity, no artifact anywhere.
    assert _values(self_report, "face_ssim").min() == pytest.approx(1.0)
    for name in ("invented_colour", "blobs", "doubled_edges", "sharpness_mismatch",
                 "grain_mismatch", "tone_vs_neck", "colour_flatness"):
        assert np.abs(_values(self_report, name)).max() < 1e-3, name


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


def test_report_files_and_html_with_local_links_only(self_report: Report) -> None:
    out = self_report.out_dir
    for name in ("summary.json", "frames.csv", "index.html", "sheet.png"):
        assert (out / name).is_file()
    parser = _Links()
    parser.feed(self_report.html.read_text(encoding="utf-8"))
    assert any(link.endswith(".png") for link in parser.links)
    for link in parser.links:
        assert "://" not in link and not link.startswith("//"), link
        assert (out / link).is_file(), link
    with open(self_report.csv, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == FRAMES and rows[0]["status"] == "ok"


def _pasted(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The source's face crop pasted over the target's face: a crude swap with the
    source's identity and the target's placement."""
    with FaceAnalyser(video=False, model_path=resolve_landmarker_model()) as analyser:
        source_face = analyser.analyse(source)[0]
        target_face = analyser.analyse(target)[0]
    crop = align_face(source, source_face.landmarks, 256, "whole")
    placement = align_face(target, target_face.landmarks, 256, "whole").face_from_frame
    return paste_back(target, crop.image, crop.mask, placement)


def test_pasted_photo_is_retrieved_as_the_source(faces_dir: Path, tmp_path: Path) -> None:
    source, target = faces_dir / SOURCE_PHOTO, faces_dir / "still_rose_leslie_frontal.jpg"
    swapped = tmp_path / "swapped.png"
    media.write_photo(swapped, _pasted(media.read_photo(source), media.read_photo(target)))
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for name in ("still_kit_harington_turned.jpg", "still_rowan_atkinson_older_man.jpg",
                 "still_elderly_woman_smile.jpg", "still_man_angry_grimace.png", SOURCE_PHOTO):
        (gallery / name).symlink_to(faces_dir / name)  # the source itself is left out
    report = evaluate(source, target, swapped, tmp_path / "report",
                      EvalConfig(gallery=gallery, cache_dir=tmp_path / "cache"))
    summary = report.summary
    assert len(summary.identity.gallery) == 6  # source, target and four others
    (frame,) = report.frames
    assert frame.status == "ok" and frame.id_nearest == summary.identity.gallery[0]
    assert summary.mean("id_retrieved") == 1.0 and summary.mean("id_nearer_source") == 1.0
    assert frame.id_distance_source < 0.5 < frame.id_distance_target
    assert math.isnan(frame.flicker)  # a photo has no time
    assert (tmp_path / "cache" / "gallery-descriptors.json").is_file()


def test_blanked_frames_are_reported_as_lost(faces_dir: Path, tmp_path: Path) -> None:
    target = faces_dir / TARGET_CLIP
    info = media.probe(target)
    swapped = tmp_path / "blanked.mp4"
    blank = range(6, 11)
    with media.VideoWriter(swapped, info.width, info.height, info.fps) as writer:
        for frame in media.iter_frames(target):
            if frame.index >= FRAMES:
                break
            writer.write(np.zeros_like(frame.image) if frame.index in blank else frame.image,
                         frame.time)
    report = evaluate(faces_dir / SOURCE_PHOTO, target, swapped, tmp_path / "report",
                      EvalConfig(max_frames=FRAMES))
    lost = [f.frame for f in report.frames if f.status == "lost"]
    assert lost == list(blank)
    assert report.summary.failed == len(blank) and report.summary.frames == FRAMES
    assert all(report.frames[i].id_retrieved == 0.0 for i in blank)  # failures, not gaps
    assert len(list((tmp_path / "report" / "frames").glob("lost_*.png"))) == len(blank)
    assert any("5 lost" in line for line in report.summary_lines())


def test_multi_face_target_measures_the_chosen_person(faces_dir: Path, tmp_path: Path) -> None:
    """Two people on screen, the source pasted over the left one only: evaluating the left
    person finds the source, evaluating the right (most present) one finds no swap."""
    target = faces_dir / "clip_ghost_two_person_videocall.mp4"
    source = media.read_photo(faces_dir / SOURCE_PHOTO)
    info = media.probe(target)
    swapped, reference = tmp_path / "swapped.mp4", tmp_path / "left.png"
    frames = 8
    with FaceAnalyser(video=False, model_path=resolve_landmarker_model()) as analyser:
        source_face = analyser.analyse(source)[0]
    crop = align_face(source, source_face.landmarks, 256, "whole")
    with FaceAnalyser(max_faces=2, model_path=resolve_landmarker_model()) as analyser, \
            media.VideoWriter(swapped, info.width, info.height, info.fps) as writer:
        for frame in media.iter_frames(target):
            if frame.index >= frames:
                break
            if frame.index == 0:
                media.write_photo(reference, np.ascontiguousarray(frame.image[:, :640]))
            faces = analyser.analyse(frame.image, frame.time, new_shot=frame.index == 0)
            leftmost = min(faces, key=lambda face: face.box[0])
            placement = align_face(frame.image, leftmost.landmarks, 256, "whole").face_from_frame
            writer.write(paste_back(frame.image, crop.image, crop.mask, placement), frame.time)
    config = EvalConfig(max_frames=frames, target_person=reference, strip_frames=0,
                        worst_count=0)
    left = evaluate(faces_dir / SOURCE_PHOTO, target, swapped, tmp_path / "left", config)
    assert left.summary.face_frames >= frames - 2 and left.summary.failed == 0
    assert left.summary.mean("id_nearer_source") == 1.0
    default = evaluate(faces_dir / SOURCE_PHOTO, target, swapped, tmp_path / "right",
                       EvalConfig(max_frames=frames, strip_frames=0, worst_count=0))
    assert default.summary.mean("id_nearer_source") == 0.0
    assert default.summary.mean("pose_error") < 0.5  # the right face is untouched
