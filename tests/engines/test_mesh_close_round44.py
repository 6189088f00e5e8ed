"""Round 44: a stop signal landing inside `MeshEngine.close`.

SIGTERM raises `Terminated` on the main thread wherever it is; landing while the source
faces' background thread was joined, it skipped closing the eye readings' landmarker and
the face workers, left to the interpreter's exit (as `FaceAnalyser.close` did)."""

from __future__ import annotations

import pytest

from facedub.engines.mesh import MeshEngine
from facedub.errors import Terminated


class _Faces:
    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    def stop_background(self) -> None:
        self.closed.append("faces")
        raise Terminated(15)  # the signal lands while the thread is joined


class _EyeReads:
    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    def close(self) -> None:
        self.closed.append("eye reads")


class _Workers:
    def __init__(self, closed: list[str]) -> None:
        self.closed = closed

    def shutdown(self) -> None:
        self.closed.append("workers")


def test_a_stop_inside_close_still_closes_the_landmarker_and_workers() -> None:
    closed: list[str] = []
    engine = MeshEngine.__new__(MeshEngine)  # no source: only its close is read
    engine._faces = _Faces(closed)  # type: ignore[assignment]
    engine._eye_reads = _EyeReads(closed)  # type: ignore[assignment]
    engine._workers = _Workers(closed)  # type: ignore[assignment]
    with pytest.raises(Terminated):
        engine.close()
    assert closed == ["faces", "eye reads", "workers"]
    assert engine._workers is None
