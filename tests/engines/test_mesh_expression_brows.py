"""Just above the brows, where the forehead's weight softens off, the source's fold along a
brow's arch goes too where the forehead is evened (the shouting photo's, faint short lines
above d10's brows once composited); the source's brows themselves stay as they are, the
part of a bushy brow above the target's brow hull too."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_expression import follow_target_lines

SIZE = 512
FOLD = 222  # the row of the source's fold, 8 px above its brow
BROW = (230, 250)  # the source's brow rows: bushier than the hull (236-250) above
HULL = (236, 250)
COLUMNS = (190, 320)


def _face(fold: bool, brow_top: int) -> np.ndarray:
    """A 512 px skin disc with a dark grey brow from `brow_top` down to row 250 (columns
    190-320) and, if `fold`, a thin dark fold 8 px above the source's brow."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    skin = ((xx - 256) / 180.0) ** 2 + ((yy - 256) / 220.0) ** 2 < 1.0
    image = np.where(skin[..., None], np.array([205, 160, 140]), np.array([30, 25, 25]))
    shade = np.ones((SIZE, SIZE), dtype=np.float32)
    along = (xx > COLUMNS[0]) & (xx < COLUMNS[1])
    # A brow of hair: dark and greyer than the skin (off its colour, as a hair strand).
    on_brow = along & (yy >= brow_top) & (yy < BROW[1])
    image[on_brow] = (60, 58, 62)
    if fold:
        shade *= 1.0 - 0.25 * (along & (xx > 200) & (xx < 310)) * np.exp(
            -((yy - FOLD) ** 2) / (2 * 1.0**2))
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def _maps() -> tuple[np.ndarray, ...]:
    """At 256 px: the forehead's weight (ending about 30 px above the brow at 512 px), the
    skin (the disc less the hull grown, as `skin_mask`), the margin above the hull, the
    hull."""
    half = SIZE // 2
    yy, xx = np.mgrid[0:half, 0:half].astype(np.float32)
    weight = np.zeros((half, half), dtype=np.float32)
    weight[60:98, 80:176] = 1.0
    weight = cv2.GaussianBlur(weight, (0, 0), 3)
    hull = np.zeros((half, half), dtype=np.float32)
    hull[HULL[0] // 2:HULL[1] // 2, COLUMNS[0] // 2:COLUMNS[1] // 2] = 1.0
    skin = (((xx - 128) / 90.0) ** 2 + ((yy - 128) / 110.0) ** 2 < 1.0).astype(np.float32)
    skin[cv2.dilate(hull, np.ones((11, 11), np.uint8)) > 0] = 0.0
    margin = np.zeros_like(hull)
    margin[HULL[0] // 2 - 20:HULL[0] // 2, COLUMNS[0] // 2:COLUMNS[1] // 2] = 1.0
    margin = cv2.GaussianBlur(margin, (0, 0), 1.5) * (hull == 0)
    return weight, skin, margin, hull


def _fold_depth(image: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    columns = slice(210, 300)
    return float(grey[FOLD - 5:FOLD - 3, columns].mean() - grey[FOLD, columns].mean())


def test_a_fold_above_the_brow_goes_and_the_brow_stays() -> None:
    source, target = _face(True, BROW[0]), _face(False, HULL[0])
    weight, skin, margin, hull = _maps()
    nowhere = np.zeros_like(weight)
    before = follow_target_lines(source, target, weight, skin, nowhere, even=weight)
    after = follow_target_lines(source, target, weight, skin, nowhere, even=weight,
                                margin=margin, brows=hull)
    assert _fold_depth(source) > 20.0
    assert _fold_depth(before) > 0.8 * _fold_depth(source)  # the forehead's weight ends above
    assert _fold_depth(after) < 0.3 * _fold_depth(source)
    # The brow, its bushy top above the hull too, keeps its tone to a level.
    brow = (slice(BROW[0], BROW[1]), slice(COLUMNS[0] + 2, COLUMNS[1] - 2))
    assert np.abs(after[brow].astype(int) - source[brow]).max() <= 1
