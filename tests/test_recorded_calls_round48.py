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


def test_a_recording_is_npz_and_json_read_back_without_pickle(tool: ModuleType,
                                                              tmp_path: Path) -> None:
    """Arrays go to the .npz (read with allow_pickle=False), everything else to the .json,
    and the calls come back as they were recorded: types, values, threads, order."""
    import json

    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    calls = {"m:f": [("MainThread", [mask, 2, (np.float32(0.5), None)],
                      {"flag": True, "name": "lips", "sizes": [1.5, np.int64(7)]}),
                     ("engine", [mask[:, 1:], -1, ()], {})]}
    tool.save_recording(tmp_path / "rec.npz", 20, calls)
    described = json.loads((tmp_path / "rec.json").read_text())
    assert described["format"] == tool.RECORDING_FORMAT and described["frames"] == 20
    with np.load(tmp_path / "rec.npz", allow_pickle=False) as stored:
        assert all(stored[name].dtype != object for name in stored.files)
    frames, loaded = tool.load_recording(tmp_path / "rec")
    assert frames == 20 and list(loaded) == ["m:f"]
    (thread, args, kwargs), (other_thread, other_args, other_kwargs) = loaded["m:f"]
    assert (thread, other_thread) == ("MainThread", "engine")
    np.testing.assert_array_equal(args[0], mask)
    assert args[0].dtype == np.uint8 and args[0].flags.owndata and args[0].flags.writeable
    assert args[1] == 2 and args[2][1] is None
    assert isinstance(args[2], tuple) and type(args[2][0]) is np.float32 and args[2][0] == 0.5
    assert kwargs["flag"] is True and kwargs["name"] == "lips"
    assert kwargs["sizes"][0] == 1.5 and type(kwargs["sizes"][1]) is np.int64
    np.testing.assert_array_equal(other_args[0], mask[:, 1:])
    assert other_args[1:] == [-1, ()] and other_kwargs == {}


def test_an_argument_only_pickle_could_store_is_refused(tool: ModuleType,
                                                        tmp_path: Path) -> None:
    class Face:
        pass

    for argument in (Face(), np.array([Face()], dtype=object), {1: np.zeros(2)}):
        with pytest.raises(TypeError, match="without pickle"):
            tool.save_recording(tmp_path / "rec.npz", 1, {"m:f": [("MainThread", [argument],
                                                                   {})]})


def test_an_in_place_function_is_replayed_on_the_recorded_inputs(
        tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A function that changes its argument sees the recorded values on every replay, in
    both versions, and the change it makes is what is compared (here 3x against 2x: every
    value moves by one)."""
    import sys

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for tree, factor in ((ours, 2.0), (theirs, 3.0)):
        tree.mkdir()
        (tree / "recorded_in_place_probe.py").write_text(
            "import numpy as np\nseen: list[float] = []\n\n\n"
            "def scale(values: np.ndarray) -> None:\n"
            "    seen.append(float(values.max()))\n"
            f"    values *= {factor}\n")
    monkeypatch.syspath_prepend(str(ours))
    monkeypatch.delitem(sys.modules, "recorded_in_place_probe", raising=False)
    import recorded_in_place_probe as probe

    calls = {"recorded_in_place_probe:scale": [("MainThread", [np.ones((2, 5))], {})] * 3}
    tool.save_recording(tmp_path / "rec.npz", 3, calls)
    tool.time_calls(tmp_path / "rec.npz", "recorded_in_place_probe:scale", theirs, 2, None)
    monkeypatch.delitem(sys.modules, "recorded_in_place_probe")
    assert probe.seen == [1.0] * len(probe.seen) and len(probe.seen) == 3 * 2 + 3
    assert "largest move 1, 30 of 30 values moved" in capsys.readouterr().out


def test_only_the_arguments_a_version_changed_are_compared(tool: ModuleType) -> None:
    values = np.ones(4)

    def pure(array: np.ndarray, step: float) -> np.ndarray:
        return array + step

    def in_place(array: np.ndarray, step: float) -> np.ndarray:
        array += step
        return array * 0

    first, second = tool.outcomes(pure, pure, [values, 1.0], {})
    assert len(first) == len(second) == 1
    first, second = tool.outcomes(pure, in_place, [values, 1.0], {})
    assert len(first) == len(second) == 2 and tool.largest_move(first, second) == (2.0, 8, 8)
    np.testing.assert_array_equal(values, 1.0)
