"""A window's frames after a seek on open-GOP files other than H.264 in MP4/Matroska
(forty-second round): HEVC with CRA pictures, MPEG-2 in .mpg and .ts, H.264 in .ts, each
with leading pictures after a keyframe that refer to the GOP before it. A window holds
the frames of a decode from frame 0, and in MPEG-TS, whose seek lands one keyframe late,
it is still decoded from near its keyframe, not from frame 0."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from decode_counting import count_decodes, frame_digests, write_clip

from facedub import media

FRAMES = 150
_X26X = "keyint=24:min-keyint=24:bframes=3:open-gop=1:scenecut=0"
# name: (muxer, codec, encoder options); MPEG-2's GOPs are open unless told (no cgop flag)
_CLIPS = {
    "hevc.mp4": ("mp4", "libx265", {"preset": "ultrafast",
                                    "x265-params": _X26X + ":log-level=error"}),
    "hevc.ts": ("mpegts", "libx265", {"preset": "ultrafast",
                                      "x265-params": _X26X + ":log-level=error"}),
    "h264.ts": ("mpegts", "libx264", {"preset": "veryfast", "x264-params": _X26X}),
    "mpeg2.mpg": ("mpeg", "mpeg2video", {}),
    "mpeg2.ts": ("mpegts", "mpeg2video", {}),
}


def _make(path: Path, muxer: str, codec: str, options: dict[str, str]) -> Path:
    rng = np.random.default_rng(7)
    pictures = (np.roll(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), n, axis=1)
                for n in range(FRAMES))
    return write_clip(path, muxer, codec, pictures, options,
                      gop=(12, 2) if codec == "mpeg2video" else None)


@pytest.fixture(scope="module", params=sorted(_CLIPS))
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory.mktemp("gop") / request.param, *_CLIPS[request.param])


def _leading_pictures(path: Path) -> int:
    """Packets right after a keyframe (not the first) shown before it."""
    with av.open(str(path)) as container:
        packets = [(p.pts, p.is_keyframe) for p in container.demux(video=0) if p.size]
    return sum(1 for n, (stamp, key) in enumerate(packets) if key and n
               for later, _ in packets[n + 1:n + 4] if later < stamp)


def test_every_window_holds_the_frames_of_a_decode_from_frame_0(clip: Path) -> None:
    assert _leading_pictures(clip) > 0  # the open GOPs this is about
    whole = frame_digests(media.iter_frames(clip))
    assert len(whole) == FRAMES
    for first in (1, 11, 12, 13, 23, 24, 25, 47, 48, 49, 71, 72, 73, 100, 121, 140):
        end = min(FRAMES, first + 20)
        assert frame_digests(media.iter_window(clip, first, end)) == whole[first:end], first


@pytest.mark.parametrize("name", ["h264.ts", "mpeg2.ts"])
def test_a_late_window_of_a_ts_clip_is_not_decoded_from_frame_0(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MPEG-TS lands a seek on the keyframe after the one asked for; the window seeks one
    keyframe earlier instead of decoding the 120 frames before it."""
    path = _make(tmp_path / name, *_CLIPS[name])
    whole = frame_digests(media.iter_frames(path))
    counts = count_decodes(monkeypatch)
    assert frame_digests(media.iter_window(path, 125, 140)) == whole[125:140]
    # frames from at most two GOPs (24 frames) before the window, plus one past it
    assert len(counts) <= 2 + 2 * 24 + 15 + 1
