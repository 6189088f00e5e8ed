"""A track's glasses rims are held: glasses sit still on the face, so the rims drawn stay
where they are while only the lines' noise changes (every frame, the best ring of that
frame alone moved by several pixels), follow a real move within a few frames, and held
rims are drawn once (the drawing reused equals the drawing redone). Small round rims
(narrower than DRAWN_HALF_WIDTHS) are drawn where they are, not on the smallest larger
ring; the glasses' frames between searches are kept as they are."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from facedub.composite import occlusion
from facedub.composite.glasses_rims import (
    DRAWN_HALF_WIDTHS,
    SEARCH_EVERY,
    HeldRims,
    between_searches,
    draw_rims,
    fit_rims,
    follow_rims,
    rims_key,
    searching,
)
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _eased
from facedub.faces.regions import mesh_regions

SIZE = 256  # the fine canonical crop the rims are fitted in
SPACING = 76.0
CENTRES = ((90.0, 120.0), (166.0, 120.0))
# A rim on the search's grid about the right eye (offset 0, 0.04 spacings up; half-width
# 0.46 spacings; height 0.8 of it) and its mirror about the left eye.
RIM = (0.0, -0.04 * SPACING, 0.46 * SPACING, 0.46 * 0.8 * SPACING)
# A grid step (3 px here): with lines a few pixels wide (and widened by the fit's
# `spread`), rings a step apart run along nearly the same points, so the rims are held
# to within a step of where the lines are.
STEP = 0.04 * SPACING
SMALL = (0.0, 0.0, 0.30 * SPACING, 0.30 * SPACING)  # small round rims: 0.6 spacings wide


def _landmarks() -> np.ndarray:
    """(478, 3) mesh landmarks whose eyes' points ring CENTRES (all others at the crop's
    centre): all the rims' fit reads of them."""
    regions = mesh_regions()
    points = np.full((478, 3), SIZE / 2.0)
    for indices, (x, y) in ((regions.right_eye, CENTRES[0]), (regions.left_eye, CENTRES[1])):
        angles = np.linspace(0.0, 2.0 * np.pi, len(indices), endpoint=False)
        points[indices, 0] = x + 12.0 * np.cos(angles)
        points[indices, 1] = y + 5.0 * np.sin(angles)
    return points


def _frame_lines(rng: np.random.Generator, shift: float = 0.0,
                 rim: tuple[float, float, float, float] = RIM) -> np.ndarray:
    """(SIZE, SIZE) float32 lines as `glasses_frames` finds them: the two rims (moved
    `shift` px down) in broken fragments, and strokes of a lid, a crease or a shadow
    scattered around the eyes, different in every frame."""
    lines = np.zeros((SIZE, SIZE), np.uint8)
    for x, y in CENTRES:
        centre = (round(x + rim[0]), round(y + rim[1] + shift))
        axes = (round(rim[2]), round(rim[3]))
        for start in range(0, 360, 30):
            if rng.random() < 0.6:  # a fragment of the rim shows
                cv2.ellipse(lines, centre, axes, 0.0, start, start + 30, 1, 2)
        for _ in range(6):
            a = rng.uniform((x - 45, y - 40), (x + 45, y + 40))
            b = a + rng.uniform(-18, 18, 2)
            cv2.line(lines, tuple(int(v) for v in a), tuple(int(v) for v in b), 1, 2)
    return lines.astype(np.float32)


def _follow(frames: list[np.ndarray]) -> list[np.ndarray]:
    landmarks = _landmarks()
    held: HeldRims | None = None
    out = []
    for lines in frames:
        held = follow_rims(lines, landmarks, held)
        out.append(held.rings)
    return out


def test_held_rims_stay_put_under_the_lines_noise() -> None:
    rng = np.random.default_rng(3)
    frames = [_frame_lines(rng) for _ in range(40)]
    # Each frame's own best ring does move with the noise (so the test has teeth)...
    fits = [fit_rims(lines, _landmarks()) for lines in frames]
    moved = sum(not np.array_equal(a, b) for a, b in itertools.pairwise(fits))
    assert moved >= 20
    # ...the held rims do not, once settled, and sit on the rims.
    held = _follow(frames)
    for rings in held[5:]:
        assert np.array_equal(rings, held[5])
    for (x, y), ring in zip(CENTRES, held[-1], strict=True):
        assert np.allclose(ring, (x + RIM[0], y + RIM[1], RIM[2], RIM[3]), atol=STEP + 0.5)


def test_held_rims_follow_a_real_move_within_a_few_frames() -> None:
    rng = np.random.default_rng(5)
    shift = 4 * STEP  # 12 px down (to the grid's lowest): a nod's change of their projection
    frames = [_frame_lines(rng) for _ in range(20)]
    frames += [_frame_lines(rng, shift) for _ in range(20)]
    held = _follow(frames)
    ys = np.array(CENTRES)[:, 1] + RIM[1]
    assert np.allclose(held[19][:, 1], ys, atol=STEP + 0.5)
    followed = [k for k in range(20, 40) if np.allclose(held[k][:, 1], ys + shift,
                                                         atol=STEP + 0.5)]
    assert followed and followed[0] <= 20 + 6
    assert all(np.allclose(held[k][:, 1], ys + shift, atol=STEP + 0.5)
               for k in range(followed[0], 40))


def test_the_held_rims_are_searched_on_every_other_frame_only() -> None:
    rng = np.random.default_rng(7)
    landmarks = _landmarks()
    first = follow_rims(_frame_lines(rng), landmarks, None)
    # Between searches the rims are kept even where the lines moved far (they are eased in).
    moved = _frame_lines(rng, 3 * STEP)
    between = follow_rims(moved, landmarks, first)
    assert SEARCH_EVERY == 2
    assert np.array_equal(between.rings, first.rings)
    assert np.allclose(between.lines, first.lines + 0.3 * (
        cv2.dilate((moved > 0.2).astype(np.uint8),
                   cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))) - first.lines))


def test_rims_drawn_from_the_same_key_are_the_same_rims() -> None:
    rings = np.array([[90.2, 123.1, 34.9, 27.8], [166.3, 122.9, 35.1, 28.2]])
    for jitter in (0.1, -0.2, 0.15):
        nearby = rings + jitter
        assert rims_key(nearby, SPACING) == rims_key(rings, SPACING)
        assert np.array_equal(draw_rims(nearby, SPACING, SIZE), draw_rims(rings, SPACING, SIZE))
    assert rims_key(rings + 1.0, SPACING) != rims_key(rings, SPACING)


D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
FRAMES = 10


@pytest.fixture(scope="module")
def crops(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
          ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """d12's first FRAMES frames aligned at 512 px."""
    return aligned_frames(D12, FRAMES)


def test_d12s_rims_are_held_and_drawn_again_only_when_they_moved(
        crops: list[tuple[float, np.ndarray, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """d12 wears its glasses throughout: its rims were drawn anew in each of its first 10
    frames (the fitted rings moved every frame), now in 4."""
    drawn: list[np.ndarray] = []
    real = occlusion.draw_rims

    def counted(*args: Any) -> np.ndarray:
        drawn.append(real(*args))
        return drawn[-1]

    monkeypatch.setattr(occlusion, "draw_rims", counted)
    masks = OcclusionMasks(OccluderModel(), worn={0: 1.0})
    for time, image, landmarks in crops:
        masks(0, time, image, landmarks)
        state = masks._tracks[0]
        # What is reused is what drawing them again gives.
        assert state.drawn is not None
        assert np.array_equal(state.drawn[1], real(state.rings, _spacing(state), SIZE))
    assert 1 <= len(drawn) <= FRAMES // 2


def _spacing(state: Any) -> float:
    """The eye spacing the state's rims were last drawn with (its key's width holds it
    only rounded: the key's drawing is the same for any spacing of that width)."""
    width = state.drawn[0][0]
    return width / 0.09


@pytest.mark.parametrize(("worn", "looked"), [(1.0, FRAMES // 2), (None, FRAMES)])
def test_a_judged_tracks_lines_are_looked_for_on_search_frames_only(
        crops: list[tuple[float, np.ndarray, np.ndarray]], monkeypatch: pytest.MonkeyPatch,
        worn: float | None, looked: int) -> None:
    """A track judged to wear glasses looks for their lines every SEARCH_EVERY-th frame
    (held as eased between); one not judged takes each frame's bridge as evidence, so
    looks in every frame."""
    calls: list[int] = []
    real = occlusion.glasses_frames

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(occlusion, "glasses_frames", counted)
    masks = OcclusionMasks(OccluderModel(), worn={} if worn is None else {0: worn})
    held = []
    for time, image, landmarks in crops:
        masks(0, time, image, landmarks)
        state = masks._tracks[0]
        assert state.held is not None
        held.append(state.held.rings)
    assert len(calls) == looked
    if worn is not None:  # between searches the rims are those of the search before
        assert all(np.array_equal(held[k], held[k - 1]) for k in range(1, FRAMES, 2))


def _judged(frames: list[np.ndarray]) -> tuple[list[np.ndarray], list[int]]:
    """The held rims of each frame as a track judged to wear glasses has them
    (facedub.composite.occlusion: lines looked for on search frames only), and the
    frames searched."""
    landmarks = _landmarks()
    held: HeldRims | None = None
    rings, searched = [], []
    for index, lines in enumerate(frames):
        if held is None or searching(held):
            held = follow_rims(lines, landmarks, held)
            searched.append(index)
        else:
            held = between_searches(held)
        rings.append(held.rings)
    return rings, searched


def test_small_round_rims_are_drawn_where_they_are() -> None:
    """Rims 0.30 eye spacings in half-width: drawn there, not at 0.38 (the smallest
    drawn before)."""
    rng = np.random.default_rng(13)
    rings, _ = _judged([_frame_lines(rng, rim=SMALL) for _ in range(20)])
    for (x, y), ring in zip(CENTRES, rings[-1], strict=True):
        assert np.allclose(ring, (x + SMALL[0], y + SMALL[1], SMALL[2], SMALL[3]),
                           atol=STEP + 0.5)
    assert rings[-1][:, 2].max() < min(DRAWN_HALF_WIDTHS) * SPACING


D3 = "clip_liveportrait_d3_woman_headturn.mp4"


def _eyes(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = np.array([points[regions.right_eye].mean(axis=0),
                        points[regions.left_eye].mean(axis=0)])
    return centres, float(np.linalg.norm(centres[1] - centres[0]))


def test_small_round_rims_painted_on_a_bare_face_are_drawn_small(
        aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
        ) -> None:
    """d3's first frames (a bare face) with thin dark round rims 0.6 eye spacings wide
    painted around the eyes, the track judged to wear glasses: the rims drawn are within
    a grid step of the painted ones (before, 0.38 spacings or more in half-width)."""
    masks = OcclusionMasks(OccluderModel(), worn={0: 1.0})
    for time, image, landmarks in aligned_frames(D3, FRAMES):
        centres, spacing = _eyes(landmarks)
        painted = image.copy()
        for x, y in centres:
            cv2.circle(painted, (round(x), round(y)), round(0.30 * spacing), (40, 35, 30), 3,
                       cv2.LINE_AA)
        masks(0, time, painted, landmarks)
    state = masks._tracks[0]
    assert state.held is not None
    held = state.held.rings
    # The fine crop's eye spacing, from the rings' own scale: the painted half-width is
    # 0.30 of it; rings are tried in steps of 0.04.
    fine_spacing = float(np.linalg.norm(held[1, :2] - held[0, :2]))
    assert np.all(np.abs(held[:, 2] / fine_spacing - 0.30) <= 0.045)
    # Their height less so: `glasses_frames` leaves out the brows and what is near them,
    # so the rims' upper arcs are not seen and the rings fitted are 0.7-0.9 as high.
    assert np.all(held[:, 3] <= held[:, 2])


def test_frames_eased_towards_themselves_stay_as_they_are() -> None:
    """Between searches the glasses' frames are not eased (the shortcut in
    `OcclusionMasks._ease`): easing a map towards itself gives the map, bit for bit."""
    rng = np.random.default_rng(19)
    frames = rng.random((SIZE, SIZE)).astype(np.float32)
    frames[rng.random((SIZE, SIZE)) < 0.5] = 0.0
    frames[:8] = 1.0
    assert np.array_equal(_eased(frames, frames.copy()), frames)
