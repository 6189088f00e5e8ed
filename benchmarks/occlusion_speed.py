"""Cost of the occlusion mask per frame: OccluderNet (onnxruntime, one thread) with the
warps to and from its canonical crop, the colour completion, the glasses frames and the
temporal easing, plus the lens reflections,
on 512 px "whole" crops of real frames (d12: glasses, a hand at the chin; `--clip` for
another), with the crop's pixels inside the frame (`in_frame`) and OpenCV on one thread,
as the swap runs it (`--opencv-threads 0`: OpenCV's own pool, as the rounds before the
twenty-eighth measured). The mask row has the track marked as wearing glasses (as the
swap judges d12 over the whole track), so the fitted rims are drawn in every frame; a
second mask row has it judged bare (as the swap judges most tracks), where the glasses'
frames are not looked for; the compositor rows judge frame by frame.

The rest of the compositor (mask, colour, blend) is timed beside it in the same run, so
the ratio holds on a busy machine; besides wall time, the CPU time of the process is
reported (nothing else runs in it), which a busy machine inflates far less.
Prints a markdown table and writes JSON.

    python benchmarks/occlusion_speed.py [--frames 60] [--clip NAME] [--opencv-threads 1]
                                         [--out results.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from _measure import SHARED_FACES, markdown_table, write_json
from facedub import media
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.occlusion import OccluderModel, OcclusionMasks
from facedub.composite.occlusion_cues import lens_highlights
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.align import align_face
from facedub.faces.geometry import crop_in_frame
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.threads import opencv_threads
from facedub.types import HeadPose

CLIP = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
SIZE = 512


def aligned_targets(clip: str, frames: int) -> list[TargetFace]:
    targets = []
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(SHARED_FACES / clip):
            if len(targets) == frames:
                break
            faces = analyser.analyse(frame.image, frame.time)
            if not faces:
                continue
            aligned = align_face(frame.image, faces[0].landmarks, SIZE, "whole")
            # Where the frame's edge cuts the face the swap passes the crop's pixels
            # inside it (the mask then fills the fine crop beyond it: a cost of its own).
            height, width = frame.image.shape[:2]
            targets.append(TargetFace(aligned.image, aligned.face_landmarks,
                                      aligned.face_from_frame, HeadPose(0.0, 0.0, 0.0),
                                      np.zeros(52, np.float32), frame.time, 0,
                                      crop_in_frame(aligned.face_from_frame, SIZE,
                                                    (width, height))))
    return targets


def median_ms(samples: list[float]) -> float:
    return round(1000.0 * statistics.median(samples), 2)


def mean_ms(samples: list[float]) -> float:
    return round(1000.0 * statistics.fmean(samples), 2)


def timed(function: Callable[[], object], wall: list[float], cpu: list[float]) -> None:
    started, started_cpu = time.perf_counter(), time.process_time()
    function()
    wall.append(time.perf_counter() - started)
    cpu.append(time.process_time() - started_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--clip", default=CLIP, help="a clip in the shared faces folder")
    parser.add_argument("--opencv-threads", type=int, default=1,
                        help="OpenCV's threads while timed (1: as the swap; 0: its own pool)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    targets = aligned_targets(args.clip, args.frames)
    threads = args.opencv_threads if args.opencv_threads > 0 else cv2.getNumThreads()
    with opencv_threads(threads):
        results = timed_steps(targets)
    results = {"clip": args.clip, "crop_px": SIZE, "frames": len(targets),
               "opencv_threads": threads, **results}
    print(markdown_table(
        ["step (512 px crop, median)", "wall ms", "CPU ms (process)", "CPU ms, mean"],
        [["occlusion mask (net, cues, rims, warps, easing)", results["mask_wall_ms"],
          results["mask_cpu_ms"], results["mask_cpu_mean_ms"]],
         ["occlusion mask, a track judged bare", results["mask_bare_wall_ms"],
          results["mask_bare_cpu_ms"], results["mask_bare_cpu_mean_ms"]],
         ["lens reflections", results["lens_wall_ms"], results["lens_cpu_ms"],
          results["lens_cpu_mean_ms"]],
         ["composite, --occlusion off", results["composite_off_wall_ms"],
          results["composite_off_cpu_ms"], results["composite_off_cpu_mean_ms"]],
         ["composite, --occlusion auto", results["composite_auto_wall_ms"],
          results["composite_auto_cpu_ms"], results["composite_auto_cpu_mean_ms"]]]))
    edges = sum(target.in_frame is not None and not target.in_frame.all()
                for target in targets)
    print(f"{args.clip}, {len(targets)} frames ({edges} cut by the frame's edge); "
          f"OpenCV threads {threads}; model load {results['model_load_s']:.2f} s")
    if args.out:
        write_json(args.out, results)


def timed_steps(targets: list[TargetFace]) -> dict[str, float]:
    """Every step's median wall and CPU ms over `targets` (and the CPU's mean), and the
    model's load in seconds."""
    started = time.perf_counter()
    masks = OcclusionMasks(OccluderModel())
    load_seconds = time.perf_counter() - started
    # As the swap's look over the whole track finds for d12: glasses, so their rims are
    # fitted and drawn in every frame (the costliest case).
    masks.worn[0] = 1.0
    bare = OcclusionMasks(masks.model, worn={0: 0.0})
    names = ("mask", "mask_bare", "lens", "composite_off", "composite_auto")
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    plain = Compositor(CompositeConfig(occlusion="off"))
    full = Compositor(CompositeConfig(occlusion="auto"))
    for target in targets:
        swapped = SwappedFace(target.image[:, ::-1].copy(), np.ones((SIZE, SIZE), np.float32))
        timed(lambda t=target: masks(t.track, t.time, t.image, t.face_landmarks, t.in_frame),
              wall["mask"], cpu["mask"])
        timed(lambda t=target: bare(t.track, t.time, t.image, t.face_landmarks, t.in_frame),
              wall["mask_bare"], cpu["mask_bare"])
        timed(lambda t=target: lens_highlights(t.image, t.face_landmarks),
              wall["lens"], cpu["lens"])
        timed(lambda t=target, s=swapped: plain.composite(t, s), wall["composite_off"],
              cpu["composite_off"])
        timed(lambda t=target, s=swapped: full.composite(t, s), wall["composite_auto"],
              cpu["composite_auto"])
    results: dict[str, float] = {"model_load_s": round(load_seconds, 2)}
    for name in names:
        results[f"{name}_wall_ms"] = median_ms(wall[name])
        results[f"{name}_cpu_ms"] = median_ms(cpu[name])
        results[f"{name}_cpu_mean_ms"] = mean_ms(cpu[name])
    return results

if __name__ == "__main__":
    main()
