"""The occlusion stage's cuts of the thirty-seventh round, each the same values as the
long way: a bare track's glasses frames kept rather than eased from zeros to zeros, and
the edge occluders' colour model without `np.cov`'s argument handling. (The frame's edge
filled from a distance transform of the hidden pixels' box alone: in
test_occlusion_edge_frames.py, beside the long way it is checked against.)"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.composite import occlusion
from facedub.composite.occlusion import OccluderModel, OcclusionMasks

Frames = list[tuple[float, np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def crops(aligned_frames: Callable[[str, int], Frames]) -> Frames:
    """Clip 13's first 8 frames aligned at 512 px (a bare face under a moving torch)."""
    return aligned_frames("clip_openface_changelighting_torch_moving_light.wmv", 8)


def test_a_bare_tracks_frames_are_kept_not_eased(
        crops: Frames, monkeypatch: pytest.MonkeyPatch) -> None:
    """A track judged bare keeps its zero glasses frames from frame to frame (the same
    array, not eased from zeros to zeros), and its masks are the long way's to the bit."""
    model = OccluderModel()
    masks = OcclusionMasks(model, worn={0: 0.0})
    found, kept = [], []
    for time, image, landmarks in crops:
        found.append(masks(0, time, image, landmarks))
        kept.append(masks._tracks[0].frames)
    assert all(frames is kept[0] for frames in kept)
    assert not kept[0].any()
    with monkeypatch.context() as patched:
        patched.setattr(occlusion, "_no_frames",
                        lambda previous, size: np.zeros((size, size), np.float32))
        long = OcclusionMasks(model, worn={0: 0.0})
        for (time, image, landmarks), occluded in zip(crops, found, strict=True):
            expected = long(0, time, image, landmarks)
            assert np.array_equal(occluded.mask, expected.mask)
            assert occluded.glasses == expected.glasses
        assert long._tracks[0].frames is not kept[0]


def test_frames_drawn_before_are_not_kept_as_zeros(crops: Frames) -> None:
    """Only frames that are all zero are kept: a track whose eased frames still hold a
    drawn rim gets fresh zeros, which `_ease` then eases them towards, as before."""
    masks = OcclusionMasks(OccluderModel(), worn={0: 0.0})
    time, image, landmarks = crops[0]
    masks(0, time, image, landmarks)
    state = masks._tracks[0]
    assert occlusion._no_frames(state, 256) is state.frames
    assert occlusion._no_frames(state, 128) is not state.frames
    state.frames[100, 100] = 0.5
    fresh = occlusion._no_frames(state, 256)
    assert fresh is not state.frames and fresh.shape == (256, 256) and not fresh.any()
    fresh = occlusion._no_frames(None, 256)
    assert fresh.shape == (256, 256) and fresh.dtype == np.float32 and not fresh.any()


def test_the_edge_occluders_colour_model_skips_numpys_cov(
        crops: Frames, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same maps as with `np.cov` itself (the long way), which is not called."""
    with monkeypatch.context() as patched:
        patched.setattr(occlusion, "sample_covariance",
                        lambda samples: np.cov(samples, rowvar=False))
        expected = [occlusion.edge_occluders(image, landmarks)
                    for _, image, landmarks in crops]

    def refused(*args: object, **kwargs: object) -> object:
        raise AssertionError("np.cov called")

    monkeypatch.setattr(np, "cov", refused)
    for (_, image, landmarks), edges in zip(crops, expected, strict=True):
        assert np.array_equal(occlusion.edge_occluders(image, landmarks), edges)
