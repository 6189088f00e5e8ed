"""engines/mesh_mouth.py: a photo's kept closed-lipped smile does not add to the target's
(issue 17: Rowan Atkinson's slight smile onto d18, photo-to-mouth, read 0.16-0.32 where
d18 smiled 0.04-0.20)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

import facedub.engines.mesh as mesh
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import (
    KEPT_SMILE_DROP_LIMIT,
    KEPT_SMILE_NOISE,
    SMILE_PER_DROP,
    kept_smile_drop,
    target_lips_share,
)
from facedub.faceset import Faceset

ROWAN = "still_rowan_atkinson_older_man.jpg"
D18 = "clip_liveportrait_d18_man_frontal_mouth.mp4"
SIZE = 256


def test_a_kept_closed_smile_lowers_the_corners_by_its_excess(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """The source's closed smile (its lips kept) over the target's, less the noise, over the
    landmarker's gain; nothing where the target smiles as much or more."""
    slight = blendshapes(mouthSmileLeft=0.25, mouthSmileRight=0.25)
    resting = blendshapes(mouthSmileLeft=0.04, mouthSmileRight=0.04)
    assert kept_smile_drop(slight, resting) == pytest.approx(
        (0.21 - KEPT_SMILE_NOISE) / SMILE_PER_DROP, abs=1e-6)
    assert kept_smile_drop(slight, slight) == 0.0
    assert kept_smile_drop(resting, slight) == 0.0  # a target smiling more: not raised here
    assert kept_smile_drop(slight, blendshapes(mouthSmileLeft=0.23, mouthSmileRight=0.23)) == 0.0


def test_no_drop_where_the_targets_lips_are_shown(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """A broad smile gives way to the target's own lips (`target_lips_share` 1): nothing of
    the source's smile is drawn, so nothing is lowered; nor on an open target mouth; the
    drop is capped."""
    assert kept_smile_drop(blendshapes(mouthSmileLeft=0.97, mouthSmileRight=0.97),
                           blendshapes()) == 0.0
    # Onto an open mouth (jawOpen 0.4) the source's closed smile is a quarter shown, but
    # the corners stay: lowered there, d18's open jaw read 0.02-0.07 less open.
    slight = blendshapes(mouthSmileLeft=0.25, mouthSmileRight=0.25)
    assert 0.0 < target_lips_share(slight, blendshapes(jawOpen=0.4)) < 1.0
    assert kept_smile_drop(slight, blendshapes(jawOpen=0.4)) == 0.0
    # Kept (below the closed-smile allowance over LIPS_UNCHANGED), at most the limit.
    assert 0.0 < kept_smile_drop(blendshapes(mouthSmileLeft=0.33, mouthSmileRight=0.33),
                                 blendshapes()) <= KEPT_SMILE_DROP_LIMIT


def _lifts(engine: MeshEngine, target: TargetFace, monkeypatch: pytest.MonkeyPatch
           ) -> list[float]:
    """The corners' lifts the engine draws `target` with, one frame."""
    drawn: list[float] = []
    lifted = mesh.lifted_corners

    def spy(landmarks: np.ndarray, lift: float) -> np.ndarray:
        drawn.append(lift)
        return lifted(landmarks, lift)

    monkeypatch.setattr(mesh, "lifted_corners", spy)
    engine.swap_face(target)
    monkeypatch.setattr(mesh, "lifted_corners", lifted)
    return drawn


def test_the_engine_draws_a_photos_kept_smile_lower(
        first_target_face: Callable[..., TargetFace],
        extracted: Callable[..., Faceset], blendshapes: Callable[..., np.ndarray],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rowan Atkinson's photo (mouthSmile about 0.25, closed) onto d18's first face told it
    does not smile: its corners are drawn lower by the kept smile's drop; told it smiles as
    much, not; a video source of the same faces is left as it was (its choice weighs the
    mouth); a frame drawn with the drop adds no mouth reading."""
    face = first_target_face(D18, SIZE)
    photo = extracted(ROWAN, max_frames=1, crop_size=SIZE)
    source = np.asarray(photo.faces_of()[0].blendshapes)
    resting = dataclasses.replace(face, blendshapes=blendshapes())
    smiling = dataclasses.replace(face, blendshapes=source.copy(), track=1)
    engine = MeshEngine(photo, MeshEngineConfig())
    expected = kept_smile_drop(source, resting.blendshapes)
    assert expected > 0.02
    assert _lifts(engine, resting, monkeypatch) == [pytest.approx(-expected)]
    assert _lifts(engine, smiling, monkeypatch) == [0.0]
    # Both first frames are read (mesh_eye_read), but the mouth reading keeps only the one
    # drawn without a drop: the drop read back as the texture's shift was undone later.
    assert not engine._mouth_reads._reads.get(resting.track)
    assert engine._mouth_reads._reads.get(smiling.track)
    video = MeshEngine(extracted(D18, max_frames=4, crop_size=SIZE), MeshEngineConfig())
    assert _lifts(video, resting, monkeypatch) == [0.0]
