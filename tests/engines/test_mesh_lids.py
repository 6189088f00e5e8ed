"""The source's upper lids where the target lowers its lids under raised brows.

readme-photo (Paul Rudd's frontal studio photo onto Katie Hill): on her frames 28-39 she looks
down with her brows raised, the mesh's lid triangles grow to 2-3 times their share of the
face, and Rudd's crease and the shade under his brows' inner heads are warped over the whole
lid: a dark grey wedge with a straight edge from the brow's head down to the lashes. Where
the target lowers its own lids (`mesh_lids.UsualLids`) the stretched lids' coarse shading is
smoothed to its own mean over crop / 64: the wedge's straight edge goes, its dark stays (a
lid as light as hers cost readme-photo frames nearer the source). A turned photo's
far lid, foreshortened in the photo, stretches too on a frontal target's open-eyed frames
(hair-forehead, Kit Harington's photo): stretch alone smoothed it on every frame, at a cost
in likeness (BENCHMARKS.md, fifty-third round); it is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.engines import mesh
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

PHOTO = "still_paul_rudd_frontal_studio.jpg"
CLIP = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
TURNED_PHOTO = "still_kit_harington_turned.jpg"  # yaw -21.7: his far lid foreshortened
OPEN_CLIP = "clip_deepfacelive_twitch_streamer_webcam.mp4"
OPEN_FRAMES = (12, 30)  # the streamer frontal, lids open (a half blink on 30)
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


def test_lowered_lids_show_no_straight_edged_wedge(lids: dict[int, tuple[float, float, float]]
                                                   ) -> None:
    """The stretched lid's shading no steeper than the engine's own lid where nothing is
    stretched (her eyes open on OPEN, 6.5 L per px at 224 px): the wedge's edges gone (main:
    8.2 and 8.2 on LOWERED; the coarse shading smoothed where she lowers her lids, 4.9 and
    5.5)."""
    steepest = [lids[frame][2] for frame in LOWERED]
    assert max(steepest) <= lids[OPEN][2], (steepest, lids[OPEN][2])


@pytest.mark.xfail(strict=True, reason="the lowered lid's dark is Rudd's: a lid as light as "
                   "hers costs likeness (smoothed over crop / 32: readme-photo 159 -> 147 of "
                   "160 frames nearer the source over four ids)")
def test_lowered_lids_are_not_darker_than_hers(lids: dict[int, tuple[float, float, float]]
                                               ) -> None:
    """The engine's lid no darker at its darkest tenth than 10 L below Katie Hill's own
    (main: 18.9 and 15.6 L below on these frames; the coarse shading smoothed over crop / 64,
    shipped, 15.0 and 12.5; over crop / 32 8.4 and 6.8, which passes and loses frames nearer
    the source: the lid's dark is part of how Rudd is recognised; BENCHMARKS.md,
    fifty-fourth round)."""
    below = [lids[frame][0] - lids[frame][1] for frame in LOWERED]
    assert max(below) <= 10.0, below


def test_turned_photos_far_lid_is_left_alone_where_the_target_does_not_lower_its_lids(
        extracted: Callable[..., Faceset], faces_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Kit Harington's turned photo on the streamer's open-eyed frames: his far lid's
    triangles take 2.1-2.3 times their share of his face there (foreshortened in the photo,
    not lowered in the frame), and the engine's face is the one it makes with no lid
    smoothing at all (stretch alone smoothed it on every frame: hair-forehead's distance to
    the source 0.549 -> 0.558). The engine reads the track's usual lids from the frames it
    has swapped, so frame 12, the first, is its own usual by construction and never lowered;
    frame 30 is the one that tests the gate: a half blink, its eyes at 0.48 of their usual
    opening (closing, fully), its lids at 1.08 of their usual share (not grown: shut)."""
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        targets = []
        for frame in media.iter_frames(faces_dir / OPEN_CLIP, indices=set(OPEN_FRAMES)):
            face = analyser.analyse(frame.image, frame.time)[0]
            targets.append(target_from_frame(frame.image, face.landmarks, SIZE, face.pose,
                                             face.blendshapes, frame.time))

    def swapped() -> list[np.ndarray]:
        engine = MeshEngine(extracted(TURNED_PHOTO), MeshEngineConfig())
        try:
            return [engine.swap_face(target).image for target in targets]
        finally:
            engine.close()

    shown = swapped()
    monkeypatch.setattr(mesh, "smoothed_lids", lambda *args: None)
    for index, (face, unsmoothed) in enumerate(zip(shown, swapped(), strict=True)):
        assert np.array_equal(face, unsmoothed), OPEN_FRAMES[index]
