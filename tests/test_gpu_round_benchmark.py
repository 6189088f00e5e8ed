"""benchmarks/gpu_round.py's stand-in for OpenCV contrib's guided filter, which the lent
GPU machine's OpenCV lacks and `refine`'s mesh renderings need."""

from collections.abc import Callable
from types import ModuleType

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_light


def _face_like(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A log-luminance-like guide with a hard shadow edge and texture, and a smooth lift
    with a step where the shadow is: what mesh_light filters."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32) / size
    shadow = (cols > 0.55 + 0.1 * rows).astype(np.float32)
    texture = cv2.GaussianBlur(rng.normal(size=(size, size)).astype(np.float32), (0, 0), 1.5)
    guide = -1.2 + 0.4 * rows - 0.8 * shadow + 0.05 * texture
    lift = 0.6 * shadow + 0.1 * cv2.GaussianBlur(
        rng.normal(size=(size, size)).astype(np.float32), (0, 0), 6)
    return guide.astype(np.float32), lift.astype(np.float32)


@pytest.mark.parametrize("size", [96, 256, 512])
def test_the_stand_in_is_contribs_guided_filter(
        benchmark_module: Callable[[str], ModuleType], size: int) -> None:
    gpu_round = benchmark_module("gpu_round")
    guide, lift = _face_like(size, seed=size)
    for share, eps in ((mesh_light.SNAP_RADIUS, mesh_light.SNAP_EPS),
                       (mesh_light.EDGE_RADIUS, mesh_light.EDGE_EPS),
                       (mesh_light.FINE_RADIUS, mesh_light.EDGE_EPS)):
        radius = max(1, round(size * share))
        expected = cv2.ximgproc.guidedFilter(guide, lift, radius, eps)
        got = gpu_round.box_guided_filter(guide, lift, radius, eps)
        assert got.dtype == np.float32 and got.shape == expected.shape
        # Contrib's own float32 rounding is 2-3e-5 of log luminance off the exact filter
        # (float64) on these inputs, the stand-in's 3e-7: a hundredth of a level of 255.
        assert np.abs(got - expected).max() < 1e-4
        # Not the input nor a plain blur: the filter did its work and kept the edge.
        assert np.abs(got - lift).max() > 1e-3


def test_the_stand_in_module_has_the_guided_filter_alone(
        benchmark_module: Callable[[str], ModuleType]) -> None:
    gpu_round = benchmark_module("gpu_round")
    ximgproc = gpu_round._GuidedFilterOnly("cv2.ximgproc")
    assert ximgproc.guidedFilter is gpu_round.box_guided_filter
    with pytest.raises(ImportError, match="not installed on the GPU machine"):
        ximgproc.anisotropicDiffusion  # noqa: B018
    with pytest.raises(ValueError, match="one-channel guide"):
        gpu_round.box_guided_filter(np.zeros((8, 8, 3), np.float32),
                                    np.zeros((8, 8), np.float32), 2, 0.01)
