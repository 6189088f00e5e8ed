"""tools/recorded_calls.py: recorded arguments are owned copies, a function is found in
another tree's copy of its module, and two versions' outputs are compared value by value."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import recorded_calls

    return recorded_calls


def test_a_recorded_array_is_an_owned_copy(tool: ModuleType) -> None:
    frame = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    kept = tool.snapshot((frame[..., 1], [frame], {"a": 1}))
    frame[:] = -1
    assert kept[0].flags.owndata and kept[0].flags.c_contiguous
    assert kept[0][0, 0] == 1 and kept[1][0][0, 0, 0] == 0 and kept[2] == {"a": 1}


def test_the_other_trees_function_is_its_own_copy(tool: ModuleType) -> None:
    from facedub.faces import masks

    theirs = tool.other_tree_function("facedub.faces.masks:feather", ROOT / "src")
    assert theirs is not masks.feather and theirs.__module__ != masks.__name__
    hard = np.zeros((40, 40), dtype=np.uint8)
    hard[10:20, 12:30] = 255
    np.testing.assert_array_equal(theirs(hard, 2, 4), masks.feather(hard, 2, 4))


def test_moves_are_counted_value_by_value(tool: ModuleType) -> None:
    one = np.zeros((3, 3), dtype=np.float32)
    other = one.copy()
    other[1, 1] = 0.25
    assert tool.largest_move(one, one) == (0.0, 0, 9)
    assert tool.largest_move((one, 2.0), (other, 2.5)) == (0.5, 2, 10)
