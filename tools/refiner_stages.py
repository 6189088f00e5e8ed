"""Where a refiner's gain on a self-swap's faces goes between its output and the
composited face (issue 13, BENCHMARKS.md, Refiner, twenty-fourth round).

    python tools/refiner_stages.py --source SOURCE --target SELF_TARGET \
        --refiner REFINER [--refiner ...] [--max-frames 40] [--work DIR]

Each target face through the swap's own per-frame path (no watermark, no encode); the
refiner's step (`refiner.refine_face`) taken apart, and each stage read with the
evaluation's face SSIM (`realism.fidelity`: luma, the target's face region) against the
target crop, minus the mesh engine's face at the same stage, frame by frame:

- `output`: the refiner's face at its resolution (the laid face reduced, refined), read at
  that resolution against the mesh engine's laid face reduced the same way;
- `enlarged`: its correction enlarged to the crop and added to the laid face (the eyes and
  mouth the target keeps left alone), read at the crop and reduced to 128 px;
- `keep_detail`, `frame sharpness`: after each of refine_face's two detail steps (the
  second is refine_face's result, the face the swap composites);
- `composited`: through the compositor, the swap's face and (`composited, enlarged`) the
  `enlarged` face without the two detail steps; the mesh engine's composited face is the
  reference of both.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
from collections import defaultdict
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from refiner_oracles import composited

from facedub import media
from facedub.composite.compositor import Compositor
from facedub.engines import refiner as rf
from facedub.engines.base import SwappedFace
from facedub.engines.registry import EngineRequest, open_engine
from facedub.evaluate import realism
from facedub.faces.masks import mask_bounds, three_channels
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper

SMALL = 128


def stage_faces(backend: rf.RefinerBackend, swapped: SwappedFace, truth: np.ndarray
                ) -> dict[str, np.ndarray]:
    """refine_face's steps, each kept (float32 RGB, 0..255): `output` at the refiner's
    resolution, the rest at the crop's. Mirrors `refiner.refine_face`, whose result is the
    last."""
    size, res = truth.shape[0], backend.res
    laid = rf.laid_over_target(swapped.image, truth, swapped.mask)
    small = cv2.resize(laid, (res, res), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(swapped.mask, (res, res), interpolation=cv2.INTER_AREA)
    output = backend(rf._refiner_input(small, small_mask))[0].transpose(1, 2, 0) * 255.0
    correction = cv2.resize(output - small, (size, size), interpolation=cv2.INTER_LINEAR)
    kept_box = None
    if swapped.kept is not None:
        kept_box = mask_bounds(swapped.kept)
        if kept_box is not None:
            correction[kept_box] *= three_channels(1.0 - swapped.kept[kept_box])
    enlarged = laid + correction
    detailed = rf.keep_detail(enlarged.copy(), laid, swapped.mask,
                              rf.FINE_SIGMA * size / res, swapped.kept, kept_box)
    sharpened = rf.to_frame_sharpness(detailed.copy(), truth,
                                      rf._gate(swapped.mask, swapped.kept, kept_box))
    return {"output": output, "enlarged": enlarged, "keep_detail": detailed,
            "frame sharpness": sharpened}


def as_image(face: np.ndarray) -> np.ndarray:
    return np.clip(face + 0.5, 0, 255).astype(np.uint8)


def reduced(image: np.ndarray, side: int = SMALL) -> np.ndarray:
    if image.shape[0] == side:
        return image
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def ssim(image: np.ndarray, truth: np.ndarray, region: np.ndarray) -> float:
    """Face SSIM; at the image's side (the truth and region reduced to it if smaller)."""
    side = image.shape[0]
    if side != truth.shape[0]:
        truth = reduced(truth, side)
        region = reduced(region.astype(np.float32), side) > 0.5
    return realism.fidelity(truth, image, region).ssim


def measure(args: argparse.Namespace, work: Path) -> dict[str, list[float]]:
    """Per "refiner: stage" key, the gain over the mesh engine's face, one value a face."""
    config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
    faceset = analyse_target(args.target, config, NoProgress())
    request = EngineRequest(work_dir=work / "work", source=args.source,
                            refiner=args.refiner[0])
    gains: dict[str, list[float]] = defaultdict(list)
    with closing(open_engine("mesh", request)) as engine:
        backends = {path.name: rf.open_refiner(path).backend for path in args.refiner}
        swapper = frame_swapper(args.target, faceset, engine, config)
        chosen = tuple(swapper.by_frame.values())
        names = ["mesh", *(f"{name}{tail}" for name in backends
                           for tail in ("", " enlarged"))]
        compositors = {name: Compositor(config.composite) for name in names}
        for compositor in compositors.values():
            compositor.learn_glasses(args.target, faceset, chosen)
        for frame in media.iter_frames(args.target):
            if frame.index >= args.max_frames:
                break
            face = swapper.engine_face(frame)
            if face.target is None or face.swapped is None:
                continue
            truth, swapped = face.target.image, face.swapped
            size = truth.shape[0]
            region = realism.realism_regions(face.target.face_landmarks, size,
                                             np.ones((size, size), dtype=bool)).face
            laid = rf.laid_over_target(swapped.image, truth, swapped.mask)
            mesh_small = as_image(cv2.resize(laid, (SMALL, SMALL),
                                             interpolation=cv2.INTER_AREA))
            mesh_shown, _ = composited(compositors["mesh"], face.target, swapped)
            mesh = {"laid": ssim(as_image(laid), truth, region),
                    "laid 128": ssim(mesh_small, truth, region),
                    "composited": ssim(mesh_shown, truth, region),
                    "composited 128": ssim(reduced(mesh_shown), truth, region)}
            for name, backend in backends.items():
                stages = stage_faces(backend, swapped, truth)
                gains[f"{name}: output at {backend.res}"].append(
                    ssim(as_image(stages["output"]), truth, region) - mesh["laid 128"])
                for stage in ("enlarged", "keep_detail", "frame sharpness"):
                    image = as_image(stages[stage])
                    gains[f"{name}: {stage}"].append(ssim(image, truth, region)
                                                     - mesh["laid"])
                    gains[f"{name}: {stage}, 128 px"].append(
                        ssim(reduced(image), truth, region) - mesh["laid 128"])
                for label, stage in (("composited", "frame sharpness"),
                                     ("composited, enlarged", "enlarged")):
                    compositor = compositors[name + ("" if stage != "enlarged"
                                                     else " enlarged")]
                    shown, _ = composited(compositor, face.target,
                                          replace(swapped, image=as_image(stages[stage])))
                    gains[f"{name}: {label}"].append(ssim(shown, truth, region)
                                                     - mesh["composited"])
                    gains[f"{name}: {label}, 128 px"].append(
                        ssim(reduced(shown), truth, region) - mesh["composited 128"])
            for key, value in mesh.items():
                gains[f"mesh: {key}"].append(value)
            print(f"frame {frame.index}", flush=True)
    return gains


def report(gains: dict[str, list[float]]) -> None:
    print("| stage | mean (standard error, faces better) |")
    print("|---|---|")
    for key, values in gains.items():
        if key.startswith("mesh: "):
            print(f"| {key} (SSIM) | {statistics.mean(values):.4f} |")
            continue
        mean = statistics.mean(values)
        error = statistics.stdev(values) / math.sqrt(len(values))
        better = sum(v > 0 for v in values)
        print(f"| {key} | {mean:+.4f} ({error:.4f}, {better} of {len(values)}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, action="append", required=True)
    parser.add_argument("--max-frames", type=int, default=40)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.work:
        report(measure(args, args.work))
        return
    with tempfile.TemporaryDirectory(prefix="facedub-refiner-stages-") as temporary:
        report(measure(args, Path(temporary)))


if __name__ == "__main__":
    main()
