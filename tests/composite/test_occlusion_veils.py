"""Veils of smoke over the face: a soft matte in the occlusion mask, and none on bare faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _canonical
from facedub.composite.occlusion_cues import half_pixels
from facedub.composite.occlusion_veils import smoke_veils
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

SMOKE = "clip_dlib_elon_smoke_hand_mic_occlusion.gif"  # clip 16
# In the 256 px "whole" crop of clip 16's frames 0-2: the smoke drifting over the right
# cheek's edge (the face's left), thinning out towards the cheek.
VEIL_BOX = (200, 105, 220, 140)  # x0, y0, x1, y1
CROP = 256


def _crops(path: Path, indices: set[int]) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(time, crop, its landmarks) of the first face in the frames `indices` of `path`
    (a clip, or a photo as frame 0), each frame's landmarks found alone."""
    if media.is_photo_path(path):
        images = [(0.0, media.read_photo(path))]
    else:
        images = [(f.time, f.image) for f in media.iter_frames(path) if f.index in indices]
    crops = []
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        for time, image in images:
            aligned = align_face(image, analyser.analyse(image)[0].landmarks, CROP, "whole")
            crops.append((time, aligned.image, aligned.face_landmarks))
    return crops


def test_a_veil_of_smoke_over_the_cheek_is_kept_as_a_soft_matte(faces_dir: Path) -> None:
    """Real footage (clip 16, frames 0-2): where the smoke thins out over the cheek the
    mask follows it softly. Before the veils the mask was 0.0 in the box (the smoke
    swapped over); now 0.73, 0.58, 0.42, with most of its pixels between 0.1 and 0.9:
    a matte, not a hard mark."""
    masks = OcclusionMasks(OccluderModel())
    x0, y0, x1, y1 = VEIL_BOX
    for index, (time, image, landmarks) in enumerate(_crops(faces_dir / SMOKE, {0, 1, 2})):
        box = masks(0, time, image, landmarks).mask[y0:y1, x0:x1]
        assert box.mean() > 0.3, index
        assert ((box > 0.1) & (box < 0.9)).mean() > 0.5, index


# Bare faces, each with what looks like dense smoke by colour alone beside or on it:
# clip 11's stage shot (a spotlight's blown-out forehead and cheek, a white collar under
# the jaw), a white backdrop touching a face, a torch moving over a face, blonde hair, a
# white collar, a beard, clear glasses. Relaxing each rule of the dense smoke alone marks
# some of them: nothing inside the face (clip 11 at 3.0, 3.4, 5.8 s), beyond the face's
# outline only, not the head's (3.4 s), white clipped (3.7 s, the white backdrop).
BARE = [
    ("clip_facerecognition_hamilton_multiface_mic.mp4",
     {90, 100, 102, 103, 108, 109, 110, 122, 136, 175, 190}),
    ("still_man_angry_grimace.png", {0}),
    ("clip_openface_changelighting_torch_moving_light.wmv", {10, 55}),
    ("clip_sadtalker_hdtf_katiehill_headturn.mp4", {0, 150}),
    ("clip_deepfacelive_obama_speaking.mp4", {0, 100}),
    ("clip_deepfacelive_twitch_streamer_webcam.mp4", {0}),
    ("clip_liveportrait_d12_man_glasses_headturn_hand.mp4", {0, 170}),
]


@pytest.mark.parametrize(("name", "indices"), BARE, ids=[name for name, _ in BARE])
def test_no_veil_on_bare_faces(faces_dir: Path, name: str, indices: set[int]) -> None:
    """No smoke, no veil: the cue marks no pixel of these faces."""
    for time, image, landmarks in _crops(faces_dir / name, indices):
        _, _, fine, fine_landmarks, _, shown = _canonical(image, landmarks, None)
        lab = to_lab(cv2.resize(fine, shown.shape[::-1], interpolation=cv2.INTER_AREA))
        veil = smoke_veils(lab, half_pixels(fine_landmarks), shown)
        assert not veil.any(), (name, time)
