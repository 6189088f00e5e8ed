"""Which OpenCV calls of a `facedub swap` repeat work already done in the same frame: the
same function on the same input bytes with the same arguments, per thread and frame.

    PYTHONPATH=src python tools/repeated_native_calls.py OUT.json -- SWAP_ARGS...

Wraps cv2.GaussianBlur, resize, cvtColor, warpAffine, erode, dilate and merge; each call's
key is (function, the input's digest, shape, dtype, the other arguments), its caller the
first frame of facedub code above it. A call whose key was seen earlier on the same thread
since that thread's last frame boundary (a `Compositor.composite` or `engine_face` call) is
a repeat; the table lists, per caller, calls, repeats and the repeats' thread CPU.
Slow (every input is hashed): for finding repeats, not for timing the swap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

WRAPPED = ("GaussianBlur", "resize", "cvtColor", "warpAffine", "erode", "dilate", "merge",
           "split", "boxFilter", "blur")


def digest(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (hashlib.blake2b(np.ascontiguousarray(value).data, digest_size=12).hexdigest(),
                value.shape, str(value.dtype))
    if isinstance(value, list | tuple):
        return tuple(digest(v) for v in value)
    return repr(value)


def caller() -> str:
    for frame in reversed(traceback.extract_stack(limit=12)[:-2]):
        if "/facedub/" in frame.filename:
            return f"{frame.filename.split('/facedub/')[-1]}:{frame.lineno}({frame.name})"
    return "?"


def main() -> None:
    split = sys.argv.index("--")
    out = Path(sys.argv[1])
    seen: dict[int, set[Any]] = defaultdict(set)
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    lock = threading.Lock()

    def wrap(name: str) -> None:
        original = getattr(cv2, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            key = (name, digest(args), digest(sorted(kwargs.items())))
            began = time.thread_time()
            result = original(*args, **kwargs)
            spent = time.thread_time() - began
            where = f"{name} {caller()}"
            thread = threading.get_ident()
            with lock:
                row = stats[where]
                row[0] += 1
                row[2] += spent
                if key in seen[thread]:
                    row[1] += 1
                    row[3] += spent
                seen[thread].add(key)
            return result

        setattr(cv2, name, call)

    for name in WRAPPED:
        wrap(name)
    from facedub.composite import compositor
    from facedub.swap import FrameSwapper

    composite, engine_face = compositor.Compositor.composite, FrameSwapper.engine_face

    def composite_fresh(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen[threading.get_ident()].clear()
        return composite(self, *args, **kwargs)

    def engine_fresh(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen[threading.get_ident()].clear()
        return engine_face(self, *args, **kwargs)

    compositor.Compositor.composite = composite_fresh  # type: ignore[method-assign]
    FrameSwapper.engine_face = engine_fresh  # type: ignore[method-assign]
    from facedub.cli import app

    with contextlib.suppress(SystemExit):
        app(sys.argv[split + 1:], standalone_mode=False)
    rows = sorted(stats.items(), key=lambda kv: -kv[1][3])
    out.write_text(json.dumps([[k, *v] for k, v in rows], indent=0))
    print(f"{'call and caller':90s} calls repeats  cpu_s  repeat_cpu_s")
    for where, (calls, repeats, cpu, repeat_cpu) in rows[:60]:
        print(f"{where[:90]:90s} {calls:5d} {repeats:5d} {cpu:6.3f} {repeat_cpu:6.3f}")


if __name__ == "__main__":
    main()
