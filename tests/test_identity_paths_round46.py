"""tools/identity_paths.py: eval's person path and filled path on one frame, with one
reference or the described face taken from the other path at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(TOOLS))
    import identity_paths

    return identity_paths


def _unit(axis: int) -> np.ndarray:
    vector = np.zeros(128, dtype=np.float32)
    vector[axis] = 1.0
    return vector


def test_each_column_takes_one_part_from_the_filled_path(tool: Any) -> None:
    """A whole frame that is the target person and a swapped crop that is neither person:
    d(source) - d(target) on eval's person path is sqrt 2; with the source's crop (which
    is where the whole frame lies) or the frame's target crop, or on the crop, none."""
    source, target = _unit(0), _unit(1)
    row = tool.Described(frame=3, whole=_unit(1), swapped=_unit(2), target=_unit(3),
                         source=_unit(1), share=0.0)
    person, src_crop, tgt_frame, swap_crop, filled = tool.margins(row, source, target)
    root = float(np.sqrt(2.0))
    assert person == pytest.approx(root - 0.0)  # on the target person itself
    assert src_crop == pytest.approx(0.0 - 0.0)  # the source's crop is where it stands
    assert tgt_frame == pytest.approx(root - root)
    assert swap_crop == pytest.approx(root - root)
    assert filled == pytest.approx(root - root)


def test_nearer_counts_per_column_and_bin(tool: Any) -> None:
    source, target = _unit(0), _unit(1)
    near_target = tool.Described(1, _unit(1), _unit(0), _unit(2), _unit(0), 0.0)
    near_source = tool.Described(2, _unit(0), _unit(0), _unit(2), _unit(0), 0.0)
    counts = tool.nearer_counts([near_target, near_source], {1: "30-45", 2: "15-30"},
                                source, target)
    assert counts["person"] == {"30-45": (0, 1), "15-30": (1, 1)}
    assert counts["filled"] == {"30-45": (1, 1), "15-30": (1, 1)}
