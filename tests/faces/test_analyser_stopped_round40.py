"""Round 40: a stop signal while `FaceAnalyser` opens its models. The models opened before
it stayed open, with their native threads, for the interpreter's exit to tear down:
`refine` stopped by SIGTERM as its analysis began printed its one line, then hung (CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub.faces import landmarks


class _Task:
    def __init__(self, closed: list[str], name: str) -> None:
        self.closed, self.name = closed, name

    def close(self) -> None:
        self.closed.append(self.name)


def test_a_stop_between_two_models_closes_the_one_already_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []
    opened: list[str] = []

    def open_landmarker(bundle: Path, faces: int, video: bool,
                        min_confidence: float) -> _Task:
        if opened:  # the signal lands as the second model is made
            raise KeyboardInterrupt
        opened.append("frame landmarker")
        return _Task(closed, "frame landmarker")

    monkeypatch.setattr(landmarks, "open_landmarker", open_landmarker)
    with pytest.raises(KeyboardInterrupt):
        landmarks.FaceAnalyser(model_path=Path("unused.task"))
    assert closed == ["frame landmarker"]
