"""The light given back to a source face from its warped uint8 crop a band of rows at a
time (mesh_tiles, issue 13's Intel cores, thirty-ninth round): exactly the values of the
crop-wide cast and mix it replaced, kept here as the reference, on a real 440 px crop
(several bands, the last one short)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh_contributions import moved_towards
from facedub.engines.mesh_tiles import TILE_BYTES, row_tiles

SIZE = 440
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def crop(faces_dir: Path, aligned_face: Aligner) -> np.ndarray:
    """A turned face with dark curls over its forehead: its 440 px crop."""
    return aligned_face(media.read_photo(faces_dir / "still_kit_harington_turned.jpg"), SIZE)[0]


def _face(crop: np.ndarray, seed: int) -> np.ndarray:
    """A float32 face like the blend's: the crop brightened, noisy, past 0..255 at the
    top and bottom rows (the clips' ends)."""
    rng = np.random.default_rng(seed)
    face = (crop.astype(np.float32) * np.float32(1.1)
            + rng.normal(0.0, 20.0, crop.shape).astype(np.float32))
    face[:4] = np.float32(-3.5)
    face[-4:] = np.float32(260.5)
    return face


@pytest.mark.parametrize(("rows", "row_bytes"), [(440, 440 * 12), (441, 5280), (7, 1),
                                                 (3, 10 * TILE_BYTES), (0, 12)])
def test_the_bands_cover_every_row_once_in_order(rows: int, row_bytes: int) -> None:
    bands = list(row_tiles(rows, row_bytes))
    covered = [row for band in bands for row in range(rows)[band]]
    assert covered == list(range(rows))
    assert all(band.stop - band.start >= 1 for band in bands)
    if rows == 440 and row_bytes == 440 * 12:
        assert len(bands) > 3  # a 440 px RGB float32 crop goes in several bands


def test_the_light_given_back_from_uint8_is_the_cast_then_mixed(crop: np.ndarray) -> None:
    """`moved_towards` of the warped unlifted crop, uint8 cast a band at a time, against
    the crop-wide cast and mix it replaced; float32 `other` as before."""
    texture = _face(crop, 42)
    other = crop[::-1].copy()
    for share in (0.0, 0.37, 1.0):
        expected = texture.copy()
        expected += np.float32(share) * (other.astype(np.float32) - expected)
        got = texture.copy()
        moved_towards(got, other, share)
        assert _same(got, expected)
        floats = texture.copy()
        moved_towards(floats, other.astype(np.float32), share)
        assert _same(floats, expected)
