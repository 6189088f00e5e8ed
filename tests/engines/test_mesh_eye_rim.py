"""engines/mesh_eye_rim.py on threequarter-glasses: Angelina Jolie's three-quarter photo onto
d9, whose own eyes are kept (her photo squints at rest). Her lid crease lay under the kept
eye's feathered rim above his far lid, drawn at part strength beside his creaseless lid: a
second lid line (issue 9; BENCHMARKS.md, fifty-third and fifty-fourth rounds)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_eye_rim import rim_lines_lifted
from facedub.engines.mesh_eyes import EYES
from facedub.faceset import Faceset

THREEQUARTER = "still_angelina_jolie_threequarter.jpg"
GLASSES = "clip_liveportrait_d9_man_glasses_webcam.mp4"
CROP = 256
RIM = (0.1, 0.6)  # the kept eye's feathered share where her crease lay on main


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


def test_the_kept_eyes_rim_draws_no_second_lid_line(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """The engine's face shown under the kept eye's rim as the compositor shows it (the
    target's kept image by `kept` over the face) against the target's own lid there: main
    drew her crease there, its darkest tenth 10.5 L or more under his lid at 256 px (frame
    0, at most 13.1); lifted, none of it under his lid (-1.6)."""
    target = first_target_face(GLASSES, CROP)
    swapped = MeshEngine(extracted(THREEQUARTER, max_frames=1, crop_size=CROP)
                         ).swap_face(target)
    assert swapped.kept is not None and swapped.kept_image is not None
    kept = swapped.kept[..., None]
    shown = kept * swapped.kept_image + (1.0 - kept) * swapped.image
    rim = _far_upper_rim(swapped.kept, target.face_landmarks)
    assert rim.sum() > 50
    darker = (_lightness(swapped.kept_image) - _lightness(shown))[rim]
    assert np.percentile(darker, 90) < 5.0


def test_no_kept_eyes_leave_the_face_as_it_is() -> None:
    """Nothing is lifted where the target's eyes are not kept (share 0), nor where the
    rim's face is not darker than the target's lid."""
    face = np.full((64, 64, 3), 120, dtype=np.uint8)
    eyes = np.zeros((64, 64), dtype=np.float32)
    landmarks = np.zeros((478, 2))
    box = (slice(0, 64), slice(0, 64))
    assert rim_lines_lifted(face, face.astype(np.float32), eyes, 0.0, landmarks, box) is face
    eyes[20:40, 20:40] = 0.5
    darker_target = np.full((64, 64, 3), 90.0, dtype=np.float32)
    assert rim_lines_lifted(face, darker_target, eyes, 1.0, landmarks, box) is face
