"""The target's audio in every output container: copied where the container carries the
codec, transcoded where not, every stream kept, playing to the end in sync with the video.

Targets are tiny clips made here with PyAV (see synthetic.py); each has a flash and a beep
at the same moment, which must still meet in the output within one frame of where they
met in the target.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from synthetic import Audio, Seen, make_clip, seen

from facedub import media
from facedub.errors import FacedubError

FRAME = 1 / 25  # the made clips' frame time, the sync tolerance

TARGETS: dict[str, tuple[str, str, tuple[Audio, ...], float]] = {
    # name: (muxer, video codec, audio streams, video start)
    "wma.wmv": ("asf", "wmv2", (Audio("wmav2", 32000, 1),), 0.0),
    "pcm.avi": ("avi", "mpeg4", (Audio("pcm_s16le", 44100),), 0.0),
    "pcm.mov": ("mov", "libx264", (Audio("pcm_s16le", 48000),), 0.0),
    "mp3.avi": ("avi", "mpeg4", (Audio("libmp3lame", 44100),), 0.0),
    "opus.mkv": ("matroska", "libx264", (Audio("libopus", 48000),), 0.0),
    "vorbis.webm": ("webm", "libvpx-vp9", (Audio("vorbis", 44100),), 0.0),
    "opus.webm": ("webm", "libvpx-vp9", (Audio("libopus", 48000, 1),), 0.0),
    "vorbis.mkv": ("matroska", "libx264", (Audio("vorbis", 48000),), 0.0),
    "ac3_51.mkv": ("matroska", "libx264", (Audio("ac3", 48000, 6),), 0.0),
    "two.mkv": ("matroska", "libx264", (Audio("aac", 44100), Audio("libmp3lame", 44100, 1)),
                0.0),
    "short_aac.mp4": ("mp4", "libx264", (Audio("aac", 44100, end=0.7),), 0.0),
    "short_wma.wmv": ("asf", "wmv2", (Audio("wmav2", 32000, 1, end=0.7),), 0.0),
    "long_aac.mp4": ("mp4", "libx264", (Audio("aac", 44100, end=1.6),), 0.0),
    "long_pcm.mov": ("mov", "libx264", (Audio("pcm_s16le", 48000, end=1.6),), 0.0),
    "late_audio.mov": ("mov", "libx264", (Audio("pcm_s16le", 48000, start=0.3),), 0.0),
    "late_video.mkv": ("matroska", "libx264", (Audio("aac", 48000, end=1.2),), 0.2),
}

CASES = [
    ("wma.wmv", ".mp4", ["transcode"], ["aac"]),
    ("wma.wmv", ".mov", ["transcode"], ["aac"]),
    ("wma.wmv", ".mkv", ["transcode"], ["aac"]),
    ("wma.wmv", ".webm", ["transcode"], ["opus"]),
    ("wma.wmv", ".avi", ["transcode"], ["mp3"]),
    ("pcm.avi", ".mp4", ["transcode"], ["aac"]),
    ("pcm.avi", ".mov", ["copy"], ["pcm_s16le"]),
    ("pcm.avi", ".avi", ["copy"], ["pcm_s16le"]),
    ("pcm.mov", ".mov", ["copy"], ["pcm_s16le"]),
    ("pcm.mov", ".m4v", ["transcode"], ["aac"]),
    ("pcm.mov", ".mkv", ["copy"], ["pcm_s16le"]),
    ("mp3.avi", ".mp4", ["copy"], ["mp3"]),
    ("mp3.avi", ".avi", ["copy"], ["mp3"]),
    ("opus.mkv", ".mp4", ["transcode"], ["aac"]),
    ("opus.mkv", ".webm", ["copy"], ["opus"]),
    ("vorbis.webm", ".webm", ["copy"], ["vorbis"]),
    ("vorbis.webm", ".mp4", ["transcode"], ["aac"]),
    ("vorbis.webm", ".mkv", ["copy"], ["vorbis"]),
    ("opus.webm", ".mov", ["transcode"], ["aac"]),
    ("opus.webm", ".mkv", ["copy"], ["opus"]),
    ("vorbis.mkv", ".webm", ["copy"], ["vorbis"]),
    ("vorbis.mkv", ".avi", ["transcode"], ["mp3"]),
    ("ac3_51.mkv", ".mp4", ["copy"], ["ac3"]),
    ("ac3_51.mkv", ".webm", ["transcode"], ["opus"]),
    ("ac3_51.mkv", ".avi", ["copy"], ["ac3"]),
    ("two.mkv", ".mp4", ["copy", "copy"], ["aac", "mp3"]),
    ("two.mkv", ".webm", ["transcode", "transcode"], ["opus", "opus"]),
    ("two.mkv", ".avi", ["transcode", "copy"], ["mp3", "mp3"]),
    ("short_aac.mp4", ".mp4", ["copy"], ["aac"]),
    ("short_wma.wmv", ".mp4", ["transcode"], ["aac"]),
    ("long_aac.mp4", ".mp4", ["copy"], ["aac"]),
    ("long_aac.mp4", ".webm", ["transcode"], ["opus"]),
    ("long_pcm.mov", ".mp4", ["transcode"], ["aac"]),
    ("late_audio.mov", ".mov", ["copy"], ["pcm_s16le"]),
    ("late_audio.mov", ".mp4", ["transcode"], ["aac"]),
    ("late_video.mkv", ".mp4", ["copy"], ["aac"]),
    ("late_video.mkv", ".webm", ["transcode"], ["opus"]),
]
DECODED_AS = {"mp3": "mp3float"}  # FFmpeg's decoder names where they differ


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("targets")
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            muxer, video, audio, start = TARGETS[name]
            made[name] = make_clip(folder / name, muxer, video, audio, video_start=start)
        return made[name]

    return make


def _rewrite(source: Path, out: Path, audio_end: float | None = None) -> media.VideoWriter:
    """What the swap does to a target, without the swapping: frames through, audio along."""
    info = media.probe(source)
    with media.VideoWriter(out, info.width, info.height, info.fps, preset="ultrafast",
                           audio_from=source, audio_end=audio_end) as writer:
        for frame in media.iter_frames(source):
            writer.write(frame.image, frame.time)
    return writer


@pytest.mark.parametrize(("name", "suffix", "actions", "codecs"), CASES,
                         ids=[f"{c[0]}->{c[1]}" for c in CASES])
def test_audio_is_copied_or_transcoded_and_stays_in_sync(
        name: str, suffix: str, actions: list[str], codecs: list[str],
        target: Callable[[str], Path], tmp_path: Path) -> None:
    source = target(name)
    out = tmp_path / f"out{suffix}"
    writer = _rewrite(source, out)
    assert [t.action for t in writer.audio_tracks] == actions
    assert [t.output_codec for t in writer.audio_tracks] == codecs
    before, after = seen(source), seen(out)
    assert [codec for codec, _, _ in after.audio] == [DECODED_AS.get(c, c) for c in codecs]
    # AVI cannot say how much of an MP3's first and last frame is encoder padding, so a
    # transcoded AVI's audio plays up to one MP3 frame (36 ms at 32 kHz) longer.
    padding = 1152 / 32000 if suffix == ".avi" and "transcode" in actions else 0.0
    _assert_same_timeline(before, after, padding)


def _assert_same_timeline(before: Seen, after: Seen, padding: float) -> None:
    assert len(after.frame_times) == len(before.frame_times)
    assert after.frame_times[0] == pytest.approx(0.0, abs=1e-3)
    video_span = before.frame_times[-1] - before.frame_times[0]
    assert after.frame_times[-1] == pytest.approx(video_span, abs=FRAME)
    assert after.flash == pytest.approx(before.flash - before.frame_times[0], abs=FRAME)
    for (_, beep_before, end_before), (_, beep_after, end_after) in zip(
            before.audio, after.audio, strict=True):
        # The beep meets the flash as it did in the target...
        assert beep_after - after.flash == pytest.approx(beep_before - before.flash,
                                                         abs=FRAME)
        # ...and the audio ends where it ended, counted from the first frame.
        assert end_after == pytest.approx(end_before - before.frame_times[0],
                                          abs=FRAME + padding)


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_audio_end_cuts_copied_and_transcoded_audio(suffix: str, target: Callable[[str], Path],
                                                    tmp_path: Path) -> None:
    out = tmp_path / f"cut{suffix}"
    _rewrite(target("long_aac.mp4"), out, audio_end=0.8)
    (_, _, end), = seen(out).audio
    assert end == pytest.approx(0.8, abs=FRAME)


def test_a_target_without_audio_gives_an_output_without_audio(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "silent.mkv", "matroska", "libx264", ())
    writer = _rewrite(source, tmp_path / "out.mp4")
    assert writer.audio_tracks == ()
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert not container.streams.audio


def test_every_stream_keeps_its_language(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "languages.mkv", "matroska", "libx264",
                       (Audio("libopus", language="eng"), Audio("libopus", language="deu")))
    _rewrite(source, tmp_path / "out.mp4")  # both transcoded to AAC
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert [s.metadata.get("language") for s in container.streams.audio] == ["eng", "deu"]


@pytest.mark.parametrize("suffix", [".gif", ".wmv", ".flv", ""])
def test_unsupported_outputs_are_refused_before_anything_is_written(
        suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"out{suffix}"
    with pytest.raises(FacedubError) as error:
        media.VideoWriter(out, 64, 48, Fraction(25))
    message = str(error.value)
    assert "\n" not in message and ".mp4" in message and ".webm" in message
    assert list(tmp_path.iterdir()) == []


def test_every_output_container_plays_and_keeps_variable_frame_times(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.15, 0.2, 0.5]
    for suffix in media.VIDEO_OUTPUT_SUFFIXES:
        out = tmp_path / f"vfr{suffix}"
        with media.VideoWriter(out, 64, 48, Fraction(25), preset="ultrafast") as writer:
            for index, time in enumerate(times):
                writer.write(np.full((48, 64, 3), 40 * index, np.uint8), time)
        read = [frame.time for frame in media.iter_frames(out)]
        # AVI stores no times: its frames land on the 1/25 s grid.
        grid = FRAME / 2 + 1e-6 if media.output_format_for(out).constant_rate else 2e-3
        assert read == pytest.approx(times, abs=grid), suffix


def test_avi_drops_a_frame_rather_than_fall_behind_when_frames_come_faster(
        tmp_path: Path) -> None:
    # 26 frames a second written to a 25 fps AVI, as a Windows Media clip whose header
    # says 15 fps while its frames come every 64 ms.
    times = [index / 26 for index in range(52)]
    out = tmp_path / "fast.avi"
    with media.VideoWriter(out, 64, 48, Fraction(25), preset="ultrafast") as writer:
        for index, time in enumerate(times):
            writer.write(np.full((48, 64, 3), 4 * index, np.uint8), time)
    assert writer.frames_dropped == 2 and writer.frames_written == 50
    read = [frame.time for frame in media.iter_frames(out)]
    assert read[-1] == pytest.approx(times[-1], abs=FRAME / 2 + 1e-6)
