"""The evaluation report on disk: summary.json for scripts, frames.csv, and index.html
with plots and frame pictures as PNG files beside it (opens from disk, no network).

    out_dir/summary.json, frames.csv, index.html, sheet.png, plots/*.png, frames/*.png
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from matplotlib.figure import Figure

from facedub.evaluate.config import YAW_BINS
from facedub.evaluate.metrics import FAILED, METRICS, FrameMetrics
from facedub.evaluate.pictures import Picture, PictureKeeper, Pictures
from facedub.evaluate.sheet import SheetKeeper
from facedub.evaluate.summary import Summary
from facedub.fsutil import atomic_path, write_json_atomic, write_text_atomic

SUMMARY_FILE = "summary.json"
FRAMES_FILE = "frames.csv"
HTML_FILE = "index.html"
SHEET_FILE = "sheet.png"  # the contact sheet: worst frames per realism measure
PLOTS_DIR = "plots"
FRAMES_DIR = "frames"

# (file stem, title, y label, metrics plotted, a reference line)
PLOTS: tuple[tuple[str, str, str, tuple[str, ...], float | None], ...] = (
    ("identity", "Identity distance (dlib; below 0.6 is the same person)", "distance",
     ("id_distance_source", "id_distance_target"), 0.6),
    ("pose", "Head pose error against the target", "degrees",
     ("yaw_error", "pitch_error", "roll_error"), None),
    ("target_yaw", "Target head turn (yaw)", "degrees", ("target_yaw",), None),
    ("mouth", "Mouth opening (jawOpen) and expression error", "blendshape",
     ("target_jaw_open", "swapped_jaw_open", "expression_error"), None),
    ("temporal", "Temporal stability beyond the target's own change", "grey levels / %",
     ("flicker", "brightness_flicker", "landmark_jitter"), 0.0),
    ("seam", "Seam at the face mask border, beyond the target's own", "ΔE / grey per px",
     ("seam_color_excess", "seam_gradient_excess"), 0.0),
)
# Metrics shown per head-turn bin in the HTML table.
BIN_COLUMNS = ("id_nearer_source", "id_retrieved", "id_distance_source", "pose_error",
               "expression_error", "flicker", "landmark_jitter", "seam_color_excess")

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
figure { display: inline-block; margin: 4px; } figcaption { font-size: 12px; color: #555; }
img { max-width: 100%; } .bad { color: #b00; }
"""


def write_report(out_dir: Path, summary: Summary, frames: Sequence[FrameMetrics],
                 keeper: PictureKeeper, sheet: SheetKeeper | None = None) -> None:
    """Write the whole report into `out_dir` (created if needed); files are replaced
    atomically, so a reader never sees half a file, and summary.json goes first and comes
    back last, so a folder with it holds one whole report (`is_complete`), not parts of
    two or a report cut short by a kill."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SUMMARY_FILE).unlink(missing_ok=True)
    _remove_old_pictures(out_dir)
    has_sheet = sheet is not None and sheet.write(out_dir / SHEET_FILE)
    write_text_atomic(out_dir / FRAMES_FILE, frames_csv(frames))
    pictures = keeper.write(out_dir / FRAMES_DIR, {f.frame: f.time for f in frames})
    plots = write_plots(out_dir / PLOTS_DIR, frames)
    write_text_atomic(out_dir / HTML_FILE, html_page(summary, pictures, plots, has_sheet))
    write_json_atomic(out_dir / SUMMARY_FILE, summary.to_json())


def is_complete(out_dir: Path) -> bool:
    """Whether `out_dir` holds a whole report: its summary.json, written last."""
    return (out_dir / SUMMARY_FILE).is_file() and (out_dir / FRAMES_FILE).is_file()


def _remove_old_pictures(out_dir: Path) -> None:
    """An earlier report in the same folder may have kept more pictures; only files of
    the names this module writes are removed."""
    for pattern in ("worst_*.png", "lost_*.png", "strip.png"):
        for old in (out_dir / FRAMES_DIR).glob(pattern):
            old.unlink()
    for stem, *_ in PLOTS:
        (out_dir / PLOTS_DIR / f"{stem}.png").unlink(missing_ok=True)
    (out_dir / SHEET_FILE).unlink(missing_ok=True)


def frames_csv(frames: Sequence[FrameMetrics]) -> str:
    """One row per target frame, every FrameMetrics field; unmeasured values are empty."""
    names = [f.name for f in fields(FrameMetrics)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for metrics in frames:
        writer.writerow([_cell(getattr(metrics, name)) for name in names])
    return buffer.getvalue()


def frames_from_csv(text: str) -> tuple[FrameMetrics, ...]:
    """The frames `frames_csv` wrote (values to its six decimals; empty cells NaN)."""
    kinds = {f.name: str(f.type) for f in fields(FrameMetrics)}

    def value(name: str, cell: str) -> object:
        kind = kinds[name]
        if kind == "int":
            return int(cell)
        if kind == "bool":
            return cell == "1"
        if kind == "float":
            return float(cell) if cell else math.nan
        return cell  # the status and the names

    rows = csv.DictReader(io.StringIO(text))
    return tuple(FrameMetrics(**{name: value(name, cell)  # type: ignore[arg-type]
                                 for name, cell in row.items() if name in kinds})
                 for row in rows)


def write_plots(folder: Path, frames: Sequence[FrameMetrics]) -> list[Picture]:
    """Metric-over-time plots (Agg, no display needed); none for a single photo."""
    if len(frames) < 2:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    times = [f.time for f in frames]
    failed = [f.time for f in frames if f.status in FAILED]
    written = []
    for stem, title, unit, names, reference in PLOTS:
        figure = Figure(figsize=(10, 2.8), dpi=100, layout="constrained")
        axes = figure.subplots()
        for name in names:
            label = METRICS[name].label if name in METRICS else name.replace("_", " ")
            axes.plot(times, [getattr(f, name) for f in frames], ".-", markersize=3,
                      linewidth=0.8, label=label)
        for time in failed:
            axes.axvline(time, color="red", alpha=0.25, linewidth=1.5)
        if reference is not None:
            axes.axhline(reference, color="grey", linestyle="--", linewidth=0.8)
        axes.set(title=title + (" (red: face lost)" if failed else ""), xlabel="seconds",
                 ylabel=unit)
        axes.legend(loc="upper right", fontsize=8)
        axes.grid(alpha=0.3)
        with atomic_path(folder / f"{stem}.png") as tmp:
            figure.savefig(tmp, format="png")
        written.append(Picture(f"{folder.name}/{stem}.png", 0, title))
    return written


def html_page(summary: Summary, pictures: Pictures, plots: Sequence[Picture],
              sheet: bool = False) -> str:
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>facedub eval: {e(summary.swapped)}</title>", f"<style>{_CSS}</style>",
        "</head><body>",
        f"<h1>Swap evaluation: {e(summary.swapped)}</h1>",
        f"<p>Source <b>{e(summary.source)}</b>, target <b>{e(summary.target)}</b>. Files: "
        f'<a href="{SUMMARY_FILE}">{SUMMARY_FILE}</a>, <a href="{FRAMES_FILE}">{FRAMES_FILE}'
        "</a>.</p>",
        "<pre>" + e("\n".join(summary.lines())) + "</pre>",
        "<h2>Metrics</h2>", _metrics_table(summary),
        "<h2>By head turn (|yaw| of the target face)</h2>", _bins_table(summary),
    ]
    if plots:
        parts.append("<h2>Over time</h2>")
        parts += [f'<img src="{e(p.file)}" alt="{e(p.caption)}">' for p in plots]
    if pictures.strip is not None:
        parts += ["<h2>Side by side</h2>", _figure(pictures.strip)]
    if sheet:
        parts += ["<h2>Contact sheet (worst frames per realism measure, full resolution; "
                  "target left, swapped right)</h2>",
                  f'<p><a href="{SHEET_FILE}"><img src="{SHEET_FILE}" alt="contact sheet">'
                  "</a></p>"]
    sections = (
        ("Lost frames (target face left, swapped frame right)", pictures.lost),
        ("Worst frames by identity (distance to the source)", pictures.worst_identity),
        ("Worst frames by seam (border colour step excess, ΔE)", pictures.worst_seam),
        ("Worst frames by expression (|jawOpen error| + |smile error|: borrowed teeth, "
         "smiles, creases)", pictures.worst_expression))
    for title, shown in sections:
        if shown:
            parts += [f"<h2>{e(title)}</h2>", "<div>", *map(_figure, shown), "</div>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _metrics_table(summary: Summary) -> str:
    rows = ['<table><tr><th class="l">metric</th><th>mean</th><th>median</th><th>p95</th>'
            '<th>frames</th><th class="l">unit</th><th class="l">better</th>'
            '<th class="l">what it measures</th></tr>']
    for name, info in METRICS.items():
        stats = summary.metrics[name]
        rows.append(
            f'<tr><td class="l">{html.escape(info.label)}</td><td>{_num(stats.mean)}</td>'
            f"<td>{_num(stats.median)}</td><td>{_num(stats.p95)}</td><td>{stats.count}</td>"
            f'<td class="l">{html.escape(info.unit)}</td><td class="l">{info.better}</td>'
            f'<td class="l">{html.escape(info.description)}</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _bins_table(summary: Summary) -> str:
    header = "".join(f"<th>{html.escape(METRICS[n].label)}</th>" for n in BIN_COLUMNS)
    rows = [f'<table><tr><th class="l">|yaw|</th><th>frames</th><th>lost</th>{header}</tr>']
    for row in summary.bins:
        lost = row.failed / row.frames if row.frames else math.nan
        cells = "".join(f"<td>{_num(row.means[n])}</td>" for n in BIN_COLUMNS)
        css = ' class="bad"' if row.failed else ""
        rows.append(f'<tr><td class="l">{html.escape(row.label)}</td><td>{row.frames}</td>'
                    f"<td{css}>{_num(100 * lost, 1)}%</td>{cells}</tr>")
    rows.append("</table>")
    bins = ", ".join(label for label, _, _ in YAW_BINS)
    rows.append(f"<p>Bins: {html.escape(bins)} degrees. Shares are 0..1; lost frames count "
                "as failed identifications.</p>")
    return "\n".join(rows)


def _figure(picture: Picture) -> str:
    e = html.escape
    return (f'<figure><img src="{e(picture.file)}" alt="{e(picture.caption)}">'
            f"<figcaption>{e(picture.caption)}</figcaption></figure>")


def _num(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "–"


def _cell(value: object) -> object:
    if isinstance(value, float):
        return "" if not math.isfinite(value) else round(value, 6)
    if isinstance(value, bool):
        return int(value)
    return value
