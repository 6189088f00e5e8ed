"""A face cut by the frame's edge: the target crop's black fill beyond it is no skin
texture, so the source's pores next to the edge are held like the rest of the skin."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.compositor import DETAIL_SIGMA_DIVISOR, _texture_lightness
from facedub.composite.detail import texture_excess

SIZE = 440
EDGE = 100  # the frame ends left of this column of the crop
ROWS = slice(100, 340)


def _pores(rng: np.random.Generator) -> np.ndarray:
    """(S, S) float32 L: mid skin with a studio photo's 2 px pores, 3 L rms."""
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (SIZE, SIZE)).astype(np.float32), (0, 0), 1.5)
    return np.float32(60.0) + noise * np.float32(3.0 / noise.std())


def _band(plane: np.ndarray) -> np.ndarray:
    return plane - cv2.GaussianBlur(plane, (0, 0), 3.0)


def _kept(face: np.ndarray, excess: np.ndarray, columns: slice) -> float:
    """The share of the face's fine band left in `columns` of the bare rows."""
    before, after = _band(face)[ROWS, columns], _band(face - excess)[ROWS, columns]
    return float(np.sqrt((after**2).mean() / (before**2).mean()))


def test_pores_beside_the_frame_edge_held_like_the_rest() -> None:
    rng = np.random.default_rng(7)
    # A smooth target skin (1 grey level of noise), black fill left of the frame's edge.
    image = np.clip(np.array([200.0, 160.0, 140.0]) + rng.normal(0.0, 1.0, (SIZE, SIZE, 3)),
                    0, 255).astype(np.uint8)
    image[:, :EDGE] = 0
    in_frame = np.zeros((SIZE, SIZE), dtype=bool)
    in_frame[:, EDGE:] = True
    bare = np.zeros((SIZE, SIZE), dtype=np.float32)
    bare[ROWS, EDGE + 2:SIZE - 40] = 1.0  # the compositor's weight stops 2 px inside
    sigma = SIZE / DETAIL_SIGMA_DIVISOR
    face = _pores(rng)
    excess = texture_excess(face, _texture_lightness(image, bare, sigma, in_frame), bare,
                            sigma)
    beside_edge = _kept(face, excess, slice(EDGE + 4, EDGE + 20))
    further_in = _kept(face, excess, slice(EDGE + 100, EDGE + 200))
    assert further_in < 0.5  # the pores are held on smooth skin
    # Measured with the fill as the target's texture, the strip kept 0.85 against 0.3.
    assert beside_edge < further_in + 0.15
