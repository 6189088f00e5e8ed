"""The occlusion mask of a face cut by the frame's edge: the fine crop's pixels beyond the
frame take the nearest shown pixel's value, looked up for the hidden pixels alone (the
long way gathered all 65,536 from their own labels: 2 ms a frame). The same values, the
same masks; checked on random maps and on d12's real 512 px crops cut by straight edges."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import occlusion
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _nearest_shown

SIZE = 512  # aligned_frames' size


def _nearest_shown_the_long_way(image: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Every pixel gathered from its own label (a shown pixel's label is its own)."""
    if hidden.all():
        return image
    _, labels = cv2.distanceTransformWithLabels(hidden.astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    rows, columns = np.nonzero(~hidden)
    return np.asarray(image[rows[labels - 1], columns[labels - 1]])


def _hidden_maps(rng: np.random.Generator, size: int) -> list[np.ndarray]:
    """Straight edges at any angle, blobs, single pixels, none and all."""
    rows, columns = np.mgrid[:size, :size]
    maps = [np.zeros((size, size), bool), np.ones((size, size), bool)]
    for _ in range(12):
        angle = rng.uniform(0.0, 2.0 * np.pi)
        reach = rng.uniform(0.3, 0.7) * size
        maps.append(np.cos(angle) * (columns - size / 2) + np.sin(angle) * (rows - size / 2)
                    > reach)
    for _ in range(4):
        maps.append(rng.random((size, size)) > rng.uniform(0.5, 0.999))
    single = np.zeros((size, size), bool)
    single[rng.integers(size), rng.integers(size)] = True
    maps.append(single)
    alone = np.ones((size, size), bool)
    alone[rng.integers(size), rng.integers(size)] = False  # one pixel shown
    maps.append(alone)
    return maps


def _banded_maps(rng: np.random.Generator, size: int) -> list[np.ndarray]:
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


@pytest.mark.parametrize(("make_maps", "seed", "sizes"), [
    (_hidden_maps, 0, ((256, 3), (64, 3), (37, 1))),
    (_banded_maps, 37, ((256, 3), (64, 3), (41, 1))),
])
def test_the_nearest_shown_pixels_looked_up_alone_are_the_long_way(
        make_maps: Callable[[np.random.Generator, int], list[np.ndarray]], seed: int,
        sizes: tuple[tuple[int, int], ...]) -> None:
    rng = np.random.default_rng(seed)
    for size, channels in sizes:
        for hidden in make_maps(rng, size):
            shape = (size, size, channels) if channels > 1 else (size, size)
            image = rng.integers(0, 256, shape, dtype=np.uint8)
            expected = _nearest_shown_the_long_way(image.copy(), hidden)
            assert np.array_equal(_nearest_shown(image.copy(), hidden), expected)


def test_the_nearest_shown_pixels_are_written_in_place() -> None:
    """Only the hidden pixels are written, in the fine crop itself (a fresh warp): no
    crop-wide gather."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    before = image.copy()
    hidden = np.zeros((256, 256), bool)
    hidden[:, 240:] = True
    found = _nearest_shown(image, hidden)
    assert found is image
    assert np.array_equal(image[:, :240], before[:, :240])
    assert np.array_equal(image[:, 240:], np.repeat(before[:, 239:240], 16, axis=1))


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
def crops(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
          ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """d12's first 6 frames aligned at 512 px: (time, crop, landmarks in it)."""
    return aligned_frames("clip_liveportrait_d12_man_glasses_headturn_hand.mp4", 6)


def _frame_edges(size: int) -> list[np.ndarray]:
    """(S, S) bool in_frame maps: the frame's edge across the chin, a cheek, the
    forehead, a tilted one through a corner."""
    rows, columns = np.mgrid[:size, :size]
    return [rows < 0.8 * size, columns > 0.2 * size, rows > 0.12 * size,
            columns + 0.6 * rows < 1.1 * size]


def test_a_face_cut_by_the_frame_masks_as_the_long_way(
        crops: list[tuple[float, np.ndarray, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fine and canonical crops of a face at the frame's edge, and the masks of a
    track of them (judged wearing, and not judged), equal the long way's to the bit."""
    model = OccluderModel()
    for in_frame in _frame_edges(SIZE):
        quick = [OcclusionMasks(model, worn={0: 1.0}), OcclusionMasks(model)]
        found = [[masks(0, time, image, landmarks, in_frame) for time, image, landmarks
                  in crops] for masks in quick]
        crops_found = [occlusion._canonical(image, landmarks, in_frame)
                       for _, image, landmarks in crops]
        with monkeypatch.context() as patched:
            patched.setattr(occlusion, "_nearest_shown", _nearest_shown_the_long_way)
            long = [OcclusionMasks(model, worn={0: 1.0}), OcclusionMasks(model)]
            for masks, made in zip(long, found, strict=True):
                for (time, image, landmarks), occluded in zip(crops, made, strict=True):
                    expected = masks(0, time, image, landmarks, in_frame)
                    assert np.array_equal(occluded.mask, expected.mask)
                    assert occluded.glasses == expected.glasses
            for (_, image, landmarks), quick_crops in zip(crops, crops_found, strict=True):
                _, _, fine, _, canonical, shown = occlusion._canonical(image, landmarks,
                                                                       in_frame)
                assert not shown.all()  # the edge does cut the face's crop
                assert np.array_equal(quick_crops[2], fine)
                assert np.array_equal(quick_crops[4], canonical)
