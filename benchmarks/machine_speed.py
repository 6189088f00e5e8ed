"""Is it the machine or the code? Fixed probes whose code facedub does not change: the
libraries' own calls on one shared frame, and plain NumPy, OpenCV and Python work.

    python benchmarks/machine_speed.py [--repeats 15] [--out probes.json]

Each probe reports the median CPU ms (this process: a library's own threads count) of
`--repeats` calls after one warm-up call. Compare a run with the references below (and
with BENCHMARKS.md, "Swap speed", nineteenth round): a swap that got slower while these
did not is the code's doing; one that got slower with these is the machine's (or the
library versions'; the script prints them). Run it alone: the probes are CPU time, which
a loaded machine inflates less than wall time, but not by nothing.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _measure import SHARED_FACES, markdown_table, write_json

CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
FRAME_INDEX = 40
PACKAGES = ("numpy", "opencv-contrib-python", "mediapipe", "onnxruntime", "dlib-bin", "av",
            "pillow", "torch")
# Measured on this project's machine before 2026-12-02 18:51 UTC (BENCHMARKS.md, "Swap
# speed", the rounds named): CPU ms, for comparison only.
REFERENCES = {
    "dlib descriptor (one face)": "67-110 (second and fourth speed rounds, 1-2 December)",
    "MediaPipe landmarker (video mode, one frame)": "9.5 (third speed round, in the analysis)",
    "NudeNet (one frame, one thread)": "13.8 (0.22 s for 16 frames, 2026-12-01)",
    "decode the clip (per frame)": "2.3-2.5 (third and fourth speed rounds)",
    "import onnx (NumPy imported already)": "55 (2026-12-01, second speed round)",
}


def cpu_ms(call: Callable[[], object], repeats: int) -> float:
    """Median CPU ms of `call` after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        started = time.process_time()
        call()
        times.append(1000 * (time.process_time() - started))
    return statistics.median(times)


def import_cpu_ms(module: str, repeats: int) -> float:
    """Median CPU ms of importing `module` in a fresh interpreter that has imported NumPy
    already (the interpreter's start and NumPy's import not counted)."""
    def child() -> float:
        code = (f"import time, numpy; t = time.process_time(); import {module}; "
                "print(time.process_time() - t)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        return 1000 * float(out.strip().splitlines()[-1])
    return statistics.median(child() for _ in range(repeats))


def probes(repeats: int) -> dict[str, float]:
    import cv2
    import numpy as np

    from facedub import media
    from facedub.extract.config import ExtractConfig
    from facedub.extract.safety import NudeNetDetector
    from facedub.faces.identity import IdentityEncoder
    from facedub.faces.landmarks import FaceAnalyser

    cv2.setNumThreads(1)
    frame = next(media.iter_frames(SHARED_FACES / CLIP, indices={FRAME_INDEX}))
    image = frame.image
    results: dict[str, float] = {}
    with FaceAnalyser(model_path=ExtractConfig().landmarker) as analyser:
        clock = iter(range(1, 10**6))  # the video mode wants rising times
        results["MediaPipe landmarker (video mode, one frame)"] = cpu_ms(
            lambda: analyser.analyse(image, next(clock) / 25.0), repeats)
        landmarks = analyser.analyse(image, next(clock) / 25.0)[0].landmarks
    encoder = IdentityEncoder()
    results["dlib descriptor (one face)"] = cpu_ms(
        lambda: encoder.describe(image, landmarks), repeats)
    detector = NudeNetDetector()
    results["NudeNet (one frame, one thread)"] = cpu_ms(lambda: detector.scores(image),
                                                        repeats)
    results["decode the clip (per frame)"] = cpu_ms(
        lambda: sum(1 for _ in media.iter_frames(SHARED_FACES / CLIP)), 3) / 200
    rng = np.random.default_rng(0)
    crop = rng.random((440, 440, 3), dtype=np.float32)
    other = rng.random((440, 440, 3), dtype=np.float32)
    out = np.empty_like(crop)
    results["NumPy multiply-add, 440 px float32, in place"] = cpu_ms(
        lambda: np.add(np.multiply(crop, other, out=out), crop, out=out), repeats * 20)
    results["NumPy a * b + a - b * 0.5, 440 px float32"] = cpu_ms(
        lambda: crop * other + crop - other * 0.5, repeats * 20)
    results["OpenCV GaussianBlur sigma 5, 440 px float32"] = cpu_ms(
        lambda: cv2.GaussianBlur(crop, (0, 0), 5.0), repeats * 4)
    results["Python sum(range(10**6))"] = cpu_ms(lambda: sum(range(10**6)), repeats)
    results["import onnx (NumPy imported already)"] = import_cpu_ms("onnx", 5)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    versions = {name: importlib.metadata.version(name) for name in PACKAGES
                if _installed(name)}
    results = probes(args.repeats)
    print(" ".join(f"{name}=={version}" for name, version in versions.items()))
    print(markdown_table(["probe", "CPU ms (median)", "reference"],
                         [[name, f"{value:.2f}", REFERENCES.get(name, "")]
                          for name, value in results.items()]))
    if args.out:
        write_json(args.out, {"versions": versions, "cpu_ms": results})


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    main()
