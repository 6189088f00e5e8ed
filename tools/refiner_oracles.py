"""Where a self-swap's face differs from the target, and which part a refiner reaches:
oracles at the compositor's crop (issue 13, BENCHMARKS.md, Refiner, twenty-third round).

    python tools/refiner_oracles.py --source SOURCE --target SELF_TARGET \
        [--refiner REFINER ...] [--max-frames 40] [--work DIR] [--csv OUT.csv]

Each target face goes through the swap's own per-frame path and compositor (no watermark,
no encode) with the mesh engine's face and with each refiner's (`refine_face`, the
swap's). The composited crop is read with the evaluation's face SSIM
(`realism.fidelity`: luma, Gaussian window of 1.5 px, the target's face region).

Oracles, each a perfect fix of one part of the mesh engine's error, made on its
composited crop inside the compositor's alpha (what the swap replaced):

- `band:<name>`: that band of the target crop put in place of the swap's, bands of a
  Gaussian pyramid at the crop's pixels: `finest` (what a Gaussian of 1 px removes),
  `fine` (1 px to the refiner's own fine band edge, FINE_SIGMA at its 128 px scaled to the
  crop), `mid` (from there to the compositor's low-pass, the crop's side / 16), `low`
  (the rest, which `--color detail` already takes from the target);
- `chroma`: the target's CIELAB a and b (SSIM reads luma: a check that colour is not it);
- `openings`: the target's pixels in the bands round the eyes and mouth;
- `shift`: the composited face moved (with its alpha) by the best of a grid of
  sub-pixel shifts (half pixels up to 2 px): the crop's misalignment.

Per variant: mean SSIM, its gain over the mesh engine's frame by frame (mean, standard
error), and the mesh error's energy per band inside the face region (luma, grey levels
squared) with the share each refiner removes.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from refiner_fit import refuse_removed_settings

from facedub import media
from facedub.composite.compositor import Compositor
from facedub.engines import refiner as rf
from facedub.engines.registry import EngineRequest, open_engine
from facedub.evaluate import realism
from facedub.progress import NoProgress
from facedub.swap import SwapConfig, analyse_target, frame_swapper
from facedub.train.refine_composited import composited

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
REFINER_RES = 128
BANDS = ("finest", "fine", "mid", "low")
SHIFTS = tuple(0.5 * k for k in range(-4, 5))  # crop pixels, each axis


def band_edges(size: int) -> tuple[float, float, float]:
    """Gaussian sigmas (crop pixels) between the bands: 1 px, the refiner's fine edge,
    the compositor's low-pass."""
    return 1.0, rf.FINE_SIGMA * size / REFINER_RES, size / 16.0


def bands_of(image: np.ndarray, size: int) -> list[np.ndarray]:
    """`image` (float32) split into BANDS (they sum to it)."""
    blurred = [image] + [cv2.GaussianBlur(image, (0, 0), sigma) for sigma in band_edges(size)]
    return [blurred[k] - blurred[k + 1] for k in range(3)] + [blurred[3]]


def with_band(shown: np.ndarray, target: np.ndarray, alpha: np.ndarray, band: int
              ) -> np.ndarray:
    size = shown.shape[0]
    mine = bands_of(shown.astype(np.float32), size)[band]
    theirs = bands_of(target.astype(np.float32), size)[band]
    fixed = shown.astype(np.float32) + alpha[..., None] * (theirs - mine)
    return np.clip(fixed + 0.5, 0, 255).astype(np.uint8)


def with_chroma(shown: np.ndarray, target: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    lab_s = cv2.cvtColor(shown.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lab_t = cv2.cvtColor(target.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lab_s[..., 1:] += alpha[..., None] * (lab_t[..., 1:] - lab_s[..., 1:])
    rgb = cv2.cvtColor(lab_s, cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def with_openings(shown: np.ndarray, target: np.ndarray, alpha: np.ndarray,
                  openings: np.ndarray) -> np.ndarray:
    weight = (alpha * openings)[..., None]
    mixed = shown * (1.0 - weight) + target * weight
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def best_shift(shown: np.ndarray, target: np.ndarray, alpha: np.ndarray,
               region: np.ndarray) -> tuple[float, tuple[float, float]]:
    """The best face SSIM over SHIFTS of the composited face (and its alpha) against the
    target, and the shift (dx, dy) that gave it."""
    size = shown.shape[0]
    face = shown.astype(np.float32)
    best = (-1.0, (0.0, 0.0))
    grey_t = realism.view(target)
    for dx in SHIFTS:
        for dy in SHIFTS:
            matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float64)
            moved = cv2.warpAffine(face, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
            weight = cv2.warpAffine(alpha, matrix, (size, size), flags=cv2.INTER_LINEAR)
            laid = moved * weight[..., None] + target * (1.0 - weight[..., None])
            image = np.clip(laid + 0.5, 0, 255).astype(np.uint8)
            score = realism.fidelity(grey_t, image, region).ssim
            if score > best[0]:
                best = (score, (dx, dy))
    return best


def band_errors(shown: np.ndarray, target: np.ndarray, region: np.ndarray) -> list[float]:
    """Mean squared luma error per band inside `region`."""
    size = shown.shape[0]
    difference = (shown.astype(np.float32) - target.astype(np.float32)) @ LUMA
    return [float(np.mean(np.square(band[region]))) for band in bands_of(difference, size)]


def at_refiner_size(shown: np.ndarray, target: np.ndarray, region: np.ndarray) -> float:
    """Face SSIM with the crops reduced to the refiner's size first (what the refiner's
    held-out score reads)."""
    def small(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, (REFINER_RES, REFINER_RES), interpolation=cv2.INTER_AREA)

    inside = small(region.astype(np.float32)) > 0.5
    return realism.fidelity(small(target), small(shown), inside).ssim


def measure(args: argparse.Namespace, work: Path) -> list[dict[str, float | str]]:
    for root in args.refiner:
        refuse_removed_settings(root)
    config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
    faceset = analyse_target(args.target, config, NoProgress())
    request = EngineRequest(work_dir=work / "work", source=args.source,
                            refiner=args.refiner[0] if args.refiner else None)
    backends = {}
    rows: list[dict[str, float | str]] = []
    with closing(open_engine("mesh", request)) as engine:
        if args.refiner:
            backends = {path.name: rf.open_refiner(path).backend for path in args.refiner}
        swapper = frame_swapper(args.target, faceset, engine, config)
        names = ["mesh", *backends]
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
            row: dict[str, float | str] = {"frame": frame.index, "size": size}
            truth = target.image
            for name in names:
                swapped = face.swapped if name == "mesh" else replace(
                    face.swapped, image=rf.refine_face(backends[name], face.swapped,
                                                       truth))
                shown, alpha = composited(compositors[name], target, swapped)
                row[f"ssim:{name}"] = realism.fidelity(truth, shown, regions.face).ssim
                row[f"ssim128:{name}"] = at_refiner_size(shown, truth, regions.face)
                for band, error in zip(BANDS, band_errors(shown, truth, regions.face),
                                       strict=True):
                    row[f"err:{band}:{name}"] = error
                if name != "mesh" or args.no_oracles:
                    continue
                for number, band in enumerate(BANDS):
                    row[f"ssim:band:{band}"] = realism.fidelity(
                        truth, with_band(shown, truth, alpha, number), regions.face).ssim
                row["ssim:chroma"] = realism.fidelity(
                    truth, with_chroma(shown, truth, alpha), regions.face).ssim
                row["ssim:openings"] = realism.fidelity(
                    truth, with_openings(shown, truth, alpha, regions.openings),
                    regions.face).ssim
                score, (dx, dy) = best_shift(shown, truth, alpha, regions.face)
                row["ssim:shift"], row["shift_dx"], row["shift_dy"] = score, dx, dy
            rows.append(row)
            print(f"frame {frame.index}: " + ", ".join(
                f"{k.split(':', 1)[1]} {v:.4f}" for k, v in row.items()
                if isinstance(k, str) and k.startswith("ssim:")), flush=True)
    return rows


def write_rows(path: Path, rows: list[dict[str, float | str]]) -> None:
    """The table's rows as a CSV, one column per key of the first row."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def report(rows: list[dict[str, float | str]]) -> None:
    print(f"\n{len(rows)} faces, crop side {statistics.median(float(r['size']) for r in rows):.0f}"
          " px (median)")
    print("| variant | face SSIM | minus mesh (se) |")
    print("|---|---:|---|")
    base = [float(r["ssim:mesh"]) for r in rows]
    for key in [k for k in rows[0] if k.startswith("ssim:")]:
        values = [float(r[key]) for r in rows]
        print(f"| {key[5:]} | {statistics.mean(values):.4f} | {_difference(values, base)} |")
    if "ssim128:mesh" in rows[0]:
        small_base = [float(r["ssim128:mesh"]) for r in rows]
        for key in [k for k in rows[0] if k.startswith("ssim128:")]:
            values = [float(r[key]) for r in rows]
            print(f"| {key[8:]}, at {REFINER_RES} px | {statistics.mean(values):.4f} | "
                  f"{_difference(values, small_base)} |")
    names = [k.split(":")[2] for k in rows[0] if k.startswith(f"err:{BANDS[0]}:")]
    print("\n| luma error energy in the face | " + " | ".join(BANDS) + " | all |")
    print("|---|" + "---:|" * (len(BANDS) + 1))
    for name in names:
        energies = [statistics.mean(float(r[f"err:{band}:{name}"]) for r in rows)
                    for band in BANDS]
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in energies)
              + f" | {sum(energies):.2f} |")
    if "shift_dx" not in rows[0]:
        return
    shifts = [math.hypot(float(r["shift_dx"]), float(r["shift_dy"])) for r in rows]
    print(f"\nbest shift: median {statistics.median(shifts):.2f} px, "
          f"{sum(s > 0 for s in shifts)} of {len(shifts)} faces not at 0")


def _difference(values: list[float], base: list[float]) -> str:
    pairs = [a - b for a, b in zip(values, base, strict=True)
             if not (math.isnan(a) or math.isnan(b))]
    if len(pairs) < 2:
        return "–"
    mean = statistics.mean(pairs)
    better = sum(p > 0 for p in pairs)
    return (f"{mean:+.4f} ({statistics.stdev(pairs) / math.sqrt(len(pairs)):.4f}, "
            f"{better} of {len(pairs)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, action="append", default=[])
    parser.add_argument("--max-frames", type=int, default=40)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--no-oracles", action="store_true", help="the refiners' rows only")
    parser.add_argument("--report", type=Path, help="only the report of an earlier --csv")
    args = parser.parse_args()
    if args.report:
        with open(args.report, newline="") as handle:
            report(list(csv.DictReader(handle)))
        return
    if args.work:
        rows = measure(args, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="facedub-refiner-oracles-") as temporary:
            rows = measure(args, Path(temporary))
    if args.csv:
        write_rows(args.csv, rows)
    report(rows)


if __name__ == "__main__":
    main()
