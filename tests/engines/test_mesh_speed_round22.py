"""The mesh engine's speed cuts of the twenty-second round (issue 9's speed), each against
the computation it replaced: equal values. Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines import mesh_expression
from facedub.engines.base import TargetFace
from facedub.engines.mesh_expression import LOG_OFFSET

README_TARGET = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


def _old_log_lightness(image: np.ndarray) -> np.ndarray:
    """`_log_lightness` as it was: the luma scaled and its log taken per pixel."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
    return np.log(luma * (100.0 / 255.0) + LOG_OFFSET)


def test_the_lightness_tables_are_the_per_pixel_arithmetic() -> None:
    """Every uint8 level at every offset of NumPy's vector loops (a run of all 256 levels
    shifted by 0-63 and cut at every length's remainder): the looked-up lightness and its
    log are the float32 arithmetic's, to the bit."""
    levels = np.tile(np.arange(256, dtype=np.uint8), 5)
    for shift in range(64):
        luma = np.roll(levels, shift)[:1000 + shift]
        lightness = luma.astype(np.float32) * (100.0 / 255.0) + LOG_OFFSET
        np.testing.assert_array_equal(mesh_expression._LIGHTNESS[luma], lightness)
        np.testing.assert_array_equal(mesh_expression._LOG_LIGHTNESS[luma], np.log(lightness))


def test_the_log_lightness_of_a_real_crop_is_as_before(
        first_target_face: Callable[..., TargetFace]) -> None:
    """The README clip's first face at 440 px, whole, at half size and a part of it (a
    view with strides of its own, as `_lift_cores` passes): the same values."""
    image = first_target_face(README_TARGET, 440).image
    for part in (image, cv2.resize(image, (220, 220), interpolation=cv2.INTER_AREA),
                 image[37:301, 55:333]):
        got = mesh_expression._log_lightness(part)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, _old_log_lightness(part))
