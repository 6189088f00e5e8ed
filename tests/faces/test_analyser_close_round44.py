"""Round 44: a stop signal landing inside `FaceAnalyser.close`.

SIGTERM raises `Terminated` on the main thread wherever it is; landing as the first of the
analyser's three MediaPipe tasks closed (a swap stopped as its analysis ended), it left
the other two open. At the interpreter's exit their `__del__` ran with MediaPipe's modules
torn down ("Exception ignored ... 'NoneType' object is not callable", twice) while their
graphs' threads still ran."""

from __future__ import annotations

import pytest

from facedub.errors import Terminated
from facedub.faces.landmarks import FaceAnalyser


class _Task:
    def __init__(self, name: str, closed: list[str], stop: bool = False) -> None:
        self.name, self.closed, self.stop = name, closed, stop

    def close(self) -> None:
        self.closed.append(self.name)
        if self.stop:
            raise Terminated(15)  # the signal lands inside this close


def test_a_stop_inside_close_still_closes_every_task() -> None:
    closed: list[str] = []
    analyser = FaceAnalyser.__new__(FaceAnalyser)  # no models: only its close is read
    analyser._frame_landmarker = _Task("frame", closed, stop=True)  # type: ignore[assignment]
    analyser._crop_landmarker = _Task("crop", closed)  # type: ignore[assignment]
    analyser._detector = _Task("detector", closed)  # type: ignore[assignment]
    with pytest.raises(Terminated):
        analyser.close()
    assert closed == ["frame", "crop", "detector"]
