"""engines/mesh_eye_rim.py on threequarter-glasses: Angelina Jolie's three-quarter photo onto
d9, whose own eyes are kept (her photo squints at rest). Her lid crease lay under the kept
eye's feathered rim above his far lid, drawn at part strength beside his creaseless lid: a
second lid line (issue 9; BENCHMARKS.md, fifty-third to fifty-fifth rounds). Now drawn
once: hers, whole, where his eye is open (over the upper lids, on past their outer
corners); his lid, toned, where it is closed; each eye by its own lids, and only where the
eyes are kept for the source's squint at rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_eye_rim import rim_lines_once
from facedub.engines.mesh_eyes import EYES
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

THREEQUARTER = "still_angelina_jolie_threequarter.jpg"
GLASSES = "clip_liveportrait_d9_man_glasses_webcam.mp4"
CROP = 256
CLOSED = 12  # d9's eyes closed (eyeBlink 0.70 / 0.73); his frame 0 is open
RIM = (0.1, 0.6)  # the kept eye's feathered share where her crease lay on main
CREASE = 6.0  # L units her face is darker than his lid there: her crease
OPEN_FIRST = 3


def _lightness(image: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab[..., 0]


def _far_upper_rim(kept: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(CROP, CROP) bool: the far (the person's left) eye's kept rim (RIM) above its
    opening's upper edge, between its corners."""
    points = np.asarray(landmarks)[:, :2]
    eye = EYES[0]
    corners = points[list(eye.corners)]
    top = float(points[list(eye.upper_lid), 1].mean())
    ys, xs = np.mgrid[0:CROP, 0:CROP]
    between = (xs >= corners[:, 0].min()) & (xs <= corners[:, 0].max())
    return (kept >= RIM[0]) & (kept <= RIM[1]) & between & (ys < top)


def _outer_wing_rim(kept: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(CROP, CROP) bool: both eyes' kept rims (RIM) past their outer corners (the corner
    farther from the other eye), above the corner line."""
    points = np.asarray(landmarks)[:, :2]
    ys, xs = np.mgrid[0:CROP, 0:CROP].astype(np.float64)
    centres = [points[list(eye.contour)].mean(axis=0) for eye in EYES]
    wing = np.zeros((CROP, CROP), dtype=bool)
    for eye, other in zip(EYES, centres[::-1], strict=True):
        first, second = points[eye.corners[0]], points[eye.corners[1]]
        inner, outer = ((first, second) if np.linalg.norm(second - other)
                        > np.linalg.norm(first - other) else (second, first))
        along = (outer - inner) / np.linalg.norm(outer - inner)
        past = (xs - outer[0]) * along[0] + (ys - outer[1]) * along[1] > 0.0
        above = ys < outer[1] + (xs - outer[0]) * along[1] / along[0]
        wing |= past & above
    return (kept >= RIM[0]) & (kept <= RIM[1]) & wing


def _shown(swapped: SwappedFace) -> np.ndarray:
    """The engine's face with the target's kept image over it by `kept`, as the compositor
    pastes it (its colour aside)."""
    assert swapped.kept is not None and swapped.kept_image is not None
    kept = swapped.kept[..., None]
    shown: np.ndarray = kept * swapped.kept_image + (1.0 - kept) * swapped.image
    return shown


@pytest.fixture(scope="module")
def swaps(extracted: Callable[..., Faceset], faces_dir: Path
          ) -> dict[str, tuple[TargetFace, SwappedFace, SwappedFace]]:
    """Per frame ("open": d9's frame 0, then "closed": CLOSED, one track), the target
    face, the engine's face with its rim as it is, and the same with the rim as main drew
    it (the lines not drawn once): Jolie's photo by the mesh engine at CROP px. His frame 0
    is swapped OPEN_FIRST times before CLOSED, so that the track's usual is his open eyes,
    as over his clip (over two frames its median is half his blink, and her squint at rest
    no longer reads narrower than his)."""
    targets = {}
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(faces_dir / GLASSES, indices={0, CLOSED}):
            face = analyser.analyse(frame.image)[0]
            targets["open" if frame.index == 0 else "closed"] = target_from_frame(
                frame.image, face.landmarks, CROP, face.pose, face.blendshapes)
    source = extracted(THREEQUARTER, max_frames=1, crop_size=CROP)
    order = ["open"] * OPEN_FIRST + ["closed"]

    def swapped(engine: MeshEngine) -> dict[str, SwappedFace]:
        return {name: engine.swap_face(targets[name]) for name in order}

    once = swapped(MeshEngine(source))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("facedub.engines.mesh.rim_lines_once",
                      lambda image, reshaped, eyes, *rest: (image, eyes))
        twice = swapped(MeshEngine(source))
    return {name: (target, once[name], twice[name]) for name, target in targets.items()}


def test_an_open_eyes_rim_shows_the_source_crease_whole(
        swaps: dict[str, tuple[TargetFace, SwappedFace, SwappedFace]]) -> None:
    """Where her face under the rim is her crease (CREASE L darker than his lid), the face
    shown is hers, not washed with his lid at part strength: main showed it 4.8 L lighter
    than her crease on the mean at 256 px (frame 0); now 1.5."""
    target, once, twice = swaps["open"]

    def washed(swapped: SwappedFace) -> float:
        assert swapped.kept_image is not None
        assert twice.kept is not None and twice.kept_image is not None
        rim = _far_upper_rim(twice.kept, target.face_landmarks)
        face = _lightness(swapped.image)
        crease = rim & (_lightness(twice.kept_image) - face >= CREASE)
        assert crease.sum() > 10
        return float((_lightness(_shown(swapped)) - face)[crease].mean())

    assert washed(twice) > 3.5  # the measure's own check: main's part-strength line
    assert washed(once) < 2.5


def test_an_open_eyes_crease_runs_on_past_its_outer_corner(
        swaps: dict[str, tuple[TargetFace, SwappedFace, SwappedFace]]) -> None:
    """Past each eye's outer corner, above the corner line, where her crease and lid shadow
    run on beyond the lash line's end (CREASE L darker than his lid), the face shown is
    hers: drawn over the upper lids between the corners alone, her crease stopped at the
    corner and its wing was washed with his lid there, 6.2 L lighter than hers on the mean
    at 256 px (frame 0, 35 pixels); now 1.0."""
    target, once, twice = swaps["open"]
    assert twice.kept is not None and twice.kept_image is not None
    wing = _outer_wing_rim(twice.kept, target.face_landmarks)
    face = _lightness(once.image)
    crease = wing & (_lightness(twice.kept_image) - face >= CREASE)
    assert crease.sum() > 10

    def washed(swapped: SwappedFace) -> float:
        return float((_lightness(_shown(swapped)) - face)[crease].mean())

    assert washed(twice) > 3.5  # the measure's own check: the part-strength wing
    assert washed(once) < 2.5


def test_a_closed_eyes_rim_shows_no_second_lid_line(
        swaps: dict[str, tuple[TargetFace, SwappedFace, SwappedFace]]) -> None:
    """Under the rim of his closed far eye, the engine's face against his own lid there
    toned to it (less the median difference over the rim: the compositor levels the
    face's tone, not its lines): main drew her crease there, its darkest tenth 18.1 L under
    his toned lid at 256 px (frame 12, after frame 0); lifted, 0.2."""
    target, once, twice = swaps["closed"]
    assert twice.kept is not None and twice.kept_image is not None
    rim = _far_upper_rim(twice.kept, target.face_landmarks)
    assert rim.sum() > 50
    lid = _lightness(twice.kept_image)[rim]

    def darker(swapped: SwappedFace) -> float:
        under = lid - _lightness(swapped.image)[rim]
        return float(np.percentile(under, 90) - np.median(under))

    assert darker(twice) > 8.0  # the measure's own check
    assert darker(once) < 4.0


def test_no_kept_eyes_leave_the_face_as_it_is() -> None:
    """Nothing changes where the target's eyes are not kept (share 0), nor where the face
    under the rim is not darker than the target's lid."""
    face = np.full((64, 64, 3), 120, dtype=np.uint8)
    eyes = np.zeros((64, 64), dtype=np.float32)
    landmarks = np.zeros((478, 2))
    box = (slice(0, 64), slice(0, 64))
    half = np.array([0.5, 0.5])
    image, kept = rim_lines_once(face, face.astype(np.float32), eyes, 0.0, landmarks, box, half)
    assert image is face and kept is eyes
    eyes[20:40, 20:40] = 0.5
    darker_target = np.full((64, 64, 3), 90.0, dtype=np.float32)
    image, kept = rim_lines_once(face, darker_target, eyes, 1.0, landmarks, box, half)
    assert image is face and np.array_equal(kept, eyes)


def _winking_rims() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                             tuple[slice, slice]]:
    """A face with a dark line across both kept eyes' upper rims over a lighter target lid:
    the face, the target, the kept eyes' mask, landmarks whose eyes (`EYES` order; openings
    16 px wide, 8 high) lie left and right of the middle, and the box."""
    size = 64
    face = np.full((size, size, 3), 150, dtype=np.uint8)
    face[23:26] = 90  # a crease over both upper lids
    target = np.full((size, size, 3), 160.0, dtype=np.float32)
    eyes = np.zeros((size, size), dtype=np.float32)
    landmarks = np.zeros((478, 2))
    for eye, centre in zip(EYES, (16, 48), strict=True):
        cv2.circle(eyes, (centre, 32), 7, 1.0, -1)
        turn = np.linspace(0.0, 2.0 * np.pi, len(eye.contour), endpoint=False)
        landmarks[list(eye.contour)] = np.stack([centre + 8.0 * np.cos(turn),
                                                 32.0 - 4.0 * np.sin(turn)], axis=1)
        landmarks[list(eye.corners)] = [(centre - 8, 32), (centre + 8, 32)]
    eyes = cv2.GaussianBlur(eyes, (0, 0), 3.0)
    return face, target, eyes, landmarks, (slice(0, size), slice(0, size))


def test_a_winks_open_eye_keeps_the_source_lines() -> None:
    """A wink (the first eye closed, the second open): the closed eye's rim is toned to the
    target's lid, the open eye's face is left as it is (its line shown, not toned): toned
    round both eyes by the larger blink, a winking target's open eye drew a pale arc
    (border-photo)."""
    face, target, eyes, landmarks, box = _winking_rims()
    image, kept = rim_lines_once(face, target, eyes, 1.0, landmarks, box, np.array([1.0, 0.0]))
    moved = np.any(image != face, axis=2)
    closed, opened = slice(0, 32), slice(33, 64)  # the middle column is the first eye's
    assert moved[:, closed].any()
    assert not moved[:, opened].any()
    assert np.array_equal(kept[:, closed], eyes[:, closed])  # the closed eye's rim: his lid
    assert (kept[:, opened] < eyes[:, opened]).any()  # the open eye's rim shows her line
