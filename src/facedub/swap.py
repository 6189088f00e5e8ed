"""swap: target media + engine -> output media with the source person's face.

Two passes over the target: `extract` analyses it (landmarks, tracks, the chosen person;
cached in the work folder; explicit content is refused there), then every frame is
decoded again, the chosen person's face is swapped, composited, pasted back, marked
(watermark, label) and encoded. Frames without that person pass through unchanged. The
finished file is signed (content credentials), moved into place, and described in a
`.provenance.json` sidecar. Nothing appears at the output path before it is complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from facedub import media
from facedub.composite.compositor import CompositeConfig, Composited, Compositor
from facedub.engines.base import SwapEngine, SwappedFace, TargetFace
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.safety import ExplicitContentDetector
from facedub.extract.workspace import analysed
from facedub.faces.align import Coverage, face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import crop_in_frame, paste_back, warp_to_face
from facedub.faceset import FaceRecord, Faceset, largest_face_per_frame
from facedub.fsutil import atomic_path, published_whole
from facedub.progress import NoProgress, Progress, Waits, waits_ended_on_failure
from facedub.provenance import MAX_JOB_ID, new_job_id, write_sidecar
from facedub.provenance.label import LabelPainter
from facedub.provenance.manifest import sidecar_path
from facedub.provenance.mark import OutputMarks, job_facts, sign_output
from facedub.provenance.watermark import read_watermark
from facedub.threads import BackgroundSink, opencv_threads, prefetched, reuse_freed_memory

log = logging.getLogger(__name__)

MIN_CROP, MAX_CROP = 128, 768
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")


@dataclass(frozen=True)
class SwapConfig:
    work_dir: Path  # cached analyses of targets and sources
    config_dir: Path  # the signing credentials live here
    composite: CompositeConfig = field(default_factory=CompositeConfig)
    visible_label: bool = True  # the watermark and credentials cannot be turned off
    target_person: Path | None = None  # photo of the target person to replace
    crf: int = 18
    # x264 preset: at CRF 18 "veryfast" encodes 3x faster than "medium" here for a file of
    # about the same size.
    preset: str = "veryfast"
    max_crop: int = 512  # largest crop the face is composited at, pixels
    # The id the watermark and the credentials carry; None: a fresh random one. A fixed id
    # makes a swap repeatable (its mark's pattern moves pixels by a few grey levels).
    job_id: int | None = None

    def __post_init__(self) -> None:
        media.check_crf(self.crf)
        if self.job_id is not None and (isinstance(self.job_id, bool)
                                        or not isinstance(self.job_id, int)
                                        or not 0 <= self.job_id <= MAX_JOB_ID):
            raise FacedubError(f"--job-id {self.job_id}: the watermark's job id is a whole "
                               f"number from 0 to {MAX_JOB_ID}")
        if self.preset not in X264_PRESETS:
            raise FacedubError(f"--preset {self.preset}: use one of {', '.join(X264_PRESETS)}")
        if not MIN_CROP <= self.max_crop <= MAX_CROP:
            raise FacedubError(f"--max-crop must be between {MIN_CROP} and {MAX_CROP}")


@dataclass(frozen=True)
class SwapResult:
    output: Path
    sidecar: Path
    job_id: int
    frames: int
    frames_swapped: int
    crop_size: int
    target_person: int
    target_persons: int
    seconds: float
    audio: tuple[media.AudioTrack, ...] = ()  # what became of each of the target's audio streams
    # What became of a photo target's transparency ("" where it has none): `PhotoOutput`
    transparency: str = ""


def check_output_path(target: Path, output: Path, inputs: tuple[Path, ...]) -> None:
    """Refuse outputs that would overwrite an input or not match the target's kind."""
    check_output_kind(target, output)
    resolved = output.resolve()
    if any(resolved == Path(p).resolve() for p in inputs):
        raise FacedubError(f"{output}: would overwrite an input; choose another output path")
    if not output.parent.is_dir():
        raise FacedubError(f"{output}: the folder {output.parent} does not exist; create it")


def check_output_kind(target: Path, output: Path) -> None:
    """Refuse an output whose kind does not fit the target's (a photo's or a video's), and
    a photo target that is an animation. Reads the target and the output's name only (and
    an existing .gif output): batch checks a job's output before its folder exists."""
    if media.is_photo_path(target):
        animated = animated_target(target)
        if animated:
            raise FacedubError(f"{target}: {animated}")
        if media.is_photo_path(output) and not media.writes_photo(output):
            # A .heic output name (a photo's, as HEIC targets are refused by theirs) went
            # on to the end of the swap and a traceback: Pillow writes no HEIC.
            raise FacedubError(f"{output}: facedub cannot write {output.suffix} photos; name "
                               "the output .jpg, .png or .webp")
        if not media.is_photo_path(output):
            # A phone video saved as .jpg was told its output must be a photo: read it
            # first, so such a file is named for what it is (and a damaged one as damaged).
            media.read_photo(target)
            raise FacedubError(f"{output}: the target is a photo, so the output must be a "
                               f"photo too (.jpg, .png or .webp)")
    else:
        media.output_format_for(output)  # one line naming the extensions that work


def animated_target(target: Path) -> str:
    """Why a photo target that holds several frames (an animated WebP or PNG) is refused,
    or "": its first frame alone was swapped into a still, the animation lost silently."""
    frames = media.animated_frames(target)
    if frames < 2:
        return ""
    kind = {".webp": "WebP"}.get(target.suffix.lower(), target.suffix[1:].upper())
    return (f"an animated {kind} of {frames} frames, which facedub reads as its first frame "
            "only; convert it to a video (.mp4 or .gif) to swap every frame, or to a photo "
            "to swap one")


def analyse_target(target: Path, config: SwapConfig, progress: Progress,
                   detector: ExplicitContentDetector | None = None,
                   models: AnalysisModels | None = None) -> Faceset:
    # Identity once a second is enough here: tracks follow boxes, and every new face is
    # described anyway.
    extract_config = ExtractConfig(write_crops=False, person_reference=config.target_person,
                                   identity_every=25)
    faceset = analysed(target, config.work_dir, extract_config, progress, detector, models)
    if not faceset.faces_of():
        raise FacedubError(f"{target}: the chosen person has no faces to swap")
    return faceset


def compositing_crop_size(records: tuple[FaceRecord, ...], faceset_crop: int,
                          limit: int) -> int:
    """Crop size at which the target face is composited: about one crop pixel per frame
    pixel of the median face, so the face is not resampled down and up again."""
    scales = [np.sqrt(abs(np.linalg.det(r.face_from_frame[:, :2]))) for r in records]
    size = faceset_crop / float(np.median(scales))
    return int(np.clip(np.ceil(size / 8.0) * 8, MIN_CROP, limit))


@contextlib.contextmanager
def target_analysed_named(target: Path, config: SwapConfig, progress: Progress,
                          detector: ExplicitContentDetector | None = None,
                          models: AnalysisModels | None = None) -> Iterator[Faceset]:
    """`analyse_target`'s faceset, for a block that sets up the swap (`swap`,
    `batch.resumable.resumable_swap`), each stage named on a terminal (`progress.Waits`)
    until the swap's bar starts: the target read and hashed before its analysis's bar, and
    after that bar the analysis's tracks and persons and the swap's set-up (the glasses
    learned from the target's frames, the compositor): 2.5 s at load 30 here, 9-10 s on a
    fresh clone's first run, silent. A stage still named when the block fails is ended."""
    if isinstance(progress, Waits):
        progress.wait(f"reading {target.name}")
    with waits_ended_on_failure(progress):
        faceset = analyse_target(target, config, progress, detector, models)
        if isinstance(progress, Waits):  # once its bars have all ended (or none ran)
            progress.wait("setting up the swap")
        yield faceset


def swap(target: Path, engine: SwapEngine, out_path: Path, config: SwapConfig,
         progress: Progress | None = None,
         detector: ExplicitContentDetector | None = None,
         models: AnalysisModels | None = None) -> SwapResult:
    """Swap the engine's source face into every frame of the target's chosen person, and
    mark, sign and describe the output (the engine describes itself: `engine.facts`).
    `detector` replaces the explicit-content detector
    (tests); the check itself always runs. `models`: the analysis's models, shared with
    the source's analysis (loaded once a process)."""
    progress = progress or NoProgress()
    started = time.monotonic()
    reuse_freed_memory()
    with target_analysed_named(target, config, progress, detector, models) as faceset:
        swapper = frame_swapper(target, faceset, engine, config)
        size = swapper.size
        job_id = new_job_id() if config.job_id is None else config.job_id
        marks = OutputMarks(job_id, visible_label=config.visible_label)
        engine_facts = engine.facts
        audio = _audio_plan(target, out_path)
        photo_output = PhotoOutput.of(target, out_path, marks, config.visible_label)
        settings = {"engine": dict(engine_facts.settings), "swap": recorded_settings(config),
                    "audio": [track.to_json() for track in audio]}
        facts = job_facts(engine_facts.name, settings,
                          (*engine_facts.inputs, ("target", target)),
                          marks.payload.job_id, marks.payload)
        info = media.probe(target)
    progress.start(info.frame_count, f"swap {target.name}")
    # an output is never left without its description
    with published_whole(out_path, sidecar_path(out_path)):
        try:
            # The pipeline's stages (decode, engine, compositing, encode) fill the cores.
            # Closed inside the block: its threads are stopped and waited for before
            # OpenCV's thread count is set back under them, and before the caller closes
            # the engine (`SwapEngine.close`) they use. Left to the garbage collector, an
            # error or Ctrl-C's traceback kept them running past both: on a loaded machine
            # Ctrl-C crashed the process (SIGSEGV) instead of exiting 130.
            with opencv_threads(1), contextlib.closing(
                    _swap_frames(target, swapper, marks)) as frames:
                count = _write(target, info, out_path, frames, config, progress,
                               lambda staged: sign_output(staged, facts, config.config_dir),
                               photo_output.write)
        finally:
            progress.finish()
        sidecar = write_sidecar(out_path, facts)
    return SwapResult(out_path, sidecar, facts.job_id, count, swapper.swapped, size,
                      faceset.meta.person, len(faceset.meta.persons),
                      time.monotonic() - started, audio,
                      photo_output.outcome)


def _audio_plan(target: Path, out_path: Path) -> tuple[media.AudioTrack, ...]:
    """What the output does with each audio stream (the writer makes the same plan)."""
    if media.is_photo_path(target):
        return ()
    return media.plan_audio(target, media.output_format_for(out_path))


class PhotoOutput:
    """Writes a photo target's one swapped, marked frame, keeping the target's
    transparency where the output's format holds alpha and the invisible mark still reads
    in what is opaque (a cut-out came out white around it). `outcome` says which, once
    written ("" for a target without transparency)."""

    def __init__(self, transparency: media.Transparency | None, out_path: Path,
                 marks: OutputMarks, visible_label: bool) -> None:
        self.transparency = transparency
        self.suffix = out_path.suffix.lower()
        self.payload = marks.payload
        self.visible_label = visible_label
        self.outcome = ""

    @staticmethod
    def of(target: Path, out_path: Path, marks: OutputMarks, visible_label: bool
           ) -> PhotoOutput:
        """The writer of `target`'s output (a video target's is never used)."""
        transparency = media.read_transparency(target) if media.is_photo_path(target) else None
        return PhotoOutput(transparency, out_path, marks, visible_label)

    def write(self, staged: Path, image: np.ndarray) -> None:
        if self.transparency is None:
            media.write_photo(staged, image)
            return
        if not media.holds_alpha(staged):
            media.write_photo(staged, image)
            # (AVIF holds alpha, but lossy: not the target's alpha exactly)
            self.outcome = (f"transparency: flattened onto white (facedub writes "
                            f"{self.suffix} without alpha; an output named .png, .webp "
                            "or .tif keeps it)")
            return
        # The label must show on any background: its box is made opaque (drawn on the
        # white that the flattening put under a transparent corner).
        opaque = label_area(image.shape) if self.visible_label else None
        media.write_photo(staged, self.transparency.restore(image, opaque))
        # Transparent pixels carry no mark (a reader sees its background there): a tight
        # cut-out's face alone read 5.1 against a threshold of 6.0. Read back, as
        # `facedub verify` reads it; where the mark is not read, the flattened picture.
        reading = read_watermark(staged)
        if reading.found and reading.payload == self.payload:
            self.outcome = ("transparency: kept (the target's alpha unchanged"
                            + ("; the visible label's box is opaque)" if opaque is not None
                               else ")"))
            return
        media.write_photo(staged, image)
        self.outcome = ("transparency: flattened onto white (too little of the photo is "
                        "opaque for its invisible watermark to be read; crop it closer "
                        "around the opaque part to keep it)")


def label_area(shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool: the pixels the visible label (`OutputMarks`' painter) draws on in a
    frame of `shape`."""
    area = np.zeros(shape[:2], bool)
    area[LabelPainter().box(shape[0], shape[1])] = True
    return area


def frame_swapper(target: Path, faceset: Faceset, engine: SwapEngine, config: SwapConfig
                  ) -> FrameSwapper:
    """The per-frame swapper of a target's chosen person (analysed in `faceset`)."""
    chosen = faceset.faces_of()
    by_frame = largest_face_per_frame(chosen)
    # What the engine can make ahead for these faces (a first swap from a video source),
    # started before the compositor's set-up: the other core is idle until the frames run.
    prepare = getattr(engine, "prepare", None)
    if callable(prepare):
        prepare([by_frame[index] for index in sorted(by_frame)])
    size = compositing_crop_size(chosen, faceset.meta.crop_size, config.max_crop)
    compositor = Compositor(config.composite)
    compositor.learn_glasses(target, faceset, tuple(by_frame.values()))
    return FrameSwapper(engine, compositor, size, by_frame, faceset.person_descriptor())


def recorded_settings(config: SwapConfig) -> dict[str, Any]:
    """The settings worth recording (not where the caches and keys live; the job id is
    recorded as the job's own)."""
    values = dataclasses.asdict(config)
    for private in ("work_dir", "config_dir", "job_id"):
        values.pop(private)
    return json.loads(json.dumps(values, default=str))


@dataclass(frozen=True)
class _EngineFace:
    """A frame with its target face aligned and the engine's face for it (None: no face
    of the chosen person in this frame)."""

    frame: media.Frame
    target: TargetFace | None
    swapped: SwappedFace | None


@runtime_checkable
class TwoStageEngine(Protocol):
    """An engine whose last step keeps no state (the refiner): `base_face` runs on the
    engine thread, `finish_face` on the compositing one, so the two threads share a
    frame's work more evenly; `swap_face` is the two in a row."""

    def base_face(self, target: TargetFace) -> SwappedFace: ...

    def finish_face(self, target: TargetFace, swapped: SwappedFace) -> SwappedFace: ...


@runtime_checkable
class CompositedStageEngine(Protocol):
    """An engine with a step after the compositor (a composited-stage refiner:
    engines.refiner.CompositedRefinedEngine): `refine_composited` takes the compositor's
    finished crop and its alpha and gives the crop the paste-back uses, on the compositing
    thread, before the paste-back and the marks."""

    def refine_composited(self, target: TargetFace, image: np.ndarray, alpha: np.ndarray
                          ) -> np.ndarray: ...


class FrameSwapper:
    """Two stages, each keeping its own per-track state in frame order, so they can run
    on two threads: `engine_face` (landmark smoothing, alignment, the engine) and `finish`
    (compositing, paste-back). Each drops a track's state after its last face: a film has
    a track per shot."""

    def __init__(self, engine: SwapEngine, compositor: Compositor, size: int,
                 by_frame: dict[int, FaceRecord], person: np.ndarray | None = None) -> None:
        """`person`: the chosen target person's mean identity descriptor (TargetFace)."""
        self.engine = engine
        self.person = person
        self.compositor = compositor
        self.size = size
        self.by_frame = by_frame
        self.coverage: Coverage = engine.coverage
        self.swapped = 0
        self.last_frames = last_frame_of_tracks(by_frame)
        # Judged once: a runtime-checkable protocol's isinstance looks up its members each
        # time (0.08 ms, on both threads every frame).
        self.two_stage = engine if isinstance(engine, TwoStageEngine) else None
        self.after_compositor = engine if isinstance(engine, CompositedStageEngine) else None

    def engine_face(self, frame: media.Frame) -> _EngineFace:
        record = self.by_frame.get(frame.index)
        if record is None:
            return _EngineFace(frame, None, None)
        landmarks = self.compositor.smooth_landmarks(record.track, frame.time,
                                                     record.frame_landmarks)
        face_from_frame = face_from_frame_matrix(landmarks, self.size, self.coverage)
        height, width = frame.image.shape[:2]
        target = TargetFace(
            image=warp_to_face(frame.image, face_from_frame, self.size, antialias=True),
            in_frame=crop_in_frame(face_from_frame, self.size, (width, height)),
            face_landmarks=landmarks_in_crop(landmarks, face_from_frame),
            face_from_frame=face_from_frame, pose=record.pose,
            blendshapes=record.blendshapes, time=frame.time, track=record.track,
            person=self.person)
        swapped = (self.engine.swap_face(target) if self.two_stage is None
                   else self.two_stage.base_face(target))
        if self.last_frames.get(record.track) == frame.index:
            self.engine.end_track(record.track)
            self.compositor.end_smoothing(record.track)
        return _EngineFace(frame, target, swapped)

    def finish(self, face: _EngineFace) -> np.ndarray:
        if face.target is None or face.swapped is None:
            return face.frame.image
        _, composited = self.composite(face.target, face.swapped, face.frame.index)
        self.swapped += 1
        return paste_back(face.frame.image, composited.image, composited.alpha,
                          face.target.face_from_frame)

    def composite(self, target: TargetFace, swapped: SwappedFace, frame_index: int
                  ) -> tuple[Composited, Composited]:
        """The engine's face for `target` (a two-stage engine's second stage run)
        composited, before and after a composited-stage engine (the same where there is
        none): `finish` pastes the second; tools/refiner_band_flicker.py compares them.
        Ends the compositor's track at its last frame."""
        if self.two_stage is not None:
            swapped = self.two_stage.finish_face(target, swapped)
        composited = self.compositor.composite(target, swapped)
        shown = composited
        if self.after_compositor is not None:
            shown = dataclasses.replace(composited, image=(
                self.after_compositor.refine_composited(target, composited.image,
                                                        composited.alpha)))
        if self.last_frames.get(target.track) == frame_index:
            self.compositor.end_track(target.track)
        return composited, shown


def last_frame_of_tracks(by_frame: dict[int, FaceRecord]) -> dict[int, int]:
    """Per track, the index of the last frame that has its face."""
    last: dict[int, int] = {}
    for index, record in by_frame.items():
        last[record.track] = max(index, last.get(record.track, index))
    return last


def _swap_frames(target: Path, swapper: FrameSwapper, marker: OutputMarks
                 ) -> Generator[media.Frame, None, None]:
    """Decode, engine, composite and mark, each a frame apart on its own thread. Closed
    (or failed), both threads are stopped and waited for: the engine's first, as it reads
    the decoder's frames."""
    decoded = prefetched(media.iter_frames(target))
    engine_faces = prefetched(swapper.engine_face(frame) for frame in decoded)
    try:
        for face in engine_faces:
            yield media.Frame(face.frame.index, face.frame.time,
                              marker.mark(swapper.finish(face)))
    finally:
        engine_faces.close()
        decoded.close()


def _write(target: Path, info: media.MediaInfo, out_path: Path,
           frames: Iterator[media.Frame], config: SwapConfig, progress: Progress,
           finish_output: Callable[[Path], None],
           write_photo: Callable[[Path, np.ndarray], None] = media.write_photo) -> int:
    """Encode the frames to a staged file beside `out_path`, finish it (sign), and move it
    into place; on any error or Ctrl-C nothing is left. `write_photo`: writes a photo's
    one frame (`PhotoOutput.write`)."""
    count = 0
    with atomic_path(out_path) as staged:
        if info.kind == "photo":
            frame = next(frames)
            write_photo(staged, frame.image)
            count = 1
            progress.advance()
        else:
            with media.VideoWriter(staged, info.width, info.height, info.fps, crf=config.crf,
                                   preset=config.preset, audio_from=target,
                                   colour=info.colour) as writer, \
                    BackgroundSink[media.Frame](
                        lambda frame: writer.write(frame.image, frame.time)) as encoder:
                for frame in frames:
                    encoder.put(frame)
                    count += 1
                    progress.advance()
        finish_output(staged)
    return count
