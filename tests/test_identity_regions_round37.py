"""tools/identity_regions.py: the regions it swaps are where their names say, on a turned
face (the near side the one shown wider)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub.faces.template import face_template

TOOLS = Path(__file__).resolve().parents[1] / "tools"
SIZE = 256


def _turned_face(far_squeeze: float) -> np.ndarray:
    """The template in a (SIZE, SIZE) crop, the image's left half narrowed by
    `far_squeeze`: the person's right side (image left) turned away."""
    points = face_template().copy()
    middle = points[168, 0]
    left = points[:, 0] < middle
    points[left, 0] = middle + (points[left, 0] - middle) * far_squeeze
    points[:, :2] = points[:, :2] * 60 + np.array([128.0, 80.0])
    return points


def _centre_x(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


@pytest.fixture
def regions(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(TOOLS))
    import identity_regions

    return identity_regions.region_masks


def test_near_side_regions_lie_on_the_wider_side(regions) -> None:  # type: ignore[no-untyped-def]
    masks = regions(_turned_face(0.5), SIZE)
    middle = 128.0
    for name in ("near eye", "near brow", "near cheek"):
        assert _centre_x(masks[name]) > middle, name
    for name in ("far eye", "far brow", "far cheek"):
        assert _centre_x(masks[name]) < middle, name


def test_cheeks_exclude_the_features(regions) -> None:  # type: ignore[no-untyped-def]
    masks = regions(_turned_face(0.7), SIZE)
    cheeks = masks["near cheek"] | masks["far cheek"]
    for name in ("near eye", "far eye", "nose tip/wings", "mouth", "jaw line"):
        assert not (cheeks & masks[name]).any(), name
    assert masks["near cheek"].sum() > masks["far cheek"].sum()
