"""Visible label: drawn in its corner only, sized from the frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.errors import FacedubError
from facedub.provenance.label import CORNERS, Corner, LabelPainter, draw_visible_label


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the pixels that differ, bottom/right exclusive."""
    rows, cols = np.nonzero(np.any(before != after, axis=2))
    assert rows.size, "nothing was drawn"
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


@pytest.fixture(scope="module")
def frame(faces_dir: Path) -> np.ndarray:
    return next(media.iter_frames(faces_dir / "clip_ghost_two_person_videocall.mp4")).image


def test_default_label_changes_only_the_bottom_right_corner(frame: np.ndarray) -> None:
    labelled = draw_visible_label(frame)
    assert labelled.shape == frame.shape and labelled.dtype == np.uint8
    height, width = frame.shape[:2]
    top, left, bottom, right = changed_box(frame, labelled)
    assert top > height * 0.85 and left > width * 0.7
    assert bottom <= height and right <= width
    assert bottom < height and right < width  # inset from the edges, not touching them
    assert not np.shares_memory(labelled, frame)


@pytest.mark.parametrize("corner", CORNERS)
def test_each_corner(frame: np.ndarray, corner: Corner) -> None:
    height, width = frame.shape[:2]
    top, left, bottom, right = changed_box(frame, draw_visible_label(frame, corner=corner))
    if corner.startswith("top"):
        assert top > 0 and bottom < height * 0.2
    else:
        assert top > height * 0.8 and bottom < height
    if corner.endswith("left"):
        assert left > 0 and right < width * 0.3
    else:
        assert left > width * 0.7 and right < width


def test_label_is_legible_and_scales_with_the_frame() -> None:
    grey = np.full((720, 1280, 3), 128, np.uint8)
    small = np.full((180, 320, 3), 128, np.uint8)
    big_box = changed_box(grey, draw_visible_label(grey))
    small_box = changed_box(small, draw_visible_label(small))
    big_height, small_height = big_box[2] - big_box[0], small_box[2] - small_box[0]
    assert 0.03 * 720 < big_height < 0.1 * 720
    assert small_height >= 12  # the minimum text size keeps it readable
    labelled = draw_visible_label(grey)
    box = labelled[big_box[0]:big_box[2], big_box[1]:big_box[3]]
    assert box.min() < 64 and box.max() > 200  # dark box, white text


def test_painter_caches_and_matches_the_function(frame: np.ndarray) -> None:
    painter = LabelPainter("AI-generated")
    first = painter.draw(frame)
    assert np.array_equal(first, painter.draw(frame))
    assert np.array_equal(first, draw_visible_label(frame))


@pytest.mark.parametrize("text", ["", "KI-generiert ✓", "line\nbreak"])
def test_undrawable_text_is_refused(text: str) -> None:
    with pytest.raises(FacedubError, match="plain ASCII"):
        LabelPainter(text)


def test_unknown_corner_is_refused() -> None:
    with pytest.raises(FacedubError, match="corner"):
        LabelPainter(corner="middle")  # type: ignore[arg-type]
