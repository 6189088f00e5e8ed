"""Tiny targets made with PyAV for the audio tests, and what a player would see in a file.

Every clip has a flash and a beep at the same moment (`EVENT` seconds after the start of
the file's timeline): the video turns from black to white and the audio from silence to a
1 kHz tone. In a swapped output they must still meet, within one frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

EVENT = 0.52  # seconds: the flash and the beep, on a frame at 25 fps
SIZE = (48, 64)  # (H, W)


@dataclass(frozen=True)
class Audio:
    """One audio stream of a made clip: codec, rate, channels, from `start` to `end` s."""

    codec: str
    rate: int = 48000
    channels: int = 2
    start: float = 0.0
    end: float = 1.0
    language: str | None = None


@dataclass(frozen=True)
class Seen:
    """What decoding a file gives: video frame times, when the flash shows, and for each
    audio stream (codec, when the beep starts, when the audio ends)."""

    frame_times: tuple[float, ...]
    flash: float
    audio: tuple[tuple[str, float, float], ...]


def make_clip(path: Path, muxer: str, video_codec: str, audio: tuple[Audio, ...], *,
              seconds: float = 1.0, fps: int = 25, video_start: float = 0.0) -> Path:
    """Write a clip of `seconds` of video (starting at `video_start`) and the given audio."""
    # AVI keeps no audio times: an encoder's priming must not shift the video grid.
    options = {"avoid_negative_ts": "disabled"} if muxer == "avi" else {}
    with av.open(str(path), "w", format=muxer, options=options) as container:
        video = container.add_stream(video_codec, rate=fps)
        video.height, video.width = SIZE
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        streams = [_audio_stream(container, spec) for spec in audio]
        queue = [*_video_packets(video, fps, seconds, video_start)]
        for stream, spec in zip(streams, audio, strict=True):
            queue += _audio_packets(stream, spec)
        queue.sort(key=_decode_time)
        for packet in queue:
            container.mux(packet)
    return path


def _decode_time(packet: av.Packet) -> float:
    stamp = packet.dts if packet.dts is not None else packet.pts
    return 1e9 if stamp is None else float(stamp * packet.time_base)


def _audio_stream(container: av.container.OutputContainer, spec: Audio) -> av.AudioStream:
    layout = "mono" if spec.channels == 1 else "stereo" if spec.channels == 2 else "5.1"
    stream = container.add_stream(spec.codec, rate=spec.rate, layout=layout)
    assert isinstance(stream, av.AudioStream)
    if spec.codec == "vorbis":  # FFmpeg's own Vorbis encoder is marked experimental
        stream.codec_context.options = {"strict": "experimental"}
    stream.codec_context.time_base = Fraction(1, spec.rate)
    stream.bit_rate = 64_000 * min(spec.channels, 2)
    if spec.language:
        stream.metadata["language"] = spec.language
    return stream


def _video_packets(stream: av.VideoStream, fps: int, seconds: float,
                   start: float) -> list[av.Packet]:
    packets = []
    for index in range(round(seconds * fps)):
        time = start + index / fps
        level = 255 if time >= EVENT - 1e-9 else 0
        frame = av.VideoFrame.from_ndarray(np.full((*SIZE, 3), level, np.uint8), format="rgb24")
        frame.pts = round(time * fps)
        frame.time_base = Fraction(1, fps)
        packets += stream.encode(frame)
    return packets + list(stream.encode(None))


def _audio_packets(stream: av.AudioStream, spec: Audio) -> list[av.Packet]:
    rate, chunk = spec.rate, stream.codec_context.frame_size or 1024
    first, last = round(spec.start * rate), round(spec.end * rate)
    packets = []
    for offset in range(first, last, chunk):
        count = min(chunk, last - offset)
        times = (offset + np.arange(count)) / rate
        tone = np.where(times >= EVENT, 0.5 * np.sin(2 * np.pi * 1000 * times), 0.0)
        samples = np.repeat(tone[None].astype(np.float32), spec.channels, axis=0)
        layout = stream.codec_context.layout.name
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, offset, Fraction(1, rate)
        packets += stream.encode(frame)
    return packets + list(stream.encode(None))


def seen(path: Path) -> Seen:
    """Decode every stream of `path` to its end (raises if it does not play through)."""
    with av.open(str(path)) as container:
        frames = [(f.time, float(f.to_ndarray(format="gray").mean()))
                  for f in container.decode(video=0)]
    times = tuple(time for time, _ in frames)
    flash = next(time for time, level in frames if level > 128)
    audio = []
    with av.open(str(path)) as container:
        for index, stream in enumerate(container.streams.audio):
            audio.append((stream.codec_context.name, *_beep_and_end(path, index)))
    return Seen(times, flash, tuple(audio))


def _beep_and_end(path: Path, index: int) -> tuple[float, float]:
    beep, end, clock = float("nan"), 0.0, None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=index):
            start = frame.time if frame.time is not None else clock
            assert start is not None
            samples = frame.to_ndarray().astype(np.float32)
            if samples.dtype.kind == "i" or np.abs(samples).max() > 2:
                samples = samples / 32768.0
            loud = np.flatnonzero(np.abs(samples).max(axis=0) > 0.2)
            if np.isnan(beep) and loud.size:
                # packed formats interleave channels: (1, n * channels)
                per_sample = samples.shape[1] // frame.samples
                beep = start + loud[0] // per_sample / frame.sample_rate
            clock = start + frame.samples / frame.sample_rate
            end = max(end, clock)
    return beep, end
