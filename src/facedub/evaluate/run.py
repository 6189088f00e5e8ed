"""evaluate: source, target and swapped media in; metrics, summary and report out."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from facedub.errors import FacedubError
from facedub.evaluate.config import EvalConfig
from facedub.evaluate.inputs import analyse_target, build_gallery, source_identity
from facedub.evaluate.measure import measure
from facedub.evaluate.metrics import FrameMetrics
from facedub.evaluate.occluded_identity import source_crops
from facedub.evaluate.output_path import output_path_of, write_reference
from facedub.evaluate.report import FRAMES_FILE, HTML_FILE, SUMMARY_FILE, write_report
from facedub.evaluate.source_skin import source_chroma
from facedub.evaluate.summary import IdentitySummary, Summary, summarise
from facedub.faces.identity import IdentityEncoder, distance
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


def evaluate(source: Path, target: Path, swapped: Path, out_dir: Path, config: EvalConfig,
             progress: Progress | None = None) -> Report:
    """Measure how well `swapped` puts the `source` person into `target`.

    `source`: video, photo, folder of photos or faceset folder; `target`: the original
    video or photo; `swapped`: the swap's output of that target (any tool). Writes the
    report into `out_dir` and returns it.
    """
    progress = progress or NoProgress()
    source, target, swapped, out_dir = map(Path, (source, target, swapped, out_dir))
    _check_paths(source, target, swapped, out_dir)
    started = time.monotonic()
    encoder = IdentityEncoder()
    with tempfile.TemporaryDirectory(prefix="facedub-eval-") as work:
        source_person, source_others, source_faces = source_identity(
            source, Path(work) / "source", config, progress)
        chroma = source_chroma(source, source_faces)
        analysis = analyse_target(target, Path(work) / "target", config, progress)
        gallery, skipped = build_gallery(source_person, analysis.identity,
                                         source_others + analysis.others, config,
                                         (source, target, swapped), encoder)
        written = _written_target(target, swapped, Path(work), analysis.frames)
        measured = measure(target, swapped, analysis, gallery, encoder, config, progress,
                           chroma, source_crops(source, source_faces, analysis.faceset),
                           written)
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
    report = Report(out_dir, summary, measured.frames)
    log.info("evaluation of %s written to %s", swapped.name, report.html)
    return report


def _written_target(target: Path, swapped: Path, work: Path, limit: int | None
                    ) -> Path | None:
    """The target marked and encoded as facedub wrote `swapped` (from its provenance
    sidecar), so that a perfect face scores 0 on the texture measures; None: `swapped` has
    no sidecar (another tool's output), the raw target is the zero."""
    output = output_path_of(swapped)
    if output is None:
        log.info("%s: no provenance sidecar; texture measured against the raw target",
                 swapped.name)
        return None
    return write_reference(target, work / f"written{swapped.suffix.lower()}", output, limit)


def _check_paths(source: Path, target: Path, swapped: Path, out_dir: Path) -> None:
    for role, path in (("--source", source), ("--target", target), ("--swapped", swapped)):
        if not path.exists():
            raise FacedubError(f"{role} {path}: no such file or folder; check the path")
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
