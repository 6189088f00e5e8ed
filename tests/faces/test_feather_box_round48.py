"""`masks.feather` blurs only the box round a mask's pixels (forty-eighth round): an eye's
or a mouth's mask is no longer blurred across the crop's whole width, and the values stay
within a float32 rounding of blurring the whole image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.faces import masks
from facedub.faces.masks import feather


def _eye_mask(size: int = 440) -> np.ndarray:
    """An eye-sized ellipse off the crop's middle (uint8, 0 or 255)."""
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.ellipse(mask, (150, 180), (34, 14), 8.0, 0, 360, 255, -1)
    return mask


def _whole_image(hard: np.ndarray, erode: int, blur: int) -> np.ndarray:
    """feather as computed on the whole image (main's values before the box)."""
    if erode:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(erode) + 1,) * 2)
        hard = cv2.erode(hard, kernel) if erode > 0 else cv2.dilate(hard, kernel)
    soft = hard.astype(np.float32) / np.float32(255.0)
    if blur > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=blur / 2.0, sigmaY=blur / 2.0)
        if erode >= 0:
            soft = np.clip(soft * 2.0 - 1.0, 0.0, 1.0)
    return soft


@pytest.mark.parametrize(("erode", "blur"), [(0, 0), (0, 7), (2, 4), (-2, 4), (-7, 7), (3, 12)])
def test_the_box_gives_the_whole_images_feather(erode: int, blur: int) -> None:
    hard = _eye_mask()
    expected = _whole_image(hard, erode, blur)
    got = feather(hard, erode, blur)
    assert got.dtype == np.float32 and got.shape == hard.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    # Beyond the blur's reach nothing: exactly 0, as the whole image's blur leaves it.
    assert not got[:, 260:].any() and not got[260:].any()


def test_a_float_mask_near_the_edge_keeps_its_values() -> None:
    mask = np.zeros((220, 220), dtype=np.float32)
    mask[2:30, 190:219] = 0.75  # the box meets the image's top and right edges
    np.testing.assert_allclose(feather(mask, -2, 4), _whole_image(
        np.round(mask * 255).astype(np.uint8), -2, 4), rtol=0, atol=1e-6)


def test_an_eyes_blur_reads_its_box_not_the_crops_width(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    widths: list[int] = []
    blur = cv2.GaussianBlur

    def measured(image: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        widths.append(image.shape[1])
        return blur(image, *args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(masks.cv2, "GaussianBlur", measured)
    feather(_eye_mask(), 2, 4)
    # The ellipse is about 70 px wide; the box adds the kernel's reach (4 sigma + 2) each side.
    assert widths and max(widths) <= 70 + 2 * (int(4 * 2.0) + 2) + 4 < 440


def test_an_empty_mask_feathers_to_zeros() -> None:
    empty = np.zeros((64, 64), dtype=np.uint8)
    result = feather(empty, 2, 4)
    assert result.dtype == np.float32 and not result.any()
