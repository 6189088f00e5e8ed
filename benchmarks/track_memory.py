"""Memory of a swap over many tracks: a film has a track per shot (tracks never cross a
scene cut), and the engine and compositor keep state per track.

The d18 clip is swapped (mesh engine, Paul Rudd's photo, every stage in this process)
`--passes` times with every frame renumbered as a track of its own, so each pass adds
216 one-frame tracks. Printed: the process's peak resident memory after each pass, and
its growth since frame 20 of the first pass, with tracks ended after their last face
(as `facedub swap` does) and, with `--keep-tracks`, never ended (as before).

    python benchmarks/track_memory.py [--passes 3] [--keep-tracks]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _measure import SHARED_FACES
from facedub import media
from facedub.engines.registry import EngineRequest, open_engine
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper, last_frame_of_tracks

TARGET = "clip_liveportrait_d18_man_frontal_mouth.mp4"
SOURCE = "still_paul_rudd_frontal_studio.jpg"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--keep-tracks", action="store_true",
                        help="never end a track (the swap before tracks were ended)")
    args = parser.parse_args()
    target = SHARED_FACES / TARGET
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        work = Path(folder)
        config = SwapConfig(work_dir=work, config_dir=work / "config")
        engine = open_engine("mesh", EngineRequest(work_dir=work, source=SHARED_FACES / SOURCE))
        stack.callback(engine.close)  # --keep-tracks ends no track
        swapper = frame_swapper(target, analyse_target(target, config, NoProgress()), engine,
                                config)
        records = dict(swapper.by_frame)
        frames = list(media.iter_frames(target))
        start = 0.0
        for number in range(args.passes):
            # Every frame a track of its own, numbered apart from the earlier passes'.
            swapper.by_frame = {index: dataclasses.replace(record, track=index + number * 10_000)
                                for index, record in records.items()}
            swapper.last_frames = ({} if args.keep_tracks
                                   else last_frame_of_tracks(swapper.by_frame))
            for frame in frames:
                swapper.finish(swapper.engine_face(frame))
                if number == 0 and frame.index == 20:
                    start = peak_mb()
            tracks = (number + 1) * len(records)
            print(f"pass {number + 1}: {tracks} tracks, peak {peak_mb():.0f} MB, "
                  f"grown {peak_mb() - start:.1f} MB since frame 20")


if __name__ == "__main__":
    main()
