"""Many jobs and many processes: batch throughput (local pool and local Ray, 1 and 2
workers), Ray's overhead per task, DDP step time with 1 and 2 gloo processes, and how a
chunked swap differs from an unsplit one at the joins. Prints markdown tables; writes JSON
with --out.

    python benchmarks/batch_cluster.py --parts throughput ddp chunks --out /tmp/batch.json

Throughput runs the same jobs (short clips of the shared test media, mesh engine) in a
fresh output folder for every configuration, with the analyses already cached in a shared
work folder, so every configuration does the same work: swap, mark, encode, sign.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from _measure import REPO, SHARED_FACES
from facedub import media
from facedub.batch import BatchConfig, batch, load_jobs

sys.path.insert(0, str(REPO / "tests" / "batch"))  # the tests' clip cutter, not a copy
from batch_media import remuxed_excerpt

FACES = SHARED_FACES
SOURCE = "still_paul_rudd_frontal_studio.jpg"
TARGETS = ("clip_sadtalker_hdtf_katiehill_headturn.mp4",
           "clip_liveportrait_d12_man_glasses_headturn_hand.mp4",
           "clip_liveportrait_d18_man_frontal_mouth.mp4",
           "clip_videoretalking_5_older_woman_glasses.mp4")


def throughput(folder: Path, seconds: float, rounds: int) -> dict[str, Any]:
    clips = [remuxed_excerpt(FACES / name, seconds, folder / f"clip{n}.mp4")
             for n, name in enumerate(TARGETS)]
    jobs_file = folder / "jobs.toml"
    jobs_file.write_text(f'[defaults]\nsource = "{FACES / SOURCE}"\n' + "".join(
        f'[[job]]\ntarget = "{clip}"\noutput = "out{n}.mp4"\n' for n, clip in enumerate(clips)))
    work, config_dir = folder / "work", folder / "config"
    warm = BatchConfig(work_dir=work, config_dir=config_dir, workers=2)
    batch(load_jobs(jobs_file, folder / "warm"), folder / "warm", warm)  # analyses cached
    cases = {"local 1": ("local", 1), "local 2": ("local", 2), "ray 1": ("ray", 1),
             "ray 2": ("ray", 2)}
    walls: dict[str, list[float]] = {name: [] for name in cases}
    per_job: dict[str, list[float]] = {name: [] for name in cases}
    for round_index in range(rounds):  # interleaved, so changing load hits all alike
        for name, (cluster, workers) in cases.items():
            out = folder / f"{name.replace(' ', '_')}_{round_index}"
            config = BatchConfig(work_dir=work, config_dir=config_dir, workers=workers,
                                 cluster=cluster)  # type: ignore[arg-type]
            started = time.perf_counter()
            result = batch(load_jobs(jobs_file, out), out, config)
            walls[name].append(time.perf_counter() - started)
            assert result.exit_code == 0, result.summary_lines()
            per_job[name].extend(r.seconds for r in result.reports)
    frames = sum(media.probe(clip).frame_count for clip in clips)
    sizes = {"input_mb": sum(c.stat().st_size for c in clips) / 1e6 / len(clips),
             "output_mb": statistics.mean(
                 (folder / "warm" / f"out{n}.mp4").stat().st_size / 1e6
                 for n in range(len(clips)))}
    return {"jobs": len(clips), "clip_seconds": seconds, "frames": frames, **sizes,
            "wall_s": {k: statistics.median(v) for k, v in walls.items()},
            "job_s": {k: statistics.median(v) for k, v in per_job.items()},
            "ray_task_overhead_s": ray_task_overhead()}


def ray_task_overhead(tasks: int = 50) -> dict[str, float]:
    """Start-up of a local Ray, and the round trip of an empty task once it is warm."""
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    startup = time.perf_counter() - started

    @ray.remote
    def empty() -> None:
        return None

    ray.get([empty.remote() for _ in range(4)])  # workers up
    started = time.perf_counter()
    for _ in range(tasks):
        ray.get(empty.remote())
    round_trip = (time.perf_counter() - started) / tasks
    ray.shutdown()
    return {"startup_s": startup, "empty_task_round_trip_s": round_trip}


def ddp(folder: Path, steps: int) -> dict[str, Any]:
    """Mean step time of `facedub train` (cpu preset, global batch 8) on 1 and 2 gloo
    processes, from the run's own clock (start-up excluded)."""
    facesets = []
    for name in TARGETS[:2]:
        out = folder / f"faces_{len(facesets)}"
        subprocess.run([sys.executable, "-m", "facedub", "extract", str(FACES / name), "-o",
                        str(out), "--size", "64", "--max-frames", "60"], check=True,
                       capture_output=True)
        facesets.append(str(out))
    common = [*facesets, "--steps", str(steps), "--batch", "8", "--threads", "1",
              "--device", "cpu", "--seed", "1"]
    results = {}
    for processes in (1, 2):
        run = folder / f"run{processes}"
        launcher = ([sys.executable, "-m", "facedub"] if processes == 1 else
                    [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node",
                     str(processes), "-m", "facedub"])
        subprocess.run([*launcher, "train", *common, "-o", str(run)], check=True,
                       capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        last = next(e for e in reversed(log) if "loss" in e)
        results[processes] = {"step_s": last["seconds"] / steps, "loss": last["loss"]}
    return results


def chunks(folder: Path, seconds: float) -> dict[str, Any]:
    """Unsplit against chunked (2 s chunks) swaps of one clip, with the same watermark id:
    frames, times and audio packets, and per-frame PSNR at the joins and elsewhere."""
    import facedub.swap as swap_module
    from facedub.batch.chunks import join_segments, plan_chunks, swap_segment
    from facedub.batch.jobs import JobSpec
    from facedub.batch.worker import build_engine

    clip = remuxed_excerpt(FACES / TARGETS[0], seconds, folder / "chunk_clip.mp4")
    work = folder / "work"
    job_id = 12345
    swap_module.new_job_id = lambda: job_id  # the same watermark in both outputs
    results: dict[str, Any] = {}
    for crf in (0, 18):
        spec = JobSpec(1, 1, "x.mp4", clip, "mesh", FACES / SOURCE, None, "auto", 2.0, {}, {},
                       {"crf": crf})
        config = spec.swap_config(work, folder / "config")
        whole = folder / f"whole_crf{crf}.mp4"
        with closing(build_engine(spec, work)) as engine:
            swap_module.swap(clip, engine, whole, config)
        for preroll in ((30, 0) if crf == 0 else (30,)):
            plan = plan_chunks(clip, 2.0, job_id, preroll)
            segments = []
            for chunk in plan:
                segment = folder / f"seg{crf}_{preroll}_{chunk.index}.mp4"
                with closing(build_engine(spec, work)) as engine:  # a chunk ends no track
                    swap_segment(clip, engine, segment, config, chunk)
                segments.append(segment)
            joined = folder / f"joined_crf{crf}_preroll{preroll}.mp4"
            join_segments(segments, plan, clip, joined)
            results[f"crf {crf}, pre-roll {preroll}"] = compare(
                whole, joined, [c.first for c in plan[1:]])
    return results


def compare(whole: Path, joined: Path, joins: list[int]) -> dict[str, Any]:
    a, b = list(media.iter_frames(whole)), list(media.iter_frames(joined))
    psnr = [_psnr(x.image, y.image) for x, y in zip(a, b, strict=True)]
    near = {i for j in joins for i in range(j - 1, j + 3)}
    import av

    def audio(path: Path) -> list[tuple[int, int]]:
        with av.open(str(path)) as container:
            return [(int(p.pts or 0), p.size) for p in container.demux(container.streams.audio[0])
                    if p.pts is not None]

    return {"frames": (len(a), len(b)),
            "max_time_difference_s": max(abs(x.time - y.time) for x, y in zip(a, b, strict=True)),
            "audio_identical": audio(whole) == audio(joined),
            "psnr_at_joins_db": min(psnr[i] for i in near),
            "psnr_elsewhere_median_db": statistics.median(
                p for i, p in enumerate(psnr) if i not in near),
            "psnr_elsewhere_min_db": min(p for i, p in enumerate(psnr) if i not in near),
            "identical_frames": int(sum(p == float("inf") for p in psnr))}


def _psnr(x: np.ndarray, y: np.ndarray) -> float:
    error = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["throughput", "ddp", "chunks"])
    parser.add_argument("--seconds", type=float, default=1.0, help="clip length per job")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="facedub-batch-bench-") as name:
        folder = Path(name)
        if "throughput" in args.parts:
            results["throughput"] = throughput(folder, args.seconds, args.rounds)
        if "ddp" in args.parts:
            results["ddp"] = ddp(folder, args.steps)
        if "chunks" in args.parts:
            results["chunks"] = chunks(folder, 4.0)
    print(json.dumps(results, indent=2, default=str))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
