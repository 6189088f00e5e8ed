"""The occlusion stage's cuts of the thirty-seventh round, each the same values as the
long way: a bare track's glasses frames kept rather than eased from zeros to zeros, the
frame's edge filled from a distance transform of the hidden pixels' box alone, and the
edge occluders' colour model without `np.cov`'s argument handling."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import occlusion
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _nearest_shown

Frames = list[tuple[float, np.ndarray, np.ndarray]]


def _nearest_shown_the_long_way(image: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Every pixel gathered from its own label in the whole crop's distance transform."""
    if hidden.all():
        return image
    _, labels = cv2.distanceTransformWithLabels(hidden.astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    rows, columns = np.nonzero(~hidden)
    return np.asarray(image[rows[labels - 1], columns[labels - 1]])


def _hidden_maps(rng: np.random.Generator, size: int) -> list[np.ndarray]:
    """Bands along one or two edges, blobs inside the crop, thin bars, noise, and a
    crop hidden but for a few pixels: boxes at the crop's edges and inside it."""
    rows, columns = np.mgrid[:size, :size]
    maps = []
    for _ in range(6):
        hidden = np.zeros((size, size), bool)
        for _ in range(int(rng.integers(1, 3))):
            angle = rng.uniform(0.0, 2.0 * np.pi)
            hidden |= (np.cos(angle) * (columns - size / 2) + np.sin(angle) * (rows - size / 2)
                       > rng.uniform(0.2, 0.7) * size)
        maps.append(hidden)
    for _ in range(6):
        hidden = np.zeros((size, size), bool)
        for _ in range(int(rng.integers(1, 4))):
            row, column = rng.uniform(0, size, 2)
            radius = rng.uniform(1.0, size / 4)
            hidden |= (rows - row) ** 2 + (columns - column) ** 2 < radius ** 2
        maps.append(hidden)
    for _ in range(3):
        hidden = np.zeros((size, size), bool)
        row, column = rng.integers(0, size, 2)
        hidden[row:row + int(rng.integers(1, 4)), column:column + int(rng.integers(1, size))] = True
        maps.append(hidden)
    maps.append(rng.random((size, size)) > 0.97)
    maps.append(rng.random((size, size)) > 0.005)
    return maps


def test_the_edge_fill_equals_the_whole_crops_transform() -> None:
    rng = np.random.default_rng(37)
    for size, channels in ((256, 3), (64, 3), (41, 1)):
        for hidden in _hidden_maps(rng, size):
            shape = (size, size, channels) if channels > 1 else (size, size)
            image = rng.integers(0, 256, shape, dtype=np.uint8)
            expected = _nearest_shown_the_long_way(image.copy(), hidden)
            assert np.array_equal(_nearest_shown(image.copy(), hidden), expected)


def test_the_edge_fill_transforms_only_the_hidden_pixels_box(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A strip along the frame's edge is transformed in its box (two pixels wider), not
    in the whole fine crop."""
    shapes = []
    transform = cv2.distanceTransformWithLabels

    def recorded(source: np.ndarray, *args: object, **kwargs: object) -> object:
        shapes.append(source.shape)
        return transform(source, *args, **kwargs)

    image = np.random.default_rng(3).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    hidden = np.zeros((256, 256), bool)
    hidden[:, 246:] = True
    hidden[100:120, 240:] = True
    expected = _nearest_shown_the_long_way(image.copy(), hidden)
    monkeypatch.setattr(cv2, "distanceTransformWithLabels", recorded)
    assert np.array_equal(_nearest_shown(image, hidden), expected)
    assert shapes == [(256, 18)]


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
