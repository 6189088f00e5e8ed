"""The source's upper lids where the target lowers its lids under raised brows.

readme-photo (Paul Rudd's frontal studio photo onto Katie Hill): on her frames 28-39 she looks
down with her brows raised, the mesh's lid triangles grow to 2-3 times their share of the
face, and Rudd's crease and the shade under his brows' inner heads are warped over the whole
lid: a dark grey wedge with a straight edge from the brow's head down to the lashes. Three
fills of the stretched lids were built and measured (the target's own lid toned to the
source's; the lid smoothed to its own mean; its coarse shading alone smoothed): each took the
wedge's straight edge away at 2x and halved the doubled-edge measure; the first two cost
readme-photo frames nearer the source, the third hair-forehead's likeness (Kit Harington's
turned photo: his lids stretch on every frame, distance to the source +0.0095), so none
shipped (BENCHMARKS.md, fifty-third round). The third fill only where the target lowers its
own lids (its lids grown and its eyes closing against its own usual) left hair-forehead
alone and passed the straight edge (4.9 and 5.5), but cost occlusion-smoke-hand 93 -> 87 of
160 frames nearer the source over four ids (Elon Musk's blink) and readme-photo 159 -> 157:
reverted (fifty-fourth round, r54-B's 6b9f8572, ba26b78d). The wedge's edge and its darkness
are kept here as strict xfails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

PHOTO = "still_paul_rudd_frontal_studio.jpg"
CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
LOWERED = (33, 34)  # her lids lowered under raised brows: the wedge on the person's right lid
OPEN = 20  # her eyes open, brows at rest: no wedge
SIZE = 224
# The person's right upper lid, from the eye opening's upper edge to the brow's lower edge.
UPPER_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133)
LOWER_EYE = (133, 155, 154, 153, 145, 144, 163, 7, 33)
BROW_LOWER = (55, 65, 52, 53, 46)


def _lid(landmarks: np.ndarray, size: int, inset: int = 0) -> np.ndarray:
    """(S, S) bool: the person's right upper lid of `landmarks` (478, 2+), the eye opening
    and a band of crop / 128 round it (the lashes) left out, and `inset` px off its rim."""
    lid = np.zeros((size, size), dtype=np.uint8)
    outline = np.concatenate([landmarks[list(UPPER_EYE), :2], landmarks[list(BROW_LOWER), :2]])
    cv2.fillPoly(lid, [np.round(outline).astype(np.int32)], 1)
    eye = np.zeros_like(lid)
    cv2.fillPoly(eye, [np.round(landmarks[list(UPPER_EYE + LOWER_EYE), :2]).astype(np.int32)], 1)
    reach = max(1, round(size / 128))
    lid &= 1 - cv2.dilate(eye, np.ones((2 * reach + 1,) * 2, np.uint8))
    if inset:
        lid = cv2.erode(lid, np.ones((2 * inset + 1,) * 2, np.uint8))
    return lid > 0


def _lightness(image: np.ndarray) -> np.ndarray:
    """(S, S) float32: L* blurred over crop / 128 (the skin's grain and the mark out)."""
    return cv2.GaussianBlur(to_lab(image)[..., 0], (0, 0), image.shape[0] / 128)


def _lid_darkest(image: np.ndarray, landmarks: np.ndarray) -> float:
    """The 10th percentile of `_lightness` over `_lid`."""
    return float(np.percentile(_lightness(image)[_lid(landmarks, image.shape[0])], 10))


def _lid_steepest(image: np.ndarray, landmarks: np.ndarray) -> float:
    """The 95th percentile of `_lightness`'s gradient (L per px) over `_lid`, crop / 128 in
    from its rim (the brow's and the lashes' own edges out): the wedge's straight edge and
    its second edge where it crosses a triangle's seam."""
    lightness = _lightness(image)
    across = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3) / 8
    down = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3) / 8
    size = image.shape[0]
    lid = _lid(landmarks, size, inset=max(1, round(size / 128)))
    return float(np.percentile(np.hypot(across, down)[lid], 95))


@pytest.fixture(scope="module")
def lids(extracted: Callable[..., Faceset], faces_dir: Path
         ) -> dict[int, tuple[float, float, float]]:
    """Each frame's (target's `_lid_darkest`, the engine's, the engine's `_lid_steepest`)
    (OPEN and LOWERED): Rudd's photo swapped onto Katie Hill by the mesh engine, one track."""
    engine = MeshEngine(extracted(PHOTO), MeshEngineConfig())
    out = {}
    try:
        with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
            for frame in media.iter_frames(faces_dir / CLIP, indices={OPEN, *LOWERED}):
                face = analyser.analyse(frame.image, frame.time)[0]
                target = target_from_frame(frame.image, face.landmarks, SIZE, face.pose,
                                           face.blendshapes, frame.time)
                swapped = engine.swap_face(target)
                points = target.face_landmarks
                out[frame.index] = (_lid_darkest(target.image, points),
                                    _lid_darkest(swapped.image, points),
                                    _lid_steepest(swapped.image, points))
    finally:
        engine.close()
    return out


def test_open_lids_are_not_darker_than_hers(lids: dict[int, tuple[float, float, float]]
                                             ) -> None:
    """The measure's own check: with her eyes open and brows at rest the engine's lid is not
    darker at its darkest tenth than hers (at 448 px on the swap's frame 20: 38.7 against
    her 33.1)."""
    target, engine, _ = lids[OPEN]
    assert target - engine <= 10.0


@pytest.mark.xfail(strict=True, reason="Rudd's lid crease and the shade under his brows' "
                   "heads warped over her lowered lids: a straight-edged wedge (the fills "
                   "tried cost likeness here or on hair-forehead; not fixed)")
def test_lowered_lids_show_no_straight_edged_wedge(lids: dict[int, tuple[float, float, float]]
                                                   ) -> None:
    """The stretched lid's shading no steeper than the engine's own lid where nothing is
    stretched (her eyes open on OPEN, 6.5 L per px at 224 px): the wedge's edges gone (main:
    8.2 and 8.2 on LOWERED; tried: the coarse shading smoothed, 4.9 and 5.0, passes)."""
    steepest = [lids[frame][2] for frame in LOWERED]
    assert max(steepest) <= lids[OPEN][2], (steepest, lids[OPEN][2])


@pytest.mark.xfail(strict=True, reason="Rudd's lid crease and the shade under his brows' "
                   "heads warped over her lowered lids: a dark wedge (her own lid there "
                   "cost likeness; not fixed)")
def test_lowered_lids_are_not_darker_than_hers(lids: dict[int, tuple[float, float, float]]
                                               ) -> None:
    """The engine's lid no darker at its darkest tenth than 10 L below Katie Hill's own
    (main: 18.9 and 15.6 L below on these frames; tried: the target's lid toned to Rudd's
    8.7 and 7.0, passes; the whole lid smoothed 14.0 and 11.1, its coarse shading alone 15.0
    and 11.9, as the smoothing keeps the lid's darkness: this measure sees the dark, not the
    straight edge, which `test_lowered_lids_show_no_straight_edged_wedge` reads)."""
    below = [lids[frame][0] - lids[frame][1] for frame in LOWERED]
    assert max(below) <= 10.0, below
