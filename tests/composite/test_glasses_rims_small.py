"""Small round rims are drawn small; the glasses' frames between searches are kept as
they are.

Rims narrower than DRAWN_HALF_WIDTHS (small round glasses) are drawn where they are, not
on the smallest larger ring."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.composite.glasses_rims import (
    DRAWN_HALF_WIDTHS,
    HeldRims,
    between_searches,
    follow_rims,
    searching,
)
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _eased
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.regions import mesh_regions

SIZE = 256  # the fine canonical crop the rims are fitted in
SPACING = 76.0
CENTRES = ((90.0, 120.0), (166.0, 120.0))
STEP = 0.04 * SPACING  # a step of the search's grid (3 px here)
LARGE = (0.0, -0.04 * SPACING, 0.46 * SPACING, 0.46 * 0.8 * SPACING)
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


def _frame_lines(rng: np.random.Generator, rim: tuple[float, float, float, float] = LARGE,
                 shift: float = 0.0) -> np.ndarray:
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
    rings, _ = _judged([_frame_lines(rng, SMALL) for _ in range(20)])
    for (x, y), ring in zip(CENTRES, rings[-1], strict=True):
        assert np.allclose(ring, (x + SMALL[0], y + SMALL[1], SMALL[2], SMALL[3]),
                           atol=STEP + 0.5)
    assert rings[-1][:, 2].max() < min(DRAWN_HALF_WIDTHS) * SPACING


D3 = "clip_liveportrait_d3_woman_headturn.mp4"
FRAMES = 12


def _aligned(path: Path) -> list[tuple[float, np.ndarray, np.ndarray]]:
    out = []
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(path):
            if len(out) == FRAMES:
                break
            faces = analyser.analyse(frame.image, frame.time)
            if faces:
                aligned = align_face(frame.image, faces[0].landmarks, 512, "whole")
                out.append((frame.time, aligned.image, aligned.face_landmarks))
    return out


def _eyes(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = np.array([points[regions.right_eye].mean(axis=0),
                        points[regions.left_eye].mean(axis=0)])
    return centres, float(np.linalg.norm(centres[1] - centres[0]))


def test_small_round_rims_painted_on_a_bare_face_are_drawn_small(faces_dir: Path) -> None:
    """d3's first frames (a bare face) with thin dark round rims 0.6 eye spacings wide
    painted around the eyes, the track judged to wear glasses: the rims drawn are within
    a grid step of the painted ones (before, 0.38 spacings or more in half-width)."""
    masks = OcclusionMasks(OccluderModel(), worn={0: 1.0})
    for time, image, landmarks in _aligned(faces_dir / D3):
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
