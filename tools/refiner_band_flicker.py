"""Does the composited-stage refiner's band flicker over a track? (issue 13, BENCHMARKS.md,
Refiner, twenty-eighth round.) The swap keeps the band per face per frame under a gain
(`engines.refiner.composited_band_gain`), all or nothing at most frames, with no easing
over the track: the fine detail it adds may switch on and off between frames.

    python tools/refiner_band_flicker.py benchmarks/pairs.toml --pair self-split-webcam \
        --refiner REFINER --out DIR [--max-frames 40]

The pair's target is swapped once through the swap's own per-frame path (its landmark
filter, engine and compositor: `swap.FrameSwapper.composite`); each face's composited
crop is pasted back as it is (the mesh engine alone) and after the refiner's
`refine_composited` (what `swap --refiner` pastes), before the marks, recording the
band's gain per frame (0 where the refiner left a face as it was without reading one:
a face with no alpha, or lit outside the refiner's training light). Per
variant, over consecutive frames with a face (measured in the frame, inside the face's
alpha above one half, in grey levels): the face's fine band (the grey frame minus its
Gaussian at the band's scale, CROP_BAND_SIGMA crop pixels in frame pixels) and how much
it changes from one frame to the next, against the target's own change (a webcam's
noise changes it every frame); the change of the face's sharpness (log2 of its mean
|Laplacian|) from frame to frame; and what the refiner added (refined minus mesh): its
size where it is on, its frame-to-frame change, and the gain's flips (a step of at least
one half). Writes DIR/flicker.json; DIR/frames.npz holds the frames for contact sheets
(real faces: keep DIR out of the repository).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from unittest import mock

import cv2
import numpy as np

from facedub import media
from facedub.composite.compositor import Composited
from facedub.engines import refiner as rf
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.registry import EngineRequest, open_engine
from facedub.faces.geometry import paste_back
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper

ROOT = Path(__file__).resolve().parents[1]
# The gain's step that counts as a flip: the band switched more than half on or off.
FLIP = 0.5


@dataclass(frozen=True)
class TrackFrames:
    """A stretch of frames in frame order: `images` (N, H, W, 3) uint8, the face's region
    in each (N, H, W) bool, and the band's scale in frame pixels in each (N,)."""

    images: np.ndarray
    regions: np.ndarray
    sigmas: np.ndarray


@dataclass(frozen=True)
class Temporal:
    """Means over consecutive frames: the face's fine band's change (grey levels) and its
    sharpness's change (|log2|), and the face's sharpness mismatch against the target."""

    band_change: float
    sharpness_change: float
    sharpness_mismatch: float


@dataclass(frozen=True)
class Added:
    """What a refiner added to the face (refined minus mesh, grey levels): its mean size
    over the pixels it changed in frames where it is on, the mean frame-to-frame change
    of it, and the gain's flips and frames on (gain 1) and off (gain 0)."""

    size_where_on: float
    change: float
    flips: int
    frames_on: int
    frames_off: int


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def fine_band(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32: the grey image minus its Gaussian of `sigma` pixels."""
    plane = grey(image)
    return plane - cv2.GaussianBlur(plane, (0, 0), sigma)


def sharpness(image: np.ndarray, region: np.ndarray) -> float:
    """The evaluation's sharpness statistic: the mean |3x3 Laplacian| of grey inside
    `region`."""
    return float(np.mean(np.abs(cv2.Laplacian(grey(image), cv2.CV_32F))[region]))


def temporal(frames: TrackFrames, target: TrackFrames) -> Temporal:
    """`frames`' band and sharpness changes from frame to frame (in both frames' common
    face region), and its sharpness mismatch against `target` (the same frames). A frame
    whose face region is empty (an alpha nowhere above one half in the frame) has no
    sharpness: its measures, and its changes from and to its neighbours, are left out
    (a mean over no pixels was NaN, and made every mean NaN); NaN where none is left."""
    bands = [fine_band(image, float(sigma))
             for image, sigma in zip(frames.images, frames.sigmas, strict=True)]
    sharp = [sharpness(image, region) if region.any() else math.nan
             for image, region in zip(frames.images, frames.regions, strict=True)]
    wanted = [sharpness(image, region) if region.any() else math.nan
              for image, region in zip(target.images, frames.regions, strict=True)]
    changes, steps = [], []
    for before in range(len(bands) - 1):
        common = frames.regions[before] & frames.regions[before + 1]
        if common.any():
            changes.append(float(np.mean(np.abs(bands[before + 1] - bands[before])[common])))
        if usable(sharp[before], sharp[before + 1]):
            steps.append(abs(math.log2(sharp[before + 1] / sharp[before])))
    mismatch = [abs(math.log2(mine / theirs)) for mine, theirs in zip(sharp, wanted,
                                                                       strict=True)
                if usable(mine, theirs)]
    return Temporal(mean_or_nan(changes), mean_or_nan(steps), mean_or_nan(mismatch))


def usable(*sharpnesses: float) -> bool:
    """Whether a log2 ratio of these sharpnesses is a number: each read and above 0."""
    return all(value > 0.0 for value in sharpnesses)  # False for NaN


def mean_or_nan(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def added(refined: TrackFrames, mesh: TrackFrames, gains: Sequence[float]) -> Added:
    """What the refiner added to `mesh` in `refined` (the same frames), and its gains."""
    differences = [grey(mine) - grey(theirs)
                   for mine, theirs in zip(refined.images, mesh.images, strict=True)]
    sizes = [float(np.mean(np.abs(difference[difference != 0])))
             for difference, gain in zip(differences, gains, strict=True)
             if gain > 0 and np.any(difference)]
    commons = [refined.regions[k] & refined.regions[k + 1] for k in range(len(differences) - 1)]
    changes = [float(np.mean(np.abs(differences[k + 1] - differences[k])[common]))
               for k, common in enumerate(commons) if common.any()]
    steps = np.abs(np.diff(np.asarray(gains, dtype=np.float64)))
    return Added(float(np.mean(sizes)) if sizes else 0.0, mean_or_nan(changes),
                 int(np.sum(steps >= FLIP)), int(np.sum(np.asarray(gains) == 1.0)),
                 int(np.sum(np.asarray(gains) == 0.0)))


class FaceStages(Protocol):
    """The swap's per-frame path (swap.FrameSwapper): the engine's face for a frame, then
    that face composited before and after the composited-stage refiner."""

    def engine_face(self, frame: media.Frame) -> Any: ...

    def composite(self, target: TargetFace, swapped: SwappedFace, frame_index: int
                  ) -> tuple[Composited, Composited]: ...


def take(frames: Iterable[media.Frame], swapper: FaceStages, max_frames: int
         ) -> tuple[TrackFrames, TrackFrames, TrackFrames, list[float]]:
    """(target, mesh, refined, gains): the first `max_frames` of `frames` that have a
    face, through `swapper`, pasted back before and after the refiner, and per frame the
    band's gain the swap applied: 0 where the refiner left the face as it was without
    reading a gain (a face with no alpha), so that the gains line up with the frames."""
    called: list[float] = []
    chosen = rf.composited_band_gain

    def recorded_gain(*args: Any, **kwargs: Any) -> float:
        called.append(chosen(*args, **kwargs))
        return called[-1]

    gains: list[float] = []
    taken: dict[str, list[np.ndarray]] = {name: [] for name in
                                          ("target", "mesh", "refined", "region", "sigma")}
    with mock.patch.object(rf, "composited_band_gain", recorded_gain):
        for frame in frames:
            face = swapper.engine_face(frame)
            if face.target is None or face.swapped is None:
                continue
            called.clear()
            made, shown = swapper.composite(face.target, face.swapped, frame.index)
            gains.append(called[-1] if called else 0.0)
            matrix = face.target.face_from_frame
            height, width = frame.image.shape[:2]
            alpha = cv2.warpAffine(made.alpha.astype(np.float32), matrix, (width, height),
                                   flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)
            taken["target"].append(frame.image)
            taken["mesh"].append(paste_back(frame.image, made.image, made.alpha, matrix))
            taken["refined"].append(paste_back(frame.image, shown.image, shown.alpha, matrix))
            taken["region"].append(alpha > 0.5)
            taken["sigma"].append(np.float32(rf.CROP_BAND_SIGMA / rf.crop_scale(matrix)))
            if len(gains) >= max_frames:
                break
    regions, sigmas = np.stack(taken["region"]), np.stack(taken["sigma"])
    made_frames = tuple(TrackFrames(np.stack(taken[name]), regions, sigmas)
                        for name in ("target", "mesh", "refined"))
    return made_frames[0], made_frames[1], made_frames[2], gains


def record(source: Path, target: Path, refiner: Path, work: Path, max_frames: int
           ) -> tuple[TrackFrames, TrackFrames, TrackFrames, list[float]]:
    """(target, mesh, refined, gains): the first `max_frames` frames of `target` that have
    a face, swapped from `source` as the swap does, before the marks (`take`)."""
    config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
    faceset = analyse_target(target, config, NoProgress())
    request = EngineRequest(work_dir=work / "work", source=source, refiner=refiner)
    with closing(open_engine("mesh", request)) as engine:
        swapper = frame_swapper(target, faceset, engine, config)
        if swapper.after_compositor is None:
            raise SystemExit(f"{refiner}: not a composited-stage refiner")
        return take(media.iter_frames(target), swapper, max_frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--pair", required=True)
    parser.add_argument("--refiner", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-frames", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from quality import load_plan, prepared

    pair = next((p for p in load_plan(args.pairs).pairs if p.name == args.pair), None)
    if pair is None:
        raise SystemExit(f"no pair named {args.pair} in {args.pairs}")
    args.out.mkdir(parents=True, exist_ok=True)
    source, target = prepared(pair, args.max_frames, args.out / "media")
    target_frames, mesh, refined, gains = record(source, target, args.refiner, args.out,
                                                 args.max_frames)
    report = {"pair": pair.name, "refiner": str(args.refiner), "frames": len(gains),
              "target": asdict(temporal(target_frames, target_frames)),
              "mesh": asdict(temporal(mesh, target_frames)),
              "refined": asdict(temporal(refined, target_frames)),
              "added": asdict(added(refined, mesh, gains)),
              "gains": [round(gain, 2) for gain in gains]}
    np.savez_compressed(args.out / "frames.npz", target=target_frames.images,
                        mesh=mesh.images, refined=refined.images, regions=mesh.regions)
    (args.out / "flicker.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
