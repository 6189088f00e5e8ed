"""The source's upper lids where the target lowers its lids under raised brows.

readme-photo (Paul Rudd's frontal studio photo onto Katie Hill): on her frames 28-39 she looks
down with her brows raised, the mesh's lid triangles grow to 2-3 times their share of the
face, and Rudd's crease and the shade under his brows' inner heads are warped over the whole
lid: a dark grey wedge with a straight edge from the brow's head down to the lashes. Two fills
of the stretched lids were built and measured (the target's own lid toned to the source's;
the lid smoothed to its own mean): each took the wedge away at 2x and halved the doubled-edge
measure, and each cost readme-photo frames nearer the source (40 -> 35 and 38 of 40), so
neither shipped (BENCHMARKS.md, fifty-third round); the finding is kept here as a strict xfail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faces.align import face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset

PHOTO = "still_paul_rudd_frontal_studio.jpg"
CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
LOWERED = (33, 34)  # her lids lowered under raised brows: the wedge on the person's right lid
OPEN = 20  # her eyes open, brows at rest: no wedge
SIZE = 224
# The person's right upper lid, from the eye opening's upper edge to the brow's lower edge.
UPPER_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133)
LOWER_EYE = (133, 155, 154, 153, 145, 144, 163, 7, 33)
BROW_LOWER = (55, 65, 52, 53, 46)


def _lid_darkest(image: np.ndarray, landmarks: np.ndarray) -> float:
    """The 10th percentile of L* (blurred over crop / 128) over the person's right upper lid
    of `landmarks` (478, 2+), the eye opening and a band round it (the lashes) left out."""
    size = image.shape[0]
    lid = np.zeros((size, size), dtype=np.uint8)
    outline = np.concatenate([landmarks[list(UPPER_EYE), :2], landmarks[list(BROW_LOWER), :2]])
    cv2.fillPoly(lid, [np.round(outline).astype(np.int32)], 1)
    eye = np.zeros_like(lid)
    cv2.fillPoly(eye, [np.round(landmarks[list(UPPER_EYE + LOWER_EYE), :2]).astype(np.int32)], 1)
    reach = max(1, round(size / 128))
    eye = cv2.dilate(eye, np.ones((2 * reach + 1,) * 2, np.uint8))
    lightness = cv2.GaussianBlur(to_lab(image)[..., 0], (0, 0), size / 128)
    return float(np.percentile(lightness[(lid > 0) & (eye == 0)], 10))


@pytest.fixture(scope="module")
def lids(extracted: Callable[..., Faceset], faces_dir: Path) -> dict[int, tuple[float, float]]:
    """Each frame's (target, engine) `_lid_darkest` (OPEN and LOWERED): Rudd's photo swapped
    onto Katie Hill by the mesh engine, one track."""
    engine = MeshEngine(extracted(PHOTO), MeshEngineConfig())
    out = {}
    try:
        with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
            for frame in media.iter_frames(faces_dir / CLIP, indices={OPEN, *LOWERED}):
                face = analyser.analyse(frame.image, frame.time)[0]
                matrix = face_from_frame_matrix(face.landmarks, SIZE, "whole")
                target = TargetFace(
                    image=warp_to_face(frame.image, matrix, SIZE),
                    face_landmarks=landmarks_in_crop(face.landmarks, matrix),
                    face_from_frame=matrix, pose=face.pose, blendshapes=face.blendshapes,
                    time=frame.time, track=0)
                swapped = engine.swap_face(target)
                out[frame.index] = (_lid_darkest(target.image, target.face_landmarks),
                                    _lid_darkest(swapped.image, target.face_landmarks))
    finally:
        engine.close()
    return out


def test_open_lids_are_not_darker_than_hers(lids: dict[int, tuple[float, float]]) -> None:
    """The measure's own check: with her eyes open and brows at rest the engine's lid is not
    darker at its darkest tenth than hers (at 448 px on the swap's frame 20: 38.7 against
    her 33.1)."""
    target, engine = lids[OPEN]
    assert target - engine <= 10.0


@pytest.mark.xfail(strict=True, reason="Rudd's lid crease and the shade under his brows' "
                   "heads warped over her lowered lids: a dark wedge (the fills tried cost "
                   "likeness; not fixed)")
def test_lowered_lids_show_no_dark_wedge(lids: dict[int, tuple[float, float]]) -> None:
    """The engine's lid no darker at its darkest tenth than 10 L below Katie Hill's own
    (main: 18.9 and 15.6 L below on these frames; tried: the target's lid toned to Rudd's
    8.7 and 7.0, passes; the lid smoothed to its own mean over crop / 64 14.0 and 11.1, as
    it keeps the lid's darkness: this measure sees the dark, not the straight edge)."""
    below = [lids[frame][0] - lids[frame][1] for frame in LOWERED]
    assert max(below) <= 10.0, below
