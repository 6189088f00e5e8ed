"""A target track's usual expression (`UsualExpression`) where its faces are known ahead:
a clip that opens mid-smile does not take that smile for the person's rest (issue 17,
occlusion-mic's frames 0-9)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_expression_regions import (
    USUAL_FRAMES,
    USUAL_SETTLE,
    UsualExpression,
    region_weights,
)
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faceset import Faceset

SMILE = [BLENDSHAPE_NAMES.index(name) for name in ("mouthSmileLeft", "mouthSmileRight")]


def _faces(smiling: int, resting: int) -> list[np.ndarray]:
    rest = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    smile = rest.copy()
    smile[SMILE] = 0.7
    return [smile] * smiling + [rest] * resting


def test_a_track_that_opens_mid_smile_takes_the_targets_smile_lines_from_its_first_frame(
) -> None:
    faces = _faces(8, 32)
    usual = UsualExpression()
    usual.expect(0, faces)
    opening = usual.update(0, faces[0])
    assert float(opening[SMILE].max()) < 0.05, "its rest, from the frames ahead"
    weights = region_weights(np.zeros_like(faces[0]), faces[0], opening)
    assert weights.deepen["cheeks"] > 0.9 and weights.deepen["eye corners"] > 0.9
    # Not known ahead (live), the first frame is its own usual, as before.
    causal = UsualExpression()
    assert np.array_equal(causal.update(0, faces[0]), faces[0])


def test_the_frames_ahead_give_way_to_the_tracks_own_as_they_come() -> None:
    """Over its first USUAL_SETTLE frames the track's own frames so far take over from the
    frames ahead; from then on its usual is its last frames' alone, as without them."""
    faces = _faces(20, USUAL_FRAMES + 50)
    ahead, causal = UsualExpression(), UsualExpression()
    ahead.expect(3, faces)
    readings = [(ahead.update(3, face), causal.update(3, face)) for face in faces]
    smiles = [float(first[SMILE].max()) for first, _ in readings[:20]]
    assert all(smile < 0.5 for smile in smiles), "not the opening smile, while it lasts"
    assert smiles == sorted(smiles), "the track's own frames taken in by degrees"
    assert all(float(second[SMILE].max()) > 0.6 for _, second in readings[:20])
    assert all(np.array_equal(first, second)
               for first, second in readings[USUAL_SETTLE - 1:])
    ahead.forget(3)
    assert np.array_equal(ahead.update(3, faces[0]), faces[0]), "forgotten with the track"


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
        assert float(engine._usual.update(0, faces[0])[SMILE].max()) < 0.05
        assert float(engine._usual.update(1, faces[0])[SMILE].min()) > 0.6, "its own frames"
    finally:
        engine.close()
