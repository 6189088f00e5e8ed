"""tools/outline_ceiling.py: the warp that gives a swap's output the source's face outline,
to measure what the outline is worth to the identity margin (BENCHMARKS.md, Realism,
fortieth round). Its field moves the outline where asked, leaves the inner features and
the far surroundings alone, and its `normal` mode does not fold the picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(TOOLS))
    import outline_ceiling

    return outline_ceiling


def _circle(centre: tuple[float, float], radius: float, count: int = 36) -> np.ndarray:
    angles = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + radius * np.cos(angles),
                     centre[1] + radius * np.sin(angles)], axis=1)


def test_the_spline_passes_through_its_anchors(tool: Any) -> None:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [5.0, 5.0]])
    values = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    spline = tool.thin_plate(points, values)
    assert np.allclose(spline(points), values, atol=1e-3)


def test_the_field_moves_the_outline_keeps_the_inside_and_the_far_background(tool: Any) -> None:
    oval = _circle((100.0, 100.0), 40.0)
    inner = _circle((100.0, 100.0), 10.0, 8)
    outward = (oval - 100.0) / 40.0 * 4.0  # the chin and cheeks 4 px further out
    anchors = np.concatenate([oval + outward, inner])
    moves = np.concatenate([outward, np.zeros_like(inner)])
    field = tool.displacement_field((200, 240), oval, anchors, moves)
    for (x, y), move in zip(anchors[:36:6], outward[:36:6], strict=True):
        assert np.allclose(field[round(y), round(x)], move, atol=0.6)
    assert np.abs(field[100, 100]).max() < 0.2  # the face's middle stays
    assert np.abs(field[5, 235]).max() == 0.0  # beyond the fade: untouched
    assert tool.folds(field) > 0.0


def test_the_warp_shows_the_input_moved_by_the_field(tool: Any) -> None:
    image = np.zeros((60, 60, 3), np.uint8)
    image[:, 30:] = 200  # a vertical edge at x = 30
    field = np.zeros((60, 60, 2), np.float32)
    field[..., 0] = 3.0  # everything 3 px to the right
    moved = tool.warped(image, field)
    assert moved[30, 32].max() == 0 and moved[30, 33].min() == 200


def test_normal_mode_keeps_only_in_and_out_and_leaves_room_to_the_features(tool: Any) -> None:
    oval = _circle((0.0, 0.0), 10.0, 12)
    along = np.stack([-oval[:, 1], oval[:, 0]], axis=1) / 10.0 * 5.0  # all along the outline
    assert np.abs(tool.normal_moves(oval, along, np.zeros((1, 2)))).max() < 1e-6
    inward = -oval  # every point to the centre, 10 px
    kept = tool.normal_moves(oval, inward, np.zeros((1, 2)))
    # an inner point at the centre: at most FOLD_ROOM of the 10 px
    assert np.allclose(np.linalg.norm(kept, axis=1), tool.FOLD_ROOM * 10.0)
    outward = oval * 0.5
    assert np.allclose(tool.normal_moves(oval, outward, np.zeros((1, 2))), outward)
