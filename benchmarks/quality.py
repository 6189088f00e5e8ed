"""Quality benchmark: swap every source/target pair with every engine through the
`facedub swap` CLI (the stable interface), evaluate each output, and print one markdown
table (one row per pair and engine, with head-turn columns); the table and the full JSON
are written beside the outputs.

    python benchmarks/quality.py benchmarks/pairs.toml [--engine mesh] [--out DIR]
        [--max-frames N] [--only NAME] [--skip-swap] [--swap-only] [--job-id ID] [--redo]

Every swap gets a fixed watermark job id (`facedub swap --job-id`): the pair's own, from
its name (`pair_job_id`), or --job-id's for all. The mark's pattern moves pixels by a few
grey levels, enough to move a small face's per-frame identity margin by up to 0.08, so
with a random id (swap's default) two runs of the same code read differently.

Outputs go to a new temporary folder unless --out is given: swapped media of real
people must not land in the repository.

Killed (SIGTERM from a job runner or `timeout`, SIGHUP, Ctrl-C), it stops the swap it is
waiting on the same way, so that neither leaves a staged file, a temporary folder or a
half-written report behind, and exits 143, 129 or 130. Run again with the same --out, it
resumes: a pair whose report is whole and whose run.json says it was made with the same
settings (job id, frames, engine arguments, media) is read back, not swapped and measured
again; --redo measures every pair anew (after a code change, or to re-evaluate with
--skip-swap).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _measure import REPO, facedub_command, markdown_table
from facedub import media
from facedub.cli.terminal import Terminated, terminate_cleanly
from facedub.errors import FacedubError
from facedub.evaluate import YAW_BINS, EvalConfig, Report, evaluate, read_report
from facedub.fsutil import write_json_atomic, write_text_atomic
from facedub.provenance import MAX_JOB_ID

log = logging.getLogger("quality")

SWAP_TIMEOUT_S = 3600
# A stopped swap removes its staged file and ends within this; past it, it is killed.
SWAP_STOP_S = 60
CTRL_C_GRACE_S = 10
RUN_FILE = "run.json"  # beside a pair's report: the settings it was made with, written last


@dataclass(frozen=True)
class Pair:
    name: str
    source: Path
    target: Path
    note: str = ""
    target_person: Path | None = None
    # Self-swap pairs: the target is the ideal output. A clip can be split (source from
    # `source_seconds`, target from `target_seconds`, each [start, end)) or one frame of a
    # clip can stand in for a photo of the person (`source_frame`).
    self_swap: bool = False
    source_seconds: tuple[float, float] | None = None
    target_seconds: tuple[float, float] | None = None
    source_frame: int | None = None


@dataclass(frozen=True)
class Plan:
    pairs: tuple[Pair, ...]
    engines: tuple[str, ...]
    engine_args: dict[str, list[str]]
    max_frames: int | None
    gallery: Path | None


@dataclass(frozen=True)
class Outcome:
    pair: Pair
    engine: str
    swap_seconds: float
    report: Report | None
    error: str = ""


def load_plan(path: Path) -> Plan:
    """Read PAIRS.toml; paths in it are relative to the repo root."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))

    def resolve(value: str) -> Path:
        return (REPO / value).resolve()

    def optional(value: str | None) -> Path | None:
        return None if value is None else resolve(value)

    def span(value: list[float] | None) -> tuple[float, float] | None:
        return None if value is None else (float(value[0]), float(value[1]))

    pairs = []
    for entry in data.get("pair", []):
        pair = Pair(entry["name"], resolve(entry["source"]), resolve(entry["target"]),
                    entry.get("note", ""), optional(entry.get("target_person")),
                    bool(entry.get("self_swap", False)), span(entry.get("source_seconds")),
                    span(entry.get("target_seconds")), entry.get("source_frame"))
        for role in ("source", "target"):
            if not getattr(pair, role).exists():
                raise FacedubError(f"{path}: pair {pair.name}: {role} {getattr(pair, role)} "
                                   "does not exist")
        pairs.append(pair)
    if not pairs:
        raise FacedubError(f"{path}: no [[pair]] entries")
    return Plan(tuple(pairs), tuple(data.get("engines", ["mesh"])),
                {k: list(v) for k, v in data.get("engine_args", {}).items()},
                data.get("max_frames"), optional(data.get("gallery")))


def trimmed(target: Path, frames: int | None, folder: Path,
            seconds: tuple[float, float] | None = None) -> Path:
    """The first `frames` frames of a target video, from `seconds` [start, end) when given
    (re-encoded losslessly; audio kept for an untouched start), so swap and evaluation
    see the same short clip; photos as they are."""
    if media.is_photo_path(target) or (frames is None and seconds is None):
        return target
    info = media.probe(target)
    start, end = seconds if seconds is not None else (0.0, float("inf"))
    copyable = target.suffix.lower() in {".mp4", ".m4v", ".mov"}
    if seconds is None and frames is not None and info.frame_count <= frames and copyable:
        return target
    limit = frames if frames is not None else info.frame_count
    span = "" if seconds is None else f".{start:g}-{end:g}s"
    clip = folder / f"{target.stem}{span}.first{limit}.mp4"
    if clip.is_file():
        return clip
    folder.mkdir(parents=True, exist_ok=True)
    # Audio only where it can be copied as it is (a cut needs none; WMA does not fit MP4).
    audio = target if info.has_audio and start == 0 and copyable else None
    # Lossless (CRF 0): x264 on a loaded machine wrote the same frames differently from run
    # to run (26-35 of the smoker GIF's 35 frames at CRF 10), the landmarks moved with them
    # and so did the engine's choices and the nearer-the-source shares (0-33% a bin); a
    # lossless clip decodes to the same pixels every time.
    with media.VideoWriter(clip, info.width, info.height, info.fps, crf=0,
                           audio_from=audio) as writer:
        written = 0
        for frame in media.iter_frames(target):
            if frame.time < start:
                continue
            if frame.time >= end or written >= limit:
                break
            writer.write(frame.image, frame.time - start)
            written += 1
    return clip


def still_of(clip: Path, index: int, folder: Path) -> Path:
    """Frame `index` of a clip as a PNG photo (a photo of the person from another day)."""
    photo = folder / f"{clip.stem}.frame{index}.png"
    if photo.is_file():
        return photo
    for frame in media.iter_frames(clip):
        if frame.index == index:
            folder.mkdir(parents=True, exist_ok=True)
            media.write_photo(photo, frame.image)
            return photo
    raise FacedubError(f"{clip}: has no frame {index}")


def prepared(pair: Pair, frames: int | None, folder: Path) -> tuple[Path, Path]:
    """(source, target) media of a pair as the swap sees them: cut, trimmed, or a still."""
    source = pair.source
    if pair.source_frame is not None:
        source = still_of(pair.source, pair.source_frame, folder)
    elif pair.source_seconds is not None:
        source = trimmed(pair.source, None, folder, pair.source_seconds)
    return source, trimmed(pair.target, frames, folder, pair.target_seconds)


def pair_job_id(name: str) -> int:
    """The watermark job id of a pair's swaps: from its name, the same in every run."""
    return zlib.crc32(name.encode()) % (MAX_JOB_ID + 1)


def run_swap(pair: Pair, source: Path, target: Path, engine: str, extra: list[str],
             out: Path, job_id: int | None = None) -> tuple[float, str]:
    """Run `facedub swap` with the job id `job_id` (None: the pair's own); returns
    (seconds, error text or "")."""
    job_id = pair_job_id(pair.name) if job_id is None else job_id
    # --overwrite: a pair measured anew (--redo, other settings, a run cut short between
    # its swap and its report) replaces the swap already there, which `facedub swap`
    # otherwise rightly refuses; the old file stays until the new one is whole.
    command = [*facedub_command(), "swap", "--source", str(source), "--target",
               str(target), "-o", str(out), "--overwrite", "--engine", engine,
               "--job-id", str(job_id), *extra]
    if pair.target_person is not None:
        command += ["--target-person", str(pair.target_person)]
    log.info("%s", " ".join(command))
    started = time.monotonic()
    try:
        done = run_stoppably(command, SWAP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return time.monotonic() - started, f"timed out after {SWAP_TIMEOUT_S} s"
    seconds = time.monotonic() - started
    if done.returncode != 0 or not out.is_file():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return seconds, f"exit {done.returncode}: {lines[-1] if lines else 'no output'}"
    _warn_of_unswapped_frames(pair, engine, done.stdout + done.stderr)  # says: stderr
    return seconds, ""


def run_stoppably(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `command`, its output captured. Timed out, or this process stopped (Ctrl-C, or
    SIGTERM/SIGHUP under `terminate_cleanly`), the child gets SIGTERM and time to remove
    its staged output (`subprocess.run` would SIGKILL it, leaving the staged file beside
    the output), then the exception goes on."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (one process group): let it stop on its own
            # first, as a SIGTERM during its own cleanup would cut that short.
            _stop(process, CTRL_C_GRACE_S)
            raise
        except BaseException:
            _stop(process, 0.0)
            raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _stop(process: subprocess.Popen[str], grace: float) -> None:
    """After `grace` seconds, SIGTERM (`timeout` may have signalled the whole group
    already: the child's `terminate_cleanly` takes only the first), then SIGKILL past
    SWAP_STOP_S."""
    for signal_child, wait in ((None, grace), (process.terminate, SWAP_STOP_S),
                               (process.kill, None)):
        if signal_child is not None:
            signal_child()
        try:
            process.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _warn_of_unswapped_frames(pair: Pair, engine: str, swap_output: str) -> None:
    """Frames the swap passed through score as the target: say so beside the numbers (a
    broken cached analysis once passed 40 of 150 frames through unnoticed)."""
    counts = re.search(r"(\d+)/(\d+) frames swapped", swap_output)
    if counts and int(counts[1]) < int(counts[2]):
        log.warning("%s / %s: %s of %s frames swapped, the rest passed through unchanged "
                    "(no face of the chosen person found there)", pair.name, engine,
                    counts[1], counts[2])


def run_pair(pair: Pair, engine: str, plan: Plan, out_root: Path, skip_swap: bool,
             swap_only: bool = False, job_id: int | None = None,
             redo: bool = False) -> Outcome:
    folder = out_root / pair.name / engine
    folder.mkdir(parents=True, exist_ok=True)
    source, target = prepared(pair, plan.max_frames, out_root / "targets")
    swapped = folder / ("swapped" + (target.suffix if media.is_photo_path(target) else ".mp4"))
    settings = run_settings(pair, engine, plan, source, target, job_id)
    if not (redo or swap_only):
        resumed = resumed_outcome(pair, engine, folder, settings)
        if resumed is not None:
            return resumed
    (folder / RUN_FILE).unlink(missing_ok=True)  # whatever follows replaces that run
    seconds, error = 0.0, ""
    if not (skip_swap and swapped.is_file()):
        seconds, error = run_swap(pair, source, target, engine,
                                  plan.engine_args.get(engine, []), swapped, job_id)
    if error:
        log.error("%s / %s: swap failed: %s", pair.name, engine, error)
        return Outcome(pair, engine, seconds, None, f"swap: {error}")
    if swap_only:
        return Outcome(pair, engine, seconds, None, "not evaluated (--swap-only)")
    config = EvalConfig(gallery=plan.gallery, target_person=pair.target_person,
                        max_frames=plan.max_frames, cache_dir=out_root / "cache")
    try:
        report = evaluate(source, target, swapped, folder / "report", config)
    except FacedubError as failure:
        return Outcome(pair, engine, seconds, None, f"eval: {failure}")
    write_json_atomic(folder / RUN_FILE, {**settings, "swap_seconds": round(seconds, 2)})
    return Outcome(pair, engine, seconds, report)


def run_settings(pair: Pair, engine: str, plan: Plan, source: Path, target: Path,
                 job_id: int | None) -> dict[str, Any]:
    """What a pair's swap and report were made from: a report made otherwise is not
    resumed."""
    return {"pair": pair.name, "engine": engine, "source": str(source), "target": str(target),
            "job_id": pair_job_id(pair.name) if job_id is None else job_id,
            "engine_args": plan.engine_args.get(engine, []), "max_frames": plan.max_frames,
            "gallery": None if plan.gallery is None else str(plan.gallery),
            "target_person": None if pair.target_person is None else str(pair.target_person)}


def resumed_outcome(pair: Pair, engine: str, folder: Path, settings: dict[str, Any]
                    ) -> Outcome | None:
    """The outcome of a pair finished by an earlier run into the same folder: its run.json
    (written after the report) names these settings and its report is whole."""
    try:
        recorded = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    seconds = recorded.pop("swap_seconds", 0.0) if isinstance(recorded, dict) else 0.0
    report = read_report(folder / "report") if recorded == settings else None
    if report is None:
        return None
    log.info("%s / %s: resumed, its report is whole (--redo measures it again)", pair.name,
             engine)
    return Outcome(pair, engine, float(seconds), report)


def markdown(outcomes: list[Outcome]) -> str:
    header = ["pair", "engine", "swap s", "frames", "lost", "nearer src", "top-1", "id→src",
              "pose°", "expr", "expr dist", "mouth", "smile", "flicker", "jitter %", "seam ΔE+",
              *[f"yaw {label}" for label, _, _ in YAW_BINS]]
    rows = []
    for outcome in outcomes:
        lead = [outcome.pair.name, outcome.engine, f"{outcome.swap_seconds:.0f}"]
        if outcome.report is None:
            rows.append([*lead, outcome.error.replace("|", "/"), *[""] * (len(header) - 4)])
            continue
        s = outcome.report.summary
        m = s.mean
        rows.append([
            *lead, str(s.face_frames), _pct(s.failed_share), _pct(m("id_nearer_source")),
            _pct(m("id_retrieved")), f"{m('id_distance_source'):.3f}",
            f"{m('pose_error'):.1f}", f"{m('expression_error'):.3f}",
            f"{m('expression_distance'):.3f}", _pct(m("mouth_open_agree")),
            _pct(m("smile_agree")), f"{m('flicker'):.2f}", f"{m('landmark_jitter'):.2f}",
            f"{m('seam_color_excess'):.2f}",
            *["–" if not row.frames else f"{row.frames}: {_pct(row.means['id_nearer_source'])}"
              f", {row.means['pose_error']:.1f}°" for row in s.bins]])
    legend = ("frames: frames with the target face. lost: those whose swapped face was not "
              "found. nearer src: described frames nearer the source than the target (lost = "
              "miss). top-1: ID retrieval in the gallery. Yaw columns, by the target's |yaw|: "
              "frames, nearer src, pose error. expr: mean |blendshape difference|; expr dist: its "
              "length over the 51 blendshapes; mouth: jawOpen agrees open or closed; smile: frames "
              "with mouthSmile within 0.1 (mouth and smile not judged where the swap keeps half "
              "the target's lower lip behind an occluder).")
    return markdown_table(header, rows) + "\n\n" + legend + "\n"


REALISM_COLUMNS = (("invented colour", "invented_colour", "pct"), ("blobs", "blobs", "pct"),
                   ("stubble", "stubble", "pct"),
                   ("doubled edges", "doubled_edges", "pct"),
                   ("sharpness", "sharpness_mismatch", "num"),
                   ("grain", "grain_mismatch", "num"), ("tone vs neck ΔE", "tone_vs_neck", "num"),
                   ("colour flatness", "colour_flatness", "num"),
                   ("foreign bands", "foreign_bands", "pct"))


def realism_markdown(outcomes: list[Outcome]) -> str:
    """The realism table: self-swap fidelity (SSIM, PSNR, edge error against the target,
    which is the ideal output), nearer-source share per yaw bin of cross-identity pairs,
    and the mean of every artifact measure (all near 0 for a clean swap)."""
    header = ["pair", "kind", "SSIM", "PSNR dB", "edge err",
              *[f"nearer src {label}" for label, _, _ in YAW_BINS],
              *[label for label, _, _ in REALISM_COLUMNS]]
    rows = []
    for outcome in outcomes:
        if outcome.report is None:
            continue
        s = outcome.report.summary
        m = s.mean
        self_swap = outcome.pair.self_swap
        fidelity = ([f"{m('face_ssim'):.3f}", f"{m('face_psnr'):.1f}", f"{m('edge_error'):.2f}"]
                    if self_swap else ["–"] * 3)
        bins = ["–" if self_swap or not row.frames else
                f"{_pct(row.means['id_nearer_source'])} ({row.frames})" for row in s.bins]
        artifacts = [_pct(m(name)) if kind == "pct" else f"{m(name):.2f}"
                     for _, name, kind in REALISM_COLUMNS]
        rows.append([outcome.pair.name, "self" if self_swap else "cross", *fidelity, *bins,
                     *artifacts])
    legend = ("SSIM/PSNR/edge error: face region against the target, shown for self-swaps "
              "only (the target is the ideal output). nearer src: share of described frames "
              "nearer the source than the target per |yaw| bin (frames in brackets). "
              "Artifact measures: shares of the face region, |log2| ratios, ΔE, and colour "
              "flatness (1 - the skin's colour contrast over the target's); 0 is clean.")
    return markdown_table(header, rows) + "\n\n" + legend + "\n"


def _pct(share: float) -> str:
    return "n/a" if share != share else f"{100 * share:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", type=Path, help="PAIRS.toml")
    parser.add_argument("--engine", action="append", help="engine(s) to run (default: file's)")
    parser.add_argument("--out", type=Path, help="output folder (default: a new temp folder)")
    parser.add_argument("--max-frames", type=int, help="override the file's max_frames")
    parser.add_argument("--only", action="append", help="run only the pair(s) of this name")
    parser.add_argument("--skip-swap", action="store_true",
                        help="evaluate swapped files already in --out instead of swapping")
    parser.add_argument("--swap-only", action="store_true",
                        help="swap only; evaluate later with --skip-swap")
    parser.add_argument("--job-id", type=int,
                        help="watermark job id of every swap, 0..65535 (default: each pair's "
                             "own, from its name, the same in every run)")
    parser.add_argument("--redo", action="store_true",
                        help="measure pairs again whose report in --out is already whole "
                             "(default: read them back)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    plan = load_plan(args.pairs)
    if args.max_frames is not None:
        plan = Plan(plan.pairs, plan.engines, plan.engine_args, args.max_frames, plan.gallery)
    out_root = args.out or Path(tempfile.mkdtemp(prefix="facedub-quality-"))
    engines = tuple(args.engine or plan.engines)
    pairs = [p for p in plan.pairs if not args.only or p.name in args.only]
    try:
        with terminate_cleanly():
            outcomes = [run_pair(pair, engine, plan, out_root, args.skip_swap,
                                 args.swap_only, args.job_id, args.redo)
                        for pair in pairs for engine in engines]
    except (Terminated, KeyboardInterrupt) as stop:
        code, name = ((stop.exit_code, str(stop)) if isinstance(stop, Terminated)
                      else (130, "SIGINT"))
        log.error("stopped (%s); nothing was left half-written: the same command resumes "
                  "from the pairs finished in %s", name, out_root)
        return code
    table = markdown(outcomes) + "\n" + realism_markdown(outcomes)
    write_text_atomic(out_root / "quality.md", table)
    write_json_atomic(out_root / "quality.json", [_json(o) for o in outcomes])
    print(table)
    print(f"outputs, reports and quality.json in {out_root}")
    return 0 if all(o.report is not None or (args.swap_only and not o.error.startswith("swap"))
                    for o in outcomes) else 1


def _json(outcome: Outcome) -> dict[str, Any]:
    return {"pair": outcome.pair.name, "engine": outcome.engine, "note": outcome.pair.note,
            "source": str(outcome.pair.source), "target": str(outcome.pair.target),
            "swap_seconds": round(outcome.swap_seconds, 2), "error": outcome.error or None,
            "report": str(outcome.report.out_dir) if outcome.report else None,
            "summary": outcome.report.summary.to_json() if outcome.report else None}


if __name__ == "__main__":
    sys.exit(main())
