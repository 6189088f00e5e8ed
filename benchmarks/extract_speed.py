"""Frames per second and peak memory of `facedub extract`.

On a 512 px single-face clip and the 720p two-person clip, and on the single-face clip
repeated three times (peak memory must not grow with clip length). Prints a markdown table
and writes JSON.

    python benchmarks/extract_speed.py [--repeats 3] [--out results/extract_speed.json]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _measure import (
    SHARED_FACES,
    Measured,
    facedub_command,
    markdown_table,
    median_of,
    run_measured,
    write_json,
)
from facedub import media

CLIPS = ("clip_liveportrait_d3_woman_headturn.mp4", "clip_ghost_two_person_videocall.mp4")


def looped(clip: Path, times: int, folder: Path) -> Path:
    """The clip played `times` times in a row (audio left out), for the memory check."""
    info = media.probe(clip)
    out = folder / f"{clip.stem}_x{times}.mp4"
    period = info.frame_count / float(info.fps)
    with media.VideoWriter(out, info.width, info.height, info.fps, preset="veryfast") as writer:
        for round_ in range(times):
            for frame in media.iter_frames(clip):
                writer.write(frame.image, frame.time + round_ * period)
    return out


def measure(clip: Path, folder: Path, repeats: int) -> tuple[Measured, int]:
    frames = media.probe(clip).frame_count
    runs = []
    for attempt in range(repeats):
        out = folder / f"faces_{clip.stem}_{attempt}"
        runs.append(run_measured([*facedub_command(), "extract", str(clip), "-o", str(out)]))
    return median_of(runs), frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="facedub-bench-") as temporary:
        folder = Path(temporary)
        inputs = [SHARED_FACES / name for name in CLIPS]
        inputs.append(looped(inputs[0], 3, folder))
        rows, results = [], []
        for clip in inputs:
            measured, frames = measure(clip, folder, args.repeats)
            info = media.probe(clip)
            fps = frames / measured.seconds
            rows.append([clip.name, f"{info.width}x{info.height}", frames,
                         f"{measured.seconds:.1f}", f"{fps:.1f}", f"{measured.peak_mb:.0f}"])
            results.append({"clip": clip.name, "frames": frames, "seconds": measured.seconds,
                            "frames_per_second": fps, "peak_mb": measured.peak_mb})
    print(markdown_table(["clip", "size", "frames", "seconds (median)", "frames/s",
                          "peak MB"], rows))
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
