"""A source face's light tables at less CPU (issue 13, thirty-third round):
`mesh_light._linear` by OpenCV's table look-up and `_srgb`'s index worked out in place and
read by `np.take` give exactly the values of the formulations they replaced (kept here),
on a real photo, on every code value and on the floats at every level's edge."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedub.engines import mesh_light
from facedub.engines.mesh_light import _LINEAR_TO_SRGB, _SRGB_TO_LINEAR, _linear, _srgb

PHOTO = "still_paul_rudd_frontal_studio.jpg"


def _linear_as_indexed(rgb: np.ndarray) -> np.ndarray:
    """The thirty-second round's `_linear`: NumPy's indexing of the table."""
    linear: np.ndarray = _SRGB_TO_LINEAR[rgb]
    return linear


def _srgb_as_expressions(linear: np.ndarray) -> np.ndarray:
    """The thirty-second round's `_srgb`: three temporaries and fancy indexing."""
    steps = len(_LINEAR_TO_SRGB) - 1
    index = np.clip(linear * steps + 0.5, 0, steps).astype(np.int32)
    rgb: np.ndarray = _LINEAR_TO_SRGB[index]
    return rgb


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_linear_light_by_opencvs_table_is_numpys_indexing(faces_dir: Path) -> None:
    """A real photo (whole, a strided view, a box, its first row), every code value and
    a random crop: the same float32 values, shape and dtype."""
    photo = cv2.cvtColor(cv2.imread(str(faces_dir / PHOTO)), cv2.COLOR_BGR2RGB)
    codes = np.arange(256, dtype=np.uint8).reshape(16, 16)
    noise = np.random.default_rng(33).integers(0, 256, (97, 61, 3), dtype=np.uint8)
    for rgb in (photo, photo[::3, ::2], photo[40:300, 17:211], photo[0], codes, noise,
                cv2.merge([codes] * 3)):
        assert _same(_linear(rgb), _linear_as_indexed(rgb))
    assert _linear(codes).dtype == np.float32


def test_srgb_in_place_and_by_take_is_the_expressions() -> None:
    """Every float32 one ulp either side of and on each level's rounding edge, a fine grid
    over [-0.2, 1.3] (clipped at both ends), the infinities, and a float64 plane: the same
    uint8 codes as the expressions'."""
    steps = len(_LINEAR_TO_SRGB) - 1
    edges = ((np.arange(steps + 2) - 0.5) / steps).astype(np.float32)
    near = [edges]
    for direction in (-2.0, 2.0):
        step = edges
        for _ in range(2):
            step = np.nextafter(step, np.float32(direction))
            near.append(step)
    grid = np.linspace(-0.2, 1.3, 1_000_001, dtype=np.float32)
    planes = [np.concatenate(near).astype(np.float32), grid,
              np.array([np.inf, -np.inf, 0.0, 1.0, -0.0], dtype=np.float32),
              grid.astype(np.float64)]
    for linear in planes:
        assert _same(_srgb(linear), _srgb_as_expressions(linear))
    # The caller's plane is left as it was.
    kept = grid.copy()
    _srgb(grid)
    assert np.array_equal(kept, grid)


def test_a_faces_light_evened_on_a_real_photo_is_the_same(faces_dir: Path) -> None:
    """The two tables through `light_asymmetry`'s and `without_light`'s own use of them:
    the photo's linear light and back round-trips to the same codes by both."""
    photo = cv2.cvtColor(cv2.imread(str(faces_dir / PHOTO)), cv2.COLOR_BGR2RGB)
    crop = np.ascontiguousarray(cv2.resize(photo, (440, 440), interpolation=cv2.INTER_AREA))
    lifted = _linear_as_indexed(crop) * np.float32(1.3)
    assert _same(mesh_light._srgb(lifted), _srgb_as_expressions(lifted))
    assert _same(_srgb(_linear(crop)), _srgb_as_expressions(_linear_as_indexed(crop)))
