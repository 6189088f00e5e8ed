"""extract: media in, faceset out.

Decode frames, find faces and their landmarks, describe identity on sampled frames, cut
aligned crops and masks, then link faces into tracks and persons and choose the person.
Analysis is logged frame by frame to progress.jsonl, so an interrupted run continues
where it stopped; tracking and the choice of person run at the end over the whole log.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np

from facedub import __version__, media
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.folder import folder_photos, skipped_names
from facedub.extract.models import AnalysisModels
from facedub.extract.safety import (
    PASSED_FILE,
    CheckStoppedError,
    ExplicitContentDetector,
    SafetyReport,
    check_media_is_allowed,
    mark_crops,
    mark_passed,
    marked_passed,
)
from facedub.faces.align import align_face, face_from_frame_matrix
from facedub.faces.identity import SAME_PERSON_DISTANCE, IdentityEncoder, distance
from facedub.faces.landmarks import BLENDSHAPE_NAMES, FaceAnalyser
from facedub.faces.track import Detection, FrameDetections, Tracking, needs_descriptor, track_faces
from facedub.faceset import (
    FACES_DIR,
    MASKS_DIR,
    META_FILE,
    PROGRESS_FILE,
    RECORDS_FILE,
    FaceRecord,
    Faceset,
    FacesetMeta,
    PersonSummary,
    crop_names,
    iter_jsonl,
    load_faceset,
    read_meta,
    record_to_json,
    write_meta,
    write_png,
)
from facedub.fsutil import (
    atomic_path,
    remove_stale_partials,
    sha256_file,
    sha256_listing,
    write_text_atomic,
)
from facedub.media.animation import iter_animation
from facedub.progress import NoProgress, Progress, advance_kept
from facedub.threads import BackgroundSink, prefetched, started
from facedub.types import FaceObservation

log = logging.getLogger(__name__)

SCENE_CUT_DIFFERENCE = 0.45  # Bhattacharyya distance of colour histograms between frames


@dataclass(frozen=True)
class MediaSource:
    """A video, a photo, or a folder of photos, read as one sequence of frames."""

    path: Path
    kind: str  # "video", "photo" or "folder"
    files: tuple[Path, ...]
    frame_total: int
    sha256: str
    # Each file's (inode, size, mtime) taken before it was hashed: `unchanged` tells
    # whether `sha256` still describes what is on disk now (a file replaced since).
    stamps: tuple[tuple[int, int, int], ...] = ()
    listed_frames: int = 0  # frames the video's index lists (0: it lists none)
    # A folder's photos that cannot be read (`extract.folder`): left out of `files`, the
    # hash and the analysis, but stamped: one re-exported makes the folder "changed".
    skipped: tuple[Path, ...] = ()
    # An animated WebP or PNG: a video source ("video"), its frames read with Pillow, as
    # FFmpeg reads an animated GIF's (`media.animation`).
    animated: bool = False

    def unchanged(self) -> bool:
        """The files are still the ones hashed (none replaced, rewritten, added or gone)."""
        try:
            listed = self.listed()
            files = tuple(media.photos_in(self.path)) if self.kind == "folder" else listed
            return files == listed and file_stamps(files) == self.stamps
        except OSError:
            return False

    def listed(self) -> tuple[Path, ...]:
        """Every file of the input, the skipped ones too, in name order."""
        return tuple(sorted(self.files + self.skipped)) if self.skipped else self.files

    def frames(self) -> Iterator[tuple[media.Frame, str]]:
        if self.animated:
            for index, time, image in iter_animation(self.path):
                yield media.Frame(index, time, image), self.path.name
            return
        if self.kind == "video":
            decoded = 0
            for frame in media.iter_frames(self.path):
                decoded = frame.index + 1
                yield frame, self.path.name
            _require_listed_frames(self.path, decoded, self.listed_frames)
            return
        for index, file in enumerate(self.files):
            yield media.Frame(index, 0.0, media.read_photo(file)), file.name


@dataclass(frozen=True)
class ExtractResult:
    faceset: Faceset
    frames_analysed: int
    frames_with_faces: int
    frames_resumed: int  # frames analysed by an earlier, interrupted run
    reference_distance: float | None  # identity distance of the chosen person to --person


def open_source(path: Path, verdicts: Path | None = None) -> MediaSource:
    """Check the input and describe it; raise FacedubError for anything not media.
    `verdicts`: where a folder's photos' readability is kept (`folder_photos`)."""
    path = Path(path)
    if path.is_dir():
        photos = tuple(media.photos_in(path))
        if not photos and looks_like_faceset(path):
            raise FacedubError(f"{path}: a faceset folder without its {META_FILE} (a copy cut "
                               "short?); extract it again: `facedub extract VIDEO -o FOLDER`")
        if not photos:
            raise FacedubError(f"{path}: the folder holds no photos (jpg, png, webp); give a "
                               "video, a photo or a folder of photos")
        stamps = file_stamps(photos)  # before the reads: a change meanwhile shows
        sorted_out = folder_photos(path, photos, verdicts)
        if not sorted_out.usable:
            raise FacedubError(f"{path}: none of its {len(photos)} photos can be read "
                               f"({skipped_names(sorted_out.skipped)}); give JPEG, PNG or "
                               "WebP photos")
        usable = sorted_out.usable
        return MediaSource(path, "folder", usable, len(usable), sha256_listing(usable), stamps,
                           skipped=tuple(p for p, _ in sorted_out.skipped))
    info = media.probe(path)  # a missing or unreadable file: one line from here
    stamps = file_stamps((path,))  # before the hash: a change while hashing shows
    frames = media.animated_frames(path) if info.kind == "photo" else 1
    if frames > 1:
        return MediaSource(path, "video", (path,), frames, sha256_file(path), stamps,
                           animated=True)
    return MediaSource(path, info.kind, (path,), info.frame_count, sha256_file(path), stamps,
                       info.listed_frames)


def _require_listed_frames(path: Path, decoded: int, listed: int) -> None:
    """Refuse a video that decoded well short of the frames its index lists: an MP4 cut
    mid-file (an interrupted download or copy) decodes its first part without an error,
    and every command went on with that part as if it were the clip (a swap wrote 11 of
    45 frames and said '11/11 frames swapped'). A few frames short is normal: an edit
    list drops the ones before its start."""
    if listed and listed - decoded >= max(3, listed // 50):
        raise media.DecodeError(
            f"{path}: only {decoded} of the {listed} frames its index lists could be decoded "
            "(the file is cut short or damaged); re-export or re-download it")


def looks_like_faceset(folder: Path) -> bool:
    """A faceset's records or crops are in `folder` (its faceset.json may be missing)."""
    return (folder / RECORDS_FILE).is_file() or (folder / FACES_DIR).is_dir()


def file_stamps(files: tuple[Path, ...]) -> tuple[tuple[int, int, int], ...]:
    """Each file's inode, size and modification time (ns): a file replaced (a new inode)
    or rewritten changes its stamp."""
    stamps = []
    for file in files:
        status = file.stat()
        stamps.append((status.st_ino, status.st_size, status.st_mtime_ns))
    return tuple(stamps)


def reference_descriptor(photo: Path, encoder: IdentityEncoder, landmarker: Path
                         ) -> np.ndarray:
    """Identity of the largest face in a reference photo."""
    image = media.read_photo(photo)
    with FaceAnalyser(max_faces=4, video=False, model_path=landmarker) as analyser:
        faces = analyser.analyse(image)
    if not faces:
        raise FacedubError(f"{photo}: no face found in the reference photo; use a clear photo "
                           "of the person's face")
    return encoder.describe(image, faces[0].landmarks)


def extract(media_path: Path, out_dir: Path, config: ExtractConfig,
            progress: Progress | None = None,
            detector: ExplicitContentDetector | None = None,
            source: MediaSource | None = None,
            models: AnalysisModels | None = None) -> ExtractResult:
    """Analyse `media_path` into the faceset folder `out_dir` (resuming an interrupted run).

    Explicit content is refused before any face is written (`detector` replaces NudeNet
    in tests; the check cannot be skipped): the check runs beside the first frames of the
    analysis, and their crops and log lines wait until it passes. Every later stage reads
    media through here. `source`: `media_path` as the caller has just opened it
    (`open_source`: probing a photo decodes it, and a video's content is hashed).
    `models`: NudeNet and the identity model, shared with the caller's other analyses
    (loaded on first use; a test's `detector` goes inside it, not beside it).
    """
    progress = progress or NoProgress()
    if models is not None and detector is not None:
        # A detector beside shared models would be silently unused: the models' own runs.
        raise ValueError("extract: pass the detector inside `models`, not beside it")
    models = models if models is not None else AnalysisModels(detector)
    if source is None or source.path != Path(media_path):
        source = open_source(media_path)
    # The recognition model takes 150-300 ms of CPU to load: not for a finished analysis
    # that is only reused (every swap after the first of a target, and of its source).
    encoder = models.encoder() if config.person_reference else None
    reference = (reference_descriptor(config.person_reference, encoder, config.landmarker)
                 if encoder is not None and config.person_reference else None)
    out_dir = Path(out_dir)
    safety: Future[SafetyReport] | None = None
    stop_check = threading.Event()
    try:
        if not _already_checked(out_dir, source):
            # NudeNet loads on the check's thread, beside the analysis's first frames.
            # (The future is held before the start: a stop signal raised as the thread
            # starts still finds it below.)
            safety = Future()
            started(functools.partial(_check, source.files, models, stop_check),
                    "facedub-safety", safety)
        output = _prepare_output(out_dir, source, config)
        try:
            if output.complete:  # only the choice of person may change
                if safety is not None:  # finished by a facedub that left no mark
                    # (Its crops are not marked: made before any check, they may have
                    # been edited since; given as a faceset, they are checked.)
                    _mark_when_passed(out_dir, source, safety, progress)
                return _rechoose(out_dir, reference)
            _analyse(source, out_dir, config, encoder or models.encoder(), progress, safety,
                     stop_check)
            return _finalise(out_dir, reference, output.frames_done, source.path)
        except FacedubError:
            if output.frames_done == 0 and not output.complete:  # nothing of an earlier run
                _remove_output(out_dir, output.created)
            raise
    finally:
        if safety is not None:
            _end_check(safety, stop_check)


def _check(files: tuple[Path, ...], models: AnalysisModels, stop: threading.Event
           ) -> SafetyReport:
    if stop.is_set():  # the extraction failed before the check began: no NudeNet to load
        raise CheckStoppedError("stopped before it began")
    return check_media_is_allowed(files, models.detector(), stop)


def _end_check(safety: Future[SafetyReport], stop: threading.Event) -> None:
    """The content check ended before `extract` returns or raises. A refusal (a folder
    not empty, another input's faceset) or an error before the analysis waited for
    nothing: the check went on reading the input on its own thread after `extract` had
    raised, into whatever ran next in the process (a later test's Pillow opens; the web
    app's next job's CPU). Stopped before its next frame and waited for; a Ctrl-C or stop
    signal during the wait is raised at once (see below)."""
    stop.set()
    if safety.cancel():  # its thread had not begun it
        return
    # The check ends before its next frame (one NudeNet look, tens of ms; NudeNet's load
    # at most). A stop signal or Ctrl-C during this wait raises at once: the user's second
    # Ctrl-C (the first stopped the analysis) gets out; eight of them were swallowed. The
    # interpreter's exit still waits for the check's thread, which ends at its next frame.
    futures.wait([safety])


def _already_checked(out_dir: Path, source: MediaSource) -> bool:
    """An earlier run into this folder analysed the same input and its check passed: the
    folder holds the check's own mark (`safety.mark_passed`, written as the check passes,
    before any crop or progress line). Nothing else is trusted: faceset.json alone is
    written before the check ends (a run stopped during the check left it), and a
    finished faceset or a progress line of a folder an older facedub wrote says nothing
    of a check (one that never made one skipped it): such a folder is checked again."""
    try:
        meta = read_meta(out_dir)
    except FacedubError:
        return False
    return meta.source_sha256 == source.sha256 and marked_passed(out_dir, source.sha256)


def _mark_when_passed(out_dir: Path, source: MediaSource, safety: Future[SafetyReport],
                      progress: Progress) -> None:
    """Wait for the content check (raising its refusal) and mark `out_dir` as passed. A
    bar while it waits: the check of a long video decodes all of it (a minute or more),
    and nothing else would show."""
    progress.start(1, f"check {source.path.name}")
    try:
        report = safety.result()
        progress.advance()
    finally:
        progress.finish()
    mark_passed(out_dir, source.sha256, report)


@dataclass(frozen=True)
class _Output:
    """The output folder as extraction finds it: `created` by this run, `frames_done`
    analysed by an earlier one, `complete` (an earlier run finished it)."""

    created: bool
    frames_done: int
    complete: bool


def _prepare_output(out_dir: Path, source: MediaSource, config: ExtractConfig) -> _Output:
    """Create or check the output folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FacedubError(f"{out_dir}: exists and is not a folder; choose a folder for -o")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not _left_by_a_killed_start(out_dir):
        if not (out_dir / META_FILE).is_file():
            raise FacedubError(f"{out_dir}: the folder is not empty and holds no faceset; "
                               "choose an empty or new folder")
        meta = read_meta(out_dir)
        if meta.source_sha256 != source.sha256:
            raise FacedubError(f"{out_dir}: holds a faceset of another input "
                               f"({meta.source_name}); choose a new folder for "
                               f"{source.path.name}")
        stored = meta.resumable
        wanted = json.loads(json.dumps(config.resumable_settings()))
        if stored != wanted:
            changed = ", ".join(k for k in wanted if stored.get(k) != wanted[k])
            raise FacedubError(f"{out_dir}: was extracted with other settings ({changed}); "
                               "use the same options to resume, or a new folder")
        if meta.complete:
            return _Output(created=False, frames_done=meta.frames_analysed, complete=True)
        done = sum(1 for _ in iter_jsonl(out_dir / PROGRESS_FILE)) \
            if (out_dir / PROGRESS_FILE).is_file() else 0
        log.info("resuming %s after %d analysed frames", out_dir, done)
        return _Output(created=False, frames_done=done, complete=False)
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / FACES_DIR).mkdir(exist_ok=True)
        (out_dir / MASKS_DIR).mkdir(exist_ok=True)
        write_meta(out_dir, _new_meta(source, config))
    except OSError as error:
        raise FacedubError(f"{out_dir}: cannot write there ({error.strerror}); choose another "
                           "output folder") from error
    return _Output(created=created, frames_done=0, complete=False)


def _left_by_a_killed_start(out_dir: Path) -> bool:
    """Whether `out_dir` holds only what a run killed in `_prepare_output` leaves: no
    faceset.json, empty face and mask folders, a dead writer's partial faceset.json
    (removed here). A batch's worker killed there had its retry refused the folder."""
    if (out_dir / META_FILE).exists():
        return False
    remove_stale_partials(out_dir / META_FILE)
    return all(entry.name in (FACES_DIR, MASKS_DIR) and entry.is_dir()
               and not any(entry.iterdir()) for entry in out_dir.iterdir())


def _new_meta(source: MediaSource, config: ExtractConfig) -> FacesetMeta:
    """faceset.json of an extraction that has just begun (persons come at the end)."""
    return FacesetMeta(
        crop_size=config.crop_size, coverage=config.coverage, source_name=source.path.name,
        source_sha256=source.sha256, source_kind=source.kind, source_frames=source.frame_total,
        frames_analysed=0, person=0, persons=(), blendshape_names=BLENDSHAPE_NAMES,
        resumable=config.resumable_settings(), max_frames=config.max_frames,
        has_crops=config.write_crops, cuts=frozenset(), complete=False,
        tool=f"facedub {__version__}")


class _OrderedWriter:
    """Writes PNGs and progress lines on one background thread, in submission order, so a
    frame's progress line lands only after its images (a resumed run can trust it).

    `gate`: nothing is written until it completes, and nothing at all if it fails (the
    explicit-content check); `on_passed` is called with its result first. After any
    failure the remaining writes are dropped, and the failure re-raises from the next
    write or from `close`.
    """

    def __init__(self, progress_file: TextIO, gate: Future[SafetyReport] | None = None,
                 on_passed: Callable[[SafetyReport], None] | None = None) -> None:
        self._file = progress_file
        self._sink = BackgroundSink[Callable[[], object]](_run_job, depth=64)
        if gate is not None:
            self._sink.put(functools.partial(_pass_gate, gate, on_passed))

    def png(self, path: Path, image: np.ndarray) -> None:
        self._sink.put(functools.partial(write_png, path, image))

    def line(self, text: str) -> None:
        self._sink.put(functools.partial(self._write_line, text))

    def _write_line(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()

    def close(self, on_interrupt: Callable[[], None] | None = None) -> None:
        """Wait for every write (`BackgroundSink.close`: a Ctrl-C drops those not begun
        and calls `on_interrupt`, which stops the check the first write may wait for)."""
        self._sink.close(on_interrupt)


def _run_job(job: Callable[[], object]) -> None:
    job()


def _pass_gate(gate: Future[SafetyReport],
               on_passed: Callable[[SafetyReport], None] | None) -> None:
    result = gate.result()
    if on_passed is not None:
        on_passed(result)


def _analyse(source: MediaSource, out_dir: Path, config: ExtractConfig, encoder: IdentityEncoder,
             progress: Progress, gate: Future[SafetyReport] | None = None,
             stop_gate: threading.Event | None = None) -> None:
    """`stop_gate` stops the content check (`gate`) when the analysis fails: the writer's
    close waits for the check, which otherwise looked at all its frames first."""
    progress_path = out_dir / PROGRESS_FILE
    done = _trim_progress(progress_path)
    start_after = done[-1]["frame"] if done else -1
    analysed = len(done)
    previous_boxes = [tuple(f["box"]) for f in done[-1]["faces"]] if done else []
    total = -(-source.frame_total // config.every)
    if config.max_frames:
        total = min(total, config.max_frames)
    progress.start(total, f"extract {source.path.name}")
    advance_kept(progress, analysed)  # an interrupted run's frames
    remaining = config.max_frames - analysed if config.max_frames else None
    with open(progress_path, "a", encoding="utf-8") as progress_file, FaceAnalyser(
            max_faces=config.max_faces, video=source.kind == "video",
            min_confidence=config.min_confidence, model_path=config.landmarker) as analyser:
        # The check's mark lands before any crop or progress line (`_already_checked`).
        writer = _OrderedWriter(progress_file, gate, functools.partial(
            mark_passed, out_dir, source.sha256))
        # Stopped before the analyser closes: on an error or Ctrl-C here the thread ahead
        # may be skipping frames (a resume) for longer than `prefetched` waits for it.
        halt = threading.Event()
        failed = False
        landmarked = prefetched(_landmarked(source, config.every, start_after, remaining,
                                            analyser, halt))
        try:
            for frame, file_name, cut, faces in landmarked:
                entries = [
                    _face_entry(frame, file_name, number, face, describe=(
                        cut or analysed % config.identity_every == 0
                        or needs_descriptor(face.box, previous_boxes)),
                        config=config, encoder=encoder, out_dir=out_dir, writer=writer)
                    for number, face in enumerate(faces)]
                writer.line(json.dumps({"frame": frame.index, "time": round(frame.time, 6),
                                        "cut": cut, "faces": entries}) + "\n")
                previous_boxes = [face.box for face in faces]
                analysed += 1
                progress.advance()
        except BaseException:
            failed = True
            if stop_gate is not None:
                stop_gate.set()  # before writer.close() below, which waits for the check
            raise
        finally:
            try:
                halt.set()
                landmarked.close()
                try:
                    # Re-raises the explicit-content check's error, if any. A Ctrl-C while
                    # it waits for the check (the analysis ended first: a photo, a resumed
                    # run, --max-frames) stops the check: it read the rest of the video
                    # first (3 frames of a 3540-frame clip: the exit came 6.8 s after the
                    # Ctrl-C, 0.7 s now).
                    writer.close(stop_gate.set if stop_gate is not None else None)
                except CheckStoppedError:
                    if not failed:  # stopped only on a failure: that failure is raised
                        raise
            finally:
                # Stopped whatever the close raised: a bar left running was redrawn
                # below the command's one-line error (a folder with an unreadable photo).
                progress.finish()


def _landmarked(source: MediaSource, every: int, start_after: int, limit: int | None,
                analyser: FaceAnalyser, halt: threading.Event
                ) -> Iterator[tuple[media.Frame, str, bool, list[FaceObservation]]]:
    """Every `every`th frame after `start_after` (at most `limit`), whether a shot starts
    there, and its faces. Run a few frames ahead on a thread of its own (`prefetched`,
    the only user of `analyser`): MediaPipe's inference releases Python's lock, so it
    overlaps the identity descriptors and log lines of the frames before it. Ends at the
    next frame once `halt` is set."""
    if limit is not None and limit <= 0:
        return
    previous_histogram = None
    count = 0
    for frame, file_name in prefetched(source.frames()):
        if halt.is_set():
            return
        if frame.index % every:
            continue
        histogram = _colour_histogram(frame.image) if source.kind == "video" else None
        cut = _is_cut(previous_histogram, histogram)
        previous_histogram = histogram
        if frame.index <= start_after:
            continue
        yield frame, file_name, cut, analyser.analyse(frame.image, frame.time, new_shot=cut)
        count += 1
        if limit is not None and count >= limit:
            return


def _face_entry(frame: media.Frame, file_name: str, number: int, face: FaceObservation, *,
                describe: bool, config: ExtractConfig, encoder: IdentityEncoder,
                out_dir: Path, writer: _OrderedWriter) -> dict[str, Any]:
    """The progress-log record of one face; its crop and mask are queued for writing."""
    if config.write_crops:
        aligned = align_face(frame.image, face.landmarks, config.crop_size, config.coverage)
        image_name, mask_name = crop_names(frame.index, number)
        writer.png(out_dir / image_name, aligned.image)
        writer.png(out_dir / mask_name, np.round(aligned.mask * 255).astype(np.uint8))
        face_from_frame = aligned.face_from_frame
        sharpness = _sharpness(aligned.image, aligned.mask)
    else:  # analysis only: no crops, no sharpness (it is measured on the crop)
        face_from_frame = face_from_frame_matrix(face.landmarks, config.crop_size,
                                                 config.coverage)
        image_name, mask_name, sharpness = "", "", 0.0
    record = FaceRecord(
        frame=frame.index, time=frame.time, source=file_name, track=-1, person=-1,
        box=face.box, frame_landmarks=face.landmarks, face_from_frame=face_from_frame,
        pose=face.pose, blendshapes=face.blendshapes,
        descriptor=encoder.describe(frame.image, face.landmarks) if describe else None,
        sharpness=sharpness, image=image_name, mask=mask_name)
    return record_to_json(record)


def _trim_progress(path: Path) -> list[dict[str, Any]]:
    """Read the complete lines of the progress log and cut off a torn last line."""
    if not path.is_file():
        return []
    lines = [data for _, data in iter_jsonl(path)]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)
    return lines


def _finalise(out_dir: Path, reference: np.ndarray | None, resumed: int,
              media_path: Path) -> ExtractResult:
    """Track, group into persons, choose, and write faces.jsonl. Streams the progress log
    twice (tracking keeps only boxes and sampled descriptors), so memory stays flat in the
    length of the video."""
    progress_path = out_dir / PROGRESS_FILE
    frames = [FrameDetections(data["frame"], data["cut"], tuple(
        Detection(face["frame"], tuple(face["box"]), None if face["descriptor"] is None
                  else np.asarray(face["descriptor"], dtype=np.float32))
        for face in data["faces"])) for _, data in iter_jsonl(progress_path)]
    if not any(frame.faces for frame in frames):
        # Named: a swap analyses two inputs, and the line did not say which had no face.
        raise FacedubError(f"{media_path}: no face found in any of the {len(frames)} analysed "
                           "frames; use media where a face is visible")
    tracking = track_faces(frames)
    persons = _person_summaries(frames, tracking)
    chosen, reference_distance = _choose_person(persons, reference)
    with atomic_path(out_dir / RECORDS_FILE) as staged, open(staged, "w",
                                                            encoding="utf-8") as records:
        for (_, data), tracks in zip(iter_jsonl(progress_path), tracking.track_of,
                                     strict=True):
            for face, track in zip(data["faces"], tracks, strict=True):
                face.update(track=track, person=tracking.person_of_track[track])
                records.write(json.dumps(face) + "\n")
    meta = replace(read_meta(out_dir), complete=True, frames_analysed=len(frames),
                   persons=persons, person=chosen,
                   cuts=frozenset(frame.frame for frame in frames if frame.scene_cut),
                   reference_distance=reference_distance)
    write_meta(out_dir, meta)
    progress_path.unlink(missing_ok=True)
    faceset = load_faceset(out_dir)
    # The crops are all there now: the mark names them, so this folder given later as a
    # faceset (swap --source, train, refine) is trusted while they are unedited. Hashing
    # them takes 0.07 ms of CPU a crop (75 kB PNGs of 256 px).
    mark_crops(out_dir, sha256_listing(crops_of(faceset)))
    return ExtractResult(faceset, len(frames),
                         sum(1 for frame in frames if frame.faces), resumed, reference_distance)


def crops_of(faceset: Faceset) -> tuple[Path, ...]:
    """The crop files `faceset`'s records name, each once, in name order (none for a
    faceset of landmarks only)."""
    if not faceset.meta.has_crops:
        return ()
    return tuple(sorted({faceset.root / record.image for record in faceset.records}))


def _rechoose(out_dir: Path, reference: np.ndarray | None) -> ExtractResult:
    """Choose the person of a finished analysis again. Without a reference the choice goes
    back to the default (most screen time), not to whatever an earlier run with a reference
    photo chose."""
    faceset = load_faceset(out_dir)
    chosen, reference_distance = _choose_person(faceset.meta.persons, reference)
    if (chosen, reference_distance) != (faceset.meta.person, faceset.meta.reference_distance):
        write_meta(out_dir, replace(faceset.meta, person=chosen,
                                    reference_distance=reference_distance))
        faceset = load_faceset(out_dir)
    frames = faceset.meta.frames_analysed
    with_faces = len({record.frame for record in faceset.records})
    return ExtractResult(faceset, frames, with_faces, frames, reference_distance)


def _person_summaries(frames: list[FrameDetections],
                      tracking: Tracking) -> tuple[PersonSummary, ...]:
    faces: dict[int, int] = {}
    frames_seen: dict[int, set[int]] = {}
    tracks: dict[int, set[int]] = {}
    for frame, track_ids in zip(frames, tracking.track_of, strict=True):
        for track in track_ids:
            person = tracking.person_of_track[track]
            faces[person] = faces.get(person, 0) + 1
            frames_seen.setdefault(person, set()).add(frame.frame)
            tracks.setdefault(person, set()).add(track)
    return tuple(PersonSummary(person, faces.get(person, 0), len(frames_seen.get(person, ())),
                               len(tracks.get(person, ())), descriptor)
                 for person, descriptor in enumerate(tracking.person_descriptors))


def _choose_person(persons: tuple[PersonSummary, ...],
                   reference: np.ndarray | None) -> tuple[int, float | None]:
    if reference is None:
        return 0, None  # persons are numbered by screen time
    scored = [(distance(reference, p.descriptor), p.id) for p in persons
              if p.descriptor is not None]
    if not scored:
        raise FacedubError("no face could be identified, so a reference photo cannot choose "
                           "the person; leave the reference photo out")
    best_distance, best = min(scored)
    if best_distance > SAME_PERSON_DISTANCE:
        raise FacedubError(f"the person in the reference photo was not found (nearest is "
                           f"person {best} at identity distance {best_distance:.2f}, the same "
                           f"person is below {SAME_PERSON_DISTANCE}); use a clearer photo of "
                           "them")
    return int(best), best_distance


def _remove_output(out_dir: Path, created: bool) -> None:
    if created:
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    for name in (META_FILE, PROGRESS_FILE, RECORDS_FILE, PASSED_FILE):
        (out_dir / name).unlink(missing_ok=True)
    for name in (FACES_DIR, MASKS_DIR):
        shutil.rmtree(out_dir / name, ignore_errors=True)


def _colour_histogram(image: np.ndarray) -> np.ndarray:
    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    histogram = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return cv2.normalize(histogram, histogram).astype(np.float32)


def _is_cut(previous: np.ndarray | None, current: np.ndarray | None) -> bool:
    """A new shot starts here (photos are always their own shot)."""
    if previous is None or current is None:
        return True
    difference = cv2.compareHist(previous, current, cv2.HISTCMP_BHATTACHARYYA)
    return bool(difference > SCENE_CUT_DIFFERENCE)


def _sharpness(image: np.ndarray, mask: np.ndarray) -> float:
    """Variance of the Laplacian inside the face: higher is sharper."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    inside = mask > 0.5
    return float(laplacian[inside].var()) if inside.any() else 0.0
