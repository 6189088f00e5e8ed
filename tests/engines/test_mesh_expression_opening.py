"""The smile regions' usual on a target track's opening frames (`UsualExpression.opening`):
a clip that opens mid-smile takes the target's smile lines from its first frame, and every
other region keeps the track's own usual (issue 17, occlusion-mic's frames 0-9)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_expression_regions import (
    LINE_REGIONS,
    USUAL_SETTLE,
    UsualExpression,
    region_weights,
)
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faceset import Faceset

SMILE = [BLENDSHAPE_NAMES.index(name) for name in ("mouthSmileLeft", "mouthSmileRight")]
SQUINT = [BLENDSHAPE_NAMES.index(name) for name in ("eyeSquintLeft", "eyeSquintRight")]


def _faces(smiling: int, resting: int) -> list[np.ndarray]:
    """A smile with squinting eyes (0.7), then rest."""
    rest = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    smile = rest.copy()
    smile[SMILE + SQUINT] = 0.7
    return [smile] * smiling + [rest] * resting


def test_a_track_that_opens_mid_smile_takes_the_smile_lines_only_in_the_smile_regions() -> None:
    faces = _faces(8, 32)
    usual = UsualExpression()
    usual.expect(0, faces)
    own = usual.update(0, faces[0])
    opening = usual.opening(0)
    assert opening is not None and float(opening[SMILE].max()) < 0.05, "its rest, from ahead"
    weights = region_weights(np.zeros_like(faces[0]), faces[0], own, opening)
    smile_regions = {region.name for region in LINE_REGIONS if region.smile}
    assert smile_regions == {"cheeks", "eye corners"}
    assert weights.deepen["cheeks"] > 0.9 and weights.deepen["eye corners"] > 0.9
    # Every other region judged as without it: the track's own opening is its usual
    # there, so none of their lines are taken.
    causal = region_weights(np.zeros_like(faces[0]), faces[0], own)
    assert causal.deepen["cheeks"] == 0.0 and causal.deepen["eye corners"] == 0.0
    assert {name: value for name, value in weights.deepen.items()
            if name not in smile_regions} == {
        name: value for name, value in causal.deepen.items() if name not in smile_regions}
    assert weights.fade == causal.fade and weights.lift == causal.lift
    assert weights.ridges == causal.ridges
    # Not known ahead (live): no opening usual, the first frame is its own usual.
    live = UsualExpression()
    live.update(0, faces[0])
    assert live.opening(0) is None


def test_the_frames_ahead_give_way_to_the_tracks_own_and_count_only_where_lower() -> None:
    faces = _faces(20, 60)
    usual = UsualExpression()
    usual.expect(3, faces)
    smiles = []
    for index, face in enumerate(faces):
        own = usual.update(3, face)
        opening = usual.opening(3)
        if index >= USUAL_SETTLE - 1:
            assert opening is None, "from then on the track's own usual alone"
            continue
        assert opening is not None and np.all(opening <= own)
        smiles.append(float(opening[SMILE].max()))
    assert smiles[0] < 0.05 and smiles[:20] == sorted(smiles[:20]), "its own taken in by degrees"
    assert all(smile < 0.7 for smile in smiles[:20])
    # A track that opens at rest and smiles later keeps its own usual on its opening.
    later = UsualExpression()
    later.expect(4, faces[::-1])
    own = later.update(4, faces[-1])
    opening = later.opening(4)
    assert opening is not None and np.array_equal(opening, own)
    usual.forget(3)
    usual.update(3, faces[0])
    assert usual.opening(3) is None, "forgotten with the track"


def test_a_talking_face_whose_usual_rises_a_little_keeps_its_own() -> None:
    """Katie Hill (headturn-woman) smiles more as she talks: her usual so far rises up to
    0.3 above that of the frames ahead, which is no opening held beyond her usual."""
    rest = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    faces = []
    for index in range(60):
        face = rest.copy()
        face[SMILE] = 0.2 if index % 3 == 0 or index >= 40 else 0.6
        faces.append(face)
    usual = UsualExpression()
    usual.expect(0, faces)
    risen = 0.0
    for face in faces[:USUAL_SETTLE - 1]:
        own = usual.update(0, face)
        opening = usual.opening(0)
        assert opening is not None and np.allclose(opening, own)
        risen = max(risen, float(own[SMILE].max()) - 0.2)
    assert 0.15 < risen < 0.35, "her usual rose above the frames ahead's, a little"


def test_the_engine_takes_each_tracks_opening_usual_from_the_faces_it_is_told_ahead(
        extracted: Callable[..., Faceset]) -> None:
    """`MeshEngine.prepare` (a file's swap tells it every chosen face first) gives each
    track the usual of its own frames ahead."""
    source = extracted("still_biden_frontal.jpg", crop_size=256)
    record = source.faces_of()[0]
    faces = _faces(4, 12)
    targets = ([dataclasses.replace(record, track=0, blendshapes=face) for face in faces]
               + [dataclasses.replace(record, track=1, blendshapes=faces[0])] * 3)
    engine = MeshEngine(source)
    try:
        engine.prepare(targets)
        for track, smiling in ((0, False), (1, True)):
            engine._usual.update(track, faces[0])
            opening = engine._usual.opening(track)
            assert opening is not None
            assert (float(opening[SMILE].max()) > 0.6) is smiling, "each track its own frames"
    finally:
        engine.close()
