"""Per-frame measures boiled down: statistics per metric, per head-turn bin, identity
shares, and the one-screen text for the terminal."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from facedub.evaluate.config import YAW_BINS
from facedub.evaluate.metrics import FAILED, METRICS, NAN, FrameMetrics


@dataclass(frozen=True)
class Stats:
    """Of one metric over the frames where it was measured (NaN and 0 when none)."""

    mean: float
    median: float
    p95: float
    count: int


@dataclass(frozen=True)
class BinSummary:
    """One head-turn bin: frames with a target face in it, how many failed, metric means."""

    label: str
    frames: int
    failed: int  # lost or missing
    means: Mapping[str, float]


@dataclass(frozen=True)
class IdentitySummary:
    step: int  # every Nth frame with a target face was described
    described: int  # frames sampled for identity (failed ones included, counted as misses)
    gallery: tuple[str, ...]
    gallery_skipped: tuple[str, ...]  # left out as the source or target under another name
    source_target_distance: float  # how far apart the two people are to begin with
    spread_target: float  # the target person's own identity drift: the natural baseline

    @property
    def sampling(self) -> str:
        return "every frame" if self.step == 1 else f"every {_ordinal(self.step)} frame"


@dataclass(frozen=True)
class Summary:
    source: str
    target: str
    swapped: str
    frames: int  # target frames evaluated
    face_frames: int  # frames with the target person's face
    failed: int  # face frames where the swapped face was lost or its frame missing
    missing: int  # of those, frames missing from the swapped media
    identity: IdentitySummary
    metrics: Mapping[str, Stats]
    bins: tuple[BinSummary, ...]
    jaw_open_correlation: float  # over time, target vs swapped: lip sync in one number
    seconds: float

    @property
    def failed_share(self) -> float:
        return self.failed / self.face_frames if self.face_frames else NAN

    def mean(self, name: str) -> float:
        return self.metrics[name].mean

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; NaN becomes null (JSON has no NaN)."""
        data = asdict(self)
        data["failed_share"] = self.failed_share
        data["identity"]["sampling"] = self.identity.sampling
        data["metric_info"] = {name: asdict(info) for name, info in METRICS.items()}
        finite: dict[str, Any] = _finite(data)  # type: ignore[assignment]
        return finite

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """The summary `to_json` wrote (null read back as NaN; the derived fields it added
        are dropped), so a finished report can be read instead of measured again."""
        identity = data["identity"]
        return cls(
            source=str(data["source"]), target=str(data["target"]),
            swapped=str(data["swapped"]), frames=int(data["frames"]),
            face_frames=int(data["face_frames"]), failed=int(data["failed"]),
            missing=int(data["missing"]),
            identity=IdentitySummary(
                step=int(identity["step"]), described=int(identity["described"]),
                gallery=tuple(identity["gallery"]),
                gallery_skipped=tuple(identity["gallery_skipped"]),
                source_target_distance=_float(identity["source_target_distance"]),
                spread_target=_float(identity["spread_target"])),
            metrics={name: Stats(_float(stats["mean"]), _float(stats["median"]),
                                 _float(stats["p95"]), int(stats["count"]))
                     for name, stats in data["metrics"].items()},
            bins=tuple(BinSummary(str(row["label"]), int(row["frames"]), int(row["failed"]),
                                  {name: _float(value) for name, value in row["means"].items()})
                       for row in data["bins"]),
            jaw_open_correlation=_float(data["jaw_open_correlation"]),
            seconds=_float(data["seconds"]))

    def lines(self) -> list[str]:
        """About twenty lines of text for the terminal."""
        m = self.mean
        identity = self.identity
        lines = [
            f"evaluated {self.swapped} (target {self.target}, source {self.source})",
            f"frames {self.frames}: {self.face_frames} with the target face, {self.failed} "
            f"lost ({_pct(self.failed_share)}; {self.missing} missing from the output), "
            f"{self.seconds:.1f} s",
            f"identity ({identity.sampling}, {identity.described} frames; source-target "
            f"distance {identity.source_target_distance:.2f}):",
            f"  nearer source {_pct(m('id_nearer_source'))}, retrieval top-1 "
            f"{_pct(m('id_retrieved'))} among {len(identity.gallery)} people, distance to "
            f"source {_num(m('id_distance_source'), 3)} / target "
            f"{_num(m('id_distance_target'), 3)}",
            f"  drift {_num(m('id_drift'), 3)} (target's own "
            f"{_num(identity.spread_target, 3)})",
            f"pose error {_num(m('pose_error'))}° (yaw {_num(m('yaw_error'))}, pitch "
            f"{_num(m('pitch_error'))}, roll {_num(m('roll_error'))})",
            f"expression error {_num(m('expression_error'), 3)}, mouth agrees "
            f"{_pct(m('mouth_open_agree'))}, eyes agree {_pct(m('eyes_closed_agree'))}, "
            f"jawOpen correlation {_num(self.jaw_open_correlation)}, gaze "
            f"{_num(m('gaze_error'), 3)}",
            f"  expression distance {_num(m('expression_distance'), 3)}, smile agrees "
            f"{_pct(m('smile_agree'))} (error {_num(m('smile_error'), 3)})",
            f"flicker {_num(m('flicker'))} grey (brightness {_num(m('brightness_flicker'))}), "
            f"landmark jitter {_num(m('landmark_jitter'))}% of face height",
            f"seam: colour step {_num(m('seam_color'))} ΔE (excess "
            f"{_num(m('seam_color_excess'))}), gradient excess "
            f"{_num(m('seam_gradient_excess'))} grey/px",
            f"realism: invented colour {_pct(m('invented_colour'))}, blobs "
            f"{_pct(m('blobs'))}, stubble {_pct(m('stubble'))}, doubled edges "
            f"{_pct(m('doubled_edges'))}, sharpness "
            f"{_num(m('sharpness_mismatch'))} / grain {_num(m('grain_mismatch'))} |log2|, "
            f"tone vs neck {_num(m('tone_vs_neck'))} ΔE, colour flatness "
            f"{_num(m('colour_flatness'))}, foreign bands {_pct(m('foreign_bands'))}",
            f"against the target (the ideal output of a self-swap): face SSIM "
            f"{_num(m('face_ssim'), 3)}, PSNR {_num(m('face_psnr'), 1)} dB, edge error "
            f"{_num(m('edge_error'))}",
            "",
            f"{'|yaw| deg':<10} {'frames':>6} {'lost':>6} {'nearer':>7} {'id→src':>7} "
            f"{'pose°':>6} {'expr':>6} {'flicker':>7} {'seamΔE+':>7}",
        ]
        for row in self.bins:
            n = row.means
            lines.append(
                f"{row.label:<10} {row.frames:>6} "
                f"{_pct(row.failed / row.frames if row.frames else NAN):>6} "
                f"{_pct(n['id_nearer_source']):>7} {_num(n['id_distance_source'], 3):>7} "
                f"{_num(n['pose_error']):>6} {_num(n['expression_error'], 3):>6} "
                f"{_num(n['flicker']):>7} {_num(n['seam_color_excess']):>7}")
        return lines


def summarise(frames: Sequence[FrameMetrics], source: str, target: str, swapped: str,
              identity: IdentitySummary, seconds: float) -> Summary:
    faces = [f for f in frames if f.status != "no_face"]
    bins = tuple(
        BinSummary(label, len(members), sum(f.status in FAILED for f in members),
                   {name: _stats(members, name).mean for name in METRICS})
        for label, _, _ in YAW_BINS
        for members in ([f for f in faces if f.yaw_bin == label],))
    return Summary(
        source=source, target=target, swapped=swapped, frames=len(frames),
        face_frames=len(faces), failed=sum(f.status in FAILED for f in faces),
        missing=sum(f.status == "missing" for f in faces), identity=identity,
        metrics={name: _stats(faces, name) for name in METRICS}, bins=bins,
        jaw_open_correlation=_correlation(
            [(f.target_jaw_open, f.swapped_jaw_open) for f in faces]),
        seconds=seconds)


def _stats(frames: Sequence[FrameMetrics], name: str) -> Stats:
    values = np.array([f.value(name) for f in frames], dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return Stats(NAN, NAN, NAN, 0)
    return Stats(float(values.mean()), float(np.median(values)),
                 float(np.percentile(values, 95)), int(values.size))


def _correlation(pairs: list[tuple[float, float]]) -> float:
    values = np.array([p for p in pairs if all(map(math.isfinite, p))], dtype=np.float64)
    if len(values) < 3 or values[:, 0].std() < 1e-6 or values[:, 1].std() < 1e-6:
        return NAN  # a still mouth has no timing to agree on
    return float(np.corrcoef(values[:, 0], values[:, 1])[0, 1])


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _float(value: object) -> float:
    return NAN if value is None else float(value)  # type: ignore[arg-type]


def _num(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "n/a"


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%" if math.isfinite(share) else "n/a"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
