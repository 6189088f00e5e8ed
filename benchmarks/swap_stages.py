"""Where a swap's CPU time goes: the stages of `facedub swap` run one after the other on
one thread, each timed per frame (process CPU: a library's own worker threads count).

    python benchmarks/swap_stages.py [--target NAME] [--source PATH] [--frames N]
                                     [--out stages.json]

Stages: imports; the source's analysis (engine opening); the target's analysis (its own
landmark pass of MediaPipe, its identity descriptors, the explicit-content check, tracks);
then per frame: decode, landmark pass (MediaPipe on the decoded frame, for its per-frame
cost), alignment (warp to the crop), the mesh engine's `swap_face`, compositing,
paste-back, marking (label and watermark), H.264 encode; then signing. Prints a markdown
table (median and mean ms a frame) and writes JSON. A stage's CPU time is the process's,
so this must run with nothing else in the process; x264 encodes on threads of its own a few
frames behind, so its per-frame median says little: read its mean. `--source`: a shared
clip's name or any path (a video source's engine makes a frame's several faces on two
threads of its own: their CPU counts in `engine swap_face`); default Paul Rudd's photo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from _measure import SHARED_FACES, markdown_table, write_json

T = TypeVar("T")
SOURCE = "still_paul_rudd_frontal_studio.jpg"
TARGET = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
JOB_ID = 7  # a fixed watermark id: the same frames every run


class Clock:
    """Per-stage lists of (CPU ms, wall ms)."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.wall: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        yield
        self.cpu[name].append(1000 * (time.process_time() - cpu))
        self.wall[name].append(1000 * (time.perf_counter() - wall))

    def call(self, name: str, function: Callable[[], T]) -> T:
        with self.stage(name):
            return function()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default=TARGET)
    parser.add_argument("--source", default=SOURCE,
                        help="a shared clip's or photo's name, or a path")
    parser.add_argument("--frames", type=int, default=0, help="0: all")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    clock = Clock()
    with clock.stage("imports"):
        from facedub.swap import SwapConfig  # noqa: F401  (the whole swap's imports)
    with tempfile.TemporaryDirectory(prefix="facedub-stages-") as temporary:
        run(clock, SHARED_FACES / args.source, SHARED_FACES / args.target, Path(temporary),
            args.frames)
    rows, results = [], {}
    for name, values in clock.cpu.items():
        walls = clock.wall[name]
        rows.append([name, len(values), f"{statistics.median(values):.2f}",
                     f"{statistics.fmean(values):.2f}", f"{sum(values):.0f}",
                     f"{sum(walls):.0f}"])
        results[name] = {"calls": len(values), "cpu_ms": values, "wall_ms": walls}
    print(markdown_table(["stage", "calls", "CPU ms median", "CPU ms mean", "CPU ms total",
                          "wall ms total"], rows))
    if args.out:
        write_json(args.out, results)


def run(clock: Clock, source: Path, target: Path, folder: Path, frames: int) -> None:
    import cv2

    from facedub import media
    from facedub.composite.compositor import CompositeConfig
    from facedub.engines.mesh import MeshEngineConfig
    from facedub.engines.registry import EngineRequest, open_engine
    from facedub.extract.config import ExtractConfig
    from facedub.faces.geometry import paste_back
    from facedub.faces.landmarks import FaceAnalyser
    from facedub.progress import NoProgress
    from facedub.provenance.mark import OutputMarks, job_facts, sign_output
    from facedub.swap import SwapConfig, analyse_target, frame_swapper
    from facedub.threads import reuse_freed_memory

    reuse_freed_memory()
    cv2.setNumThreads(1)  # as inside swap(): the stages' own calls on one thread
    # Older commits (measured against, before the fixed job id) have no `job_id` field.
    fixed = {"job_id": JOB_ID} if "job_id" in SwapConfig.__dataclass_fields__ else {}
    config = SwapConfig(work_dir=folder / "work", config_dir=folder / "config",
                        composite=CompositeConfig(), preset="veryfast", **fixed)
    request = EngineRequest(config.work_dir, source, None, "cpu",
                            MeshEngineConfig(), NoProgress(), None)
    engine = clock.call("source analysis + engine", lambda: open_engine("mesh", request))
    faceset = clock.call("target analysis (whole)",
                         lambda: analyse_target(target, config, NoProgress()))
    swapper = clock.call("swapper (glasses votes)",
                         lambda: frame_swapper(target, faceset, engine, config))
    timed_engine = engine.swap_face
    engine.swap_face = lambda face: clock.call("engine swap_face", lambda: timed_engine(face))
    marks = OutputMarks(JOB_ID)
    info = media.probe(target)
    analyser = FaceAnalyser(model_path=ExtractConfig().landmarker)
    decoded = media.iter_frames(target)
    with media.VideoWriter(folder / "out.mp4", info.width, info.height, info.fps,
                           crf=config.crf, preset=config.preset) as writer:
        count = 0
        while frames <= 0 or count < frames:
            frame = clock.call("decode", lambda: next(decoded, None))
            if frame is None:
                break
            clock.call("landmarks (MediaPipe)",
                       lambda frame=frame: analyser.analyse(frame.image, frame.time))
            with clock.stage("align + engine"):
                face = swapper.engine_face(frame)
            image = frame.image
            if face.target is not None and face.swapped is not None:
                composited = clock.call("composite", lambda face=face: swapper.compositor
                                        .composite(face.target, face.swapped))
                image = clock.call("paste back", lambda face=face, c=composited: paste_back(
                    face.frame.image, c.image, c.alpha, face.target.face_from_frame))
            image = clock.call("mark", lambda image=image: marks.mark(image))
            clock.call("encode", lambda image=image, t=frame.time: writer.write(image, t))
            count += 1
        analyser.close()
        with clock.stage("encode (flush)"):
            writer.close()
    engine.close()  # a video source's face threads let go
    facts = job_facts("mesh", {}, (("target", target),), JOB_ID, marks.payload)
    clock.call("sign", lambda: sign_output(writer.path, facts, config.config_dir))


if __name__ == "__main__":
    sys.exit(main())
