"""The output folder's write probe leaves nothing beside the output, even when a stop
signal lands while the probe file exists (a SIGTERM from a job runner, Ctrl-C)."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub import media
from facedub.errors import FacedubError


def test_a_signal_after_the_probe_is_made_leaves_no_probe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Path.touch

    def touch_then_interrupted(self: Path, *args: object, **kwargs: object) -> None:
        made(self)
        raise KeyboardInterrupt  # as a signal handler raises right after the call

    monkeypatch.setattr(Path, "touch", touch_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        media._require_writable_parent(tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_one_line_and_leaves_nothing(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    def refused(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "touch", refused)
    with pytest.raises(FacedubError, match=r"cannot write to .*choose another output folder"):
        media._require_writable_parent(tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []
