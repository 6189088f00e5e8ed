"""A segment's frames decoded from the keyframe before its pre-roll (forty-first round):
the frames, indexes and times of a decode from frame 0 (B-frames, open GOPs, a variable
frame rate, Matroska, a file whose table cannot be trusted), without decoding the frames
before that keyframe (a long clip's segments decoded all of them: quadratic)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from decode_counting import count_decodes, frame_digests

from facedub import media
from facedub.batch.chunks import Chunk, plan_chunks
from facedub.batch.resumable import _window

FRAMES = 150


def _clip(path: Path, fmt: str, *, vfr: bool) -> Path:
    """H.264 with 3 B-frames, an open GOP every 24 frames (leading B-frames refer to the
    GOP before), each frame a different picture; `vfr`: irregular frame times."""
    rng = np.random.default_rng(5)
    base = Fraction(1, 90000) if vfr else Fraction(1, 25)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = base
        stream.options = {"preset": "veryfast",
                          "x264-params": "keyint=24:bframes=3:open-gop=1:scenecut=0"}
        pts = 0
        for n in range(FRAMES):
            image = np.roll(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), n, axis=1)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, base
            pts += (3600 if n % 5 else 7200) if vfr else 1
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module", params=[("mp4", False), ("mp4", True), ("matroska", False)],
                ids=["mp4", "mp4-vfr", "mkv"])
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    fmt, vfr = request.param
    suffix = ".mkv" if fmt == "matroska" else ".mp4"
    return _clip(tmp_path_factory.mktemp("seek") / f"clip{suffix}", fmt, vfr=vfr)


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return count_decodes(monkeypatch)


def test_a_window_has_the_frames_of_a_decode_from_frame_0(clip: Path) -> None:
    whole = frame_digests(media.iter_frames(clip))
    assert len(whole) == FRAMES
    keyframes = [c.first for c in plan_chunks(clip, 0.5, 0)][1:]
    assert len(keyframes) >= 4  # open GOPs to seek to
    windows = {(max(0, k + shift), min(FRAMES, k + shift + 30)) for k in keyframes
               for shift in (-30, -1, 0, 1, 7)}
    windows |= {(FRAMES - 3, FRAMES), (0, 10)}
    for first, end in sorted(windows):
        assert frame_digests(media.iter_window(clip, first, end)) == whole[first:end], (first, end)


def test_a_late_window_decodes_from_its_keyframe_not_frame_0(clip: Path,
                                                            decoded: list[int]) -> None:
    first, end = 125, 140  # the keyframe before is 120: 5 frames before the window
    assert len(list(media.iter_window(clip, first, end))) == end - first
    # the keyframe's GOP up to the window, its leading B-frames, and one past the window
    assert len(decoded) <= (end - 120) + 3 + 4


def test_a_segment_decodes_from_the_keyframe_before_its_preroll(clip: Path,
                                                               decoded: list[int]) -> None:
    chunk = Chunk(index=3, count=4, first=130, end=FRAMES, preroll=100, start_time=0.0,
                  job_id=1)
    frames = list(_window(clip, chunk))
    assert [f.index for f in frames] == list(range(100, FRAMES))
    assert len(decoded) <= FRAMES - 96 + 3


def test_a_table_that_cannot_be_trusted_decodes_from_frame_0(faces_dir: Path) -> None:
    """Windows Media: its packets carry no reordering guarantee facedub checks, so the
    window is decoded from the first frame, as before."""
    clip = faces_dir / "clip_openface_changelighting_torch_moving_light.wmv"
    whole = frame_digests(media.iter_frames(clip))
    assert frame_digests(media.iter_window(clip, 50, 60)) == whole[50:60]


def test_a_decode_that_leaves_the_table_goes_on_from_frame_0(
        clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame the table does not list (a damaged or odd file) after part of the window
    was given: the rest comes from a decode from frame 0, each frame once."""
    from facedub.media.frame_table import FrameTable

    listed = FrameTable.index_of

    def unlisted_130(table: FrameTable, stamp: int | None) -> int | None:
        index = listed(table, stamp)
        return None if index == 130 else index

    whole = frame_digests(media.iter_frames(clip))
    monkeypatch.setattr(FrameTable, "index_of", unlisted_130)
    assert frame_digests(media.iter_window(clip, 125, 140)) == whole[125:140]
