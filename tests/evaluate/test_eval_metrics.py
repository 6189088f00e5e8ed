"""The per-frame measures, frame pairing, summaries and report pieces on synthetic input:
each measure is zero where nothing changed and grows with the defect it is named after."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.errors import FacedubError
from facedub.evaluate.config import EvalConfig, yaw_bin
from facedub.evaluate.metrics import (
    METRICS,
    MOUTH_HIDDEN,
    FaceCrops,
    FrameMetrics,
    expression_errors,
    flicker,
    judged_mouth,
    landmark_jitter,
    lips_apart,
    lower_lip_hidden,
    mouth_agrees,
    pose_errors,
)
from facedub.evaluate.pairing import paired_frames
from facedub.evaluate.pictures import PictureKeeper, strip_frames
from facedub.evaluate.report import frames_csv
from facedub.evaluate.seam import seam_measure
from facedub.evaluate.summary import IdentitySummary, summarise
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.types import HeadPose

SIZE = 128


def _crops(target: np.ndarray, swapped: np.ndarray) -> FaceCrops:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    inside = (yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2 < (SIZE / 3) ** 2
    grey = [img.mean(axis=2).astype(np.float32) for img in (target, swapped)]
    return FaceCrops(target, swapped, grey[0], grey[1], inside,
                     np.ones((SIZE, SIZE), dtype=bool), band=6)


def _scene(seed: int = 0) -> np.ndarray:
    """A smooth random image: texture without edges of its own at the mask border."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 200, size=(8, 8, 3))
    return np.kron(coarse, np.ones((SIZE // 8, SIZE // 8, 1))).astype(np.uint8)


def test_yaw_bins_cover_both_directions() -> None:
    assert [yaw_bin(y) for y in (0.0, -14.9, 15.0, -29.0, 31.0, -50.0, 90.0)] == [
        "<15", "<15", "15-30", "15-30", "30-45", ">45", ">45"]
    assert yaw_bin(math.nan) == ""


def test_identity_step_describes_short_clips_fully_and_samples_long_ones() -> None:
    assert EvalConfig().identity_step(100) == 1
    assert EvalConfig(identity_budget=100).identity_step(1000) == 10
    assert EvalConfig(identity_every=4).identity_step(10) == 4
    with pytest.raises(FacedubError, match="--identity-every"):
        EvalConfig(identity_every=0)


def test_pose_errors_wrap_around() -> None:
    yaw, pitch, roll, total = pose_errors(HeadPose(179.0, 10.0, 0.0), HeadPose(-179.0, 7.0, 0.0))
    assert (yaw, pitch, roll) == pytest.approx((2.0, 3.0, 0.0))
    assert total == pytest.approx(math.hypot(2.0, 3.0))


def test_expression_errors() -> None:
    shapes = np.full(len(BLENDSHAPE_NAMES), 0.1, dtype=np.float32)
    same = expression_errors(shapes, shapes)
    assert same.expression == 0 and same.mouth_open_agree == 1 and same.eyes_closed_agree == 1
    open_mouth = shapes.copy()
    open_mouth[BLENDSHAPE_NAMES.index("jawOpen")] = 0.8
    differ = expression_errors(shapes, open_mouth)
    assert differ.jaw_open == pytest.approx(0.7)
    assert differ.mouth_open_agree == 0 and differ.eyes_closed_agree == 1
    assert differ.distance == pytest.approx(0.7) and differ.smile_agree == 1


def test_mouth_agreement_allows_the_landmarkers_spread_at_the_threshold() -> None:
    # A jaw read 0.31 and 0.24 is one mouth to the landmarker (a re-encoded copy of a
    # frame reads up to 0.08 apart); a mouth shut where the target's opens is not.
    assert mouth_agrees(0.31, 0.24) and mouth_agrees(0.22, 0.30)
    assert mouth_agrees(0.6, 0.4) and mouth_agrees(0.0, 0.2)
    assert not mouth_agrees(0.36, 0.24) and not mouth_agrees(0.41, 0.05)
    assert not mouth_agrees(0.1, 0.3) and not mouth_agrees(0.02, 0.65)


def test_a_jaw_dropped_behind_sealed_lips_is_a_closed_mouth() -> None:
    # d10's frame 91: jawOpen 0.28 with the lips touching, the swap's same lips read 0.10.
    assert mouth_agrees(0.28, 0.10, 0.012, 0.027)
    # An opening where the target's lips are sealed is a miss, and so is the reverse,
    # even with the jaws read close.
    assert not mouth_agrees(0.41, 0.45, 0.02, 0.35)
    assert not mouth_agrees(0.30, 0.28, 0.30, 0.02)
    assert mouth_agrees(0.30, 0.28, 0.30, 0.25) and not mouth_agrees(0.6, 0.1, 0.4, 0.02)


def test_lips_apart_is_the_inner_lips_gap_over_the_mouth_width() -> None:
    points = np.zeros((478, 3))
    points[291, 0] = 100.0  # mouth corners 100 apart
    for upper, lower in ((13, 14), (82, 87), (312, 317)):
        points[upper, 1], points[lower, 1] = 40.0, 70.0
    assert lips_apart(points) == pytest.approx(0.3)
    points[[14, 87, 317], 1] = 40.0
    assert lips_apart(points) == 0.0


def _lower_lip_landmarks() -> np.ndarray:
    """(478, 2) landmarks whose lower lip fills x 20-80, y 40 (inner) to 40-60 (outer)."""
    points = np.zeros((478, 2))
    outer = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
    inner = (308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)
    for k, index in enumerate(outer):
        t = k / (len(outer) - 1)
        points[index] = (20 + 60 * t, 40 + 20 * math.sin(math.pi * t))
    for k, index in enumerate(inner):
        points[index] = (80 - 60 * k / (len(inner) - 1), 40.0)
    return points


def test_lower_lip_hidden_is_the_kept_share_of_the_lower_lip() -> None:
    points = _lower_lip_landmarks()
    occluded = np.zeros((SIZE, SIZE), np.float32)
    assert lower_lip_hidden(occluded, points) == 0.0
    occluded[:, :50] = 1.0  # a microphone over the lip's left half
    assert lower_lip_hidden(occluded, points) == pytest.approx(0.5, abs=0.08)
    occluded[:, :] = 0.4  # faint: below the mask's kept level
    assert lower_lip_hidden(occluded, points) == 0.0
    occluded[30:70, :] = 1.0  # in front of the whole lip; what lies above it does not count
    occluded[:30, :] = 0.0
    assert lower_lip_hidden(occluded, points) == 1.0


def test_a_mouth_whose_lower_lip_the_swap_keeps_is_not_judged() -> None:
    assert judged_mouth(0.0, 0.3) == 0.0 and judged_mouth(1.0, 0.0) == 1.0
    assert math.isnan(judged_mouth(0.0, 0.75)) and math.isnan(judged_mouth(1.0, 0.5))


def test_neither_mouth_agreement_is_judged_behind_a_kept_occluder() -> None:
    """A microphone kept over the target's lower lip: the output shows the target's own
    lip there, so neither the smile nor the open mouth is judged; the errors still are."""
    neutral = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    smiling = neutral.copy()
    smiling[[BLENDSHAPE_NAMES.index("mouthSmileLeft"),
             BLENDSHAPE_NAMES.index("mouthSmileRight")]] = (0.2, 0.1)
    bare = expression_errors(smiling, neutral, lip_hidden=0.3)
    assert bare.smile_agree == 0 and bare.mouth_open_agree == 1
    hidden = expression_errors(smiling, neutral, lip_hidden=MOUTH_HIDDEN)
    assert math.isnan(hidden.smile_agree) and math.isnan(hidden.mouth_open_agree)
    assert hidden.smile == pytest.approx(0.15) and hidden.jaw_open == 0.0


def test_smile_error_and_agreement() -> None:
    neutral = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    smiling = neutral.copy()
    smiling[[BLENDSHAPE_NAMES.index("mouthSmileLeft"),
             BLENDSHAPE_NAMES.index("mouthSmileRight")]] = (0.5, 0.3)
    borrowed = expression_errors(neutral, smiling)
    assert borrowed.smile == pytest.approx(0.4) and borrowed.smile_agree == 0
    assert borrowed.distance == pytest.approx(math.hypot(0.5, 0.3))
    slight = expression_errors(neutral, smiling * 0.2)
    assert slight.smile_agree == 1


def test_seam_is_zero_for_the_target_itself_and_grows_with_a_colour_step() -> None:
    target = _scene()
    same = seam_measure(_crops(target, target))
    assert same.color_excess == 0 and same.gradient_excess == 0
    pasted = target.astype(np.int16)
    crops = _crops(target, target)
    pasted[crops.inside] += (40, -20, -20)
    swapped = np.clip(pasted, 0, 255).astype(np.uint8)
    seam = seam_measure(_crops(target, swapped))
    assert seam.color_excess > 10.0
    assert seam.color > same.color


def test_flicker_measures_change_beyond_the_targets_own() -> None:
    first, second = _scene(1), _scene(2)  # the target itself changes a lot
    assert flicker(_crops(first, first), _crops(second, second)) == (0.0, 0.0)
    noise = np.random.default_rng(3).integers(-3, 4, size=first.shape)
    moved = np.clip(first + noise, 0, 255).astype(np.uint8)  # a steady target
    brighter = np.clip(moved.astype(np.int16) + 20, 0, 255).astype(np.uint8)
    detail, brightness = flicker(_crops(first, first), _crops(moved, brighter))
    assert brightness == pytest.approx(20.0, abs=1.0)
    assert detail > 15.0


def test_landmark_jitter_ignores_shared_motion() -> None:
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 100, size=(478, 3)).astype(np.float32)
    swapped = target + 3.0  # a constant offset is shape, not jitter
    step = np.array([5.0, 0.0, 0.0], dtype=np.float32)
    moved = target + step
    steady = landmark_jitter(target, swapped, moved, swapped + step, 100.0)
    assert steady == pytest.approx(0.0, abs=1e-5)
    shaken = swapped + 1.4 * step  # 2 px beyond the target's motion
    assert landmark_jitter(target, swapped, moved, shaken, 100.0) == pytest.approx(2.0)


def _identity() -> IdentitySummary:
    return IdentitySummary(1, 2, ("source", "target"), (), 0.9, 0.1)


def test_summary_counts_lost_frames_as_failures_per_bin() -> None:
    frames = [
        FrameMetrics(0, 0.0, "ok", yaw_bin="<15", identity_sampled=True,
                     id_nearer_source=1.0, id_retrieved=1.0, pose_error=2.0),
        FrameMetrics(1, 0.04, "lost", yaw_bin="30-45", identity_sampled=True,
                     id_nearer_source=0.0, id_retrieved=0.0),
        FrameMetrics(2, 0.08, "no_face"),
        FrameMetrics(3, 0.12, "missing", yaw_bin="30-45"),
    ]
    summary = summarise(frames, "s", "t", "w", _identity(), 1.0)
    assert (summary.frames, summary.face_frames, summary.failed, summary.missing) == (4, 3, 2, 1)
    assert summary.metrics["id_nearer_source"].mean == 0.5
    assert summary.metrics["pose_error"].count == 1
    by_label = {row.label: row for row in summary.bins}
    assert (by_label["30-45"].frames, by_label["30-45"].failed) == (2, 2)
    assert by_label["<15"].means["id_retrieved"] == 1.0
    data = summary.to_json()
    assert data["failed"] == 2 and data["metrics"]["flicker"]["mean"] is None  # NaN -> null
    assert any("lost" in line for line in summary.lines())


def test_frames_csv_has_every_field_and_empty_cells_for_unmeasured() -> None:
    text = frames_csv([FrameMetrics(0, 0.0, "lost", yaw_bin="15-30")])
    header, row = text.splitlines()
    assert set(METRICS) <= set(header.split(","))
    assert row.startswith("0,0.0,lost,15-30,")
    assert ",nan" not in row.lower()


def test_picture_keeper_keeps_the_worst(tmp_path: Path) -> None:
    keeper = PictureKeeper(2, strip_frames([0, 1, 2, 3, 4], 2))
    thumb = np.zeros((8, 16, 3), dtype=np.uint8)
    for frame, score in enumerate([0.1, 0.9, 0.5, math.nan, 0.7]):
        keeper.offer("identity", score, frame, thumb)
        keeper.offer("expression", 1.0 - score, frame, thumb)
        if keeper.wants_strip(frame):
            keeper.offer_strip(frame, thumb)
    pictures = keeper.write(tmp_path / "frames", {})
    assert [p.frame for p in pictures.worst_identity] == [1, 4]
    assert [p.frame for p in pictures.worst_expression] == [0, 2]
    assert pictures.strip is not None and (tmp_path / pictures.strip.file).is_file()


def _write_video(path: Path, frames: list[tuple[float, int]]) -> None:
    """Flat grey frames (time, grey level) at 25 fps."""
    with media.VideoWriter(path, 64, 48, Fraction(25), crf=0) as writer:
        for time, level in frames:
            writer.write(np.full((48, 64, 3), level, dtype=np.uint8), time)


def test_frames_pair_by_time_and_gaps_are_reported(tmp_path: Path) -> None:
    target, swapped = tmp_path / "target.mp4", tmp_path / "swapped.mp4"
    _write_video(target, [(i / 25, 10 * i) for i in range(8)])
    _write_video(swapped, [(i / 25, 10 * i) for i in range(8) if i not in (3, 4)])
    info = media.probe(target)
    pairs = list(paired_frames(target, swapped, info, None))
    assert len(pairs) == 8
    assert [p.swapped is None for p in pairs] == [i in (3, 4) for i in range(8)]
    for pair in pairs:
        if pair.swapped is not None:  # the right frame, by its grey level
            assert abs(int(pair.swapped.mean()) - 10 * pair.target.index) <= 2
    assert len(list(paired_frames(target, swapped, info, 3))) == 3
