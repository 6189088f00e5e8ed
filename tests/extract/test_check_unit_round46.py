"""Round 46: a faceset's content check counts crops, and its terminal bar said "frames/s"
(the bar's unit is set once, for the frames a swap or extraction counts). The check now
names its unit with its bar, and the terminal bar shows it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedub.cli.terminal import RichProgress, SpeedColumn
from facedub.extract.safety import check_crops_are_allowed
from facedub.progress import NoProgress


class _Clean:
    def scores(self, image: np.ndarray) -> dict[str, float]:
        del image
        return {}


class _Units(NoProgress):
    def __init__(self) -> None:
        self.units: list[str | None] = []

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        del total, description
        self.units.append(unit)


def test_the_faceset_check_counts_crops(tmp_path: Path) -> None:
    crops = [tmp_path / f"{index:06d}.png" for index in range(2)]
    for crop in crops:
        cv2.imwrite(str(crop), np.full((16, 16, 3), 128, np.uint8))
    bars = _Units()
    check_crops_are_allowed(tmp_path, crops, _Clean(), bars)
    assert bars.units == ["crops"]


def test_the_terminal_bar_shows_the_unit_it_is_started_with() -> None:
    def speed_unit(bar: RichProgress) -> str:
        assert bar._bar is not None
        columns = [column for column in bar._bar.columns if isinstance(column, SpeedColumn)]
        return columns[0]._unit

    bar = RichProgress()
    bar.start(2, "check faces", unit="crops")
    assert speed_unit(bar) == "crops"
    bar.finish()
    bar.start(2, "swap clip.mp4")
    assert speed_unit(bar) == "frames"  # the bar's own unit where none is named
    bar.finish()
