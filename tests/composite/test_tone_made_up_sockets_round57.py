"""The sockets' band lift round a made-up target's eyes (issue 9, fifty-seventh round).

Under the sockets' own-skin base (`tone._own_sockets`: their skin blurred at sigma /
LID_DIVISOR, every photo source) the sockets' band lift read the band between that same
blur and itself, and lifted nothing (0.11 L at most on expr-shouting, fifty-sixth round):
the shouting photo's creases under her raised brows came through 5 L darker than d10's lit
brow bone, the grey band above the pale lids. Round a made-up target's eyes (`eye_bands`,
the make-up gate: d10 alone among the benchmark pairs) the band is now read from sigma /
SOCKET_FINE_DIVISOR. Elsewhere nothing moves: read for every photo source it would move
every photo pair's likeness (BENCHMARKS.md, Realism, fifty-seventh round)."""

from __future__ import annotations

import numpy as np

from facedub.composite import tone

SIZE = 128
SIGMA = 36.0  # the sockets' own base at sigma / 3 = 12 px: flat over an 8 px crease
SKIN = (60.0, 10.0, 15.0)
CREASE = 24.0  # L units the face's crease is darker than its skin
CREASE_ROWS = slice(48, 56)
COLUMNS = slice(30, 98)


def _planes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(face, target, sockets): flat skin both, the face with a dark crease across the
    sockets' middle; the sockets a hard-edged rectangle round it."""
    target = np.empty((SIZE, SIZE, 3), np.float32)
    target[...] = SKIN
    face = target.copy()
    face[CREASE_ROWS, COLUMNS, 0] -= CREASE
    sockets = np.zeros((SIZE, SIZE), np.float32)
    sockets[36:68, 20:108] = 1.0
    return face, target, sockets


def _crease_darker(eye_bands: bool) -> float:
    """How much darker than the target the result's crease is, its middle's median."""
    face, target, sockets = _planes()
    ones = np.ones((SIZE, SIZE), np.float32)
    bands = ((sockets, sockets), (1.0, 1.0)) if eye_bands else None
    result = tone.carry_detail(face, target, ones, SIGMA, sockets=sockets, socket_skin=ones,
                               eye_bands=bands)
    middle = result[CREASE_ROWS, 40:88, 0]
    return float(SKIN[0] - np.median(middle))


def test_the_sockets_lift_round_a_made_up_targets_eyes_reads_the_crease() -> None:
    """Round a made-up target's eyes the face's crease, finer than the sockets' own base,
    is lifted toward the flat target: at least 3 L lighter than without the gate (here
    14.4 -> 10.3 L darker than the target; main: 14.4 both, the lift read nothing)."""
    lifted = _crease_darker(eye_bands=False) - _crease_darker(eye_bands=True)
    assert lifted >= 3.0, lifted


def test_without_the_make_up_gate_the_sockets_keep_the_faces_crease() -> None:
    """Without `eye_bands` (every target but a made-up one) the sockets' lift is as before:
    the crease is the face's own detail, kept past the lift's DARK_BAND and DARK_SOFT
    (14.4 L darker here: the detail's soft limit)."""
    assert _crease_darker(eye_bands=False) > tone.DARK_BAND + tone.DARK_SOFT + 6.0
