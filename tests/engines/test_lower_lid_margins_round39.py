"""Where the target's lid margins are far darker against its skin than the source's, the
engine's image is the toned eye more than by its region on the lower lid's feather only: the
upper lid's is the region's blend as before (the smile is read off the lower lid), the
lower lid's by 1 - (1 - region)^2
(wholly from 0.3 of the region it ended in a step the doubled-edge measure counts;
BENCHMARKS.md, Expression, thirty-ninth round)."""

from __future__ import annotations

import numpy as np
import pytest
from test_lid_margins_round38 import SIZE, _lightness, _openings, _pair

from facedub.engines import mesh_eyes_tone
from facedub.engines.mesh_eyes import EYES
from facedub.engines.mesh_eyes_tone import MARGIN_FULL, EyeToner, below_corners, toning_share


def _below(landmarks: np.ndarray, corners: tuple[int, int]) -> np.ndarray:
    """(SIZE, SIZE): how far each pixel lies below the line through the eye's corners."""
    left, right = sorted(landmarks[list(corners), :2], key=lambda point: point[0])
    along = (right - left) / np.linalg.norm(right - left)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    below: np.ndarray = (xs - left[0]) * -along[1] + (ys - left[1]) * along[0]
    return below


def _toned(monkeypatch: pytest.MonkeyPatch | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, regions, landmarks) of the dark-margined pair toned; with `monkeypatch`,
    toned as the region's blend everywhere (the share before the margins' gate)."""
    source, target, landmarks = _pair(dark_margins=True)
    image = source.copy()
    if monkeypatch is not None:
        monkeypatch.setattr(mesh_eyes_tone, "toning_share",
                            lambda region, margin, lower=None: region)
    regions = EyeToner()(image, landmarks, target.astype(np.uint8), landmarks, track=0)
    return image, regions, landmarks


def test_only_the_lower_lids_feather_is_toned_more(monkeypatch: pytest.MonkeyPatch) -> None:
    image, regions, landmarks = _toned(None)
    as_was, was_regions, _ = _toned(monkeypatch)
    assert np.array_equal(regions, was_regions)
    lightness, was_lightness = _lightness(image), _lightness(as_was)
    for eye, opening in zip(EYES, _openings(landmarks), strict=True):
        columns = landmarks[eye.contour, 0]
        this_eye = np.zeros((SIZE, SIZE), dtype=bool)
        this_eye[:, int(columns.min()) - 6:int(columns.max()) + 7] = True
        feather = (opening == 0) & (regions > 0.05) & (regions < 0.95) & this_eye
        below = _below(landmarks, eye.corners)
        upper_band, lower_band = feather & (below < -1.0), feather & (below > 1.0)
        assert upper_band.sum() > 20 and lower_band.sum() > 20
        # The upper lid as the region's blend, to the bit (r38-B: toned wholly there too).
        assert np.array_equal(image[upper_band], as_was[upper_band])
        # The lower lid's pale source no longer through: darker (main: the same).
        assert float((was_lightness - lightness)[lower_band].mean()) > 4.0


def test_below_corners_is_the_lower_lids_side() -> None:
    corners = np.array([[10.0, 20.0], [30.0, 20.0]])
    box = (slice(10, 31), slice(5, 36))
    lower = below_corners(box, corners)
    assert lower.shape == (21, 31) and lower.dtype == np.float32
    assert np.all(lower[:9] == 0.0) and np.all(lower[11:] == 1.0)  # rows 10-18 / 21-30
    assert np.all(lower[10] == 0.5)  # on the line


def test_the_lower_lids_share_rises_without_a_step() -> None:
    """1 - (1 - region)^2: the source through by at most 0.15 (a quarter as the region's
    blend), and no step at the feather's outer edge (from 0.3 on: doubled edges)."""
    region = np.linspace(0.0, 1.0, 11, dtype=np.float32)[None, :].repeat(2, axis=0)
    lower = np.array([[0.0], [1.0]], dtype=np.float32).repeat(11, axis=1)
    share = toning_share(region, MARGIN_FULL, lower)
    assert np.array_equal(share[0], region[0])
    assert np.allclose(share[1], 1.0 - (1.0 - region[1]) ** 2)
    leak = region[1] * (1.0 - share[1])
    assert float(leak.max()) < 0.15
    assert float(np.diff(share[1]).max()) <= 0.2 + 1e-6  # 2 / 10 at most a step of 0.1
