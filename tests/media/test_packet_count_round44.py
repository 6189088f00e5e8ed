"""Round 44: a video whose header gives neither a frame count nor a duration (a recording
written to a pipe) is counted by its packets, of the stream the swap reads: the review's
two-stream Matroska (a 5-frame inset first, the 80-frame main stream marked default)
read 128x96 from the main stream and 5 frames from the inset, so the explicit-content
check looked at frames 0-4 of 80."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

from facedub import media


class _Pipe(io.RawIOBase):
    """A file written as a pipe: not seekable, so the muxer writes no duration."""

    def __init__(self, file: io.BufferedWriter) -> None:
        self._file = file

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._file.write(data)


def _two_streams(path: Path, inset_frames: int, main_frames: int) -> None:
    with open(path, "wb") as file, av.open(_Pipe(file), "w", format="matroska") as out:
        inset = out.add_stream("libx264", rate=25)
        inset.width = inset.height = 64
        main = out.add_stream("libx264", rate=25)
        main.width, main.height = 128, 96
        inset.pix_fmt = main.pix_fmt = "yuv420p"
        main.disposition = av.stream.Disposition.default
        inset.disposition = av.stream.Disposition(0)
        for index in range(main_frames):
            image = np.full((96, 128, 3), index * 3 % 255, np.uint8)
            out.mux(main.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            if index < inset_frames:
                small = np.full((64, 64, 3), 9, np.uint8)
                out.mux(inset.encode(av.VideoFrame.from_ndarray(small, format="rgb24")))
        out.mux(main.encode())
        out.mux(inset.encode())


def test_a_stream_without_a_count_is_counted_on_the_stream_read(tmp_path: Path) -> None:
    clip = tmp_path / "recorded.mkv"
    _two_streams(clip, inset_frames=5, main_frames=80)
    info = media.probe(clip)
    assert (info.width, info.height) == (128, 96)  # the main stream is the one read
    assert info.frame_count == 80
