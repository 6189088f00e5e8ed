"""The forehead's lines follow the target's expression (issue 17): where the target raises
its brows with a smooth forehead, the source's furrows go, ridges and fine cores too; a
target's own furrows show; a pore is no furrow. Synthetic foreheads, and the shouting photo
onto d10 (her brows raised, her forehead smooth)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_expression import follow_target_lines
from facedub.engines.mesh_expression_regions import LINE_REGIONS
from facedub.faceset import Faceset

SIZE = 512
FURROWS = tuple(150 + 8 * k for k in range(6))  # rows of the synthetic furrows, 8 px apart
BETWEEN = tuple(row + 4 for row in FURROWS)  # the rows between them


def _forehead(furrows: tuple[int, ...] = (), depth: float = 0.25, pores: bool = True
              ) -> tuple[np.ndarray, np.ndarray]:
    """A 512 px skin disc on dark hair (and its skin mask) with thin level furrows (a
    Gaussian 0.8 px across, `depth` dark, a slight wave along them) across its forehead at
    rows `furrows`, and dark pores a pixel wide every 7 px."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    skin = (((xx - 256) / 180.0) ** 2 + ((yy - 256) / 220.0) ** 2 < 1.0).astype(np.float32)
    image = np.where(skin[..., None] > 0, np.array([205, 160, 140]), np.array([30, 25, 25]))
    shade = np.ones((SIZE, SIZE), dtype=np.float32)
    wave = 2.0 * np.sin(xx / 23.0)
    for row in furrows:
        along = ((xx > 170) & (xx < 340)).astype(np.float32)
        shade *= 1.0 - depth * along * np.exp(-((yy - row - wave) ** 2) / (2 * 0.8**2))
    if pores:
        shade[(yy.astype(int) % 7 == 3) & (xx.astype(int) % 7 == 3)] *= 0.85
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8), skin


def _weight() -> np.ndarray:
    weight = np.zeros((SIZE, SIZE), dtype=np.float32)
    weight[120:230, 160:350] = 1.0
    return cv2.GaussianBlur(weight, (0, 0), 6)


def _rows(image: np.ndarray, rows: tuple[int, ...]) -> float:
    """The mean grey level along those rows of the synthetic forehead, following the
    furrows' wave, over the middle of the forehead."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.mean([grey[round(row + 2.0 * np.sin(x / 23.0)), x]
                          for row in rows for x in range(200, 310)]))


def _depth(image: np.ndarray) -> float:
    """How much darker the furrows' rows are than the rows between them."""
    return _rows(image, BETWEEN) - _rows(image, FURROWS)


def test_the_forehead_is_evened() -> None:
    forehead = next(region for region in LINE_REGIONS if region.name == "forehead")
    assert forehead.evened and forehead.faded_under_target
    assert not any(region.evened for region in LINE_REGIONS if region.name != "forehead")


def test_a_foreheads_furrows_go_under_a_smooth_target() -> None:
    """The fade alone lifts the source's crease band to the target's where it is darker:
    the band starts above a pixel at half size and leaves about half of furrows 8 px apart,
    and the lit ridges between them stay; evened, the ridges come down and the long level
    furrows are lifted at full size (the shouting photo's under d10's raised brows)."""
    furrowed, skin = _forehead(FURROWS)
    smooth, _ = _forehead()
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    nowhere = np.zeros_like(weight)
    faded = follow_target_lines(furrowed, smooth, weight, small_skin, nowhere)
    evened = follow_target_lines(furrowed, smooth, weight, small_skin, nowhere, even=weight)
    assert _depth(furrowed) > 35.0
    assert _depth(faded) > 0.3 * _depth(furrowed)  # the fade alone (about 18 of 40 levels)
    assert abs(_depth(evened)) < 0.1 * _depth(furrowed)
    # Beside the forehead's weight nothing moves.
    outside = (slice(300, 400), slice(100, 400))
    assert np.abs(evened[outside].astype(int) - furrowed[outside]).max() <= 1


def test_pores_are_no_furrows() -> None:
    """The source's pores (a pixel wide, dark) stay on its evened forehead: only long level
    lines are lifted at full size."""
    pored, skin = _forehead()
    smooth, _ = _forehead(pores=False)
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    nowhere = np.zeros_like(weight)
    evened = follow_target_lines(pored, smooth, weight, small_skin, nowhere, even=weight)
    pores = (slice(157, 200, 7), slice(206, 300, 7))
    darker = (cv2.cvtColor(evened, cv2.COLOR_RGB2GRAY)[pores].astype(int)
              - cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)[pores])
    assert np.median(darker) <= -15  # the source's pores: about 25 levels deep


def test_a_raised_brow_targets_own_furrows_show() -> None:
    """A target that furrows its forehead: where its furrows lie as the source's, nothing is
    lifted; where they lie between the source's and it raises its brows beyond its usual
    (`deepen`), its furrows come and the source's go. Its usual lines are not pasted onto the
    source's forehead (evened without `deepen`: the ridges come down to the source's own
    broad lightness, not into the target's lines)."""
    furrowed, skin = _forehead(FURROWS)
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    nowhere = np.zeros_like(weight)
    same = follow_target_lines(furrowed, furrowed, weight, small_skin, nowhere, even=weight)
    assert abs(_depth(same) - _depth(furrowed)) < 0.1 * _depth(furrowed)

    target, _ = _forehead(BETWEEN)
    raised = follow_target_lines(furrowed, target, weight, small_skin, weight, even=weight)
    assert _depth(raised) < -2.0  # the target's rows are the darker ones now
    assert _rows(raised, FURROWS) - _rows(furrowed, FURROWS) > 20.0
    usual = follow_target_lines(furrowed, target, weight, small_skin, nowhere, even=weight)
    assert _rows(usual, BETWEEN) >= _rows(furrowed, BETWEEN) - 8.0


def test_the_shouting_photos_furrows_leave_d10s_raised_brows(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace],
        above_brows: Callable[..., tuple[slice, slice]]) -> None:
    """The shouting photo (brows at 0.13-0.24) onto d10's first frame (0.77-0.94, her
    forehead smooth): the engine's face showed the photo's horizontal furrows (the depth
    below 13.4 on the twenty-fourth round's code, d10's own 0.2)."""
    source = extracted("still_woman_shouting.jpg", crop_size=256)
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", 256)
    face = MeshEngine(source).swap_face(target).image
    box = above_brows(target.face_landmarks, (0.12, 0.42), (-0.4, 0.4))  # the inner forehead
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))

    def depth(image: np.ndarray) -> float:
        lightness = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        log = np.log(lightness * (100.0 / 255.0) + 1.0)
        return float(cv2.morphologyEx(log, cv2.MORPH_BLACKHAT, kernel)[box].mean() * 1000)

    assert depth(target.image) < 1.0
    assert depth(face) < 11.5  # 13.1 on the twenty-fourth round's code, 9.6 now


def test_furrows_beside_the_targets_thin_lines_go_too() -> None:
    """The target's thin dark lines (a brow's tail, a hair strand) keep the target's band
    out of the face around them elsewhere; on the evened forehead the source's furrows
    beside them are lifted all the same (d10's brow tails had kept the photo's outer
    furrows)."""
    furrowed, skin = _forehead(FURROWS)
    stranded, _ = _forehead()
    stranded[130:215, 254:257] = (stranded[130:215, 254:257] * 0.5).astype(np.uint8)
    weight, small_skin = cv2.resize(_weight(), (256, 256)), cv2.resize(skin, (256, 256))
    evened = follow_target_lines(furrowed, stranded, weight, small_skin,
                                 np.zeros_like(weight), even=weight)
    grey = cv2.cvtColor(evened, cv2.COLOR_RGB2GRAY).astype(np.float32)
    before = cv2.cvtColor(furrowed, cv2.COLOR_RGB2GRAY).astype(np.float32)

    def depth(image: np.ndarray) -> float:  # beside the strand, 6-12 px either side of it
        columns = [*range(243, 249), *range(262, 268)]
        rows = [image[round(row + 2.0 * np.sin(x / 23.0)), x] for row in FURROWS
                for x in columns]
        between = [image[round(row + 2.0 * np.sin(x / 23.0)), x] for row in BETWEEN
                   for x in columns]
        return float(np.mean(between) - np.mean(rows))

    assert depth(grey) < 0.15 * depth(before)
