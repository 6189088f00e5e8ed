"""Record the inputs of a few functions during a swap, then time two versions of one of
them on those inputs, per thread, alternated in one sitting (forty-eighth round).

    PYTHONPATH=src python tools/recorded_calls.py record OUT.pkl --frames 20 \\
        --function facedub.faces.masks:feather [--function ...] -- swap SWAP_ARGS...
    PYTHONPATH=src python tools/recorded_calls.py time OUT.pkl facedub.faces.masks:feather \\
        --against /work/wt-base/src [--rounds 9]

`record` runs `facedub swap` in this process and keeps, for each named function, every
call's arguments (arrays copied) with its thread's name until the compositor has finished
`--frames` faces; every module of facedub that imported the function by name gets the
recording wrapper. `time` replays each thread's calls through this tree's function and
through the same module's file under `--against` (another tree's src, e.g. main's), one
after the other `--rounds` times, on OpenCV's one thread as the swap runs it, and prints
thread CPU (`time.thread_time`) a frame, medians, and how far the outputs moved.

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
import pickle
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
    with out.open("wb") as handle:
        pickle.dump({"frames": frames, "calls": calls}, handle, protocol=4)
    print({name: dict(Counter(thread for thread, _, _ in kept)) for name, kept in calls.items()})


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


def largest_move(first: Any, second: Any) -> tuple[float, int, int]:
    """Largest absolute difference, elements that moved, elements compared."""
    parts = zip(first, second, strict=True) if isinstance(first, tuple) else [(first, second)]
    worst, moved, total = 0.0, 0, 0
    for one, other in parts:
        if not isinstance(one, np.ndarray):
            one, other = np.asarray(one), np.asarray(other)
        difference = np.abs(one.astype(np.float64) - other.astype(np.float64))
        if difference.size:
            worst = max(worst, float(difference.max()))
        moved += int(np.count_nonzero(difference))
        total += difference.size
    return worst, moved, total


def time_calls(recording: Path, name: str, against: Path, rounds: int,
               engine_calls_a_frame: float | None) -> None:
    cv2.setNumThreads(1)  # as the swap runs OpenCV (threads.opencv_threads)
    with recording.open("rb") as handle:
        saved = pickle.load(handle)
    frames, calls = saved["frames"], saved["calls"][name]
    # Unpickled arrays live in the pickle's buffer: copied, so that both versions read
    # owned, aligned memory as the swap's own calls do.
    calls = [(thread, snapshot(args), snapshot(kwargs)) for thread, args, kwargs in calls]
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
                start = time.thread_time()
                for _, args, kwargs in kept:
                    function(*args, **kwargs)
                spent[label].append((time.thread_time() - start) * 1000 / thread_frames)
        worst, moved, total = 0.0, 0, 0
        for _, args, kwargs in kept:
            one_worst, one_moved, one_total = largest_move(theirs(*args, **kwargs),
                                                           ours(*args, **kwargs))
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
