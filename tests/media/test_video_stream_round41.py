"""The video stream a user means (forty-first round): a cover picture or a one-frame
thumbnail track beside the video, even as the file's first video stream, is not the
video; probe, the frame decoder and the keyframe plan all read the one stream FFmpeg
ranks best; a file of pictures only is refused in one line."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from facedub import media
from facedub.batch.chunks import frame_times
from facedub.errors import FacedubError

FRAMES = 30


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def _picture(out: av.container.OutputContainer, attached: bool) -> av.VideoStream:
    stream = out.add_stream("mjpeg")
    stream.width = stream.height = 32
    stream.pix_fmt = "yuvj420p"
    if attached:
        stream.disposition = av.stream.Disposition.attached_pic
    return stream


def _write_picture(out: av.container.OutputContainer, stream: av.VideoStream) -> None:
    packet = av.Packet(_jpeg())
    packet.stream, packet.pts, packet.dts = stream, 0, 0
    packet.time_base = Fraction(1, 90000)
    out.mux(packet)


def _video(out: av.container.OutputContainer) -> av.VideoStream:
    stream = out.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.options = {"x264-params": "keyint=10"}
    return stream


def _write_video(out: av.container.OutputContainer, stream: av.VideoStream) -> None:
    for n in range(FRAMES):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), n * 8, np.uint8),
                                           format="rgb24")
        frame.pts = n
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


@pytest.fixture
def thumbnail_first(tmp_path: Path) -> Path:
    """Matroska: a one-frame JPEG track first (a thumbnail, as editors write), then the
    video."""
    path = tmp_path / "thumbnail-first.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        picture, video = _picture(out, attached=False), _video(out)
        _write_picture(out, picture)
        _write_video(out, video)
    with av.open(str(path)) as check:
        assert [s.codec_context.name for s in check.streams.video] == ["mjpeg", "h264"]
    return path


def test_the_video_is_read_not_the_thumbnail_before_it(thumbnail_first: Path) -> None:
    info = media.probe(thumbnail_first)
    assert (info.width, info.height, info.codec) == (64, 48, "h264")
    frames = list(media.iter_frames(thumbnail_first))
    assert len(frames) == FRAMES and frames[0].image.shape == (48, 64, 3)
    # brightness n * 8: the video's own frames, in order
    assert [round(float(f.image.mean()) / 8) for f in frames] == list(range(FRAMES))
    times, keyframes = frame_times(thumbnail_first)  # what a long swap's segments are cut by
    assert len(times) == FRAMES and keyframes == [0, 10, 20]
    window = list(media.iter_window(thumbnail_first, 12, 18))
    assert [f.index for f in window] == list(range(12, 18))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(window, frames[12:18],
                                                                    strict=True))


@pytest.fixture
def cover_only(tmp_path: Path) -> Path:
    """An M4A: audio and its cover picture (an attached picture), no video."""
    path = tmp_path / "song.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        picture = _picture(out, attached=True)
        audio = out.add_stream("aac", rate=48000, layout="mono")
        _write_picture(out, picture)
        for n in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = 48000, n * 1024
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    return path


def test_a_file_of_pictures_only_is_refused_in_one_line(cover_only: Path) -> None:
    for read in (media.probe, lambda p: list(media.iter_frames(p)), frame_times):
        with pytest.raises(FacedubError) as caught:
            read(cover_only)
        assert str(caught.value) == (f"{cover_only}: holds only a still picture (a cover "
                                     "image), no video; give a video or photo file")


def test_a_cover_picture_is_passed_over_even_when_ffmpeg_ranks_it_first(
        thumbnail_first: Path) -> None:
    """FFmpeg ranks a stream marked default above one that is not, a cover picture
    included (the muxers at hand do not write such a file: marked here as read)."""
    with av.open(str(thumbnail_first)) as container:
        picture, video = container.streams.video
        picture.disposition = (av.stream.Disposition.attached_pic
                               | av.stream.Disposition.default)
        video.disposition = av.stream.Disposition(0)
        best = container.streams.best("video")
        assert best is not None and best.index == picture.index  # FFmpeg's own pick
        assert media.video_stream(container, thumbnail_first).index == video.index
