"""engines/mesh_mirror.py: the mirrored side's texture lifted to the source's own
brightness. On the real photo: Kit Harington's turned head onto the frontal streamer
showed a grey band down the far cheek, his near cheek's shaded edge mirrored inside it
(issue 9; BENCHMARKS.md, fifteenth round)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_mirror import MIRROR_MAX_GAIN, levelled_mirror
from facedub.faceset import Faceset

TURNED = "still_kit_harington_turned.jpg"  # turned to the viewer's left, curls at both sides
FRONTAL = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256
FAR_OUTLINE = (234, 93, 132)  # the person's right face edge: the far side of Kit's turn
FAR_CHEEK = 50  # beside the nose on that side


def _drops(image: np.ndarray, landmarks: np.ndarray, outline: tuple[int, ...],
           cheek: int) -> list[float]:
    """Per line from an outline landmark to the cheek: how far (CIELAB L, lightly
    blurred) its darkest point on the outer 60% lies below its cheek end."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), CROP / 128)
    drops = []
    for start in outline:
        begin, end = landmarks[start, :2], landmarks[cheek, :2]
        points = np.round(begin + np.linspace(0.05, 0.6, 12)[:, None] * (end - begin))
        values = lightness[points[:, 1].astype(int), points[:, 0].astype(int)]
        drops.append(float(lightness[round(end[1]), round(end[0])] - values.min()))
    return drops


def test_the_far_cheek_shows_no_band_of_the_near_sides_shade(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Main: the far cheek 31-46 L below the cheek beside the nose along the three
    lines (mean 40); levelled: 13-26 (mean 20)."""
    target = first_target_face(FRONTAL, CROP)
    face = MeshEngine(extracted(TURNED, max_frames=1, crop_size=CROP)).swap_face(target)
    # The target's landmarks: the shape move shifts them a few pixels, the lines stay
    # on the cheek.
    far = _drops(face.image, target.face_landmarks, FAR_OUTLINE, FAR_CHEEK)
    assert np.mean(far) < 28.0, far
    assert max(far) < 32.0, far


def test_the_mirror_is_lifted_where_darker_than_the_direct_texture_never_lowered() -> None:
    """A shaded band in the mirrored texture comes up to the direct texture's level
    around it; where the mirror is brighter it stays; the gain is bounded."""
    size = 64
    direct = np.full((size, size, 3), 200.0, dtype=np.float32)
    mirrored = np.full((size, size, 3), 180.0, dtype=np.float32)
    mirrored[:, 24:40] = 90.0  # a band of shade
    mirrored[:, :8] = 230.0  # brighter than the direct texture
    trust = np.ones((size, size), dtype=np.float32)
    levelled = levelled_mirror(mirrored, trust, direct, trust, size)
    assert levelled[32, 32].mean() > 170.0  # 90 lifted
    assert levelled[32, 32].mean() <= 90.0 * MIRROR_MAX_GAIN + 1e-3
    assert np.all(levelled >= mirrored - 1e-3)
    assert np.allclose(levelled[:, :4], 230.0)


def test_without_direct_trust_the_mirror_is_left_as_it_is() -> None:
    size = 32
    mirrored = np.full((size, size, 3), 60.0, dtype=np.float32)
    direct = np.full((size, size, 3), 220.0, dtype=np.float32)
    levelled = levelled_mirror(mirrored, np.ones((size, size), np.float32), direct,
                               np.zeros((size, size), np.float32), size)
    assert np.array_equal(levelled, mirrored)
