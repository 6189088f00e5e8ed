"""Where the refined face's colour flatness comes from: a self-swap's faces composited
without the output path (no watermark, no H.264: the encode's noise is larger than the
effect), with the mesh engine's face, the refined face, and oracles that mix them.

    python tools/refiner_colour.py --source SOURCE --target SELF_TARGET --refiner REFINER
        [--max-frames 40] [--work DIR] [--variant NAME ...]

Per variant, means over the frames of: `colour_flatness`, `tone_vs_neck` and face SSIM
(evaluate/realism.py) of the composited crop (the compositor's crop, the target's own
landmarks' regions, the target crop as the reference), their differences from the mesh
engine's frame by frame (mean, standard error), and the chroma spread
(`realism._colour_spread` on the skin) of the engine's face laid over the target (the
compositor's input) and of the composited face.

Variants (`VARIANTS`): `mesh` (the engine's face), `refined` (refine_face, the swap's),
`mesh-chroma` (the refined face's CIE L with the mesh face's a and b), `mesh-light` (the
refined a and b with the mesh face's L), `grey` (the refiner's correction made grey at
its size: its luma added to R, G and B alike).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.composite.compositor import Compositor
from facedub.engines import refiner as rf
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.registry import EngineRequest, open_engine
from facedub.evaluate import realism
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
Variant = Callable[[rf.RefinerBackend, SwappedFace, TargetFace], np.ndarray]


class GreyCorrection:
    """A refiner backend whose correction keeps only its luma, on all three channels."""

    def __init__(self, backend: rf.RefinerBackend) -> None:
        self._backend = backend

    @property
    def res(self) -> int:
        return self._backend.res

    def __call__(self, x: np.ndarray) -> np.ndarray:
        correction = self._backend(x) - x[:, :3]
        grey = np.einsum("nchw,c->nhw", correction, LUMA)[:, None]
        return np.clip(x[:, :3] + grey, 0.0, 1.0).astype(np.float32)


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _laid(swapped: SwappedFace, target: TargetFace) -> np.ndarray:
    laid = rf.laid_over_target(swapped.image, target.image, swapped.mask)
    return np.clip(laid + 0.5, 0, 255).astype(np.uint8)


def _mixed(backend: rf.RefinerBackend, swapped: SwappedFace, target: TargetFace,
           chroma_from_mesh: bool) -> np.ndarray:
    refined, mesh = _lab(rf.refine_face(backend, swapped, target.image)), _lab(
        _laid(swapped, target))
    if chroma_from_mesh:
        refined[..., 1:] = mesh[..., 1:]
    else:
        refined[..., 0] = mesh[..., 0]
    return _rgb(refined)


VARIANTS: dict[str, Variant] = {
    "mesh": lambda backend, swapped, target: swapped.image,
    "refined": lambda backend, swapped, target: rf.refine_face(backend, swapped, target.image),
    "mesh-chroma": lambda backend, swapped, target: _mixed(backend, swapped, target, True),
    "mesh-light": lambda backend, swapped, target: _mixed(backend, swapped, target, False),
    "grey": lambda backend, swapped, target: rf.refine_face(GreyCorrection(backend), swapped,
                                                          target.image),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, required=True)
    parser.add_argument("--max-frames", type=int, default=40)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    args = parser.parse_args()
    names = args.variant or list(VARIANTS)
    if "mesh" not in names:
        names = ["mesh", *names]
    if args.work:
        measure(args, names, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="facedub-refiner-colour-") as temporary:
            measure(args, names, Path(temporary))


def measure(args: argparse.Namespace, names: list[str], work: Path) -> None:
    config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
    faceset = analyse_target(args.target, config, NoProgress())
    request = EngineRequest(work_dir=work / "work", source=args.source, refiner=args.refiner)
    readings: dict[str, dict[str, list[float]]] = {
        name: {"flatness": [], "tone": [], "ssim": [], "laid spread": [], "spread": []}
        for name in names}
    target_spreads: list[float] = []
    with closing(open_engine("mesh", request)) as engine:
        swapper = frame_swapper(args.target, faceset, engine, config)
        backend = engine._refiner  # type: ignore[attr-defined]
        compositors = {name: Compositor(config.composite) for name in names}
        chosen = tuple(swapper.by_frame.values())
        for compositor in compositors.values():
            compositor.learn_glasses(args.target, faceset, chosen)
        for frame in media.iter_frames(args.target):
            if frame.index >= args.max_frames:
                break
            face = swapper.engine_face(frame)
            if face.target is None or face.swapped is None:
                continue
            target = face.target
            size = target.image.shape[0]
            regions = realism.realism_regions(target.face_landmarks, size,
                                              np.ones((size, size), dtype=bool))
            skin = regions.skin & ~regions.beard
            target_lab = _lab(target.image)
            target_spreads.append(realism._colour_spread(target_lab, skin))
            for name in names:
                image = VARIANTS[name](backend, face.swapped, target)
                swapped = replace(face.swapped, image=image)
                composited = compositors[name].composite(target, swapped)
                alpha = composited.alpha[..., None]
                shown = np.clip(composited.image * alpha + target.image * (1.0 - alpha) + 0.5,
                                0, 255).astype(np.uint8)
                reading = readings[name]
                reading["flatness"].append(realism.colour_flatness(target.image, shown, skin))
                reading["tone"].append(realism.tone_vs_neck(target.image, shown, skin,
                                                            regions.neck))
                reading["ssim"].append(realism.fidelity(target.image, shown, regions.face).ssim)
                reading["laid spread"].append(realism._colour_spread(
                    _lab(_laid(swapped, target)), skin))
                reading["spread"].append(realism._colour_spread(_lab(shown), skin))
    report(readings, target_spreads)


def report(readings: dict[str, dict[str, list[float]]], target_spreads: list[float]) -> None:
    print(f"{len(target_spreads)} faces; the target's chroma spread on the skin "
          f"{statistics.mean(target_spreads):.4f}")
    print("| variant | colour flatness | minus mesh (se) | tone vs neck | minus mesh (se) | "
          "SSIM | minus mesh (se) | laid face's spread | composited spread |")
    print("|---|---:|---|---:|---|---:|---|---:|---:|")
    mesh = readings["mesh"]
    for name, reading in readings.items():
        cells = []
        for key in ("flatness", "tone", "ssim"):
            cells += [f"{_mean(reading[key]):.4f}", _difference(reading[key], mesh[key])]
        print(f"| {name} | {' | '.join(cells)} | {_mean(reading['laid spread']):.4f} | "
              f"{_mean(reading['spread']):.4f} |")
    sys.stdout.flush()


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.mean(finite) if finite else math.nan


def _difference(values: list[float], base: list[float]) -> str:
    pairs = [a - b for a, b in zip(values, base, strict=True)
             if not (math.isnan(a) or math.isnan(b))]
    if len(pairs) < 2:
        return "–"
    mean = statistics.mean(pairs)
    return f"{mean:+.4f} ({statistics.stdev(pairs) / math.sqrt(len(pairs)):.4f})"


if __name__ == "__main__":
    main()
