"""CPU time of the refiner's own step (`engines.refiner.refine_face`) and its pieces, on
the faces a real swap hands it: the mesh engine's faces of a target clip from a source
video, recorded once through the swap's own per-frame path, then refined over and over
on this thread alone (thread CPU time, so the load of a shared machine counts little).

    python tools/refine_face_time.py --source SOURCE --refiner REFINER.onnx \
        [--target CLIP] [--frames 60] [--repeats 5] [--check DIGESTS] [--work DIR]

Prints the median CPU ms a face of the mesh engine's own step (the target crop and the
engine's face, timed once each while recording, the same sitting), of `refine_face` and
of its pieces (the laid face, the refiner's input, onnxruntime, the correction's
enlargement, the kept parts, keep_detail, to_frame_sharpness, the rounding).
`--check DIGEST_FILE`: writes (or, when it exists, compares with) the refined faces'
SHA-1 digests, to show a faster refine_face is bit-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _measure import SHARED_FACES
from facedub import media
from facedub.engines import refiner as rf
from facedub.engines.registry import EngineRequest, open_engine
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper

TARGET = SHARED_FACES / "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def record_faces(source: Path, target: Path, refiner: Path, frames: int, work: Path
                 ) -> tuple[list[tuple[rf.SwappedFace, np.ndarray]], rf.RefinerBackend,
                            list[float]]:
    """The first `frames` faces the swap would refine: (the mesh engine's face, the target
    crop), the refiner's backend, and the thread CPU ms of each face's engine step (the
    target crop and the mesh engine's face: the mesh engine alone, in the same sitting)."""
    config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
    faceset = analyse_target(target, config, NoProgress())
    request = EngineRequest(work_dir=work / "work", source=source, refiner=refiner)
    faces, engine_ms = [], []
    with closing(open_engine("mesh", request)) as engine:
        swapper = frame_swapper(target, faceset, engine, config)
        for frame in media.iter_frames(target):
            if frame.index >= frames:
                break
            start = time.thread_time()
            face = swapper.engine_face(frame)
            spent = 1000 * (time.thread_time() - start)
            if face.target is not None and face.swapped is not None:
                faces.append((face.swapped, face.target.image))
                engine_ms.append(spent)
        backend = engine._refiner  # type: ignore[attr-defined]
    return faces, backend, engine_ms


class Timed:
    """Wraps module functions of engines.refiner to add their thread CPU time."""

    def __init__(self, names: list[str]) -> None:
        self.totals = dict.fromkeys(names, 0.0)
        self._originals = {name: getattr(rf, name) for name in names}

    def __enter__(self) -> Timed:
        for name, function in self._originals.items():
            setattr(rf, name, self._timed(name, function))
        return self

    def __exit__(self, *_: object) -> None:
        for name, function in self._originals.items():
            setattr(rf, name, function)

    def _timed(self, name: str, function):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.thread_time()
            result = function(*args, **kwargs)
            self.totals[name] += time.thread_time() - start
            return result
        return run


class TimedBackend:
    def __init__(self, backend: rf.RefinerBackend) -> None:
        self._backend, self.total = backend, 0.0

    @property
    def res(self) -> int:
        return self._backend.res

    def __call__(self, x: np.ndarray) -> np.ndarray:
        start = time.thread_time()
        result = self._backend(x)
        self.total += time.thread_time() - start
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, required=True)
    parser.add_argument("--target", type=Path, default=TARGET)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check", type=Path)
    parser.add_argument("--work", type=Path,
                        help="keep the analyses here for the next run (default: a temp folder)")
    args = parser.parse_args()
    if args.work:
        faces, backend, engine_ms = record_faces(args.source, args.target, args.refiner,
                                                 args.frames, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="facedub-refine-time-") as temporary:
            faces, backend, engine_ms = record_faces(args.source, args.target, args.refiner,
                                                     args.frames, Path(temporary))
    print(f"{len(faces)} faces, crop {faces[0][1].shape[0]} px, refiner {backend.res} px")
    # The first faces carry the engine's start (its source cache, the first track's
    # work): the median is the steady face's.
    print(f"mesh engine alone (crop + engine face, once each, this sitting): "
          f"{statistics.median(engine_ms):.2f} CPU ms a face (median of {len(engine_ms)})")
    pieces = ["laid_over_target", "_refiner_input", "keep_detail", "to_frame_sharpness"]
    # The band gain each face reads, per repeat: refine_face returns early on some faces,
    # so the first repeat's list alone is one gain per face read.
    gains: list[list[float]] = []
    band_gain = rf._band_gain

    def recorded_gain(*values):  # type: ignore[no-untyped-def]
        gain = band_gain(*values)
        gains[-1].append(gain)
        return gain

    whole: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name in [*pieces, "refiner"]}
    digests = []
    rf._band_gain = recorded_gain
    try:
        for repeat in range(args.repeats):
            gains.append([])
            timed_backend = TimedBackend(backend)
            with Timed(pieces) as timed:
                start = time.thread_time()
                for swapped, target_image in faces:
                    refined = rf.refine_face(timed_backend, swapped, target_image)
                    if repeat == 0:
                        digests.append(hashlib.sha1(refined.tobytes()).hexdigest())
                whole.append(1000 * (time.thread_time() - start) / len(faces))
            for name in pieces:
                parts[name].append(1000 * timed.totals[name] / len(faces))
            parts["refiner"].append(1000 * timed_backend.total / len(faces))
    finally:
        rf._band_gain = band_gain
    print(f"refine_face: {statistics.median(whole):.2f} CPU ms a face (median of "
          f"{args.repeats}: {', '.join(f'{v:.2f}' for v in whole)})")
    for name, values in parts.items():
        print(f"  {name}: {statistics.median(values):.2f}")
    read = gains[0] if gains else []
    print(f"  frame band: gain read on {len(read)} of {len(faces)} faces, 0 on "
          f"{sum(g == 0.0 for g in read)}, mean {statistics.mean(read) if read else 0:.3f}")
    rest = statistics.median(whole) - sum(statistics.median(v) for v in parts.values())
    print(f"  the rest (resizes, correction, kept parts, rounding): {rest:.2f}")
    if args.check:
        if args.check.exists():
            before = args.check.read_text().split()
            same = sum(a == b for a, b in zip(before, digests, strict=True))
            print(f"digests: {same} of {len(digests)} faces identical to {args.check}")
        else:
            args.check.write_text("\n".join(digests) + "\n")
            print(f"digests written to {args.check}")


if __name__ == "__main__":
    main()
