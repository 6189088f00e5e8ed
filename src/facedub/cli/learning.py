"""Commands that train and export models: train, export, refine."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facedub.cli.app import app, path_argument, path_option
from facedub.cli.terminal import (
    RichProgress,
    removed_if_failed,
    say,
    terminate_cleanly,
    user_errors,
)
from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output
from facedub.progress import Progress

if TYPE_CHECKING:
    from facedub.train.refine_crop import CropRefineConfig

# The options `train` and `refine` share (None: the preset's or the run's own value).
Steps = Annotated[int | None, typer.Option(help="Total steps (a resumed run goes on up to "
                                                "this).")]
LearningRate = Annotated[float | None, typer.Option(help="Learning rate.")]
Device = Annotated[str | None, typer.Option(help="auto | cpu | cuda | mps")]
Seed = Annotated[int | None, typer.Option(help="Seed for repeatable runs.")]
Threads = Annotated[int | None, typer.Option(
    help="CPU threads for training (0: torch's default).")]
SaveEvery = Annotated[int | None, typer.Option(help="Checkpoint every N steps.")]
PreviewEvery = Annotated[int | None, typer.Option(help="Preview grid every N steps.")]


def saved_step(out: Path) -> int:
    """The step of the run (or refiner) saved in `out`; 0 for a new one."""
    from facedub.models.run import read_state

    state = read_state(out) if out.is_dir() else None
    return 0 if state is None else state.step


class SaysResuming:
    """A progress that says a resumed run's line as its first bar starts: a resumed run
    said nothing of it (its bar just began at the saved step). The first bar starts once
    the run's checkpoint is open, so a checkpoint refused as unsafe is refused in one line,
    with no "resuming" before it."""

    def __init__(self, inner: Progress, out: Path, step: int, steps: int) -> None:
        self._inner = inner
        self._line = f"{out}: resuming at step {step} of {steps}" if 0 < step < steps else None

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        if self._line is not None:
            say(self._line)
            self._line = None
        self._inner.start(total, description, unit)

    def advance(self, steps: int = 1) -> None:
        self._inner.advance(steps)

    def finish(self) -> None:
        self._inner.finish()


def stopped_exit_code(stopped: str) -> int:
    """The exit code of a run stopped by the signal named `stopped` (as `terminate_cleanly`
    ends other commands): 130 SIGINT, 143 SIGTERM, 129 SIGHUP."""
    return 128 + int(signal.Signals[stopped])


def resumed_seed(out: Path, seed: int | None) -> int | None:
    """The seed for a run in `out`: a saved run's own (None: the preset's, for a new run).

    A resume's batches, and a refiner's held-out frames, are drawn from the seed: without
    --seed a run started with `--seed 7` resumed on the default seed's batches, and with
    another --seed on that one's (a refiner then trained on frames it had held out), both
    silently."""
    from facedub.models.run import read_state

    state = read_state(out) if out.is_dir() else None
    if state is None:
        return seed
    if seed is not None and seed != state.seed:
        raise FacedubError(f"{out} was trained with --seed {state.seed} (its batches follow "
                           f"it); pass --seed {state.seed} to resume it, or choose a new -o "
                           "folder")
    return state.seed


@app.command()
@user_errors
def train(
    source_faces: Annotated[Path, path_argument(
        help="Faceset of the face to put in (person A).", metavar="SOURCE_FACES")],
    target_faces: Annotated[Path, path_argument(
        help="Faceset of the person to replace (person B).", metavar="TARGET_FACES")],
    out: Annotated[Path, path_option("--out", "-o", help="Run folder (resumed if it exists).")],
    preset: Annotated[str, typer.Option(
        help="cpu (64 px, learns in about 15 minutes here) | gpu-128 | gpu-256")] = "cpu",
    model: Annotated[str | None, typer.Option(help="df | liae")] = None,
    res: Annotated[int | None, typer.Option(help="64 | 128 | 256")] = None,
    batch: Annotated[int | None, typer.Option(help="Faces of each person per step.")] = None,
    steps: Steps = None,
    lr: LearningRate = None,
    device: Device = None,
    seed: Seed = None,
    threads: Threads = None,
    save_every: SaveEvery = None,
    preview_every: PreviewEvery = None,
) -> None:
    """Train a per-pair face-swap model: a shared encoder, a decoder per person.

    Ctrl-C (or SIGTERM, SIGHUP) saves a checkpoint; running the same command again
    resumes. Under `torchrun
    --nproc-per-node N -m facedub train ...` it trains on N processes (--batch is global).
    """
    from facedub.extract.workspace import checked_faceset
    from facedub.faceset import Faceset, load_faceset
    from facedub.locations import work_dir as default_work_dir
    from facedub.train import check_faces, preset_config, select_device
    from facedub.train import train as run_train
    from facedub.train.distributed import (
        LeaderStoppedError,
        checked_by_leader,
        from_environment,
        process_group,
    )

    check_writable_output(out, "-o", inputs=[source_faces, target_faces], folder=True)

    config = preset_config(preset, model=model, res=res, batch=batch, steps=steps, lr=lr,
                           device=device, seed=resumed_seed(out, seed), threads=threads,
                           save_every=save_every, preview_every=preview_every)
    distributed = from_environment()
    leads = distributed is None or distributed.leader
    def checked() -> tuple[Faceset, Faceset]:
        # Their crops are checked for explicit content (passes kept in the work folder),
        # as a swap's faceset source is: a hand-made folder was trained on unchecked.
        return (checked_faceset(source_faces, default_work_dir(), RichProgress()),
                checked_faceset(target_faces, default_work_dir(), RichProgress()))

    # Too few faces are refused before the run folder or the model exist (one photo's
    # faceset trained on its one face). Under torchrun the process group comes first:
    # rank 0 alone checks the crops, the others wait for its verdict there.
    # SIGTERM and SIGHUP while the facesets load and the model is built (before the loop's
    # own handlers save and stop) end with one line and 143/129, as Ctrl-C does with 130:
    # they killed the process outright, silently.
    with terminate_cleanly(), removed_if_failed(out, sole=leads), \
            process_group(distributed, select_device(config.device)):
        try:
            facesets = checked_by_leader(
                distributed, checked,
                lambda: (load_faceset(source_faces), load_faceset(target_faces)))
        except LeaderStoppedError as stopped:  # rank 0 said why, once
            raise typer.Exit(stopped.exit_code) from None
        check_faces(*facesets)
        saved = saved_step(out)
        bar: Progress = RichProgress(unit="steps")
        result = run_train(*facesets, out, config,
                           SaysResuming(bar, out, saved, config.steps) if leads else bar,
                           distributed)
    if distributed is not None and not distributed.leader:
        raise typer.Exit(stopped_exit_code(result.stopped) if result.stopped else 0)
    losses = ", ".join(f"{name} {value:.4f}" for name, value in result.losses.items())
    if result.stopped:
        say(f"{out}: stopped at step {result.step} ({result.stopped}), saved; run the same "
            "command to resume")
        raise typer.Exit(stopped_exit_code(result.stopped))
    if saved and result.step == saved:
        say(f"{out}: already trained to step {saved} (--steps {config.steps}); nothing was "
            "trained: give a larger --steps to train on")
        return
    say(f"{out}: trained to step {result.step} in {result.train_seconds / 60:.1f} min"
        + (f"; {losses}" if losses else ""))


@app.command()
@user_errors
def export(
    run: Annotated[Path, path_argument(
        help="Run folder from `facedub train`, or refiner folder from `facedub refine`.",
        metavar="FOLDER")],
    out: Annotated[Path, path_option("--out", "-o", help="ONNX file to write.")],
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
    # A missing path and a file were both "not a facedub run (config.json missing)".
    if not run.exists():
        raise FacedubError(f"{run}: no such folder; check the path")
    if not run.is_dir():
        raise FacedubError(f"{run}: a file; give the folder `facedub train -o` or `facedub "
                           "refine -o` wrote")
    # SIGTERM and SIGHUP while the graph is traced and written: one line and 143/129, the
    # staged file removed (they killed the process, -15, its staged .onnx left beside -o).
    with terminate_cleanly():
        if is_refiner(run):
            from facedub.models.refiner_export import export_refiner_onnx

            export_refiner_onnx(run, out)
            say(f"{out}: written; use it with `facedub swap --source SOURCE --refiner "
                f"{out}`")
            return
        export_onnx(run, out)
    say(f"{out}: written; use it with `facedub swap --engine neural --model {out}`")


@app.command()
@user_errors
def refine(
    source: Annotated[Path, path_argument(
        help="The face the refiner learns: a video, a folder of photos, or a faceset.",
        metavar="SOURCE")],
    out: Annotated[Path, path_option("--out", "-o",
                                      help="Refiner folder (resumed if it exists).")],
    steps: Steps = None,
    minutes: Annotated[float | None, typer.Option(
        help="Stop after this many minutes of training in all (0: no limit).")] = None,
    res: Annotated[int | None, typer.Option(help="128 | 256")] = None,
    batch: Annotated[int | None, typer.Option(help="Faces per step.")] = None,
    lr: LearningRate = None,
    device: Device = None,
    seed: Seed = None,
    threads: Threads = None,
    save_every: SaveEvery = None,
    preview_every: PreviewEvery = None,
    work_dir: Annotated[Path | None, path_option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)."
    )] = None,
    stage: Annotated[str | None, typer.Option(
        help="mesh: refine the mesh engine's face, before the compositor (the default); "
             "composited: refine the compositor's finished crop, learnt from the source "
             "video's own frames swapped and composited (a video source only). A resumed "
             "folder keeps its own.")] = None,
) -> None:
    """Train a refiner for one source person: it cleans the mesh engine's face.

    Use it with `facedub swap --source SOURCE --refiner OUT`. Ctrl-C, SIGTERM or SIGHUP
    saves a checkpoint; running the same command again resumes.
    """
    from facedub import media
    from facedub.engines.registry import SOURCE_CROP
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.locations import work_dir as default_work_dir
    from facedub.models.refiner_run import COMPOSITED_STAGE
    from facedub.train.refine import refine as run_refine
    from facedub.train.refine_config import RefineConfig

    # An animated WebP or PNG is a video source (its frames), as an animated GIF is.
    if media.is_photo_path(source) and source.is_file() and media.animated_frames(source) < 2:
        raise FacedubError(f"{source}: a single photo shows one view of the face, and a "
                           "refiner learns by rendering each view of the face from the others; "
                           "give a video, a folder of photos or a faceset (or swap with the "
                           "mesh engine alone)")
    check_writable_output(out, "-o", inputs=[source], folder=True)
    stage = chosen_stage(out, stage)
    if stage == COMPOSITED_STAGE:
        refuse_mesh_stage_options(res=res, preview_every=preview_every)
        refine_composited_crop(source, out, work_dir, composited_config(
            steps=steps, minutes=minutes, lr=lr, batch=batch, device=device,
            seed=resumed_seed(out, seed), threads=threads, save_every=save_every))
        return
    given: dict[str, Any] = {
        "steps": steps, "minutes": minutes, "res": res, "batch": batch, "lr": lr,
        "device": device, "seed": resumed_seed(out, seed), "threads": threads,
        "save_every": save_every,
        "preview_every": preview_every}
    config = RefineConfig(**{k: v for k, v in given.items() if v is not None})
    # SIGTERM and SIGHUP end the source's analysis and the mesh renderings (minutes, before
    # training) with one line and 143/129, as Ctrl-C does with 130: they killed the process
    # outright, silently. Training then saves and stops on its own handlers.
    with terminate_cleanly():
        work = work_dir or default_work_dir()
        faceset = analysed(source, work, ExtractConfig(crop_size=SOURCE_CROP), RichProgress())
        with removed_if_failed(out):
            saved = saved_step(out)
            # The source video: the best state is chosen on its held-out stretch swapped
            # and composited, against the mesh engine's (train/refine_composited.py).
            result = run_refine(faceset, out, config,
                                SaysResuming(RichProgress(unit="steps"), out, saved,
                                             config.steps), video=source, work_dir=work)
    if said_stopped_or_untrained(out, result.stopped, result.step, saved, config.steps,
                                 config.minutes):
        return
    scores = ", ".join(f"{name} {value:.3f}" for name, value in result.validation.items())
    best = result.best
    say(f"{out}: refined to step {result.step} in {result.train_seconds / 60:.1f} min"
        + (f"; held out: {scores}" if scores else "")
        + (f"; swaps use step {best.step} (best held-out {best.metric} {best.score:.4f}, "
           f"band gains low/mid/fine {'/'.join(f'{g:g}' for g in best.gains)})"
           if best else ""))


def said_stopped_or_untrained(out: Path, stopped: str | None, step: int, saved: int,
                              steps: int, minutes: float) -> bool:
    """`refine`'s line for a run that ended without training to its end (both stages):
    stopped by the signal named `stopped` at `step` (exits with its code), or resumed at
    `saved` with nothing left to train (True); False for a run that trained."""
    if stopped:
        say(f"{out}: stopped at step {step} ({stopped}), saved; run the same command to "
            "resume")
        raise typer.Exit(stopped_exit_code(stopped))
    if saved and step == saved:
        say(f"{out}: already refined to step {saved} (--steps {steps}, --minutes "
            f"{minutes:g}); nothing was trained: give a larger --steps or --minutes to "
            "train on")
        return True
    return False


def chosen_stage(out: Path, given: str | None) -> str:
    """The stage `refine` trains: a resumed folder's own (refused if `given` is another),
    else `given` or "mesh"."""
    from facedub.models.crop_refiner_run import refiner_stage
    from facedub.models.refiner_run import MESH_STAGE, STAGES, is_refiner

    if given is not None and given not in STAGES:
        raise FacedubError(f"--stage {given}: use one of {', '.join(STAGES)}")
    if not is_refiner(out):
        return given or MESH_STAGE
    saved = refiner_stage(out)
    if given is not None and given != saved:
        raise FacedubError(f"{out} was refined with --stage {saved}; pass --stage {saved} "
                           "to resume it, or choose a new -o folder")
    return saved


def refuse_mesh_stage_options(res: int | None, preview_every: int | None) -> None:
    """FacedubError for an option given that only the mesh stage has."""
    for name, value in (("res", res), ("preview_every", preview_every)):
        if value is not None:
            raise FacedubError(f"--{name.replace('_', '-')} is the mesh stage's: the "
                               "composited stage runs at the crop's own size and writes no "
                               "previews")


def composited_config(steps: int | None, minutes: float | None, lr: float | None,
                      batch: int | None, device: str | None, seed: int | None,
                      threads: int | None, save_every: int | None) -> CropRefineConfig:
    """`refine --stage composited`'s settings: those given, the rest its defaults."""
    from facedub.train.refine_crop import CropRefineConfig

    given: dict[str, Any] = {"steps": steps, "minutes": minutes, "lr": lr, "batch": batch,
                             "device": device, "seed": seed, "threads": threads,
                             "save_every": save_every}
    return CropRefineConfig(**{k: v for k, v in given.items() if v is not None})


def refine_composited_crop(source: Path, out: Path, work_dir: Path | None,
                           config: CropRefineConfig) -> None:
    """`refine --stage composited`: the refiner of the compositor's finished crop
    (train/refine_crop.py), from a source video."""
    from facedub import media
    from facedub.engines.registry import SOURCE_CROP
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.locations import work_dir as default_work_dir
    from facedub.train.refine_crop import refine_composited_stage

    if not source.is_file() or media.probe(source).kind != "video":
        raise FacedubError(f"{source}: the composited stage learns from a video's own frames "
                           "swapped from each other and composited; give the source video "
                           "(or refine with --stage mesh)")
    with terminate_cleanly():
        work = work_dir or default_work_dir()
        faceset = analysed(source, work, ExtractConfig(crop_size=SOURCE_CROP), RichProgress())
        with removed_if_failed(out):
            saved = saved_step(out)
            result = refine_composited_stage(
                faceset, out, config, source, work,
                SaysResuming(RichProgress(unit="steps"), out, saved, config.steps))
    if said_stopped_or_untrained(out, result.stopped, result.step, saved, config.steps,
                                 config.minutes):
        return
    best = result.best
    say(f"{out}: refined the composited crop to step {result.step} in "
        f"{result.train_seconds / 60:.1f} min"
        + (f"; swaps use step {best.step} (best held-out {best.metric} {best.score:.4f}"
           + (f", the mesh engine's {best.baseline:.4f})" if best.baseline is not None
              else ")") if best else ""))
