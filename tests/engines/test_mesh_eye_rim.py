"""The kept eye's feathered rim on threequarter-glasses: Angelina Jolie's three-quarter photo
onto d9, whose own eyes are kept (her photo squints at rest). Her lid crease lies under the
kept eye's rim above his lids, drawn at part strength beside his creaseless lid: a second lid
line, an arc over his closed lids (issue 9; BENCHMARKS.md, fifty-third and fifty-fourth
rounds). Drawing it once (hers, whole, on his open eyes; his lid, toned, on his closed ones)
was built and measured in the fifty-fourth round (r54-C: 90a764c, ddcb2ec): it took
threequarter-glasses from 23 to 35 or 28 of 40 frames nearer the source but cost
border-photo frames nearer the source (37 -> 29 or 36) and its smile, so it was reverted;
the closed lid's arc is kept here as a strict xfail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_eyes import EYES
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

THREEQUARTER = "still_angelina_jolie_threequarter.jpg"
GLASSES = "clip_liveportrait_d9_man_glasses_webcam.mp4"
CROP = 256
OPEN, CLOSED = 0, 12  # d9's eyes open (the track's usual); closed (eyeBlink 0.70 / 0.73)
RIM = (0.1, 0.6)  # the kept eye's feathered share where her crease lies


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


@pytest.fixture(scope="module")
def swaps(extracted: Callable[..., Faceset], faces_dir: Path
          ) -> dict[int, tuple[TargetFace, SwappedFace]]:
    """d9's frames OPEN, then CLOSED (one track): the target face and the engine's face,
    Jolie's photo by the mesh engine at CROP px."""
    out = {}
    engine = MeshEngine(extracted(THREEQUARTER, max_frames=1, crop_size=CROP))
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(faces_dir / GLASSES, indices={OPEN, CLOSED}):
            face = analyser.analyse(frame.image)[0]
            target = target_from_frame(frame.image, face.landmarks, CROP, face.pose,
                                       face.blendshapes)
            out[frame.index] = (target, engine.swap_face(target))
    return out


@pytest.mark.xfail(strict=True, reason="her open-eyed crease stands over his closed lid as "
                   "an arc under the kept eye's rim (his lid toned there cost border-photo "
                   "likeness; not shipped)")
def test_a_closed_eyes_rim_shows_no_second_lid_line(
        swaps: dict[int, tuple[TargetFace, SwappedFace]]) -> None:
    """Under the rim of his closed far eye, the engine's face against his own lid there,
    less the median difference over the rim (the compositor levels the face's tone, not
    its lines): main draws her crease there, its darkest tenth 18.1 L under his toned lid
    at 256 px; with his lid toned to hers there (r54-C), 0.2-0.4."""
    target, swapped = swaps[CLOSED]
    assert swapped.kept is not None and swapped.kept_image is not None
    rim = _far_upper_rim(swapped.kept, target.face_landmarks)
    assert rim.sum() > 50
    under = (_lightness(swapped.kept_image) - _lightness(swapped.image))[rim]
    assert float(np.percentile(under, 90) - np.median(under)) < 4.0
