"""expr-shouting's smile misses are read off the pale rim round its eyes, not off its mouth
(issue 17, fifty-seventh round). Every smile miss of main over four job ids lies on d10's
closed, slight smile of frames 30-33, each reading 0.11-0.13 MORE smile than hers; the
target's own pixels pasted into the output there (her lips grown up to 0.4 mouth widths,
her mouth corners' skin, her whole lower face) leave the excess, her eyes' ring of lid and
under-eye skin takes it all. That ring is the shouting photo's lit lids and shaded creases
that the compositor's tone carries (issue 9's pale rim, `test_mesh_eye_ring_round56.py`):
where that is fixed, these frames should agree (BENCHMARKS.md, Realism, fifty-seventh
round). Here on frame 32 alone, composited at 256 px from a fresh engine (no track state),
read by the landmarker as a photo. Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_eyes import EYES
from facedub.engines.mesh_mouth import lips_mask
from facedub.faces.landmarks import BLENDSHAPE_NAMES, FaceAnalyser, resolve_landmarker_model
from facedub.faces.regions import MOUTH_CORNERS
from facedub.faceset import Faceset
from target_support import target_from_frame

SHOUTING = "still_woman_shouting.jpg"
D10 = "clip_liveportrait_d10_woman_expressions.mp4"
FRAME = 32  # d10's closed smile, lips barely apart: main's worst smile miss (+0.13 at 101)
SIZE = 256
TOLERANCE = 0.1  # the evaluation's SMILE_TOLERANCE
RING = (0.05, 0.2)  # mouth widths past each eye's opening: her lids and under-eye skin
LIPS_SURROUND = 0.2  # mouth widths round her lips: the kept lips' own reach
_SMILES = [BLENDSHAPE_NAMES.index(name) for name in ("mouthSmileLeft", "mouthSmileRight")]


@dataclass(frozen=True)
class Smiles:
    """The mean mouthSmile read on d10's own crop, on the swap, and on the swap with a
    zone of her own crop pasted over it."""

    own: float
    swapped: float
    her_eye_ring: float
    her_lips: float


def _grown(mask: np.ndarray, pixels: float) -> np.ndarray:
    radius = max(1, round(pixels))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.dilate(mask, kernel)


def _eye_ring(landmarks: np.ndarray, size: int, mouth_width: float) -> np.ndarray:
    """(S, S) float32: RING mouth widths past both eyes' openings."""
    inner = np.zeros((size, size), np.float32)
    outer = np.zeros((size, size), np.float32)
    for eye in EYES:
        opening = np.zeros((size, size), np.float32)
        hull = cv2.convexHull(np.round(landmarks[list(eye.contour), :2]).astype(np.int32))
        cv2.fillConvexPoly(opening, hull, 1.0)
        np.maximum(inner, _grown(opening, RING[0] * mouth_width), out=inner)
        np.maximum(outer, _grown(opening, RING[1] * mouth_width), out=outer)
    return outer - inner


def _pasted(swapped: np.ndarray, own: np.ndarray, zone: np.ndarray) -> np.ndarray:
    soft = cv2.GaussianBlur(zone.astype(np.float32), (0, 0), 1.5)[..., None]
    return np.clip(swapped * (1.0 - soft) + own * soft + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def smiles(extracted: Callable[..., Faceset], faces_dir: Path) -> Smiles:
    """The shouting photo onto d10's frame FRAME, composited, read as photos."""
    image = next(f.image for f in media.iter_frames(faces_dir / D10, indices={FRAME})
                 if f.index == FRAME)
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        face = analyser.analyse(image)[0]
        target = target_from_frame(image, face.landmarks, SIZE, face.pose,
                                   np.asarray(face.blendshapes))
        engine = MeshEngine(extracted(SHOUTING, max_frames=1, crop_size=SIZE),
                            MeshEngineConfig())
        try:
            swapped = Compositor(CompositeConfig()).composite(target, engine.swap_face(target))
        finally:
            engine.close()
        points = target.face_landmarks
        width = float(np.linalg.norm(points[MOUTH_CORNERS[0], :2]
                                     - points[MOUTH_CORNERS[1], :2]))

        def smile(crop: np.ndarray) -> float:
            face = analyser.analyse(np.ascontiguousarray(crop))[0]
            return float(np.asarray(face.blendshapes)[_SMILES].mean())

        return Smiles(
            own=smile(target.image), swapped=smile(swapped.image),
            her_eye_ring=smile(_pasted(swapped.image, target.image,
                                       _eye_ring(points, SIZE, width))),
            her_lips=smile(_pasted(swapped.image, target.image,
                                   lips_mask(points, SIZE, LIPS_SURROUND))))


def test_her_eye_ring_takes_the_excess_smile_her_lips_do_not(smiles: Smiles) -> None:
    """Her own lids and under-eye skin pasted over the swap bring its smile to within half
    the tolerance of hers (main: 0.40 against her 0.37, the swap 0.50); her lips and 0.2
    mouth widths round them leave it further (main 0.48)."""
    assert abs(smiles.her_eye_ring - smiles.own) <= TOLERANCE / 2, smiles
    assert abs(smiles.her_lips - smiles.own) > abs(smiles.her_eye_ring - smiles.own) + 0.03, \
        smiles


@pytest.mark.xfail(strict=True, reason="the shouting photo's lit lids and shaded creases "
                   "round d10's eyes (issue 9's pale rim) read as a smile: traced, not fixed")
def test_the_swap_reads_d10s_smile(smiles: Smiles) -> None:
    """The swap's smile within the evaluation's tolerance of hers (main: 0.50 against 0.37)."""
    assert abs(smiles.swapped - smiles.own) <= TOLERANCE, smiles
