"""Helpers of the window-decode tests: clips written at test time, frames compared by
digest, and the frames a decode made counted (how much a seek saved)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from facedub import media


def write_clip(path: Path, muxer: str, codec: str, pictures: Iterable[np.ndarray],
               options: dict[str, str] | None = None,
               gop: tuple[int, int] | None = None) -> Path:
    """`pictures` ((H, W, 3) uint8 RGB, one a frame at 25 frames/s) encoded by `codec` into
    `muxer`'s container at `path`; `gop`: (GOP size, B-frames) set on the encoder."""
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=25)
        stream.pix_fmt = "yuv420p"
        stream.options = options or {}
        if gop is not None:
            stream.codec_context.gop_size, stream.codec_context.max_b_frames = gop
        for n, image in enumerate(pictures):
            if n == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def frame_digests(frames: Iterator[media.Frame]) -> list[tuple[int, float, str]]:
    """Each frame's index, time and pixels' digest."""
    return [(f.index, round(f.time, 6), hashlib.sha1(f.image.tobytes()).hexdigest())
            for f in frames]


class _Counted:
    """av.open's container, counting the frames decoded."""

    def __init__(self, container: Any, counts: list[int]) -> None:
        self._container, self._counts = container, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self._container.close()

    def decode(self, *args: Any, **kwargs: Any) -> Iterator[av.VideoFrame]:
        for frame in self._container.decode(*args, **kwargs):
            self._counts.append(1)
            yield frame


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for every frame any `av.open` container decodes from now on."""
    counts: list[int] = []
    opener = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: _Counted(opener(*a, **k), counts))
    return counts
