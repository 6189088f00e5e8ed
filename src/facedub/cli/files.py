"""Commands on media files: extract, inspect, swap, eval, verify."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from facedub.cli.app import app, path_argument, path_option
from facedub.cli.terminal import (
    CONTINUES,
    RENDERS_AGAIN,
    InterruptedWith,
    RichProgress,
    removed_if_failed,
    say,
    sole_output,
    stopped_by,
    terminate_cleanly,
    user_errors,
)
from facedub.errors import FacedubError, Terminated
from facedub.fsutil import check_writable_output, describe_os_error, file_identity

if TYPE_CHECKING:  # the swap's modules load when a swap runs (the CLI starts faster)
    from facedub.batch.chunks import Chunk
    from facedub.engines.base import SwapEngine
    from facedub.engines.registry import EngineRequest
    from facedub.swap import SwapConfig, SwapResult

log = logging.getLogger(__name__)


@app.command()
@user_errors
def extract(
    # Named as README and every other command name theirs: "{media}" and "Missing argument
    # 'media'" were the only lower-case ones.
    media: Annotated[Path, path_argument(help="A video, a photo, or a folder of photos.",
                                         metavar="MEDIA")],
    out: Annotated[Path, path_option("--out", "-o", help="Faceset folder to write (or resume).")],
    person: Annotated[Path | None, path_option(
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
    # SIGTERM and SIGHUP as Ctrl-C: one line and 143/129 (they killed the process, -15,
    # with no line); the folder is kept, and the same command resumes it.
    with terminate_cleanly(), removed_if_failed(out):
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
    faceset_dir: Annotated[Path, path_argument(help="A faceset folder.", metavar="FACESET")],
    plot: Annotated[Path | None, path_option(
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
    if plot is not None and plot.suffix.lower() != ".png":
        # The map is drawn as a PNG; any other name would hold PNG bytes under a wrong suffix.
        raise FacedubError(f"--plot {plot}: the coverage map is a PNG; name it .png")
    # SIGTERM and SIGHUP end it with one line and 143/129, as Ctrl-C does with 130 (they
    # killed the process silently, -15, while a large faceset was read or its map drawn).
    with terminate_cleanly():
        report = inspect_faceset(load_faceset(faceset_dir), plot or default_plot)
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
    target: Annotated[Path, path_option(help="Video or photo whose face is replaced.")],
    out: Annotated[Path, path_option("--out", "-o", help=(
        "Output video (.mp4, .m4v, .mov, .mkv, .webm or .avi) or photo."))],
    source: Annotated[Path | None, path_option(
        help="The face to put in: a video, a photo, a folder of photos, or a faceset "
             "(mesh engine).")] = None,
    engine: Annotated[str, typer.Option(help="'mesh' (no training) or 'neural'.")] = "mesh",
    model: Annotated[Path | None, path_option(
        help="Trained run folder or exported .onnx (neural engine).")] = None,
    refiner: Annotated[Path | None, path_option(
        help="Mesh engine: a refiner of `facedub refine` for this source (folder or its "
             "exported .onnx) that cleans the engine's face.")] = None,
    target_person: Annotated[Path | None, path_option(
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
        help="Mesh engine: the target's gaze and blinks (its own eyes).")] = True,
    source_eyes: Annotated[bool, typer.Option(
        help="Mesh engine, with --keep-target-eyes: the source's own eyes, toned like the "
             "target's and turned to its gaze, the target's while it blinks beyond the "
             "source (--no-source-eyes: always the target's).")] = True,
    keep_target_mouth: Annotated[bool, typer.Option(
        help="Mesh engine: keep the target's mouth opening (teeth, tongue).")] = True,
    source_mouth: Annotated[bool, typer.Option(
        help="Mesh engine, with --keep-target-mouth, from a source video onto another "
             "person: where the chosen source faces' mouth is more open or wider than the "
             "target's, the lips of other source faces whose mouth fits (--no-source-mouth: "
             "the target's own lips there).")] = True,
    stubble: Annotated[str, typer.Option(
        help="Mesh engine, where the source shows stubble: hair (its darkness and specks "
             "as greyish hair on the target's skin tone) | shave (the target's own chin "
             "and upper-lip skin; the face reads less like the source) | as-is.")]
    = "hair",
    crf: Annotated[int, typer.Option(help="H.264 quality: 0 lossless .. 51 worst.")] = 18,
    preset: Annotated[str, typer.Option(
        help="x264 speed preset (ultrafast .. veryslow).")] = "veryfast",
    device: Annotated[str, typer.Option(help="Neural engine: auto | cpu | cuda | mps.")]
    = "auto",
    work_dir: Annotated[Path | None, path_option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)."
    )] = None,
    visible_label: Annotated[bool, typer.Option(
        help="The visible 'AI-generated' label. The invisible watermark and the content "
             "credentials are always written.")] = True,
    job_id: Annotated[int | None, typer.Option(
        help="The job id the invisible watermark and the credentials carry, 0..65535 "
             "(default: a random one). The same id, inputs and options give the same "
             "frames: for repeatable comparisons.")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Replace an existing output file (without it, an existing one is refused).")]
    = False,
) -> None:
    """Put the source person's face into the target video or photo."""
    from facedub.composite.compositor import CompositeConfig
    from facedub.engines.mesh import MeshEngineConfig
    from facedub.engines.registry import EngineRequest
    from facedub.extract.models import AnalysisModels
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir
    from facedub.swap import SwapConfig

    # With -v each bar's end is a line (`RichProgress`); the source's say so.
    source_bars = RichProgress(role="source: ")
    try:
        segments = _checked_swap_inputs(target, out, (source, model, refiner, target_person),
                                        device, work_dir, overwrite)
        # From here to the source's analysis's bar (or the target's, the source's reused)
        # the swap's start is named: the models and the source read drew nothing for 3.1 s
        # at load 30 here, 10 s on a fresh clone's first run. Not before the checks above: a
        # refusal of bad input is one line in a terminal, with nothing drawn before it.
        source_bars.wait("reading the source" if source is not None else "loading the model")
        config = SwapConfig(
            work_dir=work_dir or default_work_dir(), config_dir=config_dir(),
            target_person=target_person, crf=crf, preset=preset, visible_label=visible_label,
            job_id=job_id,
            composite=CompositeConfig(color=color, blend=blend, mask_erode=mask_erode,
                                      mask_blur=mask_blur, relight=relight,
                                      occlusion=occlusion))
        mesh_config = MeshEngineConfig(neighbours=neighbours, keep_target_eyes=keep_target_eyes,
                                       source_eyes=source_eyes, keep_target_mouth=keep_target_mouth,
                                       source_mouth=source_mouth, stubble=stubble)
        # One NudeNet and one identity model for the source's analysis and the target's.
        models = AnalysisModels()
        plan = _SwapPlan(target, out, engine, source_bars, config, segments, EngineRequest(
            config.work_dir, source, model, device, mesh_config, source_bars, refiner, models))
        key_existed = _signing_key(config.config_dir).exists()
        result, stopped = _swap_into_locked_output(plan)
        if result is not None:
            reported = _report_finished_swap(out, result, config.config_dir, key_existed)
            stopped = stopped or reported
        if stopped is not None:
            _exit_written_whole(out, stopped)
    finally:
        source_bars.finish()  # a wait that no bar ended (an error: before its line)


@dataclass(frozen=True)
class _SwapPlan:
    """A swap whose inputs were checked: the target, -o, the engine's name and what it
    opens from, the source's bars (its wait drawn), the swap's settings, and the target's
    segments (None: rendered unsplit)."""

    target: Path
    out: Path
    engine: str
    source_bars: RichProgress
    config: SwapConfig
    segments: tuple[Chunk, ...] | None
    request: EngineRequest


def _checked_swap_inputs(target: Path, out: Path, others: tuple[Path | None, ...],
                         device: str, work_dir: Path | None, overwrite: bool
                         ) -> tuple[Chunk, ...] | None:
    """The swap's refusals, in their order, before anything is drawn or written: the
    device, -o (a folder, an existing file, one of the inputs), the output's kind against
    the target's, the work folder; then the target's segments (None: rendered unsplit),
    whose probe refuses a photo named as a video. `others`: the other inputs given."""
    from facedub.batch.resumable import plan_segments
    from facedub.devices import check_device
    from facedub.locations import work_dir as default_work_dir
    from facedub.swap import check_output_path
    from facedub.threads import reuse_freed_memory

    reuse_freed_memory()  # before the source's analysis too (swap() sets it as well)
    check_device(device)
    inputs = tuple(p for p in (target, *others) if p is not None)
    # The path first: -o naming a folder was answered "the target is a photo, so the
    # output must be a photo too", as if the extension were the fault.
    check_writable_output(out, "-o", inputs=inputs, overwrite=overwrite)
    check_output_path(target, out, inputs)
    check_writable_output(work_dir or default_work_dir(), "--work-dir", folder=True,
                          parents=True)
    # A long video renders in segments that the same command again does not render
    # again; a shorter one (or a photo) unsplit, as always.
    return plan_segments(target)


def _swap_into_locked_output(plan: _SwapPlan
                             ) -> tuple[SwapResult | None, Terminated | KeyboardInterrupt | None]:
    """The swap, with -o locked to this run: (its result, a stop that came once the
    output and its sidecar were written whole). A stop before that is raised."""
    # Two swaps into one file at once: the last rename won, and the sidecar beside it
    # could be the other run's.
    result: SwapResult | None = None
    before = file_identity(plan.out)
    try:
        with terminate_cleanly(), sole_output(plan.out, "file"):
            before = file_identity(plan.out)  # again with the lock held: no other run writes
            swap_engine = _opened_engine(plan)
            try:
                result = _render(plan, swap_engine)
            finally:
                # A swap that fails ends no track: the engine's landmarker is closed here,
                # not left to the garbage collector (MediaPipe's close from __del__ could
                # hang). Closed here, not in a function that returns the result: a stop
                # raised by the close would drop that return, and with it the finished
                # swap's report (its marks line) below.
                swap_engine.close()
    except (Terminated, KeyboardInterrupt) as stop:
        # A stop while the engine closed, after the output and its sidecar were written:
        # it said "nothing was left half-written, run the same command again", and the
        # same command then refused the finished output as existing. Judged by the files,
        # not by the result alone: a segmented swap removes its segments (seconds for
        # gigabytes) after the output is whole and before it returns its result.
        if result is None and not _published_since(plan.out, before):
            raise
        return result, stop
    return result, None


def _opened_engine(plan: _SwapPlan) -> SwapEngine:
    """The plan's engine, opened (the source's analysis with it), its time said."""
    from facedub.engines.registry import open_engine

    opening = time.monotonic()
    swap_engine = open_engine(plan.engine, plan.request)
    plan.source_bars.finish()  # its wait, the source's analysis reused: one live line
    source = plan.request.source
    log.info("source: the %s engine of %s ready in %.1f s%s", plan.engine,
             (source or plan.request.model or Path("-")).name, time.monotonic() - opening,
             "" if plan.source_bars.bars or source is None
             else " (its analysis reused from the work folder)")
    return swap_engine


def _render(plan: _SwapPlan, swap_engine: SwapEngine) -> SwapResult:
    """The target swapped whole (`swap.swap`) or in segments (`resumable_swap`); a Ctrl-C
    says what the same command again does: render again, or continue."""
    from facedub.batch.resumable import resumable_swap
    from facedub.swap import swap as run_swap

    try:
        if plan.segments is None:
            return run_swap(plan.target, swap_engine, plan.out, plan.config, RichProgress(),
                            models=plan.request.models)
        return resumable_swap(plan.target, swap_engine, plan.out, plan.config, plan.segments,
                              RichProgress(), models=plan.request.models, say=say)
    except BaseException as error:
        if isinstance(stopped_by(error), KeyboardInterrupt):
            raise InterruptedWith(RENDERS_AGAIN if plan.segments is None
                                  else CONTINUES) from None
        raise


def _report_finished_swap(out: Path, result: SwapResult, config_dir: Path,
                          key_existed: bool) -> Terminated | KeyboardInterrupt | None:
    """The finished swap's lines, under the same handlers; a stop while they were said is
    returned (the console command's own handler, outside the block, said that the output
    was not written)."""
    try:
        with terminate_cleanly():
            _report_swap(out, result, config_dir, key_existed)
    except (Terminated, KeyboardInterrupt) as stop:
        return stop
    return None


def _exit_written_whole(out: Path, stopped: Terminated | KeyboardInterrupt) -> NoReturn:
    """A stop after the output was written whole: said so, with the stop's exit code
    (raised here, outside the except that caught the stop: within it, the stop is found
    again)."""
    said, code = (("terminated", stopped.exit_code) if isinstance(stopped, Terminated)
                  else ("interrupted", 130))
    say(f"{said} after {out.name} was written whole")
    raise typer.Exit(code)


def _published_since(out: Path, before: tuple[int, int, int] | None) -> bool:
    """The swap's output and its sidecar are in place and the output is not the one that
    was there before: the output is published only whole with its sidecar (a stop while
    it is published removes both), so both there means written whole."""
    from facedub.provenance.manifest import sidecar_path

    return sidecar_path(out).is_file() and file_identity(out) not in (None, before)


def _report_swap(out: Path, result: SwapResult, config_dir: Path, key_existed: bool) -> None:
    """The lines a finished swap says: what was swapped, the audio, the transparency, the
    marks, and a signing key made for it."""
    from facedub.provenance.mark import can_embed_credentials

    say(f"{out}: {result.frames_swapped}/{result.frames} frames swapped "
        f"(target person {result.target_person} of {result.target_persons}, "
        f"face composited at {result.crop_size} px) in {result.seconds:.1f} s")
    for track in result.audio:
        say(track.describe())
    if result.transparency:
        say(result.transparency)
    # Only some containers have room for signed credentials; the rest keep the sidecar.
    credentials = "content credentials, " if can_embed_credentials(out) else ""
    say(f"marked: invisible watermark (job {result.job_id}), {credentials}"
        f"{result.sidecar.name}")
    if not key_existed and _signing_key(config_dir).exists():
        say(f"created a local signing key for content credentials in "
            f"{_signing_key(config_dir).parent} (kept for later runs; put your own "
            "signing-chain.pem and signing-key.pem there to sign as yourself)")


def _signing_key(config_dir: Path) -> Path:
    from facedub.provenance.credentials import KEY_FILE
    from facedub.provenance.mark import CREDENTIALS_FOLDER

    return config_dir / CREDENTIALS_FOLDER / KEY_FILE


@app.command("eval")
@user_errors
def evaluate_command(
    source: Annotated[Path, path_option(
        help="The face that was put in: video, photo, folder of photos or faceset.")],
    target: Annotated[Path, path_option(help="The original target video or photo.")],
    swapped: Annotated[Path, path_option(help="The swap to measure (any tool's output).")],
    out: Annotated[Path, path_option("--out", "-o", help="Report folder to write.")],
    gallery: Annotated[Path | None, path_option(
        help="Folder of photos or videos of other people (one per file) for ID retrieval."
    )] = None,
    target_person: Annotated[Path | None, path_option(
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
    cache_dir: Annotated[Path | None, path_option(
        help="Where gallery descriptors are cached between runs.")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Replace the report in an existing, non-empty -o folder.")] = False,
) -> None:
    """Measure a swap: identity, pose, expression, stability and seams, with a report.

    Stopped (Ctrl-C), the same command again resumes where it stopped.
    """
    from facedub.evaluate import EvalConfig, evaluate
    from facedub.evaluate.resume import EvalWork, open_work
    from facedub.locations import work_dir

    check_writable_output(out, "-o", inputs=[p for p in (source, target, swapped) if p],
                          folder=True)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FacedubError(f"-o {out}: the folder is not empty; pass --overwrite to replace "
                           "the report in it, or choose a new folder")

    config = EvalConfig(gallery=gallery, target_person=target_person, max_frames=max_frames,
                        identity_every=identity_every, max_faces=max_faces,
                        source_frames=source_frames, worst_count=worst, strip_frames=strip,
                        cache_dir=cache_dir)
    # Killed (SIGTERM, SIGHUP, Ctrl-C), the evaluation removes a report folder it created
    # and keeps its analyses and measured frames in the work folder: the same command
    # again resumes (evaluate/resume.py). The work folder is opened under the lock on -o
    # (`removed_if_failed`): a second evaluation into the same report is refused before it
    # could empty or remove the first's work folder.
    with terminate_cleanly(), removed_if_failed(out):
        try:
            resume: EvalWork | None = open_work(work_dir(), source, target, swapped, out,
                                                config)
        except OSError as error:  # a read-only work folder: measured as before
            log.warning("%s: cannot keep the evaluation's work there (%s); stopped, it "
                        "would measure again from the first frame", work_dir(),
                        describe_os_error(error))
            resume = None
        if resume is not None and (line := resume.resumed_line()) is not None:
            say(line)
        # A faceset source's crops are checked once, the pass kept in the work folder.
        report = evaluate(source, target, swapped, out, config, RichProgress(), work_dir(),
                          resume)
    for line in report.summary_lines():
        typer.echo(line)


@app.command()
@user_errors
def verify(
    media: Annotated[Path, path_argument(help="A video or photo to check.", metavar="FILE")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")]
    = False,
    max_frames: Annotated[int, typer.Option(help="Frames read for the watermark.")] = 150,
) -> None:
    """Find facedub's marks in a file: watermark, content credentials, sidecar.

    Exit code 0: marks found; 1: none; 2: the file could not be read.
    """
    import json

    from facedub.provenance import verify as run_verify

    if max_frames < 1:  # the library's own line named its argument, max_frames
        raise FacedubError(f"--max-frames {max_frames}: read at least 1 frame")
    with terminate_cleanly():  # SIGTERM/SIGHUP: one line and 143/129 (they were -15/-1)
        result = run_verify(media, max_frames=max_frames)
    if json_output:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        for line in result.summary_lines():
            typer.echo(line)
    raise typer.Exit(result.exit_code)
