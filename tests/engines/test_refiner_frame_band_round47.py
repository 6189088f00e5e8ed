"""The frame band's step decides first whether the face is already as sharp as its crop
(forty-seventh round): a face sharper than its frame (every refined face of the photo and
cross-identity pairs) leaves without the band's blurs, with the same result as before."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.engines import refiner as refiner_module
from facedub.engines.refiner import to_frame_sharpness


def _texture(size: int, seed: int, strength: float, blur: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), blur)
    grey = np.clip(128 + strength * noise / noise.std(), 0, 255)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)


def _mask(size: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.float32)
    mask[30:-30, 30:-30] = 1.0
    return mask


def test_a_face_sharper_than_its_frame_takes_no_blur(monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    """A crisp face over a soft frame: returned as it is, and no Gaussian blur is made
    (main made the grey band's before it found the gain 0)."""
    size = 200
    face = _texture(size, 3, 20.0, 0.7)
    soft = np.clip(np.rint(cv2.GaussianBlur(face, (0, 0), 2.0)), 0, 255).astype(np.uint8)
    blurs = []
    blur = cv2.GaussianBlur

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        blurs.append(args[0].shape)
        return blur(*args, **kwargs)

    monkeypatch.setattr(refiner_module.cv2, "GaussianBlur", counted)
    out = to_frame_sharpness(face.copy(), soft, _mask(size))
    assert np.array_equal(out, face)
    assert blurs == []


def test_a_face_softer_than_its_frame_is_strengthened_as_before() -> None:
    """A soft face over a crisp frame: strengthened by the band at the limit, the values
    of face + FRAME_BAND_GAIN x its band inside the mask."""
    size = 200
    face = _texture(size, 4, 20.0, 2.0)
    crisp = np.clip(np.rint(_texture(size, 5, 30.0, 0.7)), 0, 255).astype(np.uint8)
    mask = _mask(size)
    band = face - cv2.GaussianBlur(face, (0, 0), refiner_module.FRAME_BAND_SIGMA)
    expected = face + refiner_module.FRAME_BAND_GAIN * band
    out = to_frame_sharpness(face.copy(), crisp, mask)
    inside = mask > 0.5
    assert np.allclose(out[inside], expected[inside], atol=1e-3)
    assert not np.array_equal(out, face)
