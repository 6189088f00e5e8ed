"""Round a made-up target's eyes the face's socket band, finer than the sockets' own base, is
held within LAYOUT_BAND of the target's both ways (`tone._socket_layout`): the shouting
photo's lit lids and shaded creases were a pale ring round d10's eyes (issue 9; BENCHMARKS.md,
Realism, fifty-sixth round)."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.tone import LAYOUT_BAND, _socket_layout

S = 64
BLUR = 1.5


def _lids(lid: float, crease: float) -> np.ndarray:
    """(S, S, 3) Lab: skin of L 60 with a lid stripe (rows 28-33) and a crease stripe above
    it (rows 20-25) this much lighter or darker."""
    lab = np.zeros((S, S, 3), np.float32)
    lab[..., 0] = 60.0
    lab[28:34, 8:56, 0] += lid
    lab[20:26, 8:56, 0] += crease
    return lab


def _band(lab: np.ndarray) -> np.ndarray:
    """The stripes' band over a flat base of L 60 (as `_socket_layout` reads it)."""
    return cv2.GaussianBlur(lab[..., 0], (0, 0), BLUR) - 60.0


def test_a_lit_lid_and_shaded_crease_are_held_to_the_targets_layout() -> None:
    """The photo's lid 6 L lighter and its crease 6 L darker than the skin, over a target
    whose lid is 4 L darker and crease 4 L lighter: with the shift added to the base, the
    face's band is the target's within LAYOUT_BAND on both stripes (down on the lid, up on
    the crease); outside the weight nothing moves."""
    face, target = _lids(6.0, -6.0), _lids(-4.0, 4.0)
    low = np.full((S, S, 3), 60.0, np.float32)
    weight = np.zeros((S, S), np.float32)
    weight[14:40, 4:60] = 1.0
    shift = _socket_layout(face, target, low, low, BLUR, weight)
    held = _band(face) + shift
    for rows in (slice(29, 33), slice(21, 25)):  # the lid's and the crease's middles
        assert np.all(np.abs(held[rows, 16:48] - _band(target)[rows, 16:48])
                      <= LAYOUT_BAND + 1e-4)
    assert shift[30, 32] < -8.0 and shift[22, 32] > 8.0
    assert not shift[:14].any() and not shift[40:].any()


def test_a_face_whose_band_is_the_targets_within_the_level_is_left() -> None:
    """Where the face's band is within LAYOUT_BAND of the target's, nothing moves."""
    face, target = _lids(0.5, -0.5), _lids(0.0, 0.0)
    low = np.full((S, S, 3), 60.0, np.float32)
    shift = _socket_layout(face, target, low, low, BLUR, np.ones((S, S), np.float32))
    assert not shift.any()
