"""A long video swapped in chunks, in parallel, and joined with its audio.

The target is cut at keyframes (encoders put them at scene cuts too) about every
`chunk_seconds`. Every chunk is its own batch task: it reads the one analysis of the whole
target from the work folder (same person, same tracks as an unsplit swap), swaps its frames
into a video-only H.264 segment, and marks them with the output's one watermark id. The
driver then joins the segments' packets (no re-encoding) with the target's audio, signs
the result and writes its sidecar.

Temporal state across a join: the swap keeps per-track state that makes video steady
(One Euro landmark filter, eased colour statistics, the mesh engine's eased choice of
source faces). A chunk that started cold would jump at its first frame. So every chunk
first runs `PREROLL_FRAMES` frames before its own through the same engine and compositor
and throws them away: each of these states forgets its start geometrically (by a factor
of 0.7 or less a frame at 25 fps), or (the followed light's usual light,
`composite.light_change`) reads only the frames of the pre-roll, so after the pre-roll it
matches the unsplit run's to well under a grey level. Two states read further back than
the pre-roll: the mesh engine's usual expression and usual lids (a track's last 250
frames, `mesh_expression_regions`, `mesh_lids`), so where a frame's expression regions or
lid smoothing depend on them a chunk can differ from the unsplit run. What remains at a
join besides is the encoder's: each segment starts with a keyframe where the unsplit
encode has a predicted frame (BENCHMARKS.md measures both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from facedub import media
from facedub.composite.light_change import REFERENCE_FRAMES
from facedub.engines.base import SwapEngine
from facedub.errors import FacedubError
from facedub.fsutil import atomic_path
from facedub.media.frame_table import frame_table
from facedub.progress import NoProgress, Progress
from facedub.provenance.mark import OutputMarks
from facedub.swap import SwapConfig, analyse_target, frame_swapper
from facedub.threads import prefetched

# Frames run before a chunk's first to bring the temporal state to where an unsplit swap
# has it: 0.7^30 < 1e-4 of the cold start is left (see the module doc), and the followed
# light's usual light is read from the last REFERENCE_FRAMES frames only.
PREROLL_FRAMES = max(30, REFERENCE_FRAMES)


@dataclass(frozen=True)
class Chunk:
    """Frames [first, end) of the target, written; [preroll, first) only warm the state.
    `start_time`: seconds of frame `first`; `job_id`: the output's watermark id."""

    index: int
    count: int
    first: int
    end: int
    preroll: int
    start_time: float
    job_id: int

    @property
    def segment_name(self) -> str:
        return f"segment-{self.index:04d}.mp4"


def plan_chunks(target: Path, chunk_seconds: float, job_id: int,
                preroll_frames: int = PREROLL_FRAMES) -> tuple[Chunk, ...]:
    """Cut points at the first keyframe at or after every multiple of `chunk_seconds`
    (from the container's packets; nothing is decoded). One chunk if none qualifies."""
    times, keyframes = frame_times(target)
    starts = [0]
    for index in keyframes:
        if times[index] >= len(starts) * chunk_seconds and index > starts[-1]:
            starts.append(index)
    ends = [*starts[1:], len(times)]
    return tuple(Chunk(n, len(starts), first, end, max(0, first - preroll_frames),
                       times[first], job_id)
                 for n, (first, end) in enumerate(zip(starts, ends, strict=True)))


def frame_times(path: Path) -> tuple[list[float], list[int]]:
    """Display times (seconds since the first frame, as media.iter_frames gives them) of
    every frame of a video, and the indexes of its keyframes, read from the packets of
    the stream `media.video_stream` picks (not a cover picture)."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise FacedubError(f"{path}: not a readable video ({error})") from error
    with container:
        stream = media.video_stream(container, path)
        table = frame_table(container, stream)
    if not table.stamps and _has_packets(path):
        raise UnstampedVideoError(
            f"{path}: its frames carry no timestamps (a bare H.264/HEVC stream?), so it "
            "cannot be cut into chunks; put it in a container first (`ffmpeg -i "
            f"{path.name} -c copy {path.stem}.mp4`) or swap it without chunk_seconds")
    if not table.stamps:
        raise FacedubError(f"{path}: the video has no frames")
    return table.times(), list(table.keyframes)


class UnstampedVideoError(FacedubError):
    """A video whose packets carry no presentation times (a bare .h264 or .hevc stream):
    it decodes from its first frame, frame by frame, but has no table to cut it by."""


def _has_packets(path: Path) -> bool:
    """Whether the video stream of `path` holds any packet with data (opened again: a
    bare stream cannot seek back to its start)."""
    with av.open(str(path)) as container:
        stream = media.video_stream(container, path)
        return any(packet.size for packet in container.demux(stream))


def swap_segment(target: Path, engine: SwapEngine, segment: Path, config: SwapConfig,
                 chunk: Chunk, progress: Progress | None = None) -> tuple[int, int]:
    """Swap the chunk's frames of `target` into a video-only segment; (frames written,
    frames swapped). The target's analysis comes from the work folder (made once).
    `progress`: a "swap" bar of the chunk's own frames (not its pre-roll)."""
    progress = progress or NoProgress()
    faceset = analyse_target(target, config, NoProgress())
    swapper = frame_swapper(target, faceset, engine, config)
    marks = OutputMarks(chunk.job_id, visible_label=config.visible_label)
    info = media.probe(target)
    written = swapped = 0
    progress.start(chunk.end - chunk.first, f"swap {target.name}")
    try:
        with media.VideoWriter(segment, info.width, info.height, info.fps, crf=config.crf,
                               preset=config.preset, colour=info.colour) as writer:
            # Decoded from the keyframe before the pre-roll, with the indexes of a decode
            # from the first frame (`media.iter_window`).
            for frame in prefetched(media.iter_window(target, chunk.preroll, chunk.end)):
                face = swapper.engine_face(frame)  # the pre-roll warms the temporal state
                image = swapper.finish(face)
                if frame.index >= chunk.first:
                    writer.write(marks.mark(image), frame.time)
                    written += 1
                    swapped += face.swapped is not None
                    progress.advance()
    finally:
        progress.finish()
    return written, swapped


def join_segments(segments: Sequence[Path], chunks: Sequence[Chunk], target: Path,
                  out: Path) -> None:
    """Put the segments' video packets one after another (re-stamped to the target's
    times) and the target's audio into `out`, atomically."""
    with atomic_path(out) as staged:
        inputs = [av.open(str(segment)) for segment in segments]
        try:
            output_format = media.output_format_for(out)
            output = av.open(str(staged), mode="w", format=output_format.muxer,
                             options=dict(output_format.muxer_options))
            video = output.add_stream_from_template(inputs[0].streams.video[0])
            # The same audio plan as an unsplit swap: copied or transcoded per stream.
            audio = media.AudioMuxer(target, output, media.plan_audio(target, output_format),
                                     output_format)
            try:
                last_dts = -math.inf
                for container, chunk in zip(inputs, chunks, strict=True):
                    last_dts = _mux_segment(container, chunk, output, video, audio, last_dts)
                audio.finish()
            finally:
                audio.close()
            output.close()
        finally:
            for container in inputs:
                container.close()


def _mux_segment(container: av.container.InputContainer, chunk: Chunk,
                 output: av.container.OutputContainer, video: av.VideoStream,
                 audio: media.AudioMuxer, last_dts: float) -> float:
    stream = container.streams.video[0]
    base = Fraction(stream.time_base or Fraction(1, 90000))
    packets = [p for p in container.demux(stream) if p.pts is not None and p.dts is not None]
    if not packets:
        raise FacedubError(f"chunk {chunk.index + 1} of {chunk.count} came back empty")
    shift = round(chunk.start_time / base) - min(int(p.pts or 0) for p in packets)
    for packet in packets:
        packet.pts = int(packet.pts or 0) + shift
        packet.dts = int(packet.dts or 0) + shift
        dts = float(packet.dts * base)
        if dts <= last_dts:
            raise FacedubError(f"chunk {chunk.index + 1}: its frames overlap the chunk "
                               "before; swap this video without chunk_seconds")
        last_dts = dts
        audio.mux_until(float(packet.pts * base))
        packet.stream = video
        output.mux(packet)
    return last_dts
