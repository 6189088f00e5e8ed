"""engines/mesh.py on the ball photo (issue 9's furthest pair, ball-photo: a low-resolution
photo of a broadly smiling woman, teeth showing, onto d3's talking head turn). Her smile is
wider and more open than d3's mouth, so the engine keeps d3's own lips and the skin round
them (`target_lips_share` 1, `LIPS_SURROUND`) besides d3's mouth opening (its teeth and
cavity), and that kept mouth is what holds the pair to the target: on the whole run 0 of 40
frames nearer the source, 24 of 40 with the mouth not kept; the colour, the eyes, the
sharpness, the grain, the cleaning, the occluders and the blend's outline each moved the
margin by at most 0.035 (BENCHMARKS.md, forty-sixth round, "ball-photo's likeness is held
by d3's kept mouth")."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.engines import mesh
from facedub.engines.base import TargetFace
from facedub.engines.mesh import LIPS_SURROUND, MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import lips_mask
from facedub.faces.identity import IdentityEncoder, distance
from facedub.faceset import Faceset

BALL = "still_woman_ball_occlusion_lowres.jpg"
HEADTURN = "clip_liveportrait_d3_woman_headturn.mp4"
CROP = 256


def test_the_ball_photos_smile_keeps_the_targets_lips_and_the_skin_round_them(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    target = first_target_face(HEADTURN, CROP)
    swapped = MeshEngine(extracted(BALL, max_frames=1, crop_size=CROP)).swap_face(target)
    assert swapped.kept is not None
    lips = lips_mask(target.face_landmarks, CROP) > 0.9
    band = (lips_mask(target.face_landmarks, CROP, LIPS_SURROUND) > 0.5) & ~lips
    # Measured: 0.994 on the lips, 0.70 on the band round them (drawn on the landmarks the
    # engine moves toward the source's shape, a little off the target's own).
    assert float(np.mean(swapped.kept[lips])) > 0.95
    assert float(np.mean(swapped.kept[band])) > 0.6


def _margin(face: np.ndarray, target: TargetFace, photo: np.ndarray,
            encoder: IdentityEncoder) -> float:
    """d(photo) - d(target person) of the engine's face: its 256 px crop, described by dlib
    on the target face's landmarks in that crop (not the evaluation's description of the
    composited frame; negative: nearer the photo)."""
    assert target.person is not None
    described = encoder.describe(face, target.face_landmarks)
    return distance(described, photo) - distance(described, target.person)


def test_the_kept_mouth_opening_not_the_lips_is_where_the_likeness_is_lost(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's face (before the compositor) on d3's first face at 256 px, described as
    the evaluation describes faces. Measured: kept mouth +0.003 (d(photo) 0.645, d(d3)
    0.642); the target's lips not kept (its opening still) -0.043; the skin round them not
    kept -0.034; the mouth not kept at all -0.437 (0.402, 0.839). So d3's own teeth and
    cavity in her opening, not her lips, carry most of her likeness there."""
    source = extracted(BALL, max_frames=1, crop_size=CROP)
    target = first_target_face(HEADTURN, CROP, person=True)
    encoder = IdentityEncoder()
    photo = source.faces_of()[0].descriptor
    assert photo is not None

    def margin(config: MeshEngineConfig) -> float:
        return _margin(MeshEngine(source, config).swap_face(target).image, target, photo,
                       encoder)

    kept = margin(MeshEngineConfig())
    not_kept = margin(MeshEngineConfig(keep_target_mouth=False))
    with monkeypatch.context() as patched:
        patched.setattr(mesh, "target_lips_share", lambda *args: 0.0)
        lips_not_kept = margin(MeshEngineConfig())
    assert kept - not_kept > 0.3
    assert 0.0 < kept - lips_not_kept < 0.15
