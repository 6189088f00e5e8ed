"""Frames and audio in and out, through PyAV (FFmpeg inside the wheel).

Every image that leaves this module is RGB, uint8, shape (H, W, 3), upright (rotation
metadata and EXIF orientation already applied). Videos are streamed frame by frame, so
memory stays flat however long the clip is. Photos are one-frame media.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, cast

import av
import av.error
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter
from PIL import Image, ImageOps, UnidentifiedImageError

from facedub.errors import FacedubError
from facedub.fsutil import atomic_path
from facedub.media.audio import AudioMuxer, AudioTrack, plan_audio
from facedub.media.containers import (
    FINE_TIME_BASE,
    OUTPUT_FORMATS,
    VIDEO_OUTPUT_SUFFIXES,
    OutputFormat,
    output_format_for,
)
from facedub.media.frame_table import FrameTable, frame_table
from facedub.media.stream_choice import video_stream
from facedub.media.transparency import Transparency, has_alpha, holds_alpha

log = logging.getLogger(__name__)

# HEIC/HEIF (iPhone photos) are photos, read by Pillow only with the pillow-heif plugin,
# which facedub does not install: without it `read_photo` says to convert them. They went
# to FFmpeg as video, which reads an iPhone's HEIC (a grid of 512 px tiles) as its first
# tile alone: a swap of the top-left corner, or a refusal for what the detector saw there.
_HEIF_SUFFIXES = frozenset({".heic", ".heif"})
# AVIF where this Pillow reads it (11.3 and later, built in): a phone's AVIF photo went to
# FFmpeg as a one-frame video, and a photo output name was refused ("cannot write a .jpg
# video"); where Pillow cannot, FFmpeg still reads it that way.
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
                           | _HEIF_SUFFIXES
                           | ({".avif"} & set(Image.registered_extensions())))

MediaKind = Literal["video", "photo"]


class DecodeError(FacedubError):
    """The file is there but its picture cannot be decoded (not media, truncated, corrupt).
    `verify` tells these apart: a signed file damaged after signing is still an answer."""


__all__ = ["HEIC_REFUSAL", "OUTPUT_FORMATS", "PHOTO_SUFFIXES", "VIDEO_OUTPUT_SUFFIXES",
           "AudioMuxer", "AudioTrack", "Colour", "DecodeError", "Frame", "MediaInfo",
           "OutputFormat", "Transparency", "VideoWriter", "animated_frames", "holds_alpha",
           "is_photo_path", "iter_frames", "iter_window", "output_format_for", "photos_in",
           "plan_audio", "probe", "read_photo", "read_transparency", "unreadable_heic",
           "video_stream", "write_photo", "writes_photo"]


@dataclass(frozen=True)
class Colour:
    """A video's colour primaries and transfer (FFmpeg's AVColorPrimaries and
    AVColorTransferCharacteristic numbers; 2: unspecified). An HDR phone clip says BT.2020
    and HLG (9, 18) or PQ (9, 16): its output says so too, or players show its HLG or PQ
    values as SDR."""

    primaries: int = 2
    transfer: int = 2


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds. Width and height are as displayed (after rotation)."""

    path: Path
    kind: MediaKind
    width: int
    height: int
    fps: Fraction  # average frame rate; 0 for photos
    frame_count: int  # from the container header, else estimated from duration
    duration: float  # seconds; 0 for photos
    rotation: int  # degrees counter-clockwise applied to decoded frames
    has_audio: bool
    codec: str
    # Frames the container's index lists (MP4/MOV's sample table: exact); 0 where it lists
    # none (Matroska, WebM, AVI, photos), whose `frame_count` is only an estimate.
    listed_frames: int = 0
    colour: Colour = Colour()


@dataclass(frozen=True)
class Frame:
    """One decoded frame. `image` is (H, W, 3) uint8 RGB, upright."""

    index: int
    time: float  # seconds since the first frame of the stream
    image: np.ndarray


HEIC_REFUSAL = ("a HEIC photo, which facedub cannot read; convert it to JPEG (an iPhone "
                "saves JPEG with Settings > Camera > Formats > Most Compatible)")


def unreadable_heic(path: Path) -> bool:
    """A HEIC/HEIF photo by its name, where this Pillow has no plugin to read it."""
    suffix = Path(path).suffix.lower()
    return suffix in _HEIF_SUFFIXES and suffix not in Image.registered_extensions()


def writes_photo(path: Path) -> bool:
    """A photo name Pillow writes here: not a HEIC (read with a plugin where one is
    installed, never written) and not a GIF (a one-frame GIF is read as a photo, but its
    256 colours would erase the invisible watermark: never written, whatever file an
    output name already holds)."""
    suffix = Path(path).suffix.lower()
    return (suffix in PHOTO_SUFFIXES
            and Image.registered_extensions().get(suffix) in Image.SAVE)


def is_photo_path(path: Path) -> bool:
    """A photo by its name; a GIF is one when it holds a single frame (a still GIF went to
    FFmpeg as a one-frame video, and a photo output name for it was refused)."""
    suffix = Path(path).suffix.lower()
    # Pillow's `is_animated` reads a GIF only to its second frame; its frame count reads
    # every frame (0.1 s a call on a 100 MB GIF, and a swap asks this several times).
    return suffix in PHOTO_SUFFIXES or (
        suffix == ".gif"
        and _read_image(path, lambda opened: 2 if getattr(opened, "is_animated", False)
                        else 1) == 1)


def animated_frames(path: Path) -> int:
    """The frames of a photo file that holds an animation (an animated WebP, PNG or AVIF),
    else 1. Only the first is read as the photo."""
    return _frames_of_image(path) if Path(path).suffix.lower() in PHOTO_SUFFIXES else 1


# Pillow's formats whose extra frames are an animation. An MPO JPEG (a phone's HDR or
# depth JPEG: a second picture inside) and a multi-page TIFF (a thumbnail page) count as
# several frames too, but they are one photo: refused as "animated", they were swapped
# fine before.
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP", "AVIF"})


def _frames_of_image(path: Path) -> int:
    """The frames of an image file's animation (1 for a still); 0 where Pillow cannot read
    the file."""
    return _read_image(path, lambda opened: int(getattr(opened, "n_frames", 1))
                       if opened.format in _ANIMATED_FORMATS else 1)


def _read_image(path: Path, read: Callable[[Image.Image], int]) -> int:
    """`read` of the image file Pillow opens at `path`; 0 where it cannot read it."""
    try:
        with Image.open(path) as opened:
            return read(opened)
    except Exception:
        # A damaged file fails in many ways (IndexError, struct.error, TypeError from a
        # cut GIF's or TIFF's frame count): it is read as before, and its reader says.
        return 0


def photos_in(folder: Path) -> list[Path]:
    """The photos directly inside a folder, sorted by name. An animated GIF among them is
    a photo, its first frame, as an animated WebP or PNG is here and as `--source`: it
    was left out without a word (a video anywhere else)."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and (is_photo_path(p) or p.suffix.lower() == ".gif"))


def probe(path: Path) -> MediaInfo:
    """Read a media file's header; raise FacedubError if it is missing or not media."""
    path = Path(path)
    _require_file(path)
    if is_photo_path(path):
        image = read_photo(path)
        return MediaInfo(path, "photo", image.shape[1], image.shape[0], Fraction(0), 1, 0.0, 0,
                         False, path.suffix.lower().lstrip("."))
    with _open_video(path) as container:
        stream = video_stream(container, path)
        first = _first_frame(container, stream, path)
        rotation = _rotation_of(first)
        width, height = first.width, first.height
        if rotation % 180:
            width, height = height, width
        fps = Fraction(stream.average_rate or stream.guessed_rate or 0)
        duration = _duration_seconds(container, stream)
        frame_count = (int(stream.frames or 0) or round(duration * float(fps))
                       or _packet_count(path, stream.index) or 1)
        return MediaInfo(path, "video", width, height, fps, frame_count, duration, rotation,
                         bool(container.streams.audio), stream.codec_context.name,
                         int(stream.frames or 0),
                         Colour(int(first.color_primaries), int(first.color_trc)))


def iter_frames(path: Path, indices: Container[int] | None = None, last: bool = False,
                each_decoded: Callable[[], None] | None = None) -> Iterator[Frame]:
    """Yield the frames of a video or photo in display order, upright, RGB uint8.

    `indices`: only these frames (of a video); the others are decoded but not converted
    to RGB, which is most of the cost of a frame that is not needed. `last`: the video's
    final frame as well, when `indices` left it out. `each_decoded`: called as each frame
    of a video is decoded, those left out too; what it raises ends the decode (a stop
    between two wanted frames far apart)."""
    path = Path(path)
    _require_file(path)
    if is_photo_path(path):
        yield Frame(0, 0.0, read_photo(path))
        return
    with _open_video(path) as container:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        start, fps = _clock(stream)
        index = 0
        skipped: av.VideoFrame | None = None  # the latest frame left out
        to_rgb = VideoReformatter()  # one scaler for all the frames: see _frame
        try:
            for decoded in container.decode(stream):
                if each_decoded is not None:
                    each_decoded()
                if indices is None or index in indices:
                    skipped = None
                    yield _frame(decoded, index, start, fps, to_rgb)
                elif last:
                    skipped = decoded
                index += 1
            if skipped is not None:
                yield _frame(skipped, index - 1, start, fps, to_rgb)
        except av.error.FFmpegError as error:
            raise DecodeError(
                f"{path}: decoding failed after {index} frames ({_ffmpeg_reason(error)}); the "
                "file is truncated or corrupt: re-export or re-download it") from error
        if index == 0:
            raise DecodeError(f"{path}: the video has no frames; use a clip with picture content")


def iter_window(path: Path, first: int, end: int) -> Iterator[Frame]:
    """Frames [first, end) of a video: the frames, indexes and times `iter_frames` gives
    them, decoded from the keyframe at or before `first` instead of from the first frame
    (a long swap's last segment decoded the whole clip before it to reach its own).

    Each decoded frame is named by its time in the packets' table (`frame_table`), not by
    counting, so the frames a seek lands before, or an open GOP's leading frames that
    cannot be decoded without the GOP before, are recognised and passed over. Where the
    table is not sound (`FrameTable.seekable`), or the decode after the seek misses or
    repeats a frame, the rest is decoded from the first frame, as `iter_frames` does."""
    path = Path(path)
    _require_file(path)
    with _open_video(path) as container:
        stream = video_stream(container, path)
        table = frame_table(container, stream)
        key = _seek_start(table, first) if table.seekable else 0
        yielded = first
        stream.thread_type = "AUTO"
        want = first if table.resync else key  # the latest frame a decode may start at
        for _ in range(_SEEK_TRIES):
            if key <= 0:
                break
            try:
                for frame in _seek_decode(container, stream, table, (key, want), first, end):
                    yield frame
                    yielded = frame.index + 1
                return
            except _LateSeekError:
                # MPEG-TS seeks by byte position and lands on the keyframe after the one
                # asked for (every window of a .ts clip was decoded from frame 0): ask
                # for the keyframe before, whose GOP the decode then passes over.
                key = (max(0, 2 * key - first) if table.resync
                       else table.keyframe_at_or_before(key - 1))
            except _OffTableError:
                log.debug("%s: the decode after a seek left the frame table at frame %d; "
                          "the rest is decoded from frame 0", path, yielded)
                break
    for frame in iter_frames(path, range(yielded, end + 1)):
        # One past the window is asked for so the decode stops there, not at the file's end.
        if frame.index >= end:
            return
        if frame.index >= yielded:
            yield frame


# Seeks a window may try, each one keyframe earlier than the last (see _LateSeekError),
# before it decodes from the first frame.
_SEEK_TRIES = 3
# Where the table's keyframes are not the decoder's (`FrameTable.resync`), a window's
# first seek goes this many frames before it: two GOPs of a DVD (18 frames at most).
_RESYNC_LEAD = 36


def _seek_start(table: FrameTable, first: int) -> int:
    """The frame whose time a window's first seek asks for."""
    if table.resync:
        return max(0, first - _RESYNC_LEAD)
    return table.keyframe_at_or_before(first)


class _OffTableError(Exception):
    """A decode after a seek gave a frame the table does not expect."""


class _LateSeekError(_OffTableError):
    """A seek landed past the keyframe asked for, before any frame was given."""


def _seek_decode(container: av.container.InputContainer, stream: av.VideoStream,
                 table: FrameTable, keys: tuple[int, int], first: int, end: int
                 ) -> Iterator[Frame]:
    """`keys`: the keyframe to seek to, and the last keyframe the decode may start at (the
    window's own; the same unless an earlier seek landed late)."""
    key, want = keys
    keyframes = frozenset(table.keyframes)
    intra = av.video.frame.PictureType.I
    first_out = True  # the first picture after a seek may carry another's time
    container.seek(table.stamps[key], stream=stream, backward=True, any_frame=False)
    start, fps = _clock(stream)
    to_rgb = VideoReformatter()
    expected: int | None = None  # the next index, from the first frame at the keyframe on
    try:
        for decoded in container.decode(stream):
            index = table.index_of(decoded.pts)
            if index is None:
                raise _OffTableError
            seen_first, first_out = first_out, False
            if expected is None:
                # Before the keyframe: an open GOP's leading frame (its references are in
                # the GOP before), or a frame after an earlier keyframe the seek chose.
                # Resync: any intra picture the decoder reports (not the first out).
                if (not (decoded.pict_type == intra and not seen_first) if table.resync
                        else index < key or index not in keyframes):
                    continue
                if index > want:
                    raise _LateSeekError
                expected = index  # from a keyframe on, every frame in order
            if index != expected and table.resync and index < first and expected <= first:
                expected = None  # misnamed before the window: sync on the next intra
                continue
            if index != expected:
                raise _OffTableError  # a frame missed, or shown twice
            expected += 1
            if index >= end:
                return
            if index >= first:
                yield _frame(decoded, index, start, fps, to_rgb)
    except av.error.FFmpegError as error:
        raise DecodeError(
            f"{container.name}: decoding failed near frame {expected or key} "
            f"({_ffmpeg_reason(error)}); the file is truncated or corrupt: re-export or "
            "re-download it") from error
    if expected is None or expected < min(end, len(table.stamps)):
        raise _OffTableError  # the decode ended before the window did


# swscale's default YUV -> RGB conversion truncates: frames came out 1.2 grey levels
# darker than their YUV says (a lossless round trip lost that much, and every swap's
# output was that much darker than its target). Rounded, and chroma interpolated rather
# than repeated across each pair of pixels: 0.03 levels, no slower.
_TO_RGB = (Interpolation.BILINEAR | Interpolation.ACCURATE_RND
           | Interpolation.FULL_CHR_H_INT)


def _clock(stream: av.VideoStream) -> tuple[float, float]:
    """The stream's start (a frame's time counts from it) and frame rate (a frame without
    a stamp is timed by its index), alike for a decode from the first frame or a seek."""
    return (_seconds(stream.start_time, stream.time_base),
            float(stream.average_rate or stream.guessed_rate or 25))


def _frame(decoded: av.VideoFrame, index: int, start: float, fps: float,
           to_rgb: VideoReformatter) -> Frame:
    """`to_rgb`: the video's one scaler. `VideoFrame.to_ndarray(format=...)` made a scaler
    for each frame, and swscale (PyAV 18, at its automatic thread count) started and ended
    two threads for each: 400 threads over a 200-frame swap, and 2.4 CPU ms a 512 px frame
    against 1.7 for the same bytes (BENCHMARKS.md, Swap speed, the fortieth round). One
    thread: the frames are decoded on a thread of their own beside the swap's two busy
    ones (`threads.prefetched`), so a slice split only adds hand-offs."""
    time = decoded.time - start if decoded.time is not None else index / fps
    rgb = to_rgb.reformat(decoded, format="rgb24", interpolation=_TO_RGB, threads=1)
    return Frame(index, time, _upright(rgb.to_ndarray(), _rotation_of(decoded)))


def read_photo(path: Path) -> np.ndarray:
    """Read a photo as (H, W, 3) uint8 RGB: EXIF orientation applied, greyscale expanded,
    transparency composited over white (`read_transparency` has what was under it)."""
    return _to_rgb8(_open_photo(Path(path)))


def read_transparency(path: Path) -> Transparency | None:
    """A photo's transparency (upright, as `read_photo`'s flattening of it), or None where
    it has none: every pixel opaque."""
    image = _open_photo(Path(path))
    return Transparency.of(image, _to_rgb8(image))


def _open_photo(path: Path) -> Image.Image:
    """A photo as Pillow reads it, loaded and turned upright by its EXIF orientation."""
    _require_file(path)
    if unreadable_heic(path):
        raise DecodeError(f"{path}: {HEIC_REFUSAL}")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except Image.DecompressionBombError as error:
        # PIL's own line names no file and reads like an attack report; the user has a huge
        # photo, so say its limit and what to do.
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) // 1_000_000  # PIL refuses over twice it
        raise DecodeError(f"{path}: over {limit} megapixels, too large to read safely; "
                          "scale it down") from error
    except PermissionError as error:
        raise DecodeError(f"{path}: permission denied; make it readable") from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DecodeError(_unreadable_photo(path, error)) from error
    return image


# The extension a video misnamed as a photo should have, by FFmpeg's demuxer.
_VIDEO_SUFFIX = {"mov,mp4,m4a,3gp,3g2,mj2": ".mp4", "matroska,webm": ".mkv", "avi": ".avi",
                 "asf": ".wmv", "flv": ".flv", "mpegts": ".ts"}


def _unreadable_photo(path: Path, error: Exception) -> str:
    """What to do about a photo PIL cannot read. A cut-short JPEG was told to 'use a JPEG,
    PNG or WebP photo', and a phone video saved as .jpg to use a photo (and the line
    repeated the path: "cannot identify image file '/the/path'")."""
    if isinstance(error, OSError) and "truncated" in str(error):
        return f"{path}: the photo is cut short ({error}); re-export or re-download it"
    if isinstance(error, UnidentifiedImageError):
        video = _video_format(path)
        if video is not None:
            return (f"{path}: a video, not a photo, though named {path.suffix}; rename it to "
                    f"end in {_VIDEO_SUFFIX.get(video, '.mp4')}")
        return (f"{path}: not a readable image (no image format found); use a JPEG, PNG or "
                "WebP photo")
    return f"{path}: not a readable image ({error}); use a JPEG, PNG or WebP photo"


def _video_format(path: Path) -> str | None:
    """FFmpeg's demuxer name when `path` holds a video (a moving picture, not an image
    FFmpeg also reads), else None."""
    try:
        with av.open(str(path)) as container:
            # image2 and the *_pipe demuxers are FFmpeg's readers of still images: junk
            # named .jpg opens as image2's mjpeg "video"
            name = container.format.name
            if not container.streams.video or name == "image2" or name.endswith("_pipe"):
                return None
            return str(container.format.name)
    except (av.error.FFmpegError, UnicodeDecodeError):
        return None


def write_photo(path: Path, image: np.ndarray, quality: int = 95) -> None:
    """Write an RGB (or, for a format that `holds_alpha`, RGBA) uint8 image atomically;
    the format follows the suffix."""
    path = Path(path)
    _require_writable_parent(path)
    if image.shape[2:] == (4,) and not holds_alpha(path):
        raise ValueError(f"{path}: {path.suffix} holds no alpha channel")
    pil = Image.fromarray(np.ascontiguousarray(image),
                          mode="RGBA" if image.shape[2:] == (4,) else "RGB")
    options: dict[str, object] = {}
    if path.suffix.lower() in {".jpg", ".jpeg", ".webp"}:
        options["quality"] = quality
    with atomic_path(path) as tmp:
        pil.save(tmp, format=Image.registered_extensions().get(path.suffix.lower()), **options)


class VideoWriter:
    """Encode RGB frames into the container the path's extension names (see
    `containers.OUTPUT_FORMATS`: H.264, VP9 or MPEG-4, yuv420p) with the audio of
    `audio_from`.

    Frames are stamped with the times given to `write`, so a variable frame rate and audio
    sync are kept. AVI stores no times: there frames sit on a 1/fps grid, and a frame that
    would land on its predecessor's slot is dropped (`frames_dropped`) rather than push
    the rest late. `audio_end` (seconds) cuts the audio short. Each audio stream is copied
    where the container carries its codec and transcoded where not (`audio_tracks` says
    which). Odd widths or heights are padded by one edge pixel (yuv420p needs even sizes).
    The file appears at `path` only when `close` succeeds; on error or Ctrl-C nothing is
    left there. Use as a context manager.
    """

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, *, crf: int = 18,
                 preset: str = "medium", audio_from: Path | None = None,
                 audio_end: float | None = None, colour: Colour = Colour()) -> None:
        check_crf(crf)
        self.path = Path(path)
        self.format = output_format_for(self.path)
        _require_writable_parent(self.path)
        self.audio_tracks = plan_audio(audio_from, self.format) if audio_from else ()
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._closed = False
        rate = fps or Fraction(25)
        # A container without per-frame times gets frames on its 1/fps grid.
        self._time_base = 1 / rate if self.format.constant_rate else FINE_TIME_BASE
        self._last_pts = -1
        self._audio: AudioMuxer | None = None
        try:
            self._container = av.open(str(self._tmp), mode="w", format=self.format.muxer,
                                      options=dict(self.format.muxer_options))
            self._video = cast(av.VideoStream, self._container.add_stream(
                self.format.video_codec, rate=rate))
            self._video.width = width + width % 2
            self._video.height = height + height % 2
            self._video.pix_fmt = "yuv420p"
            # The matrix and range the frames are converted with (swscale's default, BT.601
            # and limited), said in the stream. Untagged, a player picks the matrix by size,
            # BT.709 for HD, and showed every pixel of an HD output off by a BT.601 / BT.709
            # mismatch (1.3 grey levels on average, 6 at the 99th percentile, on the shared
            # 1280x720 clip; 22 in saturated colours). The pixels are the same, and facedub
            # reads them back the same. AVI stores no such tag.
            self._video.codec_context.colorspace = int(Colorspace.ITU601)
            self._video.codec_context.color_range = int(ColorRange.MPEG)
            # The target's primaries and transfer: its values pass through unconverted.
            self._video.codec_context.color_primaries = colour.primaries
            self._video.codec_context.color_trc = colour.transfer
            self._video.time_base = self._time_base
            self._video.codec_context.time_base = self._time_base
            self.format.configure_video(self._video, crf, preset)
            if audio_from:
                self._audio = AudioMuxer(audio_from, self._container, self.audio_tracks,
                                         self.format, _end_or_inf(audio_end))
        except BaseException:
            self._abort()
            raise
        self.frames_written = 0
        self.frames_dropped = 0

    def write(self, image: np.ndarray, time: float) -> None:
        """Encode one (H, W, 3) uint8 RGB frame shown at `time` seconds."""
        pts = round(time / self._time_base)
        if pts <= self._last_pts and self.format.constant_rate:
            self.frames_dropped += 1  # its slot is taken; keeping it would delay the rest
        else:
            # Strictly increasing: two frames on one time would stop the muxer.
            self._last_pts = max(pts, self._last_pts + 1)
            self._encode(image, self._last_pts)
        if self._audio:
            self._audio.mux_until(time)

    def _encode(self, image: np.ndarray, pts: int) -> None:
        image = _pad_to_even(image)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts
        frame.time_base = self._time_base
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder, finish the audio and move the file into place."""
        if self._closed:
            return
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            if self._audio:
                self._audio.finish()
                self._audio.close()
            self._container.close()
        except BaseException:
            self._abort()
            raise
        self._closed = True
        self._atomic.__exit__(None, None, None)

    def _abort(self) -> None:
        self._closed = True
        for closer in (getattr(self, "_audio", None), getattr(self, "_container", None)):
            try:
                if closer is not None:
                    closer.close()
            except Exception:
                log.debug("closing a failed writer raised", exc_info=True)
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()


def _end_or_inf(seconds: float | None) -> float:
    return float("inf") if seconds is None else seconds


def _seconds(value: int | None, time_base: Fraction | None) -> float:
    return float(value * time_base) if value is not None and time_base else 0.0


def _require_file(path: Path) -> None:
    if not path.exists():
        raise FacedubError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise FacedubError(f"{path}: not a file; give a video or photo file")
    if path.stat().st_size == 0:
        # It was "not a readable video or photo (Invalid data found ...)".
        raise DecodeError(f"{path}: the file is empty (0 bytes: a download or copy that did "
                          "not finish?); copy or download it again")


def _require_writable_parent(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise FacedubError(f"{path}: the folder {parent} does not exist; create it first")
    probe_file = parent / f".{path.name}.write-test"
    try:
        try:
            probe_file.touch()
        finally:
            # Removed however the touch ends: a stop signal (SIGTERM from a job runner,
            # Ctrl-C) raised between the two calls left the probe beside the output.
            probe_file.unlink(missing_ok=True)
    except OSError as error:
        raise FacedubError(f"{path}: cannot write to {parent} ({error.strerror}); choose "
                           "another output folder") from error


def _ffmpeg_reason(error: Exception) -> str:
    """FFmpeg's words for what went wrong, without PyAV's error number and the path the
    message already starts with ("[Errno 1094995529] Invalid data found when processing
    input: '/path'")."""
    reason = getattr(error, "strerror", None)
    return reason if isinstance(reason, str) and reason else str(error)


def _open_video(path: Path) -> av.container.InputContainer:
    container = _open_container(path)
    if not container.streams.video:
        container.close()
        raise FacedubError(f"{path}: has no video stream; give a video or photo file")
    demuxer = container.format.name
    if _still_image_demuxer(demuxer):
        # A photo misnamed as a video, or a stream of them (a webcam's MJPEG dump, PNGs
        # one after another): only the single picture is refused. The first two pictures
        # are read (`_a_stream_of_pictures`), and the file is opened again to be read from
        # its start (no seek in a pipe demuxer); other videos pay nothing.
        single = not _a_stream_of_pictures(container)
        container.close()
        if single:
            raise DecodeError(_photo_named_as_video(path, demuxer))
        container = _open_container(path)
    return container


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise DecodeError(f"{path}: not a readable video or photo ({_ffmpeg_reason(error)}); "
                          "check that the file is complete and in a format FFmpeg reads"
                          ) from error


def _still_image_demuxer(name: str) -> bool:
    """FFmpeg's readers of still images (image2 and the *_pipe demuxers): a photo whose
    name is not a photo's reaches FFmpeg and is read as a one-frame video. They also read
    a stream of such pictures (jpeg_pipe: a raw MJPEG of JFIF frames), a video."""
    return name == "image2" or name.endswith("_pipe")


def _a_stream_of_pictures(container: av.container.InputContainer) -> bool:
    """Whether a still-image demuxer's file holds a stream of pictures (a video) rather
    than one photo: its first two pictures decode to the same size. A phone's JPEG
    carries a second, smaller picture after its end (an Ultra HDR gain map, an MPO's
    other images: the first picture's APP2 "MPF" index names them) and was swapped as a
    two-frame video whose second frame was the gain map (review, forty-fifth round).
    Only the first two packets are read; a damaged file counts what decoded before it."""
    stream = container.streams.video[0]
    sizes: list[tuple[int, int]] = []
    try:
        for packet in container.demux(stream):
            if not packet.size:
                continue
            if not sizes and _MULTI_PICTURE_INDEX in bytes(packet)[:_HEADER_BYTES]:
                return False
            sizes += [(frame.width, frame.height) for frame in stream.codec_context.decode(packet)]
            if len(sizes) >= 2:
                break
    except av.error.FFmpegError:
        pass
    return len(sizes) >= 2 and sizes[0] == sizes[1]


# A JPEG's multi-picture index (CIPA DC-007): "MPF" and a NUL in an APP2 segment, within
# the headers before the picture's data.
_MULTI_PICTURE_INDEX = b"MPF\x00"
_HEADER_BYTES = 1 << 16


# The extension a photo misnamed as a video should have, by FFmpeg's still-image demuxer.
_PHOTO_KIND = {"png_pipe": ("PNG", ".png"), "jpeg_pipe": ("JPEG", ".jpg"),
               "webp_pipe": ("WebP", ".webp"), "bmp_pipe": ("BMP", ".bmp"),
               "tiff_pipe": ("TIFF", ".tif")}


def _photo_named_as_video(path: Path, demuxer: str) -> str:
    """What to do about a photo named as a video. A PNG renamed .mp4 was swapped as a
    video of one frame (a 0.04 s .mp4 out), as the mirror of a video named .jpg, which is
    told to rename it (`_unreadable_photo`)."""
    named = f"named {path.suffix}" if path.suffix else "named without an extension"
    if demuxer not in _PHOTO_KIND:
        return (f"{path}: a still image ({demuxer}), not a video, though {named}; convert it "
                "to a JPEG or PNG photo")
    kind, suffix = _PHOTO_KIND[demuxer]
    return f"{path}: a {kind} photo, not a video, though {named}; rename it to end in {suffix}"


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream,
                 path: Path) -> av.VideoFrame:
    try:
        for decoded in container.decode(stream):
            return decoded
    except av.error.FFmpegError as error:
        raise DecodeError(f"{path}: cannot decode the video ({_ffmpeg_reason(error)}); the "
                          "file is truncated or corrupt: re-export or re-download it") from error
    raise DecodeError(f"{path}: the video has no frames; use a clip with picture content")


def _packet_count(path: Path, index: int) -> int:
    """The packets of video stream `index` (the one `video_stream` chose: not a cover
    picture or another stream first in the file) of a file whose header gives neither a
    frame count nor a duration (a bare .h264/.hevc stream: one frame a packet), demuxed,
    not decoded; 0 where it cannot be read. Counted 1, the content check looked at frame 0
    only and the progress bar ran to a total of 1."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams[index]
            return sum(1 for packet in container.demux(stream) if packet.size)
    except (av.error.FFmpegError, IndexError):
        return 0


def _duration_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _rotation_of(frame: av.VideoFrame) -> int:
    """Display rotation in degrees counter-clockwise, snapped to a multiple of 90."""
    rotation = getattr(frame, "rotation", 0) or 0
    return round(rotation / 90.0) * 90 % 360


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=rotation // 90))


def _pad_to_even(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return image
    return np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _to_rgb8(image: Image.Image) -> np.ndarray:
    if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if values.max() > 255 else 255.0
        grey = np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if has_alpha(image):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def check_crf(crf: int) -> None:
    """H.264's quality scale: 0 (lossless) to 51 (worst)."""
    if not 0 <= crf <= 51:
        raise FacedubError(f"--crf {crf} is out of range; use 0 (lossless) to 51 (worst)")

