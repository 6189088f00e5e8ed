"""Explicit-content refusal: facedub does not swap faces into or out of sexual material.

Every input (source and target) is checked before any work: photos whole, videos on up
to `FRAMES_PER_VIDEO` evenly spaced frames. A frame is refused when NudeNet (the ONNX
detector shipped inside the `nudenet` package, run offline through onnxruntime) scores
any of `EXPLICIT_CLASSES` at or above `REFUSAL_THRESHOLD`. There is deliberately no
switch to turn this off.

The detector is a `Protocol`, so tests and other callers can pass their own.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from facedub import __version__, media
from facedub.errors import FacedubError
from facedub.faceset import read_crop
from facedub.fsutil import write_json_atomic
from facedub.media.animation import iter_animation
from facedub.progress import NoProgress, Progress
from facedub.spread import spread_indices

log = logging.getLogger(__name__)

EXPLICIT_CLASSES = frozenset({
    "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "ANUS_EXPOSED", "BUTTOCKS_EXPOSED",
})
# Over every sampled frame and photo of the shared test set the highest explicit-class
# score is 0.18 (a false alarm on a frame of the Hamilton stage clip; see
# benchmarks/safety_scan.py): a 2.5x margin. NudeNet's own drawing cut-off is 0.2.
REFUSAL_THRESHOLD = 0.45
FRAMES_PER_VIDEO = 16
# The mark an output folder (a faceset) holds once its input passed the check: a resumed
# or reused analysis trusts only this file, never what else the folder holds.
PASSED_FILE = "content_check.json"
PASSED_FORMAT = "facedub-content-check"
# NudeNet 3.4's class order (the model's output channels after the 4 box values).
NUDENET_LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
_NUDENET_SIZE = 320


class ExplicitContentDetector(Protocol):
    """Scores one (H, W, 3) uint8 RGB image: the highest score of each class label found
    (labels it does not report count as 0)."""

    def scores(self, image: np.ndarray) -> Mapping[str, float]: ...


class ExplicitContentError(FacedubError):
    """An input shows explicit nudity; the job is refused."""


@dataclass(frozen=True)
class Finding:
    """The highest explicit-class score seen in one file, and where."""

    path: Path
    label: str
    score: float
    frame_index: int
    time: float


@dataclass(frozen=True)
class SafetyReport:
    """What was checked. `worst` is the highest-scoring explicit finding per file."""

    frames_checked: int
    worst: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def max_score(self) -> float:
        return max((finding.score for finding in self.worst), default=0.0)


class NudeNetDetector:
    """NudeNet's packaged ONNX model on onnxruntime (CPU). Loads once; reuse it."""

    def __init__(self) -> None:
        try:
            import nudenet
            import onnxruntime
        except ImportError as error:
            raise FacedubError(f"the explicit-content check needs the nudenet package "
                               f"({error}); reinstall facedub with its dependencies") from error
        model = Path(nudenet.__file__).parent / "320n.onnx"
        if not model.is_file():
            raise FacedubError(f"NudeNet's model is missing at {model}; reinstall nudenet "
                               "(pip install --force-reinstall 'nudenet>=3.4')")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # One thread: the check runs beside the analysis on its own thread, and two
        # threads cost half as much CPU again for these 16 small frames (spin waits).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(model), options,
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def scores(self, image: np.ndarray) -> Mapping[str, float]:
        # (1, 4 + classes, anchors): box then one score per class for every anchor.
        output = self._session.run(None, {self._input: _letterbox_blob(image)})[0]
        best = np.asarray(output[0, 4:, :]).max(axis=1)
        return {label: float(score) for label, score in zip(NUDENET_LABELS, best, strict=False)}


def _letterbox_blob(image: np.ndarray) -> np.ndarray:
    """RGB uint8 -> (1, 3, 320, 320) float32 in [0, 1]: padded at the bottom/right to a
    square (as NudeNet was trained), then resized."""
    height, width = image.shape[:2]
    side = max(height, width)
    square = np.zeros((side, side, 3), np.uint8)
    square[:height, :width] = image
    resized = cv2.resize(square, (_NUDENET_SIZE, _NUDENET_SIZE), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def sample_frames(path: Path, max_frames: int = FRAMES_PER_VIDEO,
                  stop: threading.Event | None = None) -> Iterator[media.Frame]:
    """Up to `max_frames` frames spread evenly over a video (the photo itself for photos).
    `stop`, once set, ends a video's decode at its next frame with CheckStoppedError."""
    animated = media.animated_frames(path) if media.is_photo_path(path) else 1
    if animated > 1:  # an animated WebP or PNG: a video source, every frame of it used
        for index, time, image in iter_animation(path, set(spread_indices(animated,
                                                                          max_frames))):
            yield media.Frame(index, time, image)
        return
    if media.is_photo_path(path):
        # Read once: probing a photo decodes it whole (as `iter_frames` does, with the same
        # errors), and a source photo of a few megapixels takes 70-100 ms to decode.
        yield from media.iter_frames(path)
        return
    info = media.probe(path)
    wanted = set(spread_indices(max(1, info.frame_count), max_frames))
    taken = 0
    # Only the wanted frames are converted (the rest are decoded and dropped), and the
    # clip's last frame comes too, in case the header over-counted its frames.
    # Stopped between the wanted frames too: they are a sixteenth of the clip apart, and
    # a stop waited for the decode up to the next one (a 2-hour film: minutes of decode).
    each_decoded = functools.partial(_raise_if_stopped, stop, path) if stop else None
    for frame in media.iter_frames(path, indices=wanted, last=True, each_decoded=each_decoded):
        if frame.index in wanted:
            taken += 1
            yield frame
            if taken == len(wanted):
                return
        else:  # the header over-counted frames: make sure the end of the clip is seen
            yield frame


def _raise_if_stopped(stop: threading.Event, path: Path) -> None:
    if stop.is_set():
        raise CheckStoppedError(f"stopped in {Path(path).name}")


def scan_media(path: Path, detector: ExplicitContentDetector,
               max_frames: int = FRAMES_PER_VIDEO,
               stop: threading.Event | None = None) -> tuple[Finding, int]:
    """The highest explicit-class score in one file, and the number of frames checked.
    `stop`, once set, ends the scan before its next frame with CheckStoppedError."""
    worst = Finding(Path(path), "", 0.0, 0, 0.0)
    frames = 0
    for frame in sample_frames(path, max_frames, stop):
        # Per frame, not only per file: a video's 16 looks (NudeNet's load and decodes
        # between them) ran to the end after the analysis they guarded had failed.
        if stop is not None and stop.is_set():
            raise CheckStoppedError(f"stopped in {Path(path).name}")
        frames += 1
        for label, score in detector.scores(frame.image).items():
            if label in EXPLICIT_CLASSES and score > worst.score:
                worst = Finding(Path(path), label, score, frame.index, frame.time)
    return worst, frames


class CheckStoppedError(Exception):
    """The check was stopped (`stop` set) before it had looked at every input: nothing
    was judged, and no caller may treat it as passed."""


def check_media_is_allowed(paths: Sequence[Path],
                           detector: ExplicitContentDetector | None = None,
                           stop: threading.Event | None = None) -> SafetyReport:
    """Raise ExplicitContentError if any input shows explicit nudity; else report.

    `detector` defaults to NudeNet. Checks every path before failing, so the message
    names the first offending file in the order given. `stop`, once set, ends the check
    before its next file or frame with CheckStoppedError (the work it guarded has failed:
    a folder of photos or a video is not read to the end for nothing).
    """
    detector = detector or NudeNetDetector()
    findings: list[Finding] = []
    frames = 0
    for path in paths:
        if stop is not None and stop.is_set():
            raise CheckStoppedError(f"stopped before {Path(path).name}")
        finding, checked = scan_media(Path(path), detector, stop=stop)
        findings.append(finding)
        frames += checked
        log.debug("%s: %d frames, highest explicit score %.3f (%s)", path, checked,
                  finding.score, finding.label or "none")
    for finding in findings:
        if finding.score >= REFUSAL_THRESHOLD:
            where = f" at {finding.time:.1f} s" if finding.time else ""
            raise _refusal(f"{finding.path.name}{where}", finding)
    return SafetyReport(frames, tuple(findings))


def _refusal(where: str, finding: Finding) -> ExplicitContentError:
    label = finding.label.lower().replace("_", " ")
    return ExplicitContentError(
        f"{where}: refused, the detector found {label} (score {finding.score:.2f}); facedub "
        "does not process sexual or nude material, use other media")


def check_crops_are_allowed(folder: Path, crops: Sequence[Path],
                            detector: ExplicitContentDetector,
                            progress: Progress | None = None,
                            on_passed: Callable[[Finding], None] | None = None
                            ) -> SafetyReport:
    """Raise ExplicitContentError at the first of a faceset's crops (`folder`'s) that
    shows explicit nudity; else report. Every crop is looked at, not a sample: a crop is
    what a swap puts in, and one edited crop among thousands would pass a sample (NudeNet
    takes 26 ms of CPU a 256 px crop here: 1.6 s for 60 crops, once, as the pass is
    recorded). `on_passed` hears of each crop as it passes (the check is resumable:
    `crop_verdicts`)."""
    progress = progress or NoProgress()
    progress.start(len(crops), f"check {Path(folder).name}", unit="crops")
    worst: list[Finding] = []
    try:
        for crop in crops:
            finding = _scan_crop(Path(crop), detector)
            if finding.score >= REFUSAL_THRESHOLD:
                raise _refusal(f"{folder}: its crop {Path(crop).name}", finding)
            if not worst or finding.score > worst[0].score:
                worst = [finding]
            if on_passed is not None:
                on_passed(finding)
            progress.advance()
    finally:
        progress.finish()
    return SafetyReport(len(crops), tuple(worst))


def _scan_crop(path: Path, detector: ExplicitContentDetector) -> Finding:
    """The highest explicit-class score of one crop, read as the swap reads it."""
    worst = Finding(path, "", 0.0, 0, 0.0)
    for label, score in detector.scores(read_crop(path)).items():
        if label in EXPLICIT_CLASSES and score > worst.score:
            worst = Finding(path, label, score, 0, 0.0)
    return worst


def mark_passed(folder: Path, source_sha256: str, report: SafetyReport) -> None:
    """Write `folder`'s mark (`PASSED_FILE`, atomically) that the input whose content hash
    is `source_sha256` passed the check (`report`)."""
    write_json_atomic(Path(folder) / PASSED_FILE, {
        "format": PASSED_FORMAT, "passed": True, "source_sha256": source_sha256,
        "frames_checked": report.frames_checked, "max_score": round(report.max_score, 4),
        "threshold": REFUSAL_THRESHOLD, "tool": f"facedub {__version__}"})


def mark_crops(folder: Path, crops_sha256: str) -> None:
    """Add to `folder`'s mark the hash of the crops its checked input gave
    (`fsutil.sha256_listing` of them), once they are all written: a folder given later as a
    faceset is trusted only while its crops are still those (`marked_crops`). A folder
    without a valid mark is left without one."""
    try:
        raw = json.loads((Path(folder) / PASSED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if _valid_mark(raw):
        write_json_atomic(Path(folder) / PASSED_FILE, {**raw, "crops_sha256": crops_sha256})


def marked_crops(folder: Path, crops_sha256: str) -> bool:
    """`folder` (a faceset) holds the mark that its input passed the check and gave
    exactly the crops of hash `crops_sha256`. A crop edited, added or replaced after the
    mark, a mark without the hash (written before the crops were all there: a run killed
    at its end), or none (a hand-made folder, an older facedub's) is not."""
    try:
        raw = json.loads((Path(folder) / PASSED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return _valid_mark(raw) and raw.get("crops_sha256") == crops_sha256


def _valid_mark(raw: object) -> bool:
    # (Checked against another threshold: checked again.)
    return (isinstance(raw, dict) and raw.get("format") == PASSED_FORMAT
            and raw.get("passed") is True and raw.get("threshold") == REFUSAL_THRESHOLD)


def marked_passed(folder: Path, source_sha256: str) -> bool:
    """`folder` holds the mark that the input of content hash `source_sha256` passed the
    check (`mark_passed`). Anything else (no mark: a folder an older facedub wrote, which
    trusted its own progress lines; a damaged or hand-made one; another input's) is not."""
    try:
        raw = json.loads((Path(folder) / PASSED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return _valid_mark(raw) and raw.get("source_sha256") == source_sha256
