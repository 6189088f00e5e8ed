"""Live swapping on the server side: 640x480 frames from memory through `LiveSwapper`
(landmarks in video mode, mesh engine, compositing, paste-back, watermark and label),
one after another as the live socket runs them. Optionally with the JPEG decode and
encode the socket adds per frame. Prints a markdown table and writes JSON.

    python benchmarks/live_speed.py [--frames 150] [--repeats 3] [--jpeg] [--in-flight 2]
        [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import cv2
import numpy as np

from _measure import SHARED_FACES, markdown_table, write_json
from facedub import media
from facedub.engines.registry import EngineRequest, open_engine
from facedub.faces.landmarks import resolve_landmarker_model
from facedub.serve.live import LiveConfig, LiveFrame, LiveSwapper

SOURCE = "still_paul_rudd_frontal_studio.jpg"
CAMERAS = ("clip_liveportrait_d9_man_glasses_webcam.mp4",
           "clip_sadtalker_hdtf_katiehill_headturn.mp4")
SIZE = (640, 480)


def camera_frames(name: str, count: int) -> list[np.ndarray]:
    """The clip's first frames at 640x480 (cropped to 4:3, then scaled), in memory."""
    frames = []
    for frame in media.iter_frames(SHARED_FACES / name):
        height, width = frame.image.shape[:2]
        crop_width = min(width, height * 4 // 3)
        left = (width - crop_width) // 2
        crop = frame.image[:, left:left + crop_width]
        frames.append(cv2.resize(crop, SIZE, interpolation=cv2.INTER_AREA))
        if len(frames) == count:
            break
    return frames


def run(engine_source: Path, frames: list[np.ndarray], jpeg: bool, work: Path,
        in_flight: int) -> dict[str, float]:
    """`in_flight` 1: one frame at a time (`LiveSwapper.swap`); more: that many frames
    submitted to the two-stage pipeline at once, as the live socket does."""
    engine = open_engine("mesh", EngineRequest(work, engine_source))
    encoded = [cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 80])[1] for f in frames]
    latencies, swapped = [], 0
    with LiveSwapper(engine, LiveConfig(resolve_landmarker_model())) as live:
        live.swap(frames[0], 0.0)  # warm-up, not counted
        started = time.perf_counter()
        pending: deque[tuple[float, Future[LiveFrame]]] = deque()

        def collect() -> None:
            nonlocal swapped
            begin, future = pending.popleft()
            done = future.result()
            if jpeg:
                cv2.imencode(".jpg", cv2.cvtColor(done.image, cv2.COLOR_RGB2BGR),
                             [cv2.IMWRITE_JPEG_QUALITY, 80])
            latencies.append(time.perf_counter() - begin)
            swapped += done.swapped

        for index, frame in enumerate(frames):
            begin = time.perf_counter()
            if jpeg:
                frame = cv2.cvtColor(cv2.imdecode(encoded[index], cv2.IMREAD_COLOR),
                                     cv2.COLOR_BGR2RGB)
            pending.append((begin, live.submit(frame, (index + 1) / 25.0)))
            if len(pending) >= in_flight:
                collect()
        while pending:
            collect()
        total = time.perf_counter() - started
    ms = sorted(1000 * x for x in latencies)
    return {"fps": len(frames) / total, "p50_ms": statistics.median(ms),
            "p90_ms": ms[int(0.9 * (len(ms) - 1))], "swapped": swapped / len(frames)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jpeg", action="store_true", help="add the socket's JPEG in/out")
    parser.add_argument("--in-flight", type=int, default=2,
                        help="frames in the pipeline at once (1: one after another)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows, results = [], []
    with tempfile.TemporaryDirectory(prefix="facedub-live-") as temporary:
        for name in CAMERAS:
            frames = camera_frames(name, args.frames)
            runs = [run(SHARED_FACES / SOURCE, frames, args.jpeg, Path(temporary),
                        args.in_flight)
                    for _ in range(args.repeats)]
            best = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            results.append({"camera": name, "frames": len(frames), "jpeg": args.jpeg,
                            "in_flight": args.in_flight, **best})
            rows.append([name, len(frames), f"{best['fps']:.1f}", f"{best['p50_ms']:.1f}",
                         f"{best['p90_ms']:.1f}", f"{best['swapped']:.0%}"])
    print(markdown_table(["camera clip (640x480)", "frames", "frames/s", "p50 ms", "p90 ms",
                          "frames with a face swapped"], rows))
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
