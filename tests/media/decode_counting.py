"""Helpers of the window-decode tests: frames compared by digest, and the frames a decode
made counted (how much a seek saved)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import av
import pytest

from facedub import media


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
