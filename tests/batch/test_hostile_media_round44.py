"""Round 44: a bare H.264 stream (`.h264`, as a Raspberry Pi camera writes it) as the target.

Its packets carry no timestamps. The swap decodes it frame by frame like any video, but
it first asked the packets' table whether the clip is long enough for segments: an
empty table, and `facedub swap` stopped with "the video has no frames"."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from facedub import media
from facedub.batch.chunks import UnstampedVideoError, frame_times
from facedub.batch.resumable import plan_segments
from facedub.extract.run import open_source
from facedub.extract.safety import sample_frames


@pytest.fixture
def bare_stream(tmp_path: Path) -> Path:
    """25 frames of H.264 with no container (FFmpeg's raw "h264" muxer)."""
    path = tmp_path / "camera.h264"
    with av.open(str(path), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for value in range(25):
            image = np.full((48, 64, 3), value * 10, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    assert sum(1 for _ in media.iter_frames(path)) == 25  # it decodes: a video to swap
    return path


def test_a_bare_stream_is_swapped_unsplit(bare_stream: Path) -> None:
    assert plan_segments(bare_stream, segment_seconds=0.2, min_segments=2) is None


def test_a_bare_stream_cut_into_chunks_says_what_to_do(bare_stream: Path) -> None:
    with pytest.raises(UnstampedVideoError) as refused:
        frame_times(bare_stream)
    line = str(refused.value)
    assert "\n" not in line and "camera.h264" in line and "-c copy camera.mp4" in line


def test_a_bare_streams_frames_are_counted_from_its_packets(bare_stream: Path) -> None:
    """Its header gives neither a frame count nor a duration: counted 1, the content
    check looked at frame 0 only and the progress bar ran to a total of 1."""
    assert media.probe(bare_stream).frame_count == 25
    looked = [frame.index for frame in sample_frames(bare_stream)]
    assert len(looked) == 16 and looked[0] == 0 and looked[-1] == 24
    assert open_source(bare_stream).frame_total == 25  # the progress bar's total
