"""Raised brows drawn as two dark smudges (occlusion-mic, the pair's frames 88-98: the stage
clip's 178-188). The performer raises his brows into even dark arcs; Paul Rudd's brows are
dense at their inner heads, just under his landmarks' lower contour, and sparse along the
rest. The engine draws them where the target's brows are (its moved brow points within a
pixel of his), the compositor keeps them as detail on the target's light, and what shows is
his heads as dark as the performer's brows and their middles 10 L lighter than his arcs: two
dark smudges at 1x. Traced to the source's own brows and the compositor's tone (not the
occlusion mask, the expression lines, the relief share or the stretched band under the brows:
each taken away leaves them; BENCHMARKS.md, fifty-second round); not fixed, the finding kept
here as a strict xfail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

PHOTO = "still_paul_rudd_frontal_studio.jpg"
STAGE = "clip_facerecognition_hamilton_multiface_mic.mp4"
RAISED = (178, 180, 182, 184, 186, 188)  # the pair's 88-98 (its excerpt opens at 3.0 s)
SIZE = 160  # the swap composites his face at 160 px
# MediaPipe's brow contours, outer end to inner head: the person's right brow, then left.
UPPER = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
LOWER = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))
SAMPLES = 15


def _thirds(lab: np.ndarray, landmarks: np.ndarray, side: int) -> np.ndarray:
    """(3,) the brow's darkest L* across its thickness (a pixel above its upper contour to
    two below its lower: hairs reach past them), medians over its outer, middle and inner
    thirds (as `tools/brow_thirds.py` reads a swapped video)."""
    upper, lower = landmarks[list(UPPER[side]), :2], landmarks[list(LOWER[side]), :2]
    along, knots = np.linspace(0.0, 1.0, SAMPLES), np.linspace(0.0, 1.0, len(upper))
    darkest = []
    for k in range(SAMPLES):
        top = np.array([np.interp(along[k], knots, upper[:, i]) for i in (0, 1)])
        bottom = np.array([np.interp(along[k], knots, lower[:, i]) for i in (0, 1)])
        thickness = float(np.linalg.norm(bottom - top))
        points = [top + (bottom - top) / max(thickness, 1e-6) * d
                  for d in np.linspace(-1.0, thickness + 2.0, 9)]
        darkest.append(min(_bilinear(lab[..., 0], p) for p in points))
    return np.array([np.median(part) for part in np.array_split(np.array(darkest), 3)])


def _bilinear(plane: np.ndarray, point: np.ndarray) -> float:
    x, y = float(point[0]), float(point[1])
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - x0, y - y0
    top = plane[y0, x0] * (1 - fx) + plane[y0, x0 + 1] * fx
    bottom = plane[y0 + 1, x0] * (1 - fx) + plane[y0 + 1, x0 + 1] * fx
    return float(top * (1 - fy) + bottom * fy)


@pytest.fixture(scope="module")
def raised_brows(extracted: Callable[..., Faceset], faces_dir: Path
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each raised-brow frame's brow thirds (target, swapped), both brows: Rudd's photo
    swapped onto the performer (the larger face) and composited, one track."""
    source = extracted(PHOTO)
    engine, compositor = MeshEngine(source, MeshEngineConfig()), Compositor(CompositeConfig())
    out = []
    try:
        with FaceAnalyser(max_faces=2, model_path=resolve_landmarker_model()) as analyser:
            for frame in media.iter_frames(faces_dir / STAGE, indices=set(RAISED)):
                face = max(analyser.analyse(frame.image, frame.time),
                           key=lambda f: float(f.box[2] - f.box[0]))
                target = target_from_frame(frame.image, face.landmarks, SIZE, face.pose,
                                           face.blendshapes, time=frame.time)
                swapped = compositor.composite(target, engine.swap_face(target)).image
                for side in (0, 1):
                    out.append((_thirds(to_lab(target.image), target.face_landmarks, side),
                                _thirds(to_lab(swapped), target.face_landmarks, side)))
    finally:
        engine.close()
    return out


def test_the_performers_raised_brows_are_even_arcs(
        raised_brows: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """The measure's own check: his raised brows are as dark along their middles as at their
    heads (within 6 L on average; -3.8 measured), so a swap whose middles are much lighter
    than its heads draws something he does not show."""
    heads_less_rest = [target[2] - target[:2].mean() for target, _ in raised_brows]
    assert abs(float(np.mean(heads_less_rest))) < 6.0


@pytest.mark.xfail(strict=True, reason="Rudd's sparse brow middles come out 10 L lighter "
                   "than the performer's raised arcs, his dense heads as dark: two smudges "
                   "(the source's brows and the compositor's tone; not fixed)")
def test_raised_brows_are_drawn_as_brows_not_smudges(
        raised_brows: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """The swapped brows' middle thirds within 5 L of the performer's on average (main:
    +9.7 L, their heads -1.8 L, inner less the rest -10.9 L against his -3.8)."""
    middles = [swapped[1] - target[1] for target, swapped in raised_brows]
    assert float(np.mean(middles)) <= 5.0
