"""engines/mesh.py places the narrowed mouth nearer the nose except on a closed smile
(issue 17, fifty-seventh round). The mouth is drawn nearer the nose by the eye reading's
ratio (`mesh_shape.narrowed_mouth`) so that a mouth drawn for eyes read nearer together
does not read more open (expr-shouting's frame 5, d10's pout, jawOpen 0.23); on d10's closed
smile (frames 29-33, jawOpen 0.01-0.12, mouthSmile 0.20-0.31) the raised mouth read more
smile, on top of the eye rim's, and those were all of the pair's smile misses (BENCHMARKS.md,
Realism, fifty-seventh round). d10's frames read by the landmarker as photos, the shouting
photo's engine with the eye reading's ratio fixed at 0.95. Real faces from
../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.engines import mesh
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_eye_read import EyeReads
from facedub.engines.mesh_mouth import PLACED_OPEN, PLACED_SMILE, mean_smile, placement_share
from facedub.engines.mesh_shape import NOSE_TIP, pose_free
from facedub.faces.landmarks import BLENDSHAPE_NAMES, FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

SHOUTING = "still_woman_shouting.jpg"
D10 = "clip_liveportrait_d10_woman_expressions.mp4"
POUT, AT_REST, CLOSED_SMILE = 5, 15, 32  # d10's jawOpen 0.23, 0.07, 0.11; smile 0, 0.07, 0.31
SIZE = 256
RATIO = 0.95  # eyes read 5% nearer together than d10's
INNER_LIPS = (13, 14)
JAW = BLENDSHAPE_NAMES.index("jawOpen")


def _drop(landmarks: np.ndarray) -> float:
    """The inner lips' middle below the nose's tip, in the face's own frame (pixels)."""
    free = pose_free(landmarks)[0]
    return float(free[list(INNER_LIPS), 1].mean() - free[NOSE_TIP, 1])


@pytest.fixture(scope="module")
def drops(extracted: Callable[..., Faceset], faces_dir: Path
          ) -> dict[int, tuple[float, float, float, float]]:
    """Per frame: d10's jawOpen and mean mouthSmile, and the drawn lips' drop below the nose
    with the eye reading's ratio at 1 (no narrowing) and at RATIO."""
    source = extracted(SHOUTING, max_frames=1, crop_size=SIZE)
    frames = {f.index: f.image for f in media.iter_frames(faces_dir / D10,
                                                          indices={POUT, AT_REST,
                                                                   CLOSED_SMILE})}
    result = {}
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        for index, image in frames.items():
            face = analyser.analyse(image)[0]
            target = target_from_frame(image, face.landmarks, SIZE, face.pose,
                                       np.asarray(face.blendshapes))
            drawn = []
            for ratio in (1.0, RATIO):
                drawn.append(_drawn(source, target, ratio))
            shapes = np.asarray(face.blendshapes)
            result[index] = (float(shapes[JAW]), mean_smile(shapes), _drop(drawn[0]),
                             _drop(drawn[1]))
    return result


def _drawn(source: Faceset, target: TargetFace, ratio: float) -> np.ndarray:
    """The landmarks the engine draws the face on, its eye reading's ratio at `ratio`."""
    drawn: list[np.ndarray] = []
    lifted = mesh.lifted_corners
    engine = MeshEngine(source, MeshEngineConfig(read_eyes=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EyeReads, "applied", lambda self, track: ratio)
        patch.setattr(mesh, "lifted_corners",
                      lambda landmarks, lift: drawn.append(lifted(landmarks, lift)) or drawn[-1])
        try:
            engine.swap_face(target)
        finally:
            engine.close()
    return drawn[0]


def test_an_open_mouth_is_placed_nearer_the_nose(
        drops: dict[int, tuple[float, float, float, float]]) -> None:
    """d10's pout (jawOpen over PLACED_OPEN's top): the lips drawn RATIO as far below her
    nose's tip as without the narrowing."""
    jaw, _, unplaced, placed = drops[POUT]
    assert jaw >= PLACED_OPEN[1], drops
    assert placed / unplaced == pytest.approx(RATIO, abs=0.004), drops


def test_a_closed_mouth_at_rest_is_placed_too(
        drops: dict[int, tuple[float, float, float, float]]) -> None:
    """d10's closed mouth at rest (smiling under PLACED_SMILE's bottom): placed as an open
    one (a mouth drawn low read open on such frames: frame 23 before the placement)."""
    jaw, smile, unplaced, placed = drops[AT_REST]
    assert jaw <= PLACED_OPEN[0] and smile <= PLACED_SMILE[0], drops
    assert placed / unplaced == pytest.approx(RATIO, abs=0.004), drops


def test_a_closed_smiles_mouth_stays_where_it_was(
        drops: dict[int, tuple[float, float, float, float]]) -> None:
    """d10's closed smile (jawOpen under PLACED_OPEN's bottom, smiling over PLACED_SMILE's
    top): the lips drawn as far below her nose as without the narrowing (main: RATIO as
    far, about 2.4 px higher at 256 px)."""
    jaw, smile, unplaced, placed = drops[CLOSED_SMILE]
    assert jaw <= PLACED_OPEN[0] and smile >= PLACED_SMILE[1], drops
    assert placed / unplaced == pytest.approx(1.0, abs=0.004), drops


def test_the_placement_is_taken_off_a_closed_smile_alone() -> None:
    """`placement_share`: whole on an open mouth or an unsmiling one; none on a closed
    smile; in proportion between."""
    smile_keys = [BLENDSHAPE_NAMES.index(name) for name in ("mouthSmileLeft", "mouthSmileRight")]
    shapes = np.zeros(len(BLENDSHAPE_NAMES))
    mid_jaw, mid_smile = sum(PLACED_OPEN) / 2, sum(PLACED_SMILE) / 2
    for jaw, smile, share in ((0.0, 0.0, 1.0), (0.0, PLACED_SMILE[0], 1.0),
                              (0.0, PLACED_SMILE[1], 0.0), (PLACED_OPEN[0], 0.6, 0.0),
                              (mid_jaw, 0.6, 0.5), (0.0, mid_smile, 0.5),
                              (PLACED_OPEN[1], 0.6, 1.0), (0.6, 0.0, 1.0)):
        shapes[JAW] = jaw
        shapes[smile_keys] = smile
        assert placement_share(shapes) == pytest.approx(share), (jaw, smile)
