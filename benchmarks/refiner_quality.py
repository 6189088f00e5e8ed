r"""Mesh engine alone, mesh + refiner, and the neural engine on self-swap pairs, where the
target itself is the truth; and the swap speed of mesh alone against mesh + refiner.

Cases (the same man in source and target, so the ideal output is the target):
  lighting: clip 14 (even webcam light) onto clip 13 (a torch sweeps across his face)
  split:    the first half of clip 14 onto its second half

Face-region SSIM and PSNR: target and output frames are cut with the target face's
alignment (evaluate.metrics.cut_crops, 256 px), and compared inside the target's face
oval (train.losses.masked_ssim; PSNR over the same pixels). The artifact measures are the
seam colour and gradient excess of evaluate.metrics.seam_measure. These are this script's
own stand-ins until the realism measures of evaluate/ land; outputs are written without
the visible label (it would cover part of the frame), with the watermark as always.

Steps, each its own command so the trainings can run side by side:

    python benchmarks/refiner_quality.py train --folder /tmp/rq --case lighting \
        --engine refiner --minutes 20
    python benchmarks/refiner_quality.py train --folder /tmp/rq --case lighting \
        --engine neural --minutes 20
    python benchmarks/refiner_quality.py measure --folder /tmp/rq --out /tmp/rq/quality.json
    python benchmarks/refiner_quality.py speed --folder /tmp/rq --end-to-end \
        --out /tmp/rq/speed.json

Swapped videos of these people stay in --folder (a temporary folder); never publish them.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from facedub.align import face_from_frame_matrix, landmarks_in_crop
from facedub.config import ExtractConfig
from facedub.geometry import warp_to_face
from facedub.workspace import analysed

from _measure import SHARED_FACES, facedub_command, markdown_table, run_measured, write_json
from facedub import media
from facedub.cli import SOURCE_CROP
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.refiner import load_refined_engine
from facedub.evaluate.metrics import cut_crops, seam_measure
from facedub.swap import compositing_crop_size
from facedub.train.losses import masked_ssim

CLIP_13 = SHARED_FACES / "clip_openface_changelighting_torch_moving_light.wmv"
CLIP_14 = SHARED_FACES / "clip_openface_default_same_person_webcam.wmv"
SPEED_TARGET = SHARED_FACES / "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
CROP = 256
ENGINES = ("mesh", "mesh+refiner", "neural")


@dataclass(frozen=True)
class Case:
    source: Path
    target: Path
    source_span: tuple[float, float] | None = None  # seconds of the clip used
    target_span: tuple[float, float] | None = None


# The lighting target is cut to a silent MP4 too: its WMA audio cannot go into an MP4.
CASES = {"lighting": Case(CLIP_14, CLIP_13, None, (0.0, 1e9)),
         "split": Case(CLIP_14, CLIP_14, (0.0, 9.6), (9.6, 19.2))}


def clip_of(folder: Path, name: str, role: str) -> Path:
    """The case's source or target media; a span of a clip is cut once into `folder`."""
    case = CASES[name]
    path, span = ((case.source, case.source_span) if role == "source"
                  else (case.target, case.target_span))
    if span is None:
        return path
    out = folder / "clips" / f"{name}-{role}.mp4"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        info = media.probe(path)
        staged = out.with_suffix(".part.mp4")
        with media.VideoWriter(staged, info.width, info.height, info.fps, crf=12,
                               preset="veryfast") as writer:
            for frame in media.iter_frames(path):
                if span[0] <= frame.time < span[1]:
                    writer.write(frame.image, frame.time - span[0])
        staged.rename(out)
    return out


def timed_command(command: list[str], minutes: float) -> None:
    """Run a training command and stop it with SIGTERM (it saves) after `minutes`."""
    process = subprocess.Popen(command)
    try:
        process.wait(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        process.wait()


def train(folder: Path, name: str, engine: str, minutes: float, threads: int) -> None:
    source = clip_of(folder, name, "source")
    work = ["--work-dir", str(folder / "work")]
    threads_args = ["--device", "cpu", "--threads", str(threads)]
    if engine == "refiner":
        out = folder / f"{name}-refiner"
        subprocess.run([*facedub_command(), "refine", str(source), "-o", str(out),
                        "--minutes", str(minutes), "--steps", "1000000", *threads_args,
                        *work], check=True)
        subprocess.run([*facedub_command(), "export", str(out), "-o", f"{out}.onnx"],
                       check=True)
        return
    faces = {}
    for role in ("source", "target"):
        faces[role] = folder / f"{name}-{role}-faces"
        if not (faces[role] / "faceset.json").is_file():
            subprocess.run([*facedub_command(), "extract", str(clip_of(folder, name, role)),
                            "-o", str(faces[role]), "--size", "256"], check=True)
    out = folder / f"{name}-neural"
    timed_command([*facedub_command(), "train", str(faces["source"]), str(faces["target"]),
                   "-o", str(out), "--steps", "1000000", *threads_args], minutes)
    subprocess.run([*facedub_command(), "export", str(out), "-o", f"{out}.onnx"], check=True)


def swap_command(folder: Path, name: str, engine: str, target: Path, out: Path) -> list[str]:
    source = clip_of(folder, name, "source")
    engine_args = {"mesh": ["--source", str(source)],
                   "mesh+refiner": ["--source", str(source), "--refiner",
                                    str(folder / f"{name}-refiner.onnx")],
                   "neural": ["--engine", "neural", "--model",
                              str(folder / f"{name}-neural.onnx")]}[engine]
    return [*facedub_command(), "swap", *engine_args, "--target", str(target), "-o", str(out),
            "--work-dir", str(folder / "work"), "--no-visible-label"]


def face_scores(target: Path, swapped: Path, work: Path) -> dict[str, float]:
    """Mean face-region SSIM, PSNR (dB) and seam excesses over the target's face frames."""
    faceset = analysed(target, work, ExtractConfig(write_crops=False, identity_every=25))
    by_frame = {record.frame: record for record in faceset.faces_of()}
    coverage = faceset.meta.coverage
    scores: dict[str, list[float]] = {"ssim": [], "psnr": [], "seam_colour": [],
                                      "seam_gradient": []}
    for truth, output in zip(media.iter_frames(target), media.iter_frames(swapped),
                             strict=False):
        record = by_frame.get(truth.index)
        if record is None:
            continue
        matrix = face_from_frame_matrix(record.frame_landmarks, CROP, coverage)  # type: ignore[arg-type]
        crops = cut_crops(truth.image, output.image, matrix,
                          landmarks_in_crop(record.frame_landmarks, matrix), CROP)
        inside = crops.inside & crops.valid
        a, b = (torch.from_numpy(c).permute(2, 0, 1)[None].float() / 255
                for c in (crops.target, crops.swapped))
        mask = torch.from_numpy(inside.astype(np.float32))[None, None]
        scores["ssim"].append(float(masked_ssim(b, a, mask)[0]))
        error = float(((crops.target[inside].astype(np.float64)
                        - crops.swapped[inside]) ** 2).mean())
        scores["psnr"].append(10 * math.log10(255.0**2 / max(error, 1e-9)))
        seam = seam_measure(crops)
        scores["seam_colour"].append(seam.color_excess)
        scores["seam_gradient"].append(seam.gradient_excess)
    return {key: float(np.nanmean(values)) for key, values in scores.items()} | {
        "frames": len(scores["ssim"])}


def training_minutes(folder: Path) -> float | None:
    state = folder / "state.json"
    if not state.is_file():
        return None
    return float(json.loads(state.read_text())["train_seconds"]) / 60


def measure(folder: Path, out: Path | None) -> None:
    rows, results = [], []
    for name in CASES:
        target = clip_of(folder, name, "target")
        for engine in ENGINES:
            model = {"mesh": None, "mesh+refiner": folder / f"{name}-refiner",
                     "neural": folder / f"{name}-neural"}[engine]
            if model is not None and not Path(f"{model}.onnx").is_file():
                continue
            swapped = folder / f"{name}-{engine}.mp4"
            subprocess.run(swap_command(folder, name, engine, target, swapped), check=True)
            scores = face_scores(target, swapped, folder / "work")
            minutes = 0.0 if model is None else training_minutes(model)
            steps = None if model is None else json.loads(
                (model / "state.json").read_text())["step"]
            results.append({"case": name, "engine": engine, "train_minutes": minutes,
                            "steps": steps, **scores})
            rows.append([name, engine, f"{minutes or 0:.1f}", steps or "-",
                         f"{scores['ssim']:.4f}", f"{scores['psnr']:.2f}",
                         f"{scores['seam_colour']:.2f}", f"{scores['seam_gradient']:.2f}",
                         scores["frames"]])
    print(markdown_table(["case", "engine", "training min", "steps", "face SSIM",
                          "face PSNR dB", "seam colour excess", "seam gradient excess",
                          "frames"], rows))
    if out:
        write_json(out, results)


def speed(folder: Path, repeats: int, end_to_end: bool, out: Path | None) -> None:
    """Per-face time of the mesh engine alone and with the refiner (onnxruntime), taken in
    turns on the same faces of a 512 px clip, so load from other jobs hits both alike;
    with `end_to_end`, also whole `facedub swap` runs of that clip (decode to encode)."""
    source = analysed(CLIP_14, folder / "work", ExtractConfig(crop_size=SOURCE_CROP))
    target = analysed(SPEED_TARGET, folder / "work",
                      ExtractConfig(write_crops=False, identity_every=25))
    records = {record.frame: record for record in target.faces_of()}
    size = compositing_crop_size(target.faces_of(), target.meta.crop_size, 512)
    mesh = MeshEngine(source)
    faces = []
    for frame in media.iter_frames(SPEED_TARGET):
        record = records.get(frame.index)
        if record is not None and frame.index % 4 == 0:
            matrix = face_from_frame_matrix(record.frame_landmarks, size, mesh.coverage)
            faces.append(TargetFace(warp_to_face(frame.image, matrix, size),
                                    landmarks_in_crop(record.frame_landmarks, matrix), matrix,
                                    record.pose, record.blendshapes, frame.time, 0))
    refined = load_refined_engine(MeshEngine(source), source,
                                  folder / "lighting-refiner.onnx", "cpu")
    timings: dict[str, list[float]] = {"mesh": [], "mesh+refiner": []}
    for _ in range(repeats):
        for face in faces:
            for name, engine in (("mesh", mesh), ("mesh+refiner", refined)):
                started = time.perf_counter()
                engine.swap_face(face)
                timings[name].append(time.perf_counter() - started)
    result: dict[str, object] = {"crop": size, "faces": len(faces), "repeats": repeats,
                                 "ms_per_face": {name: 1000 * statistics.median(values)
                                                 for name, values in timings.items()}}
    rows = [[name, size, f"{1000 * statistics.median(values):.1f}",
             f"{1 / statistics.median(values):.1f}"] for name, values in timings.items()]
    print(markdown_table(["engine", "crop px", "ms/face (median)", "faces/s"], rows))
    if end_to_end:
        frames = media.probe(SPEED_TARGET).frame_count
        seconds = {name: run_measured(swap_command(folder, "lighting", name, SPEED_TARGET,
                                                   folder / f"speed-{i}.mp4")).seconds
                   for i, name in enumerate(("mesh", "mesh+refiner"))}
        result["end_to_end_frames_per_s"] = {k: frames / v for k, v in seconds.items()}
        print(markdown_table(["engine", "frames/s (end to end)"],
                             [[k, f"{frames / v:.1f}"] for k, v in seconds.items()]))
    if out:
        write_json(out, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "measure", "speed"])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--case", choices=list(CASES), default="lighting")
    parser.add_argument("--engine", choices=["refiner", "neural"], default="refiner")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--end-to-end", action="store_true",
                        help="speed: also time whole swaps (after one that caches analyses)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    if args.step == "train":
        train(args.folder, args.case, args.engine, args.minutes, args.threads)
    elif args.step == "measure":
        measure(args.folder, args.out)
    else:
        speed(args.folder, args.repeats, args.end_to_end, args.out)


if __name__ == "__main__":
    main()
