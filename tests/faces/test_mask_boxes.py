"""The masks' bounding boxes: grown within the image, and nothing for an empty mask; a
convex hull's mask."""

from __future__ import annotations

import numpy as np

from facedub.faces.masks import bounds_or_empty, convex_hull_mask, grown_bounds


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


def test_a_convex_hull_mask_covers_its_outline_and_takes_3d_landmarks() -> None:
    # A diamond's hull: its corners and edges inside, the crop's corners outside; the
    # landmarks' depth column is ignored (the five callers pass 2-D or 3-D points).
    diamond = np.array([[10.0, 2.0, 0.3], [18.0, 10.0, -0.1], [10.0, 18.0, 0.0], [2.0, 10.0, 0.2]])
    hull = convex_hull_mask(diamond, (21, 24))
    assert hull.dtype == bool and hull.shape == (21, 24)
    assert hull[2, 10] and hull[10, 18] and hull[18, 10] and hull[10, 2] and hull[10, 10]
    assert hull[6, 6]  # on the edge between two corners
    assert not hull[0, 0] and not hull[20, 23] and not hull[3, 5]
    assert np.array_equal(hull, convex_hull_mask(diamond[:, :2], (21, 24)))
