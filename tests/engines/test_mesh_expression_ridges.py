"""The eye corners' lit ridges follow their creases (issue 9): where a broad smile's crow's
feet fade under a still target's eye, the skin lit between the creases comes down with
them, not left as pale scratches. Synthetic skin with slanted creases and ridges."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_expression import follow_target_lines
from facedub.engines.mesh_expression_regions import LINE_REGIONS, region_weights
from facedub.faces.landmarks import BLENDSHAPE_NAMES

SIZE = 512
SLOPE = 0.6  # the lines run slanted, as crow's feet fan out: no long level furrow
CREASES = tuple(180 + 12 * k for k in range(6))  # offsets of the dark creases
RIDGES = tuple(offset + 6 for offset in CREASES)  # the lit ridges between them


def _skin(lines: bool) -> tuple[np.ndarray, np.ndarray]:
    """A 512 px skin disc on dark hair (and its skin mask); with `lines`, slanted dark
    creases (a Gaussian 0.8 px across, 25% dark) and lit ridges (1.2 px, 12% light)
    between them over the middle of the disc."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    skin = (((xx - 256) / 200.0) ** 2 + ((yy - 256) / 220.0) ** 2 < 1.0).astype(np.float32)
    image = np.where(skin[..., None] > 0, np.array([200, 158, 138]), np.array([30, 25, 25]))
    shade = np.ones((SIZE, SIZE), dtype=np.float32)
    if lines:
        along = ((xx > 190) & (xx < 330)).astype(np.float32)
        offset = yy - SLOPE * (xx - 256)
        for row in CREASES:
            shade *= 1.0 - 0.25 * along * np.exp(-((offset - row) ** 2) / (2 * 0.8**2))
        for row in RIDGES:
            shade *= 1.0 + 0.12 * along * np.exp(-((offset - row) ** 2) / (2 * 1.2**2))
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8), skin


def _weight() -> np.ndarray:
    weight = np.zeros((SIZE, SIZE), dtype=np.float32)
    weight[120:330, 170:350] = 1.0
    return cv2.GaussianBlur(weight, (0, 0), 6)


def _along(image: np.ndarray, rows: tuple[int, ...]) -> float:
    """The mean grey level along those slanted lines over the middle of the skin."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.mean([grey[round(row + SLOPE * (x - 256)), x]
                          for row in rows for x in range(215, 300)]))


def test_the_eye_corners_ridges_come_down() -> None:
    regions = {region.name: region for region in LINE_REGIONS}
    assert regions["eye corners"].ridged_by and not regions["eye corners"].evened
    assert not any(region.ridged_by for name, region in regions.items() if name != "eye corners")


def _blendshapes(**values: float) -> np.ndarray:
    vector = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    for name, value in values.items():
        vector[BLENDSHAPE_NAMES.index(name)] = value
    return vector


def test_only_a_broad_smiles_ridges_come_down() -> None:
    """The ridges come down where the source smiles fully (Biden's photo, mouthSmile 0.97),
    not where its eye corners' lines fade for a squint or a slight smile (the border photo,
    0.33; Paul Rudd's photo, eyeSquint 0.69 with no smile): their lines are who they are."""
    still = _blendshapes()
    broad = region_weights(_blendshapes(mouthSmileLeft=0.97, mouthSmileRight=0.97,
                                        eyeSquintLeft=0.72), still)
    assert broad.fade["eye corners"] == 1.0 and broad.ridges == {"eye corners": 1.0}
    for source in (_blendshapes(mouthSmileLeft=0.33, eyeSquintLeft=0.05),
                   _blendshapes(eyeSquintLeft=0.69, eyeSquintRight=0.63)):
        weights = region_weights(source, still)
        assert weights.ridges == {"eye corners": 0.0}
    assert region_weights(_blendshapes(eyeSquintLeft=0.69), still).fade["eye corners"] > 0.8


def test_a_target_smiling_a_little_keeps_the_ridges() -> None:
    """Where the target smiles a little itself (Obama speaking, mouthSmile 0.18), the
    landmarker reads its smile from the eye corners' lit skin too: the broad smile's
    ridges stay there, though its creases fade; a still mouth (d18's, 0.02) has them down."""
    broad = _blendshapes(mouthSmileLeft=0.97, mouthSmileRight=0.97, eyeSquintLeft=0.72)
    smiling = region_weights(broad, _blendshapes(mouthSmileLeft=0.18, mouthSmileRight=0.1,
                                                 eyeSquintLeft=0.58))
    assert smiling.fade["eye corners"] == 1.0 and smiling.ridges == {"eye corners": 0.0}
    still = region_weights(broad, _blendshapes(mouthSmileLeft=0.02, eyeSquintLeft=0.7))
    assert still.ridges == {"eye corners": 1.0}


def test_faded_creases_leave_no_lit_ridges() -> None:
    """Faded alone, the creases are lifted and the ridges between them stay lighter than
    the plain skin; with their ridges brought down, they are within a level or two of it."""
    lined, skin = _skin(lines=True)
    smooth, _ = _skin(lines=False)
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    nowhere = np.zeros_like(weight)
    plain = _along(smooth, RIDGES)
    faded = follow_target_lines(lined, smooth, weight, small_skin, nowhere)
    ridged = follow_target_lines(lined, smooth, weight, small_skin, nowhere, ridges=weight)
    assert _along(lined, RIDGES) - plain > 12.0
    assert _along(faded, RIDGES) - plain > 6.0  # the fade alone leaves the ridges lit
    assert abs(_along(ridged, RIDGES) - plain) < 3.0
    # The creases stay lifted (nine tenths of the fade's lift: the band's lowered ridges
    # reach a little onto them at half size).
    lifted = _along(faded, CREASES) - _along(lined, CREASES)
    assert _along(ridged, CREASES) - _along(lined, CREASES) > 0.85 * lifted


def test_no_ridge_weight_changes_nothing() -> None:
    lined, skin = _skin(lines=True)
    smooth, _ = _skin(lines=False)
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    nowhere = np.zeros_like(weight)
    faded = follow_target_lines(lined, smooth, weight, small_skin, nowhere)
    assert np.array_equal(faded, follow_target_lines(lined, smooth, weight, small_skin, nowhere,
                                                     ridges=nowhere))
