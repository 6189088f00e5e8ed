"""Mesh engine alone against mesh engine + refiner, with the realism measures of
benchmarks/quality.py (evaluate/realism.py), and their swap speed back to back.

    python benchmarks/refiner_quality.py quality benchmarks/pairs.toml \
        --refiner self-split-webcam=/tmp/refA [--refiner PAIR=REFINER ...] \
        [--max-frames 150] [--out DIR] [--job-id ID] [--crf 0]
    python benchmarks/refiner_quality.py stages --source SOURCE --target SELF_TARGET \
        --refiner REFINER [--refiner ...] [--max-frames 60]
    python benchmarks/refiner_quality.py speed --source SOURCE --refiner REFINER.onnx \
        [--target ../shared/data/faces/clip_sadtalker_hdtf_katiehill_headturn.mp4] \
        [--repeats 2] [--cold] [--out results.json]

`quality`: every pair named by a --refiner is swapped twice through `facedub swap` (mesh
alone, then with `--refiner`), both outputs are evaluated, and the realism table (SSIM,
PSNR and edge error of self-swaps; nearer-the-source per yaw bin of cross-identity
pairs; artifact measures) is printed with one row per pair and engine. A refiner is made
beforehand with `facedub refine SOURCE -o REFINER --minutes M` from the pair's source
media (a refiner of the same person from other media of them is accepted too; pairs.toml
splits and stills are written to DIR/targets by the first run, see quality.prepared).
Both swaps of a pair carry the same fixed watermark job id (the pair's own, as in
quality.py, or --job-id's), so the two rows differ by the refiner alone.

`stages`: on a self-swap (the target is the ideal output), SSIM against the target crop
inside the compositor's mask of the engine's face, of what `--color detail` keeps of it,
and of the composited face, mesh alone and with each refiner: where a refiner's gain is
made or lost.

`speed`: end-to-end frames/s of `facedub swap` with the analyses cached (one warm-up
swap first), mesh alone and mesh + refiner taken in turns `--repeats` times; medians.
With `--cold`, the mesh engine's per-source-face cache (MESH_CACHE in the source's
faceset, facedub.engines.mesh_source_cache) is removed before each timed swap: a first
swap from the source, where the warm-up's cache would make it a later one.

Outputs go to a new temporary folder unless --out is given: swapped media of real people
must not land in the repository.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np

from _measure import SHARED_FACES, facedub_command, markdown_table, run_measured, write_json
from facedub import media
from facedub.errors import FacedubError
from facedub.evaluate import EvalConfig, evaluate
from facedub.fsutil import write_text_atomic
from facedub.progress import NoProgress
from quality import Outcome, Pair, load_plan, prepared, realism_markdown, run_swap

log = logging.getLogger("refiner_quality")

SPEED_TARGET = SHARED_FACES / "clip_sadtalker_hdtf_katiehill_headturn.mp4"  # 512 x 512
# facedub.engines.mesh_source_cache.CACHE_DIR, spelt out: `speed` also measures a checkout
# that has no such module (main before it, through PYTHONPATH).
MESH_CACHE = "mesh-cache"


def swap_and_evaluate(pair: Pair, label: str, extra: list[str], max_frames: int | None,
                      gallery: Path | None, out_root: Path,
                      job_id: int | None = None) -> Outcome:
    """Swap `pair` with the mesh engine (and `extra` options), evaluate, label the row."""
    folder = out_root / pair.name / label
    folder.mkdir(parents=True, exist_ok=True)
    source, target = prepared(pair, max_frames, out_root / "targets")
    swapped = folder / ("swapped" + (target.suffix if media.is_photo_path(target) else ".mp4"))
    seconds, error = 0.0, ""
    if not swapped.is_file():
        seconds, error = run_swap(pair, source, target, "mesh", extra, swapped, job_id)
    shown = replace(pair, name=f"{pair.name}, {label}")
    if error:
        log.error("%s / %s: swap failed: %s", pair.name, label, error)
        return Outcome(shown, label, seconds, None, f"swap: {error}")
    config = EvalConfig(gallery=gallery, target_person=pair.target_person,
                        max_frames=max_frames, cache_dir=out_root / "cache")
    try:
        report = evaluate(source, target, swapped, folder / "report", config)
    except FacedubError as failure:
        return Outcome(shown, label, seconds, None, f"eval: {failure}")
    return Outcome(shown, label, seconds, report)


def quality(args: argparse.Namespace) -> None:
    plan = load_plan(args.pairs)
    refiners: dict[str, list[Path]] = {}
    for entry in args.refiner:
        name, path = entry.split("=", 1)
        refiners.setdefault(name, []).append(Path(path))
    pairs = [pair for pair in plan.pairs if pair.name in refiners]
    missing = sorted(set(refiners) - {pair.name for pair in pairs})
    if missing:
        raise SystemExit(f"no pair named {', '.join(missing)} in {args.pairs}")
    out_root = args.out or Path(tempfile.mkdtemp(prefix="facedub-refiner-"))
    max_frames = args.max_frames if args.max_frames is not None else plan.max_frames
    outcomes = []
    for pair in pairs:
        runs: list[tuple[str, list[str]]] = [] if args.no_baseline else [("mesh", [])]
        for path in refiners[pair.name]:
            # Several refiners of one pair (other settings) are told apart by folder name.
            label = "mesh + refiner" + (f" {path.stem}" if len(refiners[pair.name]) > 1
                                        else "")
            runs.append((label, ["--refiner", str(path)]))
        encode = [] if args.crf is None else ["--crf", str(args.crf)]
        for label, extra in runs:
            outcome = swap_and_evaluate(pair, label, [*extra, *encode], max_frames,
                                        plan.gallery, out_root, args.job_id)
            if outcome.report is None:
                print(f"{pair.name} / {label}: {outcome.error}")
            outcomes.append(outcome)
    table = realism_markdown(outcomes)
    print(table)
    write_text_atomic(out_root / "refiner_realism.md", table)
    print(f"outputs and reports in {out_root}")


def speed(args: argparse.Namespace) -> None:
    frames = media.probe(args.target).frame_count
    results: dict[str, list[float]] = {"mesh": [], "mesh + refiner": []}
    cpu_ms: dict[str, list[float]] = {"mesh": [], "mesh + refiner": []}  # a frame
    with tempfile.TemporaryDirectory(prefix="facedub-refiner-speed-") as temporary:
        folder = Path(temporary)
        base = [*facedub_command(), "swap", "--source", str(args.source), "--target",
                str(args.target), "--work-dir", str(folder / "work"), "--preset", "veryfast"]
        run_measured([*base, "-o", str(folder / "warm-up.mp4")])  # analyses cached
        for attempt in range(args.repeats):
            for label, extra in (("mesh", []), ("mesh + refiner", ["--refiner",
                                                                   str(args.refiner)])):
                out = folder / f"{attempt}-{len(results[label])}-{label[-7:]}.mp4"
                if args.cold:
                    forget_source_cache(folder / "work")
                measured = run_measured([*base, *extra, "-o", str(out)])
                results[label].append(frames / measured.seconds)
                cpu_ms[label].append(1000.0 * measured.cpu_seconds / frames)
    rows = [[label, f"{statistics.median(values):.2f}", ", ".join(f"{v:.2f}" for v in values),
             f"{statistics.median(cpu_ms[label]):.0f}"]
            for label, values in results.items()]
    ratio = statistics.median(results["mesh + refiner"]) / statistics.median(results["mesh"])
    cpu_ratio = statistics.median(cpu_ms["mesh + refiner"]) / statistics.median(cpu_ms["mesh"])
    print(markdown_table(["engine", "frames/s (median)", "runs", "CPU ms a frame (median)"],
                         rows))
    print(f"\nmesh + refiner / mesh: {ratio:.2f}x the frames/s, {cpu_ratio:.2f}x the CPU a "
          f"frame; {frames} frames of {args.target.name}, start-up included")
    if args.out:
        write_json(args.out, {"target": args.target.name, "frames": frames,
                              "frames_per_second": results, "ratio": ratio,
                              "cpu_ms_per_frame": cpu_ms, "cpu_ratio": cpu_ratio})


def forget_source_cache(work: Path) -> None:
    """Every faceset's mesh engine cache in the work folder `work` removed."""
    for cache in work.glob(f"*/{MESH_CACHE}"):
        shutil.rmtree(cache)


def stages(args: argparse.Namespace) -> None:
    """Mean SSIM inside the compositor's mask against the target crop (a self-swap) of the
    engine's face, of its detail over the target's low-pass (what `--color detail`
    keeps), and of the composited face, through the swap's own per-frame path."""
    import torch  # only this command needs it

    from facedub.engines.registry import EngineRequest, open_engine
    from facedub.swap import SwapConfig, analyse_target, frame_swapper
    from facedub.train.losses import masked_ssim
    from facedub.train.refine_loss import detail_composed

    def tensor(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(image, np.float32) / 255.0).permute(2, 0, 1)[None]

    with tempfile.TemporaryDirectory(prefix="facedub-refiner-stages-") as temporary:
        work = Path(temporary)
        config = SwapConfig(work_dir=work / "work", config_dir=work / "config")
        faceset = analyse_target(args.target, config, NoProgress())
        rows = []
        for refiner in [None, *args.refiner]:
            request = EngineRequest(work_dir=work / "work", source=args.source, refiner=refiner)
            with closing(open_engine("mesh", request)) as engine:  # tracks past --max-frames
                swapper = frame_swapper(args.target, faceset, engine, config)
                scores: list[list[float]] = [[], [], []]
                for frame in media.iter_frames(args.target):
                    if frame.index >= args.max_frames:
                        break
                    face = swapper.engine_face(frame)
                    if face.target is None or face.swapped is None:
                        continue
                    composited = swapper.compositor.composite(face.target, face.swapped)
                    mask = face.swapped.mask[..., None]
                    laid = tensor(face.swapped.image * mask + face.target.image * (1.0 - mask))
                    alpha = torch.from_numpy(composited.alpha.astype(np.float32))[None, None]
                    truth = tensor(face.target.image)
                    shown = (laid, detail_composed(laid, truth, alpha), tensor(composited.image))
                    for column, image in zip(scores, shown, strict=True):
                        column.append(float(masked_ssim(image, truth, alpha)))
                rows.append(["mesh" if refiner is None else f"mesh + {refiner.name}",
                             len(scores[0]), *(f"{statistics.mean(c):.4f}" for c in scores)])
    print(markdown_table(["engine", "faces", "engine face", "kept band", "composited"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("quality", help="realism table, mesh and mesh + refiner")
    measure.add_argument("pairs", type=Path, help="PAIRS.toml")
    measure.add_argument("--refiner", action="append", required=True,
                         help="PAIR=REFINER (folder or .onnx); only these pairs are run")
    measure.add_argument("--max-frames", type=int, help="override the file's max_frames")
    measure.add_argument("--no-baseline", action="store_true",
                         help="leave out the mesh-alone rows (measured in an earlier run)")
    measure.add_argument("--out", type=Path, help="output folder (default: a new temp folder)")
    measure.add_argument("--crf", type=int,
                         help="H.264 CRF of every swap (0: lossless; the evaluation's "
                              "reference is written the same way); default: the swap's 18. "
                              "At 18 the encode moves colour flatness and tone vs neck by "
                              "more than a refiner does (BENCHMARKS.md, Refiner, 22nd round)")
    measure.add_argument("--job-id", type=int,
                         help="watermark job id of every swap, 0..65535 (default: each "
                              "pair's own, as in quality.py)")
    timing = commands.add_parser("speed", help="frames/s, mesh and mesh + refiner in turns")
    timing.add_argument("--source", type=Path, required=True)
    timing.add_argument("--refiner", type=Path, required=True)
    timing.add_argument("--target", type=Path, default=SPEED_TARGET)
    timing.add_argument("--repeats", type=int, default=2)
    timing.add_argument("--cold", action="store_true",
                        help="remove the mesh engine's source cache before each timed swap")
    timing.add_argument("--out", type=Path)
    inside = commands.add_parser("stages", help="SSIM before and after compositing")
    inside.add_argument("--source", type=Path, required=True)
    inside.add_argument("--target", type=Path, required=True, help="a self-swap target")
    inside.add_argument("--refiner", type=Path, action="append", default=[])
    inside.add_argument("--max-frames", type=int, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    {"quality": quality, "speed": speed, "stages": stages}[args.command](args)


if __name__ == "__main__":
    main()
