"""Record the inputs of a few functions during a swap, then time two versions of one of
them on those inputs, per thread, alternated in one sitting (forty-eighth round).

    PYTHONPATH=src python tools/recorded_calls.py record OUT.npz --frames 20 \\
        --function facedub.faces.masks:feather [--function ...] -- swap SWAP_ARGS...
    PYTHONPATH=src python tools/recorded_calls.py time OUT.npz facedub.faces.masks:feather \\
        --against /work/wt-base/src [--rounds 9]

`record` runs `facedub swap` in this process and keeps, for each named function, every
call's arguments (arrays copied) with its thread's name until the compositor has finished
`--frames` faces; every module of facedub that imported the function by name gets the
recording wrapper. The recording is OUT.npz (the arrays, read back with
allow_pickle=False) and OUT.json beside it (format version, frames, and each call's thread
and arguments: arrays by their name in the .npz, NumPy scalars as 0-d arrays, None, bools,
numbers and strings as themselves, in tuples, lists and string-keyed dicts); an argument of
any other type is refused (never pickle: DESIGN.md). `time` replays each thread's calls
through this tree's function and through the same module's file under `--against`
(another tree's src, e.g. main's), one after the other `--rounds` times, on OpenCV's one
thread as the swap runs it, each call on its own fresh copy of the recorded arguments (a
function that changes its inputs in place sees them as the swap gave them, every time),
and prints thread CPU (`time.thread_time`) a frame, medians, and how far the outputs (and
the arguments a function changed in place) moved.

The engine's thread runs ahead of the compositor by its queue (it records a few frames
more): give `--engine-calls-a-frame` (its calls over a whole swap's frames, from a
`tools/swap_thread_profile.py --profile` run) and its frames are its calls / that.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import importlib.util
import json
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

Call = tuple[str, list[Any], dict[str, Any]]
RECORDING_FORMAT = 1  # OUT.json's "format"


def resolve(name: str) -> tuple[Any, str, Callable[..., Any]]:
    """'package.module:function' -> (module, function name, function)."""
    module_name, function_name = name.split(":")
    module = importlib.import_module(module_name)
    return module, function_name, getattr(module, function_name)


def snapshot(value: Any) -> Any:
    """A copy of an argument: arrays copied (aligned, owned), the rest deep-copied."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, tuple):
        return tuple(snapshot(part) for part in value)
    if isinstance(value, list):
        return [snapshot(part) for part in value]
    return copy.deepcopy(value)


def record(out: Path, names: list[str], frames: int, swap_args: list[str]) -> None:
    from facedub.cli import app
    from facedub.composite import compositor

    calls: dict[str, list[Call]] = {name: [] for name in names}
    made: Counter[str] = Counter()  # composited faces; the engine's faces
    for name in names:
        function = resolve(name)[2]

        def wrapper(*args: Any, _name: str = name, _function: Callable[..., Any] = function,
                    **kwargs: Any) -> Any:
            if made["composited"] < frames:
                calls[_name].append((threading.current_thread().name,
                                     [snapshot(arg) for arg in args],
                                     {key: snapshot(arg) for key, arg in kwargs.items()}))
            return _function(*args, **kwargs)

        for loaded_name, loaded in list(sys.modules.items()):
            if loaded_name.startswith("facedub"):
                for attribute, value in list(vars(loaded).items()):
                    if value is function:
                        setattr(loaded, attribute, wrapper)
    composite = compositor.Compositor.composite

    def counted(self: Any, target: Any, swapped: Any) -> Any:
        result = composite(self, target, swapped)
        made["composited"] += 1
        return result

    compositor.Compositor.composite = counted  # type: ignore[method-assign]
    with contextlib.suppress(SystemExit):
        app(swap_args, standalone_mode=False)
    save_recording(out, frames, calls)
    print({name: dict(Counter(thread for thread, _, _ in kept)) for name, kept in calls.items()})


def _encoded(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """`value` as JSON, its arrays (and NumPy scalars, as 0-d arrays) put in `arrays`
    under the names the JSON gives them. Raises TypeError for any other type."""
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError("an object array cannot be recorded without pickle")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"array" if isinstance(value, np.ndarray) else "scalar": name}
    if value is None or isinstance(value, bool | int | float | str):
        return {"value": value}
    if isinstance(value, tuple | list):
        return {type(value).__name__: [_encoded(part, arrays) for part in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: _encoded(part, arrays) for key, part in value.items()}}
    raise TypeError(f"cannot record an argument of type {type(value).__name__} without "
                    "pickle: only arrays, NumPy scalars, None, bools, numbers, strings, "
                    "and tuples, lists and string-keyed dicts of them")


def _decoded(value: dict[str, Any], arrays: Any) -> Any:
    """What `_encoded` wrote, back (arrays from the open .npz)."""
    (kind, content), = value.items()
    if kind == "array":
        return arrays[content]
    if kind == "scalar":
        return arrays[content][()]
    if kind == "value":
        return content
    if kind == "tuple":
        return tuple(_decoded(part, arrays) for part in content)
    if kind == "list":
        return [_decoded(part, arrays) for part in content]
    if kind == "dict":
        return {key: _decoded(part, arrays) for key, part in content.items()}
    raise ValueError(f"unknown recorded kind {kind!r}")


def recording_paths(path: Path) -> tuple[Path, Path]:
    """The recording's .npz (arrays) and .json (everything else) for OUT, OUT.npz or
    OUT.json."""
    return path.with_suffix(".npz"), path.with_suffix(".json")


def save_recording(path: Path, frames: int, calls: dict[str, list[Call]]) -> None:
    """Write the recorded calls as PATH.npz and PATH.json (no pickle anywhere)."""
    arrays: dict[str, np.ndarray] = {}
    described = {name: [{"thread": thread, "args": _encoded(args, arrays),
                         "kwargs": _encoded(kwargs, arrays)} for thread, args, kwargs in kept]
                 for name, kept in calls.items()}
    npz_path, json_path = recording_paths(path)
    # allow_pickle=False: an object array would raise here too (none gets this far).
    np.savez(npz_path, allow_pickle=False, **arrays)  # type: ignore[arg-type]
    json_path.write_text(json.dumps({"format": RECORDING_FORMAT, "frames": frames,
                                     "calls": described}, indent=1))


def load_recording(path: Path) -> tuple[int, dict[str, list[Call]]]:
    """(frames, calls by function name) of a recording written by `save_recording`; its
    arrays read with allow_pickle=False and copied (owned, aligned memory)."""
    npz_path, json_path = recording_paths(path)
    described = json.loads(json_path.read_text())
    if described.get("format") != RECORDING_FORMAT:
        raise ValueError(f"{json_path}: recording format {described.get('format')!r}, "
                         f"this tool reads {RECORDING_FORMAT}")
    with np.load(npz_path, allow_pickle=False) as stored:
        arrays = {name: np.array(stored[name], copy=True) for name in stored.files}
    calls = {name: [(call["thread"], _decoded(call["args"], arrays),
                     _decoded(call["kwargs"], arrays)) for call in kept]
             for name, kept in described["calls"].items()}
    return int(described["frames"]), calls


def other_tree_function(name: str, src: Path) -> Callable[..., Any]:
    """The function of the same name from `src`'s copy of its module (imported beside this
    tree's, under another module name; its own imports resolve to this tree)."""
    module_name, function_name = name.split(":")
    path = src.joinpath(*module_name.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"other_{module_name.replace('.', '_')}",
                                                  path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[..., Any] = getattr(module, function_name)
    return function


def _leaves(value: Any) -> list[Any]:
    """The arrays and numbers in a (nested) tuple, list or dict, in order; None and
    strings dropped."""
    if isinstance(value, tuple | list):
        return [leaf for part in value for leaf in _leaves(part)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _leaves(value[key])]
    return [] if value is None or isinstance(value, str) else [value]


def largest_move(first: Any, second: Any) -> tuple[float, int, int]:
    """Largest absolute difference, elements that moved, elements compared, over the
    arrays and numbers of two results of the same shape (nested tuples, lists, dicts)."""
    worst, moved, total = 0.0, 0, 0
    for one, other in zip(_leaves(first), _leaves(second), strict=True):
        if not isinstance(one, np.ndarray):
            one, other = np.asarray(one), np.asarray(other)
        difference = np.abs(one.astype(np.float64) - other.astype(np.float64))
        if difference.size:
            worst = max(worst, float(difference.max()))
        moved += int(np.count_nonzero(difference))
        total += difference.size
    return worst, moved, total


def fresh_arguments(calls: list[Call]) -> list[tuple[list[Any], dict[str, Any]]]:
    """Each call's recorded arguments, copied: a function that changes its inputs in place
    must not leave the next replay (or the other version) its outputs as inputs."""
    return [(snapshot(args), snapshot(kwargs)) for _, args, kwargs in calls]


def outcomes(first: Callable[..., Any], second: Callable[..., Any], args: list[Any],
             kwargs: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """What two versions of a call give back, each on its own copy of the arguments, and
    the arguments either of them changed in place (an in-place function's work is there);
    the arguments neither touched are left out of the comparison."""
    recorded = _leaves((args, kwargs))
    results, left = [], []
    for function in (first, second):
        own_args, own_kwargs = snapshot(args), snapshot(kwargs)
        results.append(_leaves(function(*own_args, **own_kwargs)))
        left.append(_leaves((own_args, own_kwargs)))
    changed = [index for index, value in enumerate(recorded)
               if any(not np.array_equal(version[index], value, equal_nan=True)
                      for version in left)]
    return ([*results[0], *(left[0][index] for index in changed)],
            [*results[1], *(left[1][index] for index in changed)])


def time_calls(recording: Path, name: str, against: Path, rounds: int,
               engine_calls_a_frame: float | None) -> None:
    cv2.setNumThreads(1)  # as the swap runs OpenCV (threads.opencv_threads)
    frames, recorded = load_recording(recording)
    calls = recorded[name]
    ours, theirs = resolve(name)[2], other_tree_function(name, against)
    by_thread: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_thread[call[0]].append(call)
    for thread, kept in sorted(by_thread.items()):
        thread_frames = float(frames)
        if thread != "MainThread" and engine_calls_a_frame:
            thread_frames = len(kept) / engine_calls_a_frame
        spent: dict[str, list[float]] = {"against": [], "this tree": []}
        for _ in range(rounds):
            for label, function in (("against", theirs), ("this tree", ours)):
                fresh = fresh_arguments(kept)  # copied before the clock starts
                start = time.thread_time()
                for args, kwargs in fresh:
                    function(*args, **kwargs)
                spent[label].append((time.thread_time() - start) * 1000 / thread_frames)
        worst, moved, total = 0.0, 0, 0
        for _, args, kwargs in kept:
            one_worst, one_moved, one_total = largest_move(*outcomes(theirs, ours, args, kwargs))
            worst, moved, total = max(worst, one_worst), moved + one_moved, total + one_total
        before, after = statistics.median(spent["against"]), statistics.median(spent["this tree"])
        print(f"{name} on {thread}: {len(kept)} calls, {thread_frames:.1f} frames; "
              f"against {before:.2f}, this tree {after:.2f} ms a frame (ratio "
              f"{after / before:.2f}, medians of {rounds}); largest move {worst:.3g}, "
              f"{moved} of {total} values moved")


def main() -> None:
    if "--" in sys.argv:
        split = sys.argv.index("--")
        own, swap_args = sys.argv[1:split], sys.argv[split + 1:]
    else:
        own, swap_args = sys.argv[1:], []
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record")
    recording.add_argument("out", type=Path)
    recording.add_argument("--function", action="append", required=True)
    recording.add_argument("--frames", type=int, default=20)
    timing = commands.add_parser("time")
    timing.add_argument("recording", type=Path)
    timing.add_argument("function")
    timing.add_argument("--against", type=Path, required=True)
    timing.add_argument("--rounds", type=int, default=9)
    timing.add_argument("--engine-calls-a-frame", type=float, default=None,
                        help="the engine thread's calls a frame (from a profile): its frames "
                             "are its calls / this (it runs ahead of the compositor)")
    args = parser.parse_args(own)
    if args.command == "record":
        record(args.out, args.function, args.frames, swap_args)
    else:
        time_calls(args.recording, args.function, args.against, args.rounds,
                   args.engine_calls_a_frame)


if __name__ == "__main__":
    main()
