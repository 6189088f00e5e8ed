"""engines/mesh_mouth_read.py: the engine reads where the landmarker puts its mouth's corners
and draws them so that they read where the target's are (issue 17: Bob Dylan's pouting
photo on the openface webcam read 0.02 eye distances flatter than drawn, and the target's
resting smile read 0.10 against 0.33)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig, _shown
from facedub.engines.mesh_eye_read import READ_EVERY
from facedub.engines.mesh_mouth_read import (
    EASE_PER_FRAME,
    FIT_SPREAD,
    LIFT_LIMIT,
    LIFT_NOISE,
    LOWERING_EASE,
    READ_GAP,
    SMILE_MIN,
    SMILE_STEP,
    WIDEN_STEP,
    WIDTH_NOISE,
    MouthMove,
    MouthReads,
    misread,
)
from facedub.faces.align import template_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES, FaceAnalyser, resolve_landmarker_model
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

DYLAN = "still_bob_dylan_bw.jpg"
WEBCAM = "clip_openface_default_same_person_webcam.wmv"
SIZE = 256


def _corners_above_centre(landmarks: np.ndarray) -> float:
    """How high the mouth's corners sit above the inner lips' middle, square to the eye
    line, in eye distances (written out here, not taken from the module under test)."""
    regions = mesh_regions()
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    across = points[regions.left_eye].mean(axis=0) - points[regions.right_eye].mean(axis=0)
    up = np.array([across[1], -across[0]]) / np.linalg.norm(across)
    centre = (points[13] + points[14]) / 2
    corners = (points[61] + points[291]) / 2
    return float((corners - centre) @ up / np.linalg.norm(across))


def _mouth_width(landmarks: np.ndarray) -> float:
    """The corners' distance in eye distances (written out here as above)."""
    regions = mesh_regions()
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eyes = points[regions.left_eye].mean(axis=0) - points[regions.right_eye].mean(axis=0)
    return float(np.linalg.norm(points[61] - points[291]) / np.linalg.norm(eyes))


def test_a_pouting_photos_mouth_reads_with_the_targets_corners(
        first_target_face: Callable[..., TargetFace],
        extracted: Callable[..., Faceset]) -> None:
    """Dylan's photo onto the webcam's first frame, the same frame rendered as a track of
    two readings: the last frame, read by the landmarker as the eval reads it, has its
    corners within 0.018 eye distances of the height above the lips' centre the landmarker
    reads on the target itself (0.0135 under it, the smile 0.23 against the target's 0.41);
    drawn as the target's (no reading of the mouth) they read 0.026 under it, the smile
    0.04. Its width reads within 0.015 of the target's (0.032 narrower not widened)."""
    target = first_target_face(WEBCAM, SIZE)
    engine = MeshEngine(extracted(DYLAN, max_frames=1, crop_size=SIZE), MeshEngineConfig())
    for _ in range(2 * READ_EVERY):
        face = engine.swap_face(target)
    shown = _shown(target.image, face.image, face.mask, face.kept, face.kept_image)
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        read = analyser.analyse(shown)[0].landmarks
        own = analyser.analyse(target.image)[0].landmarks
    gap = _corners_above_centre(read) - _corners_above_centre(own)
    assert abs(gap) < 0.018
    # And as wide: 0.869 eye distances against the target's 0.874; not widened, 0.842.
    assert abs(_mouth_width(read) - _mouth_width(own)) < 0.015


def test_a_photos_lift_is_drawn_smaller_where_the_target_smiles_less_than_read(
        first_target_face: Callable[..., TargetFace],
        extracted: Callable[..., Faceset]) -> None:
    """Dylan's photo onto the webcam's first frame (mouthSmile 0.41), read on it; the next
    frames the same face smiling half as much: the corners are lifted by half the reading's
    lift (old-photo's resting frames read 0.10-0.14 over the target's smile with the
    smiling frames' lift)."""
    target = first_target_face(WEBCAM, SIZE)
    engine = MeshEngine(extracted(DYLAN, max_frames=1, crop_size=SIZE), MeshEngineConfig())
    engine.swap_face(target)
    reads = engine._mouth_reads
    smile = [BLENDSHAPE_NAMES.index(f"mouthSmile{side}") for side in ("Left", "Right")]
    full = reads.wanted(target.track)
    assert full.lift > 0.005  # the photo's corners read lower than drawn
    blendshapes = target.blendshapes.copy()
    blendshapes[smile] *= 0.5
    resting = replace(target, blendshapes=blendshapes)
    for _ in range(READ_EVERY - 2):  # no second reading
        engine.swap_face(resting)
    # Half the reading's 0.0099 from the first resting frame on (0.0094, nearly all of it,
    # with one lift per track).
    assert reads._applied[target.track].lift == pytest.approx(0.5 * full.lift, rel=0.1)


def _misdrawn(landmarks: np.ndarray, centre_up: float, narrower: float) -> np.ndarray:
    """The frontal landmarks as a misreading of them: the inner lips' middle `centre_up` eye
    distances higher, the corners moved in by `narrower` of the mouth's width."""
    regions = mesh_regions()
    points = np.array(landmarks, dtype=np.float64)
    eyes = float(np.linalg.norm(points[regions.left_eye, :2].mean(axis=0)
                                - points[regions.right_eye, :2].mean(axis=0)))
    points[[13, 14], 1] -= centre_up * eyes
    middle = (points[61, 0] + points[291, 0]) / 2
    points[[61, 291], 0] -= (points[[61, 291], 0] - middle) * narrower
    return points


def test_a_misreading_is_how_much_lower_and_narrower_the_mouth_reads_than_drawn() -> None:
    """Measured in the drawn face's frame: the lips' centre read 0.02 eye distances higher
    is corners 0.02 flatter; corners read 4% further in is a mouth 1/0.96 wider drawn."""
    drawn = template_in_crop(SIZE, "whole")
    higher, wider = misread(drawn, _misdrawn(drawn, 0.02, 0.04))
    assert higher == pytest.approx(0.02, abs=1e-3)
    assert wider == pytest.approx(1 / 0.96, abs=1e-3)
    assert misread(drawn, drawn) == pytest.approx((0.0, 1.0))


def test_the_correction_is_the_median_misreading_beyond_the_noise_within_limits() -> None:
    reads = MouthReads()
    assert reads.wanted(0) == MouthMove()  # nothing read yet
    reads._reads[0] = deque([(0.02, 1.03, 0.3), (0.03, 1.04, 0.3), (0.5, 2.0, 0.3)])
    # The median, less the noise (0.005 eye distances, 1% of the width).
    assert reads.wanted(0) == MouthMove(pytest.approx(0.025), pytest.approx(1.04 / 1.01, abs=1e-4))
    reads._reads[0] = deque([(0.5, 2.0, 0.3)])
    assert reads.wanted(0) == MouthMove(LIFT_LIMIT, 1.05)
    reads._reads[0] = deque([(-0.5, 0.5, 0.3)])
    # A smiling texture: its corners lowered; a mouth read wider is not narrowed.
    assert reads.wanted(0) == MouthMove(-LIFT_LIMIT, 1.0)
    reads._reads[0] = deque([(0.8 * LIFT_NOISE, 1.008, 0.3)])
    assert reads.wanted(0) == MouthMove()  # the landmarker's noise, left alone
    reads.forget(0)
    assert reads.wanted(0) == MouthMove()


def test_a_first_readings_raise_is_drawn_whole_and_the_rest_eased_in() -> None:
    """Nothing before the track's first reading; from the frame after it, its raise whole
    (eased in from none, old-photo's frames 1-6 were drawn with a quarter to nine tenths of
    the raise and read under the target's smile), its widening eased in (whole,
    photo-to-mouth's read further over); a later reading's change comes in over frames,
    as the eye reading's does."""
    reads = MouthReads()
    assert reads.applied(0) == MouthMove()  # no reading yet
    reads._reads[0] = deque([(0.025, 1.04, 0.3)])
    first = reads.wanted(0)
    assert first == MouthMove(pytest.approx(0.02), pytest.approx(1.04 / 1.01, abs=1e-4))
    applied = reads.applied(0)
    assert applied.lift == first.lift
    assert applied.widen == pytest.approx(1 + EASE_PER_FRAME * (first.widen - 1))
    reads._reads[0].append((0.045, 1.04, 0.3))
    wanted = reads.wanted(0)  # the median of two: 0.035 less the noise
    assert wanted.lift == pytest.approx(0.03)
    applied = [reads.applied(0) for _ in range(12)]
    assert applied[0].lift == pytest.approx(first.lift + EASE_PER_FRAME * (wanted.lift
                                                                          - first.lift))
    assert all(a.lift < b.lift < wanted.lift for a, b in itertools.pairwise(applied))
    assert applied[-1].lift == pytest.approx(wanted.lift, abs=0.001)
    # A first reading's lowering is eased in.
    reads.forget(0)
    reads._reads[0] = deque([(-0.025, 1.0, 0.3)])
    assert reads.applied(0).lift == pytest.approx(EASE_PER_FRAME * -0.02)


def test_the_lift_follows_the_targets_smile_against_the_readings() -> None:
    """One lift per track overshot a photo's resting frames (old-photo 8, 9, 11 read 0.10
    to 0.14 more smile than the target's 0.21-0.27, right at 0.3-0.4): a raise and the
    widening are scaled by the frame's smile over the readings' median smile (the
    widening whole, old-photo 7-11 read 0.04-0.12 over); a lowering not."""
    reads = MouthReads()
    # Readings at one smile (spread under FIT_SPREAD: no line through them).
    reads._reads[0] = deque([(0.025, 1.04, 0.37), (0.02, 1.03, 0.35), (0.03, 1.05, 0.36)])
    at_readings = reads.wanted(0, 0.36)
    assert at_readings == MouthMove(pytest.approx(0.02), pytest.approx(1.04 / 1.01, abs=1e-4))
    assert reads.wanted(0) == at_readings  # no smile given: the readings' lift
    resting = reads.wanted(0, 0.18)
    assert resting.lift == pytest.approx(0.01)
    assert resting.widen == pytest.approx(1 + (1.04 / 1.01 - 1) / 2, abs=1e-4)
    assert reads.wanted(0, 0.0) == MouthMove(0.0, 1.0)
    assert reads.wanted(0, 5.0).lift == pytest.approx(0.04)  # at most twice the readings'
    # ... the widening too, within its limit (1.05).
    assert reads.wanted(0, 0.54).widen == pytest.approx(1 + 1.5 * (1.04 / 1.01 - 1), abs=1e-4)
    assert reads.wanted(0, 5.0).widen == pytest.approx(1.05)
    # A texture read higher than drawn: lowered as read, whatever the smile.
    reads._reads[0] = deque([(-0.025, 1.0, 0.2)])
    assert reads.wanted(0, 0.1).lift == pytest.approx(-0.02)


def test_a_raise_is_learnt_only_from_readings_taken_where_the_target_smiled() -> None:
    """Corners read flatter than drawn on a resting target (the shouting photo onto d10,
    frames 60-96: 0.011-0.035 at smile 0.001-0.08) say nothing of how far a smile's raised
    corners are pulled back: scaled up to her later smile they were drawn 0.012-0.017
    eye distances above hers and read 0.11-0.26 more smile. No raise from them, at any
    smile; the readings at a smile (SMILE_MIN at least) give it alone, scaled by their
    own median smile; a resting reading's lowering is kept."""
    reads = MouthReads()
    reads._reads[0] = deque([(0.016, 1.0, 0.02), (0.035, 1.0, 0.08), (0.011, 1.0, 0.001)])
    for smile in (None, 0.0, 0.05, 0.3, 0.6):
        assert reads.wanted(0, smile).lift == 0.0
    # With two readings at a smile among them, their median misreading, not all five's.
    reads._reads[0].extend([(0.0056, 1.0, 0.2), (0.0136, 1.0, 0.4)])
    raise_at_readings = (0.0056 + 0.0136) / 2 - LIFT_NOISE
    assert reads.wanted(0, 0.3).lift == pytest.approx(raise_at_readings)
    assert reads.wanted(0, 0.15).lift == pytest.approx(0.5 * raise_at_readings)
    assert reads.wanted(0, 5.0).lift == pytest.approx(2.0 * raise_at_readings)
    # Read higher than drawn at rest: lowered as before.
    reads._reads[0] = deque([(-0.025, 1.0, 0.0)])
    assert reads.wanted(0, 0.5).lift == pytest.approx(-0.02)


def test_a_smiling_frame_is_lowered_by_the_readings_taken_at_a_smile() -> None:
    """The border photo's closed smile onto d3 (border-photo, own id): her resting frame 0
    read 0.0237 eye distances higher than drawn, her smiling frame 9 (mouthSmile 0.277, read
    for the smile) 0.0266, and 0.034 with the photo's lips drawn over her opening. Main
    lowered her smiling frames 10-11 by the resting reading's alone and they read 0.10 more
    smile than hers. A frame smiling SMILE_MIN at least takes the lowering of the readings
    (both kinds) taken at such a smile; a resting frame every scheduled reading's. Only a
    closed-lipped smiling photo's (`source_open` 0, the border photo's `photo_lips_open`)."""
    drawn = template_in_crop(SIZE, "whole")
    reads = MouthReads(source_open=0.0)
    reads.add(0, drawn, _misdrawn(drawn, -0.0237, 0.0), 0.0002)
    resting = -(0.0237 - LIFT_NOISE)
    assert reads.wanted(0, 0.273).lift == pytest.approx(resting, abs=1e-4)  # none at a smile
    reads.add(0, drawn, _misdrawn(drawn, -0.034, 0.0), 0.277, scheduled=False)
    assert reads.wanted(0, 0.273).lift == pytest.approx(-(0.034 - LIFT_NOISE), abs=1e-4)
    assert reads.wanted(0, 0.0).lift == pytest.approx(resting, abs=1e-4)
    assert reads.wanted(0, 0.9 * SMILE_MIN).lift == pytest.approx(resting, abs=1e-4)
    # The median of the smiling readings (frame 12's scheduled one read 0.0426).
    reads.add(0, drawn, _misdrawn(drawn, -0.0426, 0.0), 0.269)
    assert reads.wanted(0, 0.31).lift == pytest.approx(-(0.0383 - LIFT_NOISE), abs=1e-4)
    # A reading at rest under SMILE_MIN does not count at a smile.
    reads.add(0, drawn, _misdrawn(drawn, -0.0303, 0.0), 0.0)
    assert reads.wanted(0, 0.31).lift == pytest.approx(-(0.0383 - LIFT_NOISE), abs=1e-4)
    # Smiling readings that read as drawn: no lowering at a smile, whatever rest read.
    reads.forget(0)
    reads.add(0, drawn, _misdrawn(drawn, -0.03, 0.0), 0.0)
    reads.add(0, drawn, drawn, 0.3, scheduled=False)
    assert reads.wanted(0, 0.3).lift == 0.0
    assert reads.wanted(0, 0.0).lift == pytest.approx(-(0.03 - LIFT_NOISE), abs=1e-4)


def test_a_smiling_frames_lowering_is_eased_in_faster_than_the_rest() -> None:
    """At a quarter a frame, d3's frames 10-13 were drawn with a quarter to two thirds of
    the lowering her first smiling reading called for and read 0.09-0.14 over her smile;
    a smiling frame's lowering beyond every scheduled reading's comes in at LOWERING_EASE a
    frame, the rest (a raise, a lowering on a resting frame or no deeper than the resting
    one's, a lowering let go) at EASE_PER_FRAME."""
    reads = MouthReads(source_open=0.0)
    reads._reads[0] = deque([(-0.02, 1.0, 0.0)])
    reads._applied[0] = MouthMove(-0.01, 1.0)
    resting = reads.applied(0, 0.0).lift
    assert resting == pytest.approx(-0.01 + EASE_PER_FRAME * (-0.015 + 0.01))
    reads._smile_lifts[0] = deque([(-0.04, 0.3)])
    smiling = reads.applied(0, 0.3).lift
    assert smiling == pytest.approx(resting + LOWERING_EASE * (-0.035 - resting))
    # Back at rest, the lowering let go a quarter a frame.
    assert reads.applied(0, 0.0).lift == pytest.approx(smiling
                                                        + EASE_PER_FRAME * (-0.015 - smiling))
    # A first reading taken at a smile: its lowering eased in a quarter a frame, as on main
    # (no smiling reading reads higher than every reading does; at half a frame the Paul
    # Rudd photo onto d18's smiling frames 1-4, expr-neutral, read 0.10-0.11 off his smile
    # against main's 0.08-0.09, 40 -> 37 of 40).
    reads.forget(0)
    reads.add(0, template_in_crop(SIZE, "whole"),
              _misdrawn(template_in_crop(SIZE, "whole"), -0.025, 0.0), 0.3)
    assert reads.applied(0, 0.3).lift == pytest.approx(EASE_PER_FRAME * -0.02, abs=1e-4)
    # A raise at a smile: a quarter a frame, as before.
    reads.forget(0)
    reads._reads[0] = deque([(0.025, 1.0, 0.3)])
    reads._applied[0] = MouthMove(0.0, 1.0)
    assert reads.applied(0, 0.3).lift == pytest.approx(EASE_PER_FRAME * 0.02)


def test_an_open_or_unsmiling_photos_smiling_frame_is_lowered_by_the_scheduled_readings(
        ) -> None:
    """Learnt at one smile, a lowering is too much where the target smiles otherwise:
    Biden's broad open smile onto Obama (skin-tones, `photo_lips_open` 1.0) lowered so read
    0.094-0.101 off his smile on frames 16, 17 and 22 against main's 0.035-0.073, smile 38
    -> 36 of 40 (BENCHMARKS.md, fifty-first round). A photo whose lips are apart or that
    does not smile (`source_open` 1, the default, as a video source) is lowered at a smile
    as at rest, eased a quarter a frame; a photo half closed-lipped smiling halfway."""
    drawn = template_in_crop(SIZE, "whole")
    resting = -(0.0237 - LIFT_NOISE)
    smiling = -(0.034 - LIFT_NOISE)
    for source_open, lift in ((1.0, resting), (0.5, 0.5 * (resting + smiling)),
                              (0.0, smiling)):
        reads = MouthReads(source_open=source_open)
        reads.add(0, drawn, _misdrawn(drawn, -0.0237, 0.0), 0.0)
        reads.add(0, drawn, _misdrawn(drawn, -0.034, 0.0), 0.277, scheduled=False)
        assert reads.wanted(0, 0.273).lift == pytest.approx(lift, abs=1e-4), source_open
        assert reads.wanted(0, 0.0).lift == pytest.approx(resting, abs=1e-4), source_open
    reads = MouthReads()
    reads._reads[0] = deque([(-0.02, 1.0, 0.0)])
    reads._smile_lifts[0] = deque([(-0.04, 0.3)])
    reads._applied[0] = MouthMove(-0.01, 1.0)
    assert reads.applied(0, 0.3).lift == pytest.approx(-0.01 + EASE_PER_FRAME * (-0.015 + 0.01))


def _line_at(points: list[tuple[float, float]], smile: float) -> float:
    """The least-squares line of log(wider) against the smile through `points` ((wider,
    smile)), at `smile` (written out here, not taken from the module under test)."""
    values = np.log([wider for wider, _ in points])
    smiles = np.array([read_smile for _, read_smile in points])
    slope, intercept = np.polyfit(smiles, values, 1)
    return float(np.exp(slope * smile + intercept))


def test_the_widening_follows_the_line_through_readings_at_several_smiles() -> None:
    """skin-tones: Obama's mouth read 0.2-0.6% narrower than drawn at the readings' smile
    0.087 and 3-4.7% narrower where he smiled 0.15-0.19, between the scheduled readings;
    held at the readings' median (within the noise) it was not widened at all and frames
    20-23 read 0.10-0.12 under his smile. With a reading where he smiles more, the
    widening is the line through the readings at the frame's smile, less the noise."""
    reads = MouthReads()
    reads._reads[0] = deque([(-0.007, 1.0017, 0.087), (-0.015, 1.0064, 0.087)])
    assert reads.wanted(0, 0.19).widen == 1.0  # one smile read: within the noise
    reads._smile_reads[0] = deque([(1.0304, 0.153)])
    points = [(1.0017, 0.087), (1.0064, 0.087), (1.0304, 0.153)]
    for smile in (0.12, 0.153, 0.19):
        expected = _line_at(points, smile) / np.exp(WIDTH_NOISE)
        assert reads.wanted(0, smile).widen == pytest.approx(max(expected, 1.0), abs=1e-4)
    assert reads.wanted(0, 0.19).widen > 1.03
    assert reads.wanted(0, 0.0).widen == 1.0  # at rest: never narrowed
    # The lift is the scheduled readings' alone (the smiling reading's corners read
    # higher than drawn, lowered more the smile read less).
    assert reads.wanted(0, 0.19).lift == pytest.approx(-0.011 + LIFT_NOISE)
    # A line falling with the smile is the readings' noise: flat at their mean.
    reads._reads[0] = deque([(0.0, 1.03, 0.087), (0.0, 1.034, 0.087)])
    reads._smile_reads[0] = deque([(1.02, 0.2)])
    flat = np.exp(np.mean(np.log([1.03, 1.034, 1.02]))) / np.exp(WIDTH_NOISE)
    assert reads.wanted(0, 0.5).widen == pytest.approx(flat)
    assert reads.wanted(0, 0.0).widen == pytest.approx(flat)
    reads._reads[0] = deque([(-0.007, 1.0017, 0.087), (-0.015, 1.0064, 0.087)])
    # Readings whose smiles spread less than FIT_SPREAD: the median, scaled by the smile.
    reads._smile_reads[0] = deque([(1.04, 0.087 + 0.9 * FIT_SPREAD)])
    assert reads.wanted(0, 0.19).widen == pytest.approx(1.0)  # median 1.0064: the noise


def test_the_widening_follows_the_smile_along_the_line_at_once_without_a_step() -> None:
    """Along a line through readings at several smiles, the smile's move between frames
    is followed at once (eased, skin-tones' frame 21 was drawn 1.022 wide where 1.037 was
    called for, and read 0.107 under Obama's smile); a new reading's change is eased in
    as before; never more than WIDEN_STEP a frame (his smile 0.001 -> 0.192 in one frame
    drew the mouth 3.1% wider at once)."""
    reads = MouthReads()
    reads._reads[0] = deque([(0.0, 1.0017, 0.087), (0.0, 1.0064, 0.087)])
    reads._smile_reads[0] = deque([(1.0304, 0.153)])
    for _ in range(40):
        reads.applied(0, 0.153)
    assert reads._applied[0].widen == pytest.approx(reads.wanted(0, 0.153).widen, abs=1e-5)
    for smile in (0.171, 0.186, 0.194, 0.18):  # each within WIDEN_STEP of the last
        assert reads.applied(0, smile).widen == pytest.approx(reads.wanted(0, smile).widen,
                                                              abs=1e-5)
    # A reading that moves the line: eased in.
    before = reads._applied[0].widen
    reads._smile_reads[0].append((1.05, 0.2))
    wanted = reads.wanted(0, 0.18).widen
    assert reads.applied(0, 0.18).widen == pytest.approx(
        before + EASE_PER_FRAME * (wanted - before), abs=1e-5)
    # A jump of the smile: a step of WIDEN_STEP at most.
    for _ in range(80):
        reads.applied(0, 0.0)
    rest = reads._applied[0].widen
    assert rest == pytest.approx(1.0, abs=1e-6)
    assert reads.wanted(0, 0.3).widen > 1.0 + 2 * WIDEN_STEP
    assert reads.applied(0, 0.3).widen == pytest.approx(rest + WIDEN_STEP)
    assert reads.applied(0, 0.3).widen == pytest.approx(rest + 2 * WIDEN_STEP)


def test_a_mouth_is_read_again_where_the_target_smiles_beyond_every_reading() -> None:
    """Not before the track's first reading, not within READ_GAP frames of its last, not
    where the smile is within SMILE_STEP of a reading's or under them all (a resting
    frame's reading, skin-tones' frame 27, read 5% narrower than drawn where the next
    scheduled reading at rest read as drawn)."""
    drawn = template_in_crop(SIZE, "whole")
    reads = MouthReads()
    assert not reads.due(0, 0.5)
    reads.add(0, drawn, drawn, 0.1)
    high = 0.1 + 1.5 * SMILE_STEP
    for _ in range(READ_GAP - 1):
        reads.applied(0, high)
        assert not reads.due(0, high)
    reads.applied(0, high)
    assert reads.due(0, high)
    assert not reads.due(0, 0.1 + 0.5 * SMILE_STEP)
    assert not reads.due(0, 0.0)
    # Read for the smile: its width counts, its corners only toward a smiling frame's
    # lowering (here read lower than drawn: no raise from them); the count starts again.
    before = reads.wanted(0, high)
    reads.add(0, drawn, _misdrawn(drawn, 0.03, 0.04), high, scheduled=False)
    after = reads.wanted(0, high)
    assert after.lift == before.lift
    assert after.widen > before.widen
    assert not reads.due(0, high + 2 * SMILE_STEP)
    reads.forget(0)
    assert not reads.due(0, 0.5)
    assert reads.wanted(0, 0.5) == MouthMove()


def test_the_engine_reads_a_photos_mouth_where_the_target_smiles_more(
        first_target_face: Callable[..., TargetFace],
        extracted: Callable[..., Faceset]) -> None:
    """Dylan's photo onto the webcam's first frame (mouthSmile 0.41), then the same frame
    smiling more: read for the mouth alone READ_GAP frames after the first reading (no eye
    reading kept), not again at that smile."""
    target = first_target_face(WEBCAM, SIZE)
    engine = MeshEngine(extracted(DYLAN, max_frames=1, crop_size=SIZE), MeshEngineConfig())
    engine.swap_face(target)
    smile = [BLENDSHAPE_NAMES.index(f"mouthSmile{side}") for side in ("Left", "Right")]
    blendshapes = target.blendshapes.copy()
    blendshapes[smile] += 2 * SMILE_STEP
    smiling = replace(target, blendshapes=blendshapes)
    for _ in range(2 * READ_GAP):
        engine.swap_face(smiling)
    assert len(engine._mouth_reads._smile_reads[target.track]) == 1
    assert len(engine._mouth_reads._reads[target.track]) == 1
    assert len(engine._eye_reads._reads[target.track]) == 1
