"""Windows of an MPEG program stream (.mpg, .vob; forty-third round). Every window of a
long swap was decoded from frame 0 (quadratic on a DVD rip): a seek there misnames the
first picture after it, and the packets' keyframe flags mark P pictures too. A window now
seeks two GOPs before itself and starts at an intra picture the decoder reports, and its
frames are those of a decode from frame 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from decode_counting import count_decodes, frame_digests, write_clip

from facedub import media

FRAMES = 120
# name: (muxer, GOP, B-frames); MPEG-2's GOPs are open unless told (DVD: 15 or 18)
_CLIPS = {"dvd.vob": ("vob", 15, 2), "cam.mpg": ("mpeg", 12, 2), "ip.mpg": ("mpeg", 12, 0)}


def _make(path: Path, muxer: str, gop: int, b_frames: int) -> Path:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 255, (144, 176, 3), dtype=np.uint8)
    pictures = (np.roll(base, 3 * n, axis=1) for n in range(FRAMES))
    return write_clip(path, muxer, "mpeg2video", pictures, gop=(gop, b_frames))


@pytest.fixture(scope="module", params=sorted(_CLIPS))
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory.mktemp("ps") / request.param, *_CLIPS[request.param])


def test_every_window_holds_the_frames_of_a_decode_from_frame_0(clip: Path) -> None:
    whole = frame_digests(media.iter_frames(clip))
    assert len(whole) == FRAMES
    for first in (*range(1, 40), 47, 59, 60, 61, 75, 90, 100, 110, 117):
        end = min(FRAMES, first + 12)
        assert frame_digests(media.iter_window(clip, first, end)) == whole[first:end], first


def test_a_late_window_is_not_decoded_from_frame_0(clip: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    whole = frame_digests(media.iter_frames(clip))
    counts = count_decodes(monkeypatch)
    assert frame_digests(media.iter_window(clip, 100, 115)) == whole[100:115]
    # the 36 frames of the lead and at most a GOP before them, the window, one past it
    assert len(counts) <= 36 + 18 + 15 + 1 + 2, len(counts)
