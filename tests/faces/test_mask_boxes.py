"""The masks' bounding boxes: grown within the image, and nothing for an empty mask."""

from __future__ import annotations

import numpy as np

from facedub.faces.masks import bounds_or_empty, grown_bounds


def test_a_grown_box_stops_at_the_image_edges() -> None:
    mask = np.zeros((20, 30), dtype=bool)
    mask[2:5, 24:27] = True  # rows 2-4, columns 24-26
    assert grown_bounds(mask, 3) == (slice(0, 8), slice(21, 30))
    assert grown_bounds(mask, 0) == (slice(2, 5), slice(24, 27))


def test_an_empty_mask_has_no_box() -> None:
    empty = np.zeros((8, 8), dtype=np.float32)
    assert grown_bounds(empty, 2) is None
    rows, columns = bounds_or_empty(empty)
    assert empty[rows, columns].size == 0
