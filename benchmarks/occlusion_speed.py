"""Cost of the occlusion mask per frame: OccluderNet (onnxruntime, one thread) with the
warps to and from its canonical crop and the temporal easing, plus the lens reflections,
on 512 px "whole" crops of real frames (d12: glasses, a hand at the chin).

The rest of the compositor (mask, colour, blend) is timed beside it in the same run, so
the ratio holds on a busy machine. Prints a markdown table and writes JSON.

    python benchmarks/occlusion_speed.py [--frames 60] [--out results.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from _measure import SHARED_FACES, markdown_table, write_json
from facedub import media
from facedub.align import align_face
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, lens_highlights
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.landmarks import FaceAnalyser
from facedub.types import HeadPose

CLIP = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
SIZE = 512


def aligned_targets(frames: int) -> list[TargetFace]:
    targets = []
    with FaceAnalyser(max_faces=1) as analyser:
        for frame in media.iter_frames(SHARED_FACES / CLIP):
            if len(targets) == frames:
                break
            faces = analyser.analyse(frame.image, frame.time)
            if not faces:
                continue
            aligned = align_face(frame.image, faces[0].landmarks, SIZE, "whole")
            targets.append(TargetFace(aligned.image, aligned.face_landmarks,
                                      aligned.face_from_frame, HeadPose(0.0, 0.0, 0.0),
                                      np.zeros(52, np.float32), frame.time, 0))
    return targets


def median_ms(samples: list[float]) -> float:
    return round(1000.0 * statistics.median(samples), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    targets = aligned_targets(args.frames)
    started = time.perf_counter()
    masks = OcclusionMasks(OccluderModel())
    load_seconds = time.perf_counter() - started
    mask_times, lens_times, rest_times, with_times = [], [], [], []
    plain = Compositor(CompositeConfig(occlusion="off"))
    full = Compositor(CompositeConfig(occlusion="auto"))
    for target in targets:
        swapped = SwappedFace(target.image[:, ::-1].copy(), np.ones((SIZE, SIZE), np.float32))
        started = time.perf_counter()
        occluded = masks(target.track, target.time, target.image, target.face_landmarks)
        mask_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        lens_highlights(target.image, target.face_landmarks, occluded)
        lens_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain.composite(target, swapped)
        rest_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        full.composite(target, swapped)
        with_times.append(time.perf_counter() - started)
    results = {
        "clip": CLIP, "crop_px": SIZE, "frames": len(targets),
        "model_load_s": round(load_seconds, 2),
        "mask_ms": median_ms(mask_times), "lens_ms": median_ms(lens_times),
        "composite_off_ms": median_ms(rest_times), "composite_auto_ms": median_ms(with_times),
    }
    print(markdown_table(
        ["clip", "crop", "frames", "mask (net, warps, easing) ms", "lens reflections ms",
         "composite, occlusion off ms", "composite, occlusion auto ms", "model load s"],
        [[CLIP, SIZE, len(targets), results["mask_ms"], results["lens_ms"],
          results["composite_off_ms"], results["composite_auto_ms"],
          results["model_load_s"]]]))
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    main()
