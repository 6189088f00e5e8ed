"""The target's expression lines applied only inside the box where anything changes give
the same pixels as applied to the whole crop (issue 9's speed: the tail at full size
worked mostly on pixels whose change is zero). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from test_expression_lines_parts import photo_gated

from facedub.engines import mesh_expression
from facedub.engines.base import TargetFace
from facedub.engines.mesh_expression_regions import LineWeights, region_weights
from facedub.faceset import Faceset

CROP = 256  # the crop of conftest's smile_without_lines


def _whole_crop(change: np.ndarray, cores: np.ndarray, margin: int
                ) -> tuple[slice, slice] | None:
    return slice(None), slice(None)


@pytest.mark.parametrize("weights", ["blendshapes", "between brows"])
def test_the_lines_in_their_box_are_the_whole_crops(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray], weights: str,
        extracted: Callable[..., Faceset],
        monkeypatch: pytest.MonkeyPatch) -> None:
    face, target, source_blendshapes = smile_without_lines
    lines = (photo_gated(region_weights(source_blendshapes, target.blendshapes), extracted)
             if weights == "blendshapes"
             # The README pair's weights: a small box, between the brows alone.
             else LineWeights(fade={"between brows": 0.76}, deepen={},
                              lift={"between brows": 1.0}))
    boxes: list[tuple[slice, slice] | None] = []
    changed_box = mesh_expression._changed_box

    def recorded(change: np.ndarray, cores: np.ndarray, margin: int
                 ) -> tuple[slice, slice] | None:
        boxes.append(changed_box(change, cores, margin))
        return boxes[-1]

    monkeypatch.setattr(mesh_expression, "_changed_box", recorded)
    boxed = mesh_expression.target_expression_lines(face, target.image, target.face_landmarks,
                                                    lines)
    assert len(boxes) == 1 and boxes[0] is not None
    rows, columns = boxes[0]
    area = (rows.stop - rows.start) * (columns.stop - columns.start)
    if weights == "between brows":
        assert area < 0.3 * CROP * CROP, "the box is a part of the crop"
    assert not np.array_equal(boxed, face), "the lines changed the face"
    monkeypatch.setattr(mesh_expression, "_changed_box", _whole_crop)
    whole = mesh_expression.target_expression_lines(face, target.image, target.face_landmarks,
                                                    lines)
    np.testing.assert_array_equal(boxed, whole)


def test_a_zero_change_gives_every_level_back() -> None:
    """Outside the box nothing is worked out: there a zero change must give each Y as it
    was, at every one of the 256 levels."""
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    zero = np.zeros((16, 16), dtype=np.float32)
    target = np.zeros((16, 16, 3), dtype=np.uint8)
    got = mesh_expression._lifted_luma(levels, zero, zero, zero, target, 1)
    np.testing.assert_array_equal(got, levels)
