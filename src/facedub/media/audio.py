"""The target's audio in the output: every audio stream copied where the output container
carries its codec, transcoded where it does not, in step with the video being written.

Times: the output's clock starts at the target's first video frame (frames are written
with times counted from it), so audio is shifted by the same amount. Audio before that
moment is cut (transcoded) or keeps negative times that players skip (copied); a late
start is kept as a delay (copied) or padded with silence (transcoded).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import av
import av.error
import numpy as np

from facedub.media.containers import OutputFormat
from facedub.media.stream_choice import best_video

if TYPE_CHECKING:
    AudioPacket = av.Packet[av.AudioStream]

log = logging.getLogger(__name__)

AudioAction = Literal["copy", "transcode", "drop"]

# Transcoded audio follows the source's timestamps only where they jump by more than this;
# smaller wobbles (Windows Media stamps packets, not samples) are played through as a
# continuous stream, as players do.
RESYNC_SECONDS = 0.1
ANCHOR_SECONDS = 1.0
_BITS_PER_CHANNEL = 64_000  # transcoded bit rate per channel, bits/s
_MAX_CHANNELS = {"libmp3lame": 2, "ac3": 6}


@dataclass(frozen=True)
class AudioTrack:
    """What the output does with one audio stream of the target.

    `stream`: its position among the target's audio streams (0 = the first);
    `output_codec`: the codec in the output (None when dropped); `reason`: why, one phrase.
    """

    stream: int
    codec: str
    action: AudioAction
    output_codec: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"stream": self.stream, "codec": self.codec, "action": self.action,
                "output_codec": self.output_codec, "reason": self.reason}

    def describe(self) -> str:
        """One line for the terminal, e.g. 'audio 1: wmav2 transcoded to aac (...)'."""
        verb = {"copy": "copied", "transcode": f"transcoded to {self.output_codec}",
                "drop": "dropped"}[self.action]
        return f"audio {self.stream + 1}: {self.codec} {verb} ({self.reason})"


def plan_audio(source: Path, output: OutputFormat) -> tuple[AudioTrack, ...]:
    """Decide, for every audio stream of `source`, whether `output` copies or transcodes
    it. Reads only the header; the same file and format always give the same plan."""
    with av.open(str(source)) as container:
        # The codec's own name ("mp3"), not its decoder's ("mp3float").
        codecs = [stream.codec_context.codec.canonical_name
                  for stream in container.streams.audio]
    if not codecs:
        return ()
    carried = output.copies_audio
    if carried is None:
        with av.open(io.BytesIO(), "w", format=output.muxer) as probe_output:
            carried = frozenset(probe_output.supported_codecs)
    return tuple(_track(index, codec, output, carried) for index, codec in enumerate(codecs))


def _track(index: int, codec: str, output: OutputFormat,
           carried: frozenset[str]) -> AudioTrack:
    if codec in carried:
        return AudioTrack(index, codec, "copy", codec, f"{output.name} carries {codec}")
    if not _can_decode(codec):
        return AudioTrack(index, codec, "drop", None,
                          f"{output.name} cannot carry {codec} and FFmpeg cannot decode it")
    return AudioTrack(index, codec, "transcode", _short_name(output.audio_codec),
                      f"{output.name} does not carry {codec}")


def _can_decode(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "r")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


def _short_name(encoder: str) -> str:
    """The codec an encoder writes: 'libopus' -> 'opus', 'libmp3lame' -> 'mp3'."""
    return {"libopus": "opus", "libmp3lame": "mp3"}.get(encoder, encoder)


class AudioMuxer:
    """Writes the planned audio streams of `source` into `output`, interleaved with the
    video: call `mux_until(t)` after each video frame shown at t seconds, then `finish`
    before the output is closed, and `close` in any case. Audio past `end` (output
    seconds; inf: none) is left out."""

    def __init__(self, source: Path, output: av.container.OutputContainer,
                 tracks: tuple[AudioTrack, ...], output_format: OutputFormat,
                 end: float = float("inf")) -> None:
        self._input = av.open(str(source))
        self._end = end
        try:
            self._routes = _routes(self._input, output, tracks, output_format, end)
        except BaseException:
            self._input.close()
            raise
        selected = tuple(self._input.streams.audio[t.stream] for t in tracks
                         if t.action != "drop")
        self._packets: Iterator[AudioPacket] = self._input.demux(selected) if selected \
            else iter(())
        self._pending: AudioPacket | None = None

    def mux_until(self, time: float) -> None:
        """Write the audio packets that start at or before `time` (output seconds)."""
        time = min(time, self._end)
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            route = self._routes[packet.stream.index]
            start = route.start_of(packet)
            if start is not None and start > time:
                self._pending = packet
                return
            route.take(packet)

    def finish(self) -> None:
        """Write the rest of the audio (up to `end`) and flush the encoders."""
        self.mux_until(self._end)
        for route in self._routes.values():
            route.finish()

    def close(self) -> None:
        self._input.close()


class _Route(Protocol):
    """One audio stream on its way from the target into the output."""

    def start_of(self, packet: AudioPacket) -> float | None:
        """The packet's start in output seconds (None: no timestamp)."""

    def take(self, packet: AudioPacket) -> None:
        """Write (or decode and encode) one of the stream's packets."""

    def finish(self) -> None:
        """Flush what is held back."""


def _routes(source: av.container.InputContainer, output: av.container.OutputContainer,
            tracks: tuple[AudioTrack, ...], output_format: OutputFormat,
            end: float) -> dict[int, _Route]:
    """A route for each copied or transcoded track, by its stream index in `source`."""
    video_start = 0.0
    video = best_video(source)  # the stream whose frames are written, not a cover picture
    if video is not None and video.start_time is not None and video.time_base:
        video_start = float(video.start_time * video.time_base)
    routes: dict[int, _Route] = {}
    for track in tracks:
        stream = source.streams.audio[track.stream]
        if track.action == "copy":
            routes[stream.index] = _Copier(stream, output, video_start)
        elif track.action == "transcode":
            routes[stream.index] = _Transcoder(stream, output, output_format.audio_codec,
                                               video_start, end)
    return routes


class _Copier:
    """Packets copied as they are, their timestamps shifted by the video's start."""

    def __init__(self, stream: av.AudioStream, output: av.container.OutputContainer,
                 video_start: float) -> None:
        self._time_base = stream.time_base or Fraction(1, stream.codec_context.sample_rate)
        self._shift = round(video_start / self._time_base)
        self._output = output
        self._stream = output.add_stream_from_template(stream)
        _copy_language(stream, self._stream)

    def start_of(self, packet: AudioPacket) -> float | None:
        stamp = packet.pts if packet.pts is not None else packet.dts
        return None if stamp is None else float((stamp - self._shift) * self._time_base)

    def take(self, packet: AudioPacket) -> None:
        if packet.dts is None and packet.pts is None:  # demuxer flush packets
            return
        if packet.pts is None:
            packet.pts = packet.dts
        assert packet.pts is not None
        packet.pts -= self._shift
        if packet.dts is not None:
            packet.dts -= self._shift
        packet.stream = self._stream
        self._output.mux(packet)

    def finish(self) -> None:
        return


class _Transcoder:
    """Decode, resample to the encoder's rate and channels, encode.

    The output is one continuous run of samples. Where it starts is read from the first
    ANCHOR_SECONDS of decoded frames (the median of each frame's time less the audio
    before it, so one odd timestamp does not move it); silence fills the time before it,
    or its head is cut where it starts before the video. Later frames follow on, except
    where their timestamps jump by more than RESYNC_SECONDS (a gap is filled with
    silence, an overlap is cut).
    """

    def __init__(self, stream: av.AudioStream, output: av.container.OutputContainer,
                 encoder: str, video_start: float, end: float) -> None:
        source = stream.codec_context
        self._input_time_base = stream.time_base
        self._video_start = video_start
        self._rate = _encoder_rate(encoder, source.sample_rate)
        channels = min(source.channels or 2, _MAX_CHANNELS.get(encoder, 8))
        self._layout = av.AudioLayout(f"{channels}c")
        self._output = output
        self._stream = cast(av.AudioStream, output.add_stream(
            encoder, rate=self._rate, layout=self._layout.name))
        self._stream.bit_rate = _BITS_PER_CHANNEL * channels
        self._stream.time_base = Fraction(1, self._rate)
        _copy_language(stream, self._stream)
        self._resampler = av.AudioResampler(format="fltp", layout=self._layout,
                                            rate=self._rate)
        self._written = 0  # samples handed to the encoder; the output clock in samples
        self._next: int | None = None  # where the resampler's next sample belongs
        self._held: list[av.AudioFrame] = []  # decoded while the start is not yet known
        self._held_seconds = 0.0
        self._offsets: list[float] = []  # each held frame's time less the audio before it
        # No samples at or after this one: the audio is cut at `end` to the sample.
        self._end = None if end == float("inf") else round(end * self._rate)

    def start_of(self, packet: AudioPacket) -> float | None:
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None or not self._input_time_base:
            return None
        return float(stamp * self._input_time_base) - self._video_start

    def take(self, packet: AudioPacket) -> None:
        try:
            frames = packet.decode()
        except av.error.FFmpegError as error:  # one damaged packet: keep the rest
            log.warning("skipping an audio packet that does not decode (%s)", error)
            return
        for frame in frames:
            if not isinstance(frame, av.AudioFrame):
                continue
            if self._next is None:
                self._hold(frame)
            else:
                self._follow_timestamp(frame, self._next)
                self._resample(frame)

    def finish(self) -> None:
        if self._next is None:
            self._settle()
        for resampled in self._resampler.resample(None):
            self._place(resampled)
        for packet in self._stream.encode(None):
            self._output.mux(packet)

    def _hold(self, frame: av.AudioFrame) -> None:
        if frame.time is not None:
            self._offsets.append(frame.time - self._held_seconds)
        self._held.append(frame)
        self._held_seconds += frame.samples / frame.sample_rate
        if self._held_seconds >= ANCHOR_SECONDS:
            self._settle()

    def _settle(self) -> None:
        start = float(np.median(self._offsets)) if self._offsets else self._video_start
        self._next = round((start - self._video_start) * self._rate)
        held, self._held = self._held, []
        for frame in held:
            self._resample(frame)

    def _follow_timestamp(self, frame: av.AudioFrame, expected: int) -> None:
        if frame.time is not None:
            stamped = round((frame.time - self._video_start) * self._rate)
            if abs(stamped - expected) > RESYNC_SECONDS * self._rate:
                self._next = stamped

    def _resample(self, frame: av.AudioFrame) -> None:
        frame.pts = None  # the resampler keeps the samples continuous
        for resampled in self._resampler.resample(frame):
            self._place(resampled)

    def _place(self, frame: av.AudioFrame) -> None:
        samples = frame.to_ndarray()  # (channels, n) float32, planar
        first = self._written if self._next is None else self._next
        self._next = first + samples.shape[1]
        if first > self._written:  # a gap (or a late start): silence up to it
            self._encode(np.zeros((samples.shape[0], first - self._written), np.float32))
        skip = self._written - first  # an overlap, or audio before the first video frame
        if skip > 0:
            samples = samples[:, skip:]
        self._encode(samples)

    def _encode(self, samples: np.ndarray) -> None:
        if self._end is not None:
            samples = samples[:, :max(0, self._end - self._written)]
        if samples.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32),
                                           format="fltp", layout=self._layout.name)
        frame.sample_rate = self._rate
        frame.pts = self._written
        frame.time_base = Fraction(1, self._rate)
        self._written += samples.shape[1]
        for packet in self._stream.encode(frame):
            self._output.mux(packet)


def _encoder_rate(encoder: str, rate: int) -> int:
    """The source's sample rate where the encoder takes it, else the nearest rate above
    it that the encoder takes (or its highest)."""
    rates = av.codec.Codec(encoder, "w").audio_rates
    if not rate:  # a header without a rate: resample whatever decodes to 48 kHz
        return 48000
    if not rates or rate in rates:
        return rate
    higher = [r for r in rates if r >= rate]
    return min(higher) if higher else max(rates)


def _copy_language(source: av.AudioStream, output: Any) -> None:
    for key in ("language", "title"):
        if key in source.metadata:
            output.metadata[key] = source.metadata[key]
