"""A long video swap rendered in segments that a stopped run does not render again.

An unsplit swap stopped at frame 9000 of 15000 (Ctrl-C, SIGTERM, SIGKILL, a crash) kept
its analyses but rendered again from frame 0: half an hour of a 10-minute clip lost. Here
a target with at least `MIN_SEGMENTS` segments of about `SEGMENT_SECONDS` is cut at
keyframes (`chunks.plan_chunks`, as batch cuts its chunks) and every segment is encoded
into a resume folder in the work folder, atomically, with a note of its counts written
after it: a segment is finished when both are there. The same command again skips the
finished segments, renders the rest, then joins the segments' packets with the target's
audio (`chunks.join_segments`, no re-encoding), signs and describes the output as an
unsplit swap does, and removes the folder.

Every segment is rendered alike whether its run started at frame 0 or resumes: from a
fresh compositor and with every engine track ended, after `chunks.PREROLL_FRAMES` frames that
warm the temporal state (batch's chunks do the same), so a resumed output has the frames
of an uninterrupted one. The folder is named by everything that changes the pixels (the
inputs' content, the engine and its settings, the swap's options, the watermark job id the
user gave, facedub's version); a job id that was drawn is kept in the folder, so a resumed
output carries one id. A changed input or option makes a new folder: the old one of the
same output is removed, never spliced. A folder nothing has written to for a week (a swap
stopped and never run again) is removed as the next segmented swap starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facedub import __version__, media
from facedub.batch.chunks import Chunk, UnstampedVideoError, join_segments, plan_chunks
from facedub.engines.base import SwapEngine
from facedub.extract.models import AnalysisModels
from facedub.extract.safety import ExplicitContentDetector
from facedub.fsutil import atomic_path, last_written, published_whole, write_json_atomic
from facedub.progress import NoProgress, Progress
from facedub.provenance import new_job_id, write_sidecar
from facedub.provenance.manifest import sidecar_path
from facedub.provenance.mark import OutputMarks, input_fact, job_facts, sign_output
from facedub.swap import (
    FrameSwapper,
    SwapConfig,
    SwapResult,
    frame_swapper,
    recorded_settings,
    target_analysed_named,
)
from facedub.threads import BackgroundSink, opencv_threads, prefetched, reuse_freed_memory

# About a minute a segment: a stop loses at most a minute of rendering, and a join's cost
# (a keyframe where the unsplit encode predicts, a pre-roll of 30 frames swapped twice, the
# decoding of the frames before the segment) stays a few per cent of it.
SEGMENT_SECONDS = 60.0
# Fewer segments than this: the unsplit swap, byte for byte as before (a clip of under two
# minutes loses little when stopped, and the README's and benchmarks' clips keep their bytes).
MIN_SEGMENTS = 3
RESUME_FOLDER = "resume"  # under the work folder
JOB_FILE = "job.json"
# A resume folder nothing has written to for this long belongs to a swap its user gave up
# (a stopped 10-minute clip leaves up to a gigabyte of segments): removed as the next
# segmented swap starts. A live swap writes a segment a minute.
STALE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class ResumeFolder:
    """Where a segmented swap keeps its finished segments, and the job id they carry."""

    path: Path
    job_id: int

    def segment(self, chunk: Chunk) -> Path:
        return self.path / chunk.segment_name

    def note(self, chunk: Chunk) -> Path:
        """Written after the segment: its frames and frames swapped; it marks it finished."""
        return self.path / f"segment-{chunk.index:04d}.json"

    def finished(self, chunk: Chunk) -> dict[str, int] | None:
        if not (self.segment(chunk).is_file() and self.note(chunk).is_file()):
            return None
        try:
            counts = json.loads(self.note(chunk).read_text(encoding="utf-8"))
            return {"frames": int(counts["frames"]), "swapped": int(counts["swapped"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None  # torn or foreign: rendered again


def plan_segments(target: Path, segment_seconds: float = SEGMENT_SECONDS,
                  min_segments: int = MIN_SEGMENTS) -> tuple[Chunk, ...] | None:
    """The segments of a long video target (cut at keyframes, from its packets; nothing
    is decoded); None for a photo or a video of fewer than `min_segments`: it is swapped
    unsplit (`swap.swap`), byte for byte as before."""
    if media.is_photo_path(target) or media.probe(target).kind != "video":
        return None
    try:
        chunks = plan_chunks(target, segment_seconds, 0)
    except UnstampedVideoError:  # a bare H.264 stream: no times to cut it by, decoded whole
        return None
    return chunks if len(chunks) >= min_segments else None


def resumable_swap(target: Path, engine: SwapEngine, out_path: Path, config: SwapConfig,
                   segments: tuple[Chunk, ...], progress: Progress | None = None,
                   detector: ExplicitContentDetector | None = None,
                   models: AnalysisModels | None = None,
                   say: Callable[[str], None] | None = None) -> SwapResult:
    """`swap.swap` of a video target in `segments` (`plan_segments`), resuming the
    segments an earlier run of the same inputs and options finished. `say`: where the one
    line "resuming: ..." goes."""
    progress = progress or NoProgress()
    started = time.monotonic()
    reuse_freed_memory()
    # Named on a terminal until the swap's bar starts, as `swap.swap` does.
    with target_analysed_named(target, config, progress, detector, models) as faceset:
        engine_facts = engine.facts
        inputs = (*engine_facts.inputs, ("target", target))
        folder = _resume_folder(_folder_key(inputs, engine_facts.name, engine_facts.settings,
                                            config, segments, out_path), out_path, config)
        chunks = tuple(dataclasses.replace(chunk, job_id=folder.job_id) for chunk in segments)
        marks = OutputMarks(folder.job_id, visible_label=config.visible_label)
        audio = media.plan_audio(target, media.output_format_for(out_path))
        settings = {"engine": dict(engine_facts.settings), "swap": recorded_settings(config),
                    "audio": [track.to_json() for track in audio],
                    "segments": {"count": len(chunks),
                                 "first_frames": [chunk.first for chunk in chunks]}}
        facts = job_facts(engine_facts.name, settings, inputs, marks.payload.job_id,
                          marks.payload)
        info = media.probe(target)
        done = {chunk.index: counts for chunk in chunks
                if (counts := folder.finished(chunk)) is not None}
        already = sum(counts["frames"] for counts in done.values())
        total = sum(chunk.end - chunk.first for chunk in chunks)
        if done and say is not None:
            say(f"resuming: {already} of {total} frames already rendered")
        size = 0
    # The bar is this run's rendering: the kept segments are out of its total (the line
    # above says them). Counted as one step at its start, they made its speed and time
    # left read too fast for rich's 30 s window, and a batch's bar too (`batch.frames`).
    # Both counts are the segments' (their packets): the header's frame count can differ
    # from them (a variable-rate Matroska's read 770 for 300 frames, one below zero).
    progress.start(total - already, f"swap {target.name}")
    try:
        for chunk in chunks:
            if chunk.index in done:
                continue
            swapper = frame_swapper(target, faceset, engine, config)
            size = swapper.size
            try:
                done[chunk.index] = _render(target, info, swapper, marks, chunk, config,
                                            folder, progress)
            finally:
                # The next segment starts as a resumed run's would: no track's state
                # carried over (the pre-roll warms it again).
                for track in swapper.last_frames:
                    engine.end_track(track)
    finally:
        progress.finish()
    if not size:  # every segment was finished before: the crop size is only reported
        size = frame_swapper(target, faceset, engine, config).size
    # an output is never left without its description
    with published_whole(out_path, sidecar_path(out_path)):
        with atomic_path(out_path) as staged:
            join_segments([folder.segment(chunk) for chunk in chunks], chunks, target, staged)
            sign_output(staged, facts, config.config_dir)
        sidecar = write_sidecar(out_path, facts)
    shutil.rmtree(folder.path, ignore_errors=True)
    return SwapResult(out_path, sidecar, facts.job_id,
                      sum(counts["frames"] for counts in done.values()),
                      sum(counts["swapped"] for counts in done.values()), size,
                      faceset.meta.person, len(faceset.meta.persons),
                      time.monotonic() - started, audio)


def _folder_key(inputs: tuple[tuple[str, Path], ...], engine: str,
                engine_settings: Any, config: SwapConfig, segments: tuple[Chunk, ...],
                out_path: Path) -> str:
    """A hash of everything that changes a segment's pixels or its cut, and the output
    (two swaps of one input into two files at once do not share, and remove, a folder)."""
    facts = [input_fact(role, path) for role, path in inputs]
    if config.target_person is not None:
        facts.append(input_fact("target_person", config.target_person))
    described = {"inputs": [(f.role, f.sha256) for f in facts], "engine": engine,
                 "engine_settings": engine_settings, "swap": recorded_settings(config),
                 "job_id": config.job_id, "version": __version__,
                 "segments": [(c.first, c.end, c.preroll) for c in segments],
                 "output": str(Path(out_path).resolve())}
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _resume_folder(key: str, out_path: Path, config: SwapConfig) -> ResumeFolder:
    """The folder of this key, made or reused; the folders an earlier run left for the
    same output with other inputs or options are removed (their segments are stale)."""
    root = Path(config.work_dir) / RESUME_FOLDER
    output = str(Path(out_path).resolve())
    now = time.time()
    for other in root.iterdir() if root.is_dir() else ():
        if other.name == key or not other.is_dir():
            continue
        if (_job(other / JOB_FILE).get("output") == output
                or now - last_written(other) > STALE_SECONDS):
            shutil.rmtree(other, ignore_errors=True)
    path = root / key
    job = _job(path / JOB_FILE)
    job_id = job.get("job_id")
    if not isinstance(job_id, int) or (config.job_id is not None and job_id != config.job_id):
        # A first run (or a torn note): its segments, if any, carry an unknown id.
        shutil.rmtree(path, ignore_errors=True)
        job_id = new_job_id() if config.job_id is None else config.job_id
        path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path / JOB_FILE, {"job_id": job_id, "output": output})
    return ResumeFolder(path, job_id)


def _job(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _render(target: Path, info: media.MediaInfo, swapper: FrameSwapper, marks: OutputMarks,
            chunk: Chunk, config: SwapConfig, folder: ResumeFolder,
            progress: Progress) -> dict[str, int]:
    """One segment into the resume folder (atomically), then its note; its counts."""
    written = swapped = 0
    # As swap's own pipeline: decode, engine, compositing and encode on their threads,
    # stopped and waited for inside the block (see `swap.swap`), before the staged segment
    # is moved into place or removed.
    with atomic_path(folder.segment(chunk)) as staged, opencv_threads(1), \
            contextlib.closing(_segment_frames(target, swapper, marks, chunk)) as frames, \
            media.VideoWriter(staged, info.width, info.height, info.fps, crf=config.crf,
                              preset=config.preset, colour=info.colour) as writer, \
            BackgroundSink[media.Frame](
                lambda frame: writer.write(frame.image, frame.time)) as encoder:
        for frame, face_swapped in frames:
            encoder.put(frame)
            written += 1
            swapped += face_swapped
            progress.advance()
    counts = {"frames": written, "swapped": swapped}
    write_json_atomic(folder.note(chunk), counts)
    return counts


def _segment_frames(target: Path, swapper: FrameSwapper, marks: OutputMarks, chunk: Chunk
                    ) -> Generator[tuple[media.Frame, bool], None, None]:
    """The chunk's frames swapped and marked (with whether its face was swapped), after
    its pre-roll's frames swapped and thrown away."""
    decoded = prefetched(_window(target, chunk))
    engine_faces = prefetched(swapper.engine_face(frame) for frame in decoded)
    try:
        for face in engine_faces:
            image = swapper.finish(face)  # the pre-roll warms the compositor's state too
            if face.frame.index >= chunk.first:
                yield (media.Frame(face.frame.index, face.frame.time, marks.mark(image)),
                       face.swapped is not None)
    finally:
        engine_faces.close()
        decoded.close()


def _window(target: Path, chunk: Chunk) -> Iterator[media.Frame]:
    """Frames [preroll, end) of the target, decoded from the keyframe at or before the
    pre-roll with the indexes of a decode from the first frame (`media.iter_window`): a
    segment no longer decodes every frame before it (quadratic in the clip's length)."""
    return media.iter_window(target, chunk.preroll, chunk.end)
