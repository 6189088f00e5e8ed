"""End-to-end frames per second of `facedub swap` (decode, analyse, swap, composite,
mark, encode) and peak memory, on a 512 px clip and on the 720p two-person clip.

Each run starts with an empty work folder (the target's analysis included); a second run
on the same folder shows the speed of re-swapping with other settings. Prints a markdown
table and writes JSON.

    python benchmarks/swap_speed.py [--repeats 3] [--preset NAME] [--out results.json]
        [--target NAME]  (only these shared clips; default both)

Without --preset the swap runs with its own default x264 preset: the benchmark measures
what the command does. (Until 2026-12-04 it passed "medium": about 34 CPU ms a frame of
encoding at 512 px against the swap's default "veryfast"'s 13, BENCHMARKS.md.)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _measure import (
    SHARED_FACES,
    facedub_command,
    markdown_table,
    median_of,
    run_measured,
    write_json,
)
from facedub import media

SOURCE = "still_paul_rudd_frontal_studio.jpg"
TARGETS = ("clip_sadtalker_hdtf_katiehill_headturn.mp4", "clip_ghost_two_person_videocall.mp4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default=None,
                        help="x264 preset passed to swap (default: none passed, swap's own)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--target", action="append", choices=TARGETS,
                        help="measure only this clip (repeatable)")
    args = parser.parse_args()
    rows, results = [], []
    with tempfile.TemporaryDirectory(prefix="facedub-bench-") as temporary:
        folder = Path(temporary)
        for name in args.target or TARGETS:
            target = SHARED_FACES / name
            info = media.probe(target)
            first, again = [], []
            for attempt in range(args.repeats):
                work = folder / f"work_{attempt}_{target.stem}"
                command = swap_command(target, work, args.preset)
                outputs = folder / f"out_{attempt}_{target.stem}"  # fresh names: no --overwrite
                outputs.mkdir()
                first.append(run_measured([*command, "-o", str(outputs / "a.mp4")]))
                again.append(run_measured([*command, "-o", str(outputs / "b.mp4"),
                                           "--blend", "poisson"]))
            cold, warm = median_of(first), median_of(again)
            rows.append([name, f"{info.width}x{info.height}", info.frame_count,
                         f"{info.frame_count / cold.seconds:.1f}",
                         f"{info.frame_count / warm.seconds:.1f}",
                         f"{1000 * cold.cpu_seconds / info.frame_count:.0f}",
                         f"{cold.peak_mb:.0f}"])
            results.append({"target": name, "frames": info.frame_count,
                            "seconds_with_analysis": cold.seconds,
                            "seconds_reswap": warm.seconds, "peak_mb": cold.peak_mb,
                            "cpu_seconds_with_analysis": cold.cpu_seconds,
                            "preset": args.preset or "swap's default", "source": SOURCE})
    print(markdown_table(["target", "size", "frames", "frames/s (end to end)",
                          "frames/s (analysis cached, poisson)",
                          "CPU ms a frame (end to end)", "peak MB"], rows))
    if args.out:
        write_json(args.out, results)


def swap_command(target: Path, work: Path, preset: str | None) -> list[str]:
    """The measured `facedub swap` (its output path added by the caller); `preset` None:
    none passed, the command's own default."""
    return [*facedub_command(), "swap", "--source", str(SHARED_FACES / SOURCE),
            "--target", str(target), "--work-dir", str(work),
            *(["--preset", preset] if preset else [])]


if __name__ == "__main__":
    main()
