"""inspect: what a faceset holds, so a user sees before training or swapping whether the
source covers the head turns of the target."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedub.faceset import Faceset
from facedub.fsutil import atomic_path

YAW_EDGES = np.arange(-90, 91, 10)
PITCH_EDGES = np.arange(-60, 61, 10)


@dataclass(frozen=True)
class PersonInspection:
    person: int
    faces: int
    frames: int
    tracks: int
    chosen: bool
    sharpness_median: float
    yaw_range: tuple[float, float]  # 5th and 95th percentile, degrees
    pitch_range: tuple[float, float]
    roll_range: tuple[float, float]


@dataclass(frozen=True)
class FacesetInspection:
    source: str
    frames_analysed: int
    persons: tuple[PersonInspection, ...]
    coverage_png: Path
    pose_histogram: np.ndarray  # (len(PITCH_EDGES) - 1, len(YAW_EDGES) - 1) face counts


def inspect_faceset(faceset: Faceset, coverage_png: Path) -> FacesetInspection:
    """Summarise every person and draw the chosen person's yaw x pitch coverage map."""
    persons = tuple(_inspect_person(faceset, summary.id) for summary in faceset.meta.persons)
    chosen = faceset.faces_of()
    yaw = np.array([r.pose.yaw for r in chosen])
    pitch = np.array([r.pose.pitch for r in chosen])
    histogram, _, _ = np.histogram2d(np.clip(pitch, -59.9, 59.9), np.clip(yaw, -89.9, 89.9),
                                     bins=[PITCH_EDGES, YAW_EDGES])
    _plot_coverage(histogram, coverage_png, f"{faceset.meta.source_name}: person "
                                            f"{faceset.meta.person}, {len(chosen)} faces")
    return FacesetInspection(faceset.meta.source_name, faceset.meta.frames_analysed, persons,
                             coverage_png, histogram)


def _inspect_person(faceset: Faceset, person: int) -> PersonInspection:
    records = faceset.faces_of(person)
    yaw = [r.pose.yaw for r in records]
    pitch = [r.pose.pitch for r in records]
    roll = [r.pose.roll for r in records]
    return PersonInspection(
        person=person, faces=len(records), frames=len({r.frame for r in records}),
        tracks=len({r.track for r in records}), chosen=person == faceset.meta.person,
        sharpness_median=float(np.median([r.sharpness for r in records])),
        yaw_range=_spread(yaw), pitch_range=_spread(pitch), roll_range=_spread(roll))


def _spread(values: list[float]) -> tuple[float, float]:
    low, high = np.percentile(values, [5, 95])
    return float(low), float(high)


def _plot_coverage(histogram: np.ndarray, path: Path, title: str) -> None:
    # A bare Figure draws with the Agg canvas itself: no pyplot, no process-wide backend.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), dpi=100)
    axes = figure.subplots()
    shown = np.where(histogram > 0, histogram, np.nan)
    image = axes.imshow(shown, origin="lower", cmap="viridis", aspect="auto",
                        extent=(YAW_EDGES[0], YAW_EDGES[-1], PITCH_EDGES[0], PITCH_EDGES[-1]))
    figure.colorbar(image, ax=axes, label="faces")
    axes.set_xlabel("yaw (degrees, > 0: face turned to the image's right)")
    axes.set_ylabel("pitch (degrees, > 0: looking up)")
    axes.set_title(title, fontsize=10)
    axes.grid(color="white", alpha=0.3, linewidth=0.5)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
