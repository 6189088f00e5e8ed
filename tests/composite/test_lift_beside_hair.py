"""composite/compositor.py's `levelled_beside_hair` and the engine's ramp it reads
(`mesh_clean.lift_ramp`, `SwappedFace.lifted`; issue 9, fifty-first round): the strip of a
photo's shade beside its hanging hair is evened out between the toned fill over the hair
and the face past the strip, lifted or darkened, and nothing else moves; only Rose Leslie's
photo has hanging hair taken, so every other face keeps the compositor's result as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.compositor import levelled_beside_hair
from facedub.engines.mesh_clean import lift_ramp

SIZE = 256
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 0]


def _grey(lightness: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 RGB of the (S, S) Lab lightness, a neutral skin-less grey."""
    lab = np.zeros((*lightness.shape, 3), dtype=np.float32)
    lab[..., 0] = lightness
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _strip_face(shade: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A face lit at L 80, the fill over the hair (columns 182 on) at L 86, the strip of
    11 px before it at `shade` (coming in over 4 px) and 4 px from it to the fill; the ramp
    1 on the hair (from column 177: the engine's clean share falls over a few pixels past
    it) falling to 0 across the strip (as on hair-band-photo's far cheek at 256 px); the
    mask 1 over the crop but a 20 px border."""
    lightness = np.full((SIZE, SIZE), 80.0, dtype=np.float32)
    lightness[:, 182:] = 86.0
    lightness[:, 167:178] = shade
    lightness[:, 167:171] = np.linspace(80.0, shade, 6)[1:-1]  # her shade comes in
    lightness[:, 178:182] = np.linspace(shade, 86.0, 6)[1:-1]  # the clean share's fall
    columns = np.arange(SIZE, dtype=np.float32)
    ramp = np.clip(1.0 - (177.0 - columns) / 10.0, 0.0, 1.0)
    ramp = np.broadcast_to(ramp, (SIZE, SIZE)).astype(np.float32)
    mask = np.zeros((SIZE, SIZE), dtype=np.float32)
    mask[20:-20, 20:-20] = 1.0
    return _grey(lightness), ramp, mask


@pytest.mark.parametrize("shade", [72.0, 92.0])
def test_the_strip_is_evened_out_either_way_and_nothing_else_moves(shade: float) -> None:
    """A darker strip (72: main's grey line) is lifted and a lighter one (92: the light
    ridge r51-A's engine lift left) darkened, at the strip's middle rows, into the range
    between the face past it (80) and the fill (86) (within 2.5 L; before, 8 L off it) with
    no step of 3 L; every pixel off the ramp and on the hair's core stays to the bit."""
    face, ramp, mask = _strip_face(shade)
    levelled = levelled_beside_hair(face, ramp, mask)
    rows = slice(80, 176)
    before = _lightness(face)[rows, 164:184].mean(axis=0)
    after = _lightness(levelled)[rows, 164:184].mean(axis=0)
    assert np.abs(before - np.clip(before, 80.0, 86.0)).max() > 5.0
    # Within the two sides' range (a 2.5 L margin), and no step of 3 L from pixel to pixel.
    assert np.abs(after - np.clip(after, 80.0, 86.0)).max() < 2.5, after.round(1)
    assert np.abs(np.diff(after)).max() < 3.0, after.round(1)
    off = (ramp <= 0.0) | (np.arange(SIZE) >= 190)[None, :]
    assert np.array_equal(levelled[off], face[off])


def test_without_hanging_hair_the_face_is_returned_as_it_is() -> None:
    face, ramp, mask = _strip_face(72.0)
    assert levelled_beside_hair(face, np.zeros_like(ramp), mask) is face


def test_only_rose_leslies_photo_has_a_ramp(faces_dir: Path, aligned_face: Aligner) -> None:
    """Her photo's hair hanging over both cheeks is taken: a ramp, 1 on the hair; Paul
    Rudd's studio photo (readme-photo) and Kit Harington's (hair-forehead, hair over the
    forehead, not the cheeks) have none, so their faces are composited as on main."""
    crop, landmarks = aligned_face(
        media.read_photo(faces_dir / "still_rose_leslie_frontal.jpg"), 512)
    ramp = lift_ramp(crop, landmarks)
    assert ramp is not None
    assert (ramp > 0.99).sum() > 5000 and ((ramp > 0.0) & (ramp < 0.99)).sum() > 5000
    for name in ("still_paul_rudd_frontal_studio.jpg", "still_kit_harington_turned.jpg"):
        crop, landmarks = aligned_face(media.read_photo(faces_dir / name), 512)
        assert lift_ramp(crop, landmarks) is None, name
