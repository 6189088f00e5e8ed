"""evaluate: source, target and swapped media in; metrics, summary and report out."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from facedub.errors import FacedubError, Terminated, raised_from
from facedub.evaluate.config import EvalConfig
from facedub.evaluate.inputs import analyse_target, build_gallery, source_identity
from facedub.evaluate.measure import measure
from facedub.evaluate.metrics import FrameMetrics
from facedub.evaluate.occluded_identity import source_crops
from facedub.evaluate.output_path import output_path_of, write_reference
from facedub.evaluate.pairing import same_kind
from facedub.evaluate.report import (
    FRAMES_FILE,
    HTML_FILE,
    SUMMARY_FILE,
    frames_from_csv,
    is_complete,
    write_report,
)
from facedub.evaluate.resume import EvalWork, MeasuredFrames
from facedub.evaluate.source_skin import source_chroma
from facedub.evaluate.summary import IdentitySummary, Summary, summarise
from facedub.faces.identity import IdentityEncoder, distance
from facedub.fsutil import atomic_path, remove_own_partials_under
from facedub.progress import NoProgress, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    """What `evaluate` measured and where it wrote it (out_dir/index.html, summary.json,
    frames.csv)."""

    out_dir: Path
    summary: Summary
    frames: tuple[FrameMetrics, ...]

    @property
    def html(self) -> Path:
        return self.out_dir / HTML_FILE

    @property
    def json(self) -> Path:
        return self.out_dir / SUMMARY_FILE

    @property
    def csv(self) -> Path:
        return self.out_dir / FRAMES_FILE

    def summary_lines(self) -> list[str]:
        """One screen of text for the terminal."""
        return [*self.summary.lines(), "", f"report: {self.html}"]


def read_report(out_dir: Path) -> Report | None:
    """The report an earlier `evaluate` wrote whole into `out_dir`; None where there is
    none, or only part of one (`report.is_complete`)."""
    if not is_complete(out_dir):
        return None
    summary = Summary.from_json(json.loads((out_dir / SUMMARY_FILE).read_text(
        encoding="utf-8")))
    frames = frames_from_csv((out_dir / FRAMES_FILE).read_text(encoding="utf-8"))
    return Report(out_dir, summary, frames)


def evaluate(source: Path, target: Path, swapped: Path, out_dir: Path, config: EvalConfig,
             progress: Progress | None = None, work_dir: Path | None = None,
             resume: EvalWork | None = None) -> Report:
    """Measure how well `swapped` puts the `source` person into `target`.

    `source`: video, photo, folder of photos or faceset folder; `target`: the original
    video or photo; `swapped`: the swap's output of that target (any tool). Writes the
    report into `out_dir` and returns it. `work_dir`: where a faceset source's content
    check keeps its pass (`workspace.checked_faceset`); None checks its crops every time.
    `resume`: where the evaluation keeps its work between runs (`resume.open_work`), so
    that a stopped one resumes; removed once the report is written, and on any error but
    a stop, an OSError (a full disk) or a MemoryError, which keep it (`_resumable`).
    None: a temporary folder, nothing kept.
    """
    progress = progress or NoProgress()
    source, target, swapped, out_dir = map(Path, (source, target, swapped, out_dir))
    created = not out_dir.exists()
    try:
        with _work_folder(resume) as work:
            _check_paths(source, target, swapped, out_dir)
            report = _evaluate(source, target, swapped, out_dir, config, progress,
                               work_dir, work)
    except BaseException:
        # Failed or stopped (an error, Ctrl-C, or SIGTERM/SIGHUP where the caller turns
        # them into exceptions: `cli.terminal.terminate_cleanly`): a report folder made
        # here is not left behind half-written. One that existed keeps whatever it held;
        # its summary.json, written last, is gone if the report was being replaced.
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    log.info("evaluation of %s written to %s", swapped.name, report.html)
    return report


@contextlib.contextmanager
def _work_folder(resume: EvalWork | None) -> Iterator[EvalWork]:
    """The evaluation's work folder: `resume`'s, kept when stopped (`_resumable`: the
    same command again resumes) and removed when the evaluation is done, refused or
    failed otherwise; else a temporary one, removed on any exception (a process killed by
    a signal unwinds to here only where the signal raises one: Ctrl-C does, and SIGTERM
    where the command turns it into one)."""
    if resume is None:
        with tempfile.TemporaryDirectory(prefix="facedub-eval-") as temporary:
            yield EvalWork(Path(temporary), 0, False, keeps=False)
        return
    started = time.monotonic()
    try:
        yield resume
    except BaseException as error:
        if not _resumable(error):
            resume.remove()
        else:  # the resumed report's time is the whole evaluation's
            resume.keep_seconds(time.monotonic() - started)
            # Kept whole, but not what this process was half-way through writing (a
            # SIGINT in CI left the target analysis's staged faceset.json beside it).
            remove_own_partials_under(resume.folder)
        raise
    resume.remove()


def _resumable(error: BaseException) -> bool:
    """Whether an evaluation that ended in `error` keeps its work for the same command
    to resume: a stop (Ctrl-C or a stop signal, also one that an import or a native
    module turned into its own error) and the machine's errors that the user clears (an
    OSError: a full disk, a permission; a MemoryError) do, also one that facedub words
    as its own error (`raise FacedubError("... cannot write to ...") from error`: only
    a bare OSError kept it, though README says a full disk keeps the work); a worded
    OSError without an errno is a file's content (PIL's truncated or unidentified
    photo), not the machine. Another error of the input (FacedubError) is refused again
    by the same command, and any other exception is a fault of facedub's: the same
    command resumed into the same crash ("resuming the evaluation stopped earlier" and
    the same traceback on the same frame, for a week), and the release that fixes it
    has another version, whose key starts afresh anyway."""
    if raised_from(error, (KeyboardInterrupt, Terminated, MemoryError)) is not None:
        return True
    if isinstance(error, OSError):
        return True
    machine = raised_from(error, (OSError,))
    return isinstance(machine, OSError) and machine.errno is not None


def _evaluate(source: Path, target: Path, swapped: Path, out_dir: Path, config: EvalConfig,
              progress: Progress, verdicts: Path | None, work: EvalWork) -> Report:
    # The earlier, stopped runs' seconds too: a resumed report said only its last run's.
    started = time.monotonic() - work.seconds_before
    encoder = IdentityEncoder()
    kept = MeasuredFrames(work.measured_file) if work.keeps else None
    source_person, source_others, source_faces = source_identity(
        source, work.source_dir, config, progress, verdicts)
    chroma = source_chroma(source, source_faces)
    analysis = analyse_target(target, work.target_dir, config, progress)
    gallery, skipped = build_gallery(source_person, analysis.identity,
                                     source_others + analysis.others, config,
                                     (source, target, swapped), encoder)
    written = _written_target(target, swapped, work, analysis.frames)
    measured = measure(target, swapped, analysis, gallery, encoder, config, progress,
                       chroma, source_crops(source, source_faces, analysis.faceset),
                       written, kept)
    identity = IdentitySummary(
        step=measured.identity_step,
        described=sum(f.identity_sampled for f in measured.frames),
        gallery=tuple(person.name for person in gallery), gallery_skipped=skipped,
        source_target_distance=distance(source_person.descriptor,
                                         analysis.identity.descriptor),
        spread_target=analysis.spread)
    summary = summarise(measured.frames, source.name, target.name, swapped.name,
                        identity, time.monotonic() - started)
    write_report(out_dir, summary, measured.frames, measured.pictures, measured.sheet)
    return Report(out_dir, summary, measured.frames)


def _written_target(target: Path, swapped: Path, work: EvalWork, limit: int | None
                    ) -> Path | None:
    """The target marked and encoded as facedub wrote `swapped` (from its provenance
    sidecar), so that a perfect face scores 0 on the texture measures; None: `swapped` has
    no sidecar (another tool's output), the raw target is the zero. Kept in the work
    folder once written whole (moved into place: a stopped write leaves no part)."""
    output = output_path_of(swapped)
    if output is None:
        log.info("%s: no provenance sidecar; texture measured against the raw target",
                 swapped.name)
        return None
    reference = work.reference(swapped.suffix)
    if not reference.is_file():
        with atomic_path(reference, durable=False) as partial:
            write_reference(target, partial, output, limit)
    return reference


def _check_paths(source: Path, target: Path, swapped: Path, out_dir: Path) -> None:
    for role, path in (("--source", source), ("--target", target), ("--swapped", swapped)):
        if not path.exists():
            raise FacedubError(f"{role} {path}: no such file or folder; check the path")
    _check_target(target, swapped)
    if out_dir.exists() and not out_dir.is_dir():
        raise FacedubError(f"-o {out_dir}: exists and is not a folder; choose a folder for "
                           "the report")
    try:  # now, not after minutes of measuring
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FacedubError(f"-o {out_dir}: cannot create the report folder "
                           f"({error.strerror}); choose another") from error
    if swapped.resolve() == target.resolve():
        log.warning("the swapped file is the target itself: every error will be zero")


def _check_target(target: Path, swapped: Path) -> None:
    """A photo measured against a video target (or the reverse) is refused before any
    analysis: it failed only after the source's and the target's analyses (minutes),
    naming the evaluation's temporary file ("/tmp/facedub-eval-.../written.jpg: cannot
    write a .jpg video"). So is a folder target: refused by the target's analysis, it
    came after the source's."""
    if target.is_dir():
        raise FacedubError(f"{target}: the target must be one video or photo, not a folder")
    if target.is_file() and swapped.is_file():
        same_kind(target, swapped)
