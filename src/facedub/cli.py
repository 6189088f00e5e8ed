"""The `facedub` command: one subcommand per stage. Each builds a frozen config from its
options and calls one library function; errors become one line and exit code 2."""

from __future__ import annotations

import os

# MediaPipe's C++ core logs through glog; keep its start-up chatter off the terminal.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib
import functools
import logging
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from PIL import Image
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from facedub import __version__
from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output, describe_os_error

app = typer.Typer(
    name="facedub", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Face swapping for video and photos that says what it is: every output carries an "
         "invisible watermark and content credentials.")
console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class SpeedColumn(ProgressColumn):
    """Items per second; a dash until rich has measured a speed (after the first steps)."""

    def __init__(self, unit: str) -> None:
        super().__init__(table_column=Column(no_wrap=True))
        self._unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        shown = "  -  " if speed is None else f"{speed:>5.1f}"
        return Text(f"{shown} {self._unit}/s", no_wrap=True)


class RichProgress:
    """facedub.progress.Progress on the terminal: bar, items/s, time left, and a status
    line (training shows its losses there)."""

    def __init__(self, unit: str = "frames") -> None:
        self._unit = unit
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int | None, description: str) -> None:
        self._bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=12),
            MofNCompleteColumn(), SpeedColumn(self._unit),
            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            TextColumn("{task.fields[status]}",
                       table_column=Column(no_wrap=True, overflow="ellipsis")),
            console=console, transient=False, disable=not console.is_terminal)
        self._bar.start()
        self._task = self._bar.add_task(escape(_shorten(description, DESCRIPTION_WIDTH)),
                                        total=total, status="")

    def status(self, text: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, status=text)

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, steps)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


DESCRIPTION_WIDTH = 22  # keeps bar, count, speed and time on one 80-column line


def _shorten(text: str, width: int) -> str:
    """`text` cut in its middle to `width` characters (file names keep their ending)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def say(text: str) -> None:
    """One message to the terminal (stderr), never wrapped mid-line."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


def _error_line(text: str) -> None:
    console.print(f"[red]error:[/red] {escape(text)}", highlight=False, soft_wrap=True)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that `finally` blocks remove staged files. A
    BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM raises Terminated for the duration of a command (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        del signum, frame
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _removed_if_failed(folder: Path) -> Iterator[None]:
    """A folder this command creates is removed again when the command fails (bad input,
    full disk), so a failure leaves nothing at the output. A folder that existed before (a
    run being resumed) is kept, and so is one left by Ctrl-C: that is how long work
    resumes."""
    existed = folder.exists()
    try:
        yield
    except (FacedubError, OSError, Image.DecompressionBombError):
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def user_errors(command: F) -> F:
    """Turn FacedubError into one red line and exit code 2; Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FacedubError as error:
            _error_line(str(error))
            raise typer.Exit(2) from None
        except OSError as error:  # disk full, read-only, permissions: the user's to fix
            where = f"{error.filename}: " if error.filename else ""
            _error_line(f"{where}{describe_os_error(error)}; nothing was written, run the "
                        "same command again once that is fixed")
            raise typer.Exit(2) from None
        except Image.DecompressionBombError as error:
            _error_line(f"{_first_line(error)}: refused as a possible decompression bomb; "
                        "scale the image down first")
            raise typer.Exit(2) from None
        except Terminated:
            say("terminated; nothing was left half-written, run the same command again")
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            say("interrupted; run the same command again to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    """--version is eager: it answers before click asks for a command."""
    if value:
        typer.echo(f"facedub {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what each stage does.")]
    = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    del version  # handled by its eager callback
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@app.command()
@user_errors
def extract(
    media: Annotated[Path, typer.Argument(help="A video, a photo, or a folder of photos.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Faceset folder to write (or resume).")],
    person: Annotated[Path | None, typer.Option(
        help="Photo of the person to choose; default: the person with the most screen "
             "time.")] = None,
    size: Annotated[int, typer.Option(help="Aligned crop size in pixels.")] = 256,
    coverage: Annotated[str, typer.Option(
        help="'whole' (face, forehead and some context) or 'face' (tight).")] = "whole",
    max_faces: Annotated[int, typer.Option(help="Faces looked for in each frame.")] = 4,
    every: Annotated[int, typer.Option(help="Analyse every Nth frame.")] = 1,
    max_frames: Annotated[int | None, typer.Option(
        help="Stop after this many analysed frames.")] = None,
    identity_every: Annotated[int, typer.Option(
        help="Identity descriptor on every Nth analysed frame (and for new faces).")] = 10,
) -> None:
    """Find, align and save the faces of a video or photos as a faceset."""
    from facedub.extract import extract as run_extract
    from facedub.extract.config import ExtractConfig

    check_writable_output(out, "-o", inputs=[p for p in (media, person) if p], folder=True)

    config = ExtractConfig(crop_size=size, coverage=coverage,  # type: ignore[arg-type]
                           max_faces=max_faces, every=every, max_frames=max_frames,
                           identity_every=identity_every, person_reference=person)
    with _removed_if_failed(out):
        result = run_extract(media, out, config, RichProgress())
    meta = result.faceset.meta
    resumed = (f" ({result.frames_resumed} from an earlier run)" if result.frames_resumed
               else "")
    say(f"{out}: {len(result.faceset.records)} faces in "
        f"{result.frames_with_faces}/{result.frames_analysed} frames{resumed}")
    for summary in meta.persons:
        chosen = "  <- chosen" if summary.id == meta.person else ""
        say(f"  person {summary.id}: {summary.faces} faces, {summary.frames} frames, "
            f"{summary.tracks} tracks{chosen}")
    if result.reference_distance is not None:
        say(f"  --person matched at identity distance {result.reference_distance:.2f}")


@app.command()
@user_errors
def inspect(
    faceset_dir: Annotated[Path, typer.Argument(help="A faceset folder.", metavar="FACESET")],
    plot: Annotated[Path | None, typer.Option(
        help="Where to write the coverage map (default FACESET/coverage.png).")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Replace an existing output file (without it, an existing one is refused).")]
    = False,
) -> None:
    """Faces per person, sharpness, pose ranges and a yaw x pitch coverage map."""
    from facedub.evaluate.inspection import inspect_faceset
    from facedub.faceset import load_faceset

    default_plot = faceset_dir / "coverage.png"  # the faceset's own map, rewritten each time
    if plot is not None and plot.resolve() != default_plot.resolve():
        check_writable_output(plot, "--plot", inputs=[faceset_dir], overwrite=overwrite)
    faceset = load_faceset(faceset_dir)
    report = inspect_faceset(faceset, plot or default_plot)
    typer.echo(f"{faceset_dir}: from {report.source}, {report.frames_analysed} frames analysed")
    typer.echo("person  faces  frames  tracks  sharpness  yaw p5..p95   pitch p5..p95  "
               "roll p5..p95")
    for p in report.persons:
        mark = "*" if p.chosen else " "
        typer.echo(f"{p.person:>5}{mark} {p.faces:>6} {p.frames:>7} {p.tracks:>7} "
                   f"{p.sharpness_median:>10.0f}  {_span(p.yaw_range):>12}  "
                   f"{_span(p.pitch_range):>13}  {_span(p.roll_range):>12}")
    typer.echo("* chosen person (swap and train use it)")
    typer.echo(f"coverage map: {report.coverage_png}")


def _span(values: tuple[float, float]) -> str:
    return f"{values[0]:+.0f}..{values[1]:+.0f}"


@app.command()
@user_errors
def swap(
    target: Annotated[Path, typer.Option(help="Video or photo whose face is replaced.")],
    out: Annotated[Path, typer.Option("--out", "-o", help=(
        "Output video (.mp4, .m4v, .mov, .mkv, .webm or .avi) or photo."))],
    source: Annotated[Path | None, typer.Option(
        help="The face to put in: a video, a photo, a folder of photos, or a faceset "
             "(mesh engine).")] = None,
    engine: Annotated[str, typer.Option(help="'mesh' (no training) or 'neural'.")] = "mesh",
    model: Annotated[Path | None, typer.Option(
        help="Trained run folder or exported .onnx (neural engine).")] = None,
    refiner: Annotated[Path | None, typer.Option(
        help="Mesh engine: a refiner of `facedub refine` for this source (folder or its "
             "exported .onnx) that cleans the engine's face.")] = None,
    target_person: Annotated[Path | None, typer.Option(
        help="Photo of the target person to replace; default: the one with the most "
             "screen time.")] = None,
    color: Annotated[str, typer.Option(
        help="detail (target's light and tone, source's detail) | reinhard | histogram | "
             "none")] = "detail",
    blend: Annotated[str, typer.Option(help="feather | poisson")] = "feather",
    mask_erode: Annotated[int, typer.Option(help="Shrink the mask (pixels at 256 px).")] = 5,
    mask_blur: Annotated[int, typer.Option(help="Feather width (pixels at 256 px).")] = 15,
    relight: Annotated[float, typer.Option(
        help="How much of the target's shading to carry onto the face, 0 to 1.")] = 0.8,
    occlusion: Annotated[str, typer.Option(
        help="auto: hands, glasses, microphones, hair and food in front of the face stay "
             "in front | off.")] = "auto",
    neighbours: Annotated[int, typer.Option(
        help="Mesh engine: source faces blended per target face.")] = 3,
    keep_target_eyes: Annotated[bool, typer.Option(
        help="Mesh engine: keep the target's eyes (gaze, blinks).")] = True,
    keep_target_mouth: Annotated[bool, typer.Option(
        help="Mesh engine: keep the target's mouth opening (teeth, tongue).")] = True,
    crf: Annotated[int, typer.Option(help="H.264 quality: 0 lossless .. 51 worst.")] = 18,
    preset: Annotated[str, typer.Option(
        help="x264 speed preset (ultrafast .. veryslow).")] = "veryfast",
    device: Annotated[str, typer.Option(help="Neural engine: auto | cpu | cuda | mps.")]
    = "auto",
    work_dir: Annotated[Path | None, typer.Option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)."
    )] = None,
    visible_label: Annotated[bool, typer.Option(
        help="The visible 'AI-generated' label. The invisible watermark and the content "
             "credentials are always written.")] = True,
    overwrite: Annotated[bool, typer.Option(
        help="Replace an existing output file (without it, an existing one is refused).")]
    = False,
) -> None:
    """Put the source person's face into the target video or photo."""
    from facedub.composite.compositor import CompositeConfig
    from facedub.engines.mesh import MeshEngineConfig
    from facedub.engines.registry import EngineRequest, open_engine
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir
    from facedub.swap import SwapConfig, check_output_path
    from facedub.swap import swap as run_swap

    inputs = tuple(p for p in (target, source, model, refiner, target_person)
                   if p is not None)
    check_output_path(target, out, inputs)
    check_writable_output(out, "-o", inputs=inputs, overwrite=overwrite)
    check_writable_output(work_dir or default_work_dir(), "--work-dir", folder=True)
    config = SwapConfig(
        work_dir=work_dir or default_work_dir(), config_dir=config_dir(),
        target_person=target_person, crf=crf, preset=preset, visible_label=visible_label,
        composite=CompositeConfig(color=color, blend=blend, mask_erode=mask_erode,
                                  mask_blur=mask_blur, relight=relight,
                                  occlusion=occlusion))
    mesh_config = MeshEngineConfig(neighbours=neighbours, keep_target_eyes=keep_target_eyes,
                                   keep_target_mouth=keep_target_mouth)
    request = EngineRequest(config.work_dir, source, model, device, mesh_config,
                            RichProgress(), refiner)
    key_existed = _signing_key(config.config_dir).exists()
    with _terminate_cleanly():
        result = run_swap(target, open_engine(engine, request), out, config, RichProgress())
    say(f"{out}: {result.frames_swapped}/{result.frames} frames swapped "
        f"(target person {result.target_person} of {result.target_persons}, "
        f"face composited at {result.crop_size} px) in {result.seconds:.1f} s")
    for track in result.audio:
        say(track.describe())
    from facedub.provenance.mark import can_embed_credentials

    # Only some containers have room for signed credentials; the rest keep the sidecar.
    credentials = "content credentials, " if can_embed_credentials(out) else ""
    say(f"marked: invisible watermark (job {result.job_id}), {credentials}"
        f"{result.sidecar.name}")
    if not key_existed and _signing_key(config.config_dir).exists():
        say(f"created a local signing key for content credentials in "
            f"{_signing_key(config.config_dir).parent} (kept for later runs; put your own "
            "signing-chain.pem and signing-key.pem there to sign as yourself)")


def _signing_key(config_dir: Path) -> Path:
    from facedub.provenance.credentials import KEY_FILE
    from facedub.provenance.mark import CREDENTIALS_FOLDER

    return config_dir / CREDENTIALS_FOLDER / KEY_FILE


@app.command("eval")
@user_errors
def evaluate_command(
    source: Annotated[Path, typer.Option(
        help="The face that was put in: video, photo, folder of photos or faceset.")],
    target: Annotated[Path, typer.Option(help="The original target video or photo.")],
    swapped: Annotated[Path, typer.Option(help="The swap to measure (any tool's output).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder to write.")],
    gallery: Annotated[Path | None, typer.Option(
        help="Folder of photos or videos of other people (one per file) for ID retrieval."
    )] = None,
    target_person: Annotated[Path | None, typer.Option(
        help="Photo of the target person who was swapped (multi-face targets).")] = None,
    max_frames: Annotated[int | None, typer.Option(help="Measure only the first N frames.")]
    = None,
    identity_every: Annotated[int | None, typer.Option(
        help="Identity on every Nth face frame (default: every frame up to 150, then 150 "
             "spread evenly).")] = None,
    max_faces: Annotated[int, typer.Option(help="Faces looked for in each frame.")] = 4,
    source_frames: Annotated[int, typer.Option(
        help="Frames of a source video sampled for its mean identity.")] = 60,
    worst: Annotated[int, typer.Option(help="Worst frames shown per metric.")] = 10,
    strip: Annotated[int, typer.Option(help="Frames in the side-by-side strip.")] = 8,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Where gallery descriptors are cached between runs.")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Replace the report in an existing, non-empty -o folder.")] = False,
) -> None:
    """Measure a swap: identity, pose, expression, stability and seams, with a report."""
    from facedub.evaluate import EvalConfig, evaluate

    check_writable_output(out, "-o", inputs=[p for p in (source, target, swapped) if p],
                          folder=True)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FacedubError(f"-o {out}: the folder is not empty; pass --overwrite to replace "
                           "the report in it, or choose a new folder")

    config = EvalConfig(gallery=gallery, target_person=target_person, max_frames=max_frames,
                        identity_every=identity_every, max_faces=max_faces,
                        source_frames=source_frames, worst_count=worst, strip_frames=strip,
                        cache_dir=cache_dir)
    with _removed_if_failed(out):
        report = evaluate(source, target, swapped, out, config, RichProgress())
    for line in report.summary_lines():
        typer.echo(line)


@app.command()
@user_errors
def verify(
    media: Annotated[Path, typer.Argument(help="A video or photo to check.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")]
    = False,
    max_frames: Annotated[int, typer.Option(help="Frames read for the watermark.")] = 150,
) -> None:
    """Find facedub's marks in a file: watermark, content credentials, sidecar.

    Exit code 0: marks found; 1: none; 2: the file could not be read.
    """
    import json

    from facedub.provenance import verify as run_verify

    result = run_verify(media, max_frames=max_frames)
    if json_output:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        for line in result.summary_lines():
            typer.echo(line)
    raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def train(
    source_faces: Annotated[Path, typer.Argument(
        help="Faceset of the face to put in (person A).", metavar="SOURCE_FACES")],
    target_faces: Annotated[Path, typer.Argument(
        help="Faceset of the person to replace (person B).", metavar="TARGET_FACES")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (resumed if it exists).")],
    preset: Annotated[str, typer.Option(
        help="cpu (64 px, learns in about 15 minutes here) | gpu-128 | gpu-256")] = "cpu",
    model: Annotated[str | None, typer.Option(help="df | liae")] = None,
    res: Annotated[int | None, typer.Option(help="64 | 128 | 256")] = None,
    batch: Annotated[int | None, typer.Option(help="Faces of each person per step.")] = None,
    steps: Annotated[int | None, typer.Option(help="Total steps (a resumed run goes on "
                                                   "up to this).")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable runs.")] = None,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for training (0: torch's default).")] = None,
    save_every: Annotated[int | None, typer.Option(help="Checkpoint every N steps.")] = None,
    preview_every: Annotated[int | None, typer.Option(
        help="Preview grid every N steps.")] = None,
) -> None:
    """Train a per-pair face-swap model: a shared encoder, a decoder per person.

    Ctrl-C saves a checkpoint; running the same command again resumes. Under `torchrun
    --nproc-per-node N -m facedub train ...` it trains on N processes (--batch is global).
    """
    from facedub.faceset import load_faceset
    from facedub.train import preset_config, select_device
    from facedub.train import train as run_train
    from facedub.train.distributed import from_environment, process_group

    check_writable_output(out, "-o", inputs=[source_faces, target_faces], folder=True)

    config = preset_config(preset, model=model, res=res, batch=batch, steps=steps, lr=lr,
                           device=device, seed=seed, threads=threads, save_every=save_every,
                           preview_every=preview_every)
    distributed = from_environment()
    with _removed_if_failed(out), process_group(distributed, select_device(config.device)):
        result = run_train(load_faceset(source_faces), load_faceset(target_faces), out,
                           config, RichProgress(unit="steps"), distributed)
    if distributed is not None and not distributed.leader:
        raise typer.Exit(143 if result.stopped == "SIGTERM" else 130 if result.stopped else 0)
    losses = ", ".join(f"{name} {value:.4f}" for name, value in result.losses.items())
    if result.stopped:
        say(f"{out}: stopped at step {result.step} ({result.stopped}), saved; run the same "
            "command to resume")
        raise typer.Exit(130 if result.stopped == "SIGINT" else 143)
    say(f"{out}: trained to step {result.step} in {result.train_seconds / 60:.1f} min"
        + (f"; {losses}" if losses else ""))


@app.command()
@user_errors
def export(
    run: Annotated[Path, typer.Argument(
        help="Run folder from `facedub train`, or refiner folder from `facedub refine`.",
        metavar="FOLDER")],
    out: Annotated[Path, typer.Option("--out", "-o", help="ONNX file to write.")],
    overwrite: Annotated[bool, typer.Option(
        help="Replace an existing output file (without it, an existing one is refused).")]
    = False,
) -> None:
    """Write a trained model's swap direction (or a refiner) as an ONNX graph for
    onnxruntime."""
    from facedub.models.export import export_onnx
    from facedub.models.refiner_run import is_refiner

    if out.suffix.lower() != ".onnx":
        raise FacedubError(f"{out}: the export must end in .onnx")
    check_writable_output(out, "-o", inputs=[run], overwrite=overwrite)
    if is_refiner(run):
        from facedub.models.refiner_export import export_refiner_onnx

        export_refiner_onnx(run, out)
        say(f"{out}: written; use it with `facedub swap --source SOURCE --refiner {out}`")
        return
    export_onnx(run, out)
    say(f"{out}: written; use it with `facedub swap --engine neural --model {out}`")


@app.command()
@user_errors
def refine(
    source: Annotated[Path, typer.Argument(
        help="The face the refiner learns: a video, a folder of photos, or a faceset.",
        metavar="SOURCE")],
    out: Annotated[Path, typer.Option("--out", "-o",
                                      help="Refiner folder (resumed if it exists).")],
    steps: Annotated[int | None, typer.Option(help="Total steps (a resumed run goes on "
                                                   "up to this).")] = None,
    minutes: Annotated[float | None, typer.Option(
        help="Stop after this many minutes of training in all (0: no limit).")] = None,
    res: Annotated[int | None, typer.Option(help="128 | 256")] = None,
    batch: Annotated[int | None, typer.Option(help="Faces per step.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable runs.")] = None,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for training (0: torch's default).")] = None,
    save_every: Annotated[int | None, typer.Option(help="Checkpoint every N steps.")] = None,
    preview_every: Annotated[int | None, typer.Option(
        help="Preview grid every N steps.")] = None,
    work_dir: Annotated[Path | None, typer.Option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)."
    )] = None,
) -> None:
    """Train a refiner for one source person: it cleans the mesh engine's face.

    Use it with `facedub swap --source SOURCE --refiner OUT`. Ctrl-C or SIGTERM saves a
    checkpoint; running the same command again resumes.
    """
    from facedub import media
    from facedub.engines.registry import SOURCE_CROP
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.locations import work_dir as default_work_dir
    from facedub.train.refine import refine as run_refine
    from facedub.train.refine_config import RefineConfig

    if media.is_photo_path(source) and source.is_file():
        raise FacedubError(f"{source}: a single photo shows one view of the face, and a "
                           "refiner learns by rendering each view of the face from the others; "
                           "give a video, a folder of photos or a faceset (or swap with the "
                           "mesh engine alone)")
    check_writable_output(out, "-o", inputs=[source], folder=True)
    given: dict[str, Any] = {
        "steps": steps, "minutes": minutes, "res": res, "batch": batch, "lr": lr,
        "device": device, "seed": seed, "threads": threads, "save_every": save_every,
        "preview_every": preview_every}
    config = RefineConfig(**{k: v for k, v in given.items() if v is not None})
    faceset = analysed(source, work_dir or default_work_dir(),
                       ExtractConfig(crop_size=SOURCE_CROP), RichProgress())
    with _removed_if_failed(out):
        result = run_refine(faceset, out, config, RichProgress(unit="steps"))
    if result.stopped:
        say(f"{out}: stopped at step {result.step} ({result.stopped}), saved; run the same "
            "command to resume")
        raise typer.Exit(130 if result.stopped == "SIGINT" else 143)
    scores = ", ".join(f"{name} {value:.3f}" for name, value in result.validation.items())
    say(f"{out}: refined to step {result.step} in {result.train_seconds / 60:.1f} min"
        + (f"; held out: {scores}" if scores else ""))


@app.command("batch")
@user_errors
def batch_command(
    jobs_file: Annotated[Path, typer.Argument(
        # Brackets escaped: the help is rendered as rich markup.
        help="TOML jobs file: \\[defaults] and one \\[\\[job]] (source, target, output, "
             "any swap option) per swap.", metavar="JOBS")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumed if it "
                                                          "holds an earlier batch).")],
    workers: Annotated[int, typer.Option(help="Jobs at once on this machine (local pool, "
                                              "or a local Ray).")] = 1,
    cluster: Annotated[str | None, typer.Option(
        help="'ray': run the jobs as Ray tasks (pip install 'facedub\\[cluster]').")] = None,
    address: Annotated[str | None, typer.Option(
        help="Ray cluster address (e.g. 10.0.0.5:6379 or 'auto'); default: start Ray "
             "here.")] = None,
    cpus_per_job: Annotated[float, typer.Option(help="CPUs each Ray task asks for.")] = 1.0,
    retries: Annotated[int, typer.Option(
        help="Times a job lost with its worker process is run again.")] = 2,
    work_dir: Annotated[Path | None, typer.Option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)"
             "; on a cluster, a folder every node reaches at the same path.")] = None,
) -> None:
    """Run many swaps from a jobs file; the same command resumes, skipping finished jobs.

    Exit code 0: every job done; 1: some failed (each named); 2: a bad jobs file.
    """
    from facedub.batch import BatchConfig, load_jobs
    from facedub.batch import batch as run_batch
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir

    config = BatchConfig(work_dir=(work_dir or default_work_dir()).absolute(),
                         config_dir=config_dir().absolute(), workers=workers,
                         cluster=cluster or "local",  # type: ignore[arg-type]
                         address=address, cpus_per_job=cpus_per_job, max_retries=retries)
    jobs = load_jobs(jobs_file, out)
    result = run_batch(jobs, out, config, RichProgress(unit="jobs"))
    for line in result.summary_lines():
        typer.echo(line)
    raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; any but 127.0.0.1 / "
                                           "localhost needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
    token: Annotated[str | None, typer.Option(
        help="Token the page and API ask for (default: none on 127.0.0.1, else one is "
             "generated and printed).")] = None,
    work_dir: Annotated[Path | None, typer.Option(
        help="The app's work folder: uploads, results, reports, the job database "
             "(default: serve/ in $FACEDUB_WORK_DIR or ~/.cache/facedub/work).")] = None,
    max_upload: Annotated[int, typer.Option(help="Largest upload, MB.")] = 512,
    media: Annotated[Path | None, typer.Option(
        help="A folder of photos, videos, photo folders or facesets to pick from in the "
             "page (besides uploads).")] = None,
) -> None:
    """A local web app: swap files with a preview and a job queue, or a live camera."""
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir
    from facedub.serve import serve as run_server

    folder = work_dir or default_work_dir() / "serve"
    check_writable_output(folder, "--work-dir", folder=True)
    if max_upload < 1:
        raise FacedubError("--max-upload must be at least 1 (MB)")
    run_server(folder, config_dir(), host=host, port=port, token=token, say=say,
               max_upload=max_upload * 1024 * 1024, media=media)
