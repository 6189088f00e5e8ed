"""composite.blend.beyond_cuts: the face's outer feather past hair cut at its edge is not
shown (headturn-man's sliver of the engine's face beyond the source's sideburn, with the
target's skin in the cut between, read as a dark line down his cheek)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.blend import beyond_cuts
from facedub.composite.compositor import CompositeConfig
from facedub.faces.masks import BETWEEN_EYES, face_mask

# The compositor run on one drawn frame (the `composite_still` fixture, conftest.py).
StillComposite = Callable[[CompositeConfig, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

SIZE = 256
ERODE, BLUR = 5, 15  # the compositor's defaults at 256 px
SKIN = (196, 150, 128)
HAIR = (40, 28, 20)
TARGET = (120, 170, 120)  # a colour no face has: where it shows, the target shows


@pytest.fixture(scope="module")
def landmarks(turned_template: Callable[[float, int], np.ndarray]) -> np.ndarray:
    """A face turned 15 degrees (the reach leaves its mask as it is): its near cheek, on
    the image's left, reaches past its brow's tail, where hair is judged."""
    return turned_template(-15.0, SIZE)


def _band(landmarks: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """(SIZE, SIZE) bool: a band 16 px wide just inside the mask's full part on the face's
    near (left) side, between the eyes' and the nose tip's rows (a sideburn's place)."""
    # The hair zone fades over 4% of the crop above the nose tip.
    top, bottom = round(float(landmarks[159, 1])), round(float(landmarks[1, 1]) - 0.05 * SIZE)
    band = np.zeros((SIZE, SIZE), dtype=bool)
    for row in range(top, bottom):
        whole = np.flatnonzero(shown[row] >= 0.99)
        band[row, whole[0]:whole[0] + 16] = True
    return band


def test_the_feather_past_a_cut_band_goes_and_the_rest_stays(landmarks: np.ndarray) -> None:
    shown = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    band = _band(landmarks, shown)
    cut = band.astype(np.float32)
    beyond = beyond_cuts(cut, shown, landmarks[BETWEEN_EYES, :2])
    assert beyond is not None
    assert beyond.min() >= 0.0 and beyond.max() <= 1.0
    rows = np.flatnonzero(band.any(axis=1))[3:-3]  # clear of the band's own ends
    sliver = np.zeros_like(band)
    for row in rows:
        left = np.flatnonzero(band[row])[0]
        sliver[row, :left] = (shown[row, :left] > 0.05) & (shown[row, :left] < 0.75)
    assert sliver.sum() > 50
    assert beyond[sliver].min() > 0.9  # the sliver outside the band: gone
    assert beyond[shown >= 0.999].max() == 0.0  # the mask's full part: as it was
    middle = round(float(landmarks[BETWEEN_EYES, 0]))
    assert beyond[:, middle:].max() == 0.0  # the other side, with no cut: as it was


def test_no_cut_takes_nothing(landmarks: np.ndarray) -> None:
    shown = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    assert beyond_cuts(np.zeros((SIZE, SIZE), np.float32), shown,
                       landmarks[BETWEEN_EYES, :2]) is None




def test_the_compositor_shows_no_sliver_of_the_face_past_its_hair(
        monkeypatch: pytest.MonkeyPatch, landmarks: np.ndarray,
        composite_still: StillComposite) -> None:
    shown = face_mask(landmarks, SIZE, forehead=True, erode=ERODE, blur=BLUR)
    band = _band(landmarks, shown)
    face = np.empty((SIZE, SIZE, 3), np.uint8)
    face[:] = SKIN
    face[band] = HAIR  # the source's sideburn, inside the outline
    rows = np.flatnonzero(band.any(axis=1))[6:-6]
    sliver = np.zeros_like(band)
    for row in rows:
        left = np.flatnonzero(band[row])[0]
        sliver[row, :left] = (shown[row, :left] > 0.2) & (shown[row, :left] < 0.75)
    assert sliver.sum() > 50

    def off_target(image: np.ndarray) -> np.ndarray:
        """How far each pixel is from the target's colour (0: the target's)."""
        return np.abs(image.astype(np.int32) - np.array(TARGET)).max(axis=2)

    target = np.empty((SIZE, SIZE, 3), np.uint8)
    target[:] = TARGET
    config = CompositeConfig(color="none", relight=0.0, grain=False, occlusion="off",
                             keep_occluders=True)
    closed = composite_still(config, target, landmarks, face)
    monkeypatch.setattr(compositor_module, "beyond_cuts_in_box", lambda *_: None)
    open_sliver = composite_still(config, target, landmarks, face)
    shown_open = np.percentile(off_target(open_sliver)[sliver], 90)
    shown_closed = np.percentile(off_target(closed)[sliver], 90)
    assert shown_open > 30  # the face shows there, past the hair
    # The cut reaches 0.9 on this 16 px band: a tenth of the sliver stays, as of the hair.
    assert shown_closed < 0.3 * shown_open
    inside = (shown >= 0.999) & ~band
    np.testing.assert_array_equal(closed[inside], open_sliver[inside])


def test_what_a_new_array_held_never_reaches_the_result(
        monkeypatch: pytest.MonkeyPatch,
        turned_template: Callable[[float, int], np.ndarray]) -> None:
    """The polar warps' samples past the crop are filled, not left as the memory was (a
    NaN there turned readme-photo's whole face white in a loaded run, 448 px crops)."""
    size = 448
    landmarks = turned_template(-15.0, size)
    shown = face_mask(landmarks, size, forehead=True, erode=9, blur=26)
    top, bottom = round(float(landmarks[159, 1])), round(float(landmarks[1, 1]) - 0.05 * size)
    cut = np.zeros((size, size), dtype=np.float32)
    for row in range(top, bottom):
        whole = np.flatnonzero(shown[row] >= 0.99)
        cut[row, whole[0]:whole[0] + 28] = 1.0
    clean = beyond_cuts(cut, shown, landmarks[BETWEEN_EYES, :2])
    warp = cv2.warpPolar

    def into_dirty_memory(image: np.ndarray, dsize: tuple[int, int], *args: object
                          ) -> np.ndarray:
        dirty = np.full((dsize[1], dsize[0]), np.nan, dtype=image.dtype)
        result: np.ndarray = warp(image, dsize, *args, dst=dirty)  # type: ignore[call-overload]
        return result

    monkeypatch.setattr(cv2, "warpPolar", into_dirty_memory)
    dirty = beyond_cuts(cut, shown, landmarks[BETWEEN_EYES, :2])
    assert clean is not None and dirty is not None
    np.testing.assert_array_equal(dirty, clean)
