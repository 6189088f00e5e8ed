"""engines/mesh_mirror.py's socket fill: where a turned photo shows an eye's socket edge-on
(a stretched dark sliver) and its mirror image is the near socket's own shade, the mesh
engine takes the target's own skin there, toned to the source's (hair-forehead: a grey
smudge round the far eye at 1x; BENCHMARKS.md, thirtieth round)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_mirror import (
    feathered_out,
    oblique_share,
    socket_triangles,
    with_target_sockets,
)
from facedub.engines.mesh_topology import mesh_topology
from facedub.faceset import Faceset

TURNED = "still_kit_harington_turned.jpg"  # turned to the viewer's left
FRONTAL = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256
FAR_SOCKET = (130, 247, 113, 225, 226)  # round the far eye's outer corner
FAR_CHEEK = (118, 117, 50)  # the far cheek below it


def _lightness(image: np.ndarray, landmarks: np.ndarray, points: tuple[int, ...]) -> float:
    """CIELAB L (lightly blurred) averaged at the landmarks."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), CROP / 128)
    return float(np.mean([lightness[round(landmarks[p, 1]), round(landmarks[p, 0])]
                          for p in points]))


def test_the_far_socket_of_a_turned_photo_is_no_dark_smudge(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """Kit Harington's far socket, seen edge-on, onto the frontal streamer: main's engine
    face 35 L darker there than on the far cheek below it; with the target's own socket
    toned to his skin, 17 (the target's own: 15)."""
    target = first_target_face(FRONTAL, CROP)
    engine = MeshEngine(extracted(TURNED, max_frames=1, crop_size=CROP))
    try:
        face = engine.swap_face(target)
    finally:
        engine.close()
    landmarks = target.face_landmarks
    drop = _lightness(face.image, landmarks, FAR_CHEEK) - _lightness(face.image, landmarks,
                                                                    FAR_SOCKET)
    assert drop < 24.0, drop


def test_only_sockets_seen_worse_than_their_mirror_take_the_target() -> None:
    """A frontal source (both sides seen alike), a source turned less than 15 degrees and
    the triangles off the sockets keep their share at 0; a turned source's socket seen far
    worse than its mirror image takes it all."""
    topology = mesh_topology()
    sockets = socket_triangles(topology.triangles, topology.template_vertices,
                               topology.eye_openings)
    assert 40 < sockets.sum() < 200  # both eyes' lower sockets, a few dozen triangles each
    assert not (sockets & topology.eye_openings).any()
    alike = np.full(len(sockets), 0.8)
    assert not oblique_share(alike, alike, sockets, 25.0).any()
    direct = np.where(sockets, 0.3, 0.2)
    share = oblique_share(direct, np.ones(len(sockets)), sockets, -22.0)
    assert np.all(share[sockets] == 1.0) and not share[~sockets].any()
    # A photo turned less than the frontal bin's edge (border-photo's downcast one, 12
    # degrees) keeps its own sockets, however oblique the mesh reads them.
    assert not oblique_share(direct, np.ones(len(sockets)), sockets, -12.0).any()


def test_the_target_socket_comes_at_the_faces_level_with_its_own_shading() -> None:
    """The engine's grey face (level 100) with a dark smudge; the target's pink skin
    (level 200) with its socket 40 darker than its cheek: where the share is full the
    result is the target's shading at the face's level (its socket about 20 darker, at
    the face's grey colour), the rest untouched."""
    size = 128
    face = np.full((size, size, 3), 100.0, dtype=np.float32)
    face[50:70, 40:60] = 40.0  # the smudge
    target = np.empty((size, size, 3), dtype=np.float32)
    target[...] = (220.0, 190.0, 180.0)
    target[50:70, 40:60] = (180.0, 150.0, 140.0)  # its own socket, darker than its cheek
    share = np.zeros((size, size), dtype=np.float32)
    share[45:75, 35:65] = 1.0
    share = feathered_out(share, size)
    before = face.copy()
    with_target_sockets(face, target, share, np.ones((size, size), dtype=np.float32), size)
    middle = face[55:65, 45:55]
    assert 70.0 < middle.mean() < 95.0  # lighter than the smudge, the target's shade kept
    assert np.ptp(middle.mean(axis=(0, 1))) < 6.0  # grey as the face, not the target's pink
    assert np.abs(face[:, 100:] - before[:, 100:]).max() < 1e-3


def test_a_socket_the_source_drew_no_darker_than_the_target_keeps_the_source() -> None:
    """The same share over a socket the engine drew as light as the target's (its own
    stripes of detail at the target's toned level): the source's pixels stay (before
    the smudge gate, the target's flat socket replaced them: border-photo's mildly turned
    photo lost likeness)."""
    size = 128
    face = np.full((size, size, 3), 100.0, dtype=np.float32)
    face[50:70, 40:60] = 80.0
    face[50:70:4, 40:60] = 90.0  # the source's own detail in its socket
    target = np.empty((size, size, 3), dtype=np.float32)
    target[...] = (200.0, 200.0, 200.0)
    target[50:70, 40:60] = 165.0  # its socket as much darker than its cheek
    share = np.zeros((size, size), dtype=np.float32)
    share[45:75, 35:65] = 1.0
    share = feathered_out(share, size)
    before = face.copy()
    with_target_sockets(face, target, share, np.ones((size, size), dtype=np.float32), size)
    assert np.abs(face - before).max() < 3.0
