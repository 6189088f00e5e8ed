"""composite.band_jaw: a turned face's blend band thinner on its jaw line and chin only;
a frontal face's mask as it was."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from facedub.composite.band_jaw import jaw_band
from facedub.composite.blend import reach_parts, turn_share
from facedub.composite.compositor import CompositeConfig

StillComposite = Callable[[CompositeConfig, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

SIZE = 256
ERODE, BLUR = 5, 15  # the compositor's defaults at 256 px
CHIN, MOUTH_CORNERS, BETWEEN_EYES = 152, (61, 291), 168
PLAIN = CompositeConfig(color="none", relight=0.0, grain=False, occlusion="off",
                        keep_occluders=False)


@pytest.fixture(scope="module")
def landmarks_at(turned_template: Callable[[float, int], np.ndarray]
                 ) -> Callable[[float], np.ndarray]:
    """The template turned by `yaw` degrees, shrunk into the crop (its chin is below a
    SIZE crop at the fixture's own scale)."""
    def at(yaw: float) -> np.ndarray:
        points = turned_template(yaw, SIZE).astype(np.float64)
        points[:, 0] = (points[:, 0] - SIZE / 2) * 0.65 + SIZE / 2
        points[:, 1] = (points[:, 1] - 168.0) * 0.65 + 140.0
        points[:, 2] *= 0.65
        return points.astype(np.float32)
    return at


def _band_rows(mask: np.ndarray, column: int, start: int) -> int:
    """How many rows from `start` down, in `column`, the mask is feathered (0 < m < 1)."""
    part = mask[start:, column]
    return int(((part > 0.0) & (part < 1.0)).sum())


def _composited(landmarks: np.ndarray, composite_still: StillComposite) -> np.ndarray:
    target = np.full((SIZE, SIZE, 3), 40, np.uint8)
    face = np.full((SIZE, SIZE, 3), 240, np.uint8)
    return composite_still(PLAIN, target, landmarks, face)


@pytest.mark.parametrize("yaw", [0.0, -15.0, 15.0])
def test_a_frontal_face_keeps_its_masks(yaw: float,
                                        landmarks_at: Callable[[float], np.ndarray]) -> None:
    landmarks = landmarks_at(yaw)
    assert turn_share(landmarks)[0] == 0.0
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    assert jaw_band(near, reached, landmarks, SIZE, True, ERODE, BLUR) is reached


def test_a_turned_face_s_far_jaw_band_is_narrower_and_its_near_jaw_s_as_it_was(
        landmarks_at: Callable[[float], np.ndarray]) -> None:
    landmarks = landmarks_at(35.0)
    share, side = turn_share(landmarks)
    assert share == 1.0
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    band = jaw_band(near, reached, landmarks, SIZE, True, ERODE, BLUR)
    mouth = round(float(landmarks[list(MOUTH_CORNERS), 1].mean()))
    middle = float(landmarks[BETWEEN_EYES, 0])
    width = abs(float(landmarks[356, 0]) - float(landmarks[127, 0]))
    columns = np.arange(SIZE)
    far = (columns - middle) * side > width / 8  # past the ramp: the far half whole
    nearer = (columns - middle) * side < -width / 8
    below = slice(mouth, SIZE)
    grown = band - reached
    assert grown[below][:, ~nearer].max() > 0.4  # the far jaw's band thinner: more face
    assert (grown[:, far | ~nearer] >= 0.0).all()
    np.testing.assert_array_equal(band[:, nearer], reached[:, nearer])


def test_only_the_rows_below_the_mouth_change(
        landmarks_at: Callable[[float], np.ndarray]) -> None:
    landmarks = landmarks_at(35.0)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    band = jaw_band(near, reached, landmarks, SIZE, True, ERODE, BLUR)
    # Above the fade (a fifth of the mouth-to-chin height over the mouth's corners) the
    # far cheek's reach, the near cheek and the forehead are as `reach_parts` made them.
    mouth = float(landmarks[list(MOUTH_CORNERS), 1].mean())
    above = int(mouth - 0.2 * (float(landmarks[CHIN, 1]) - mouth)) - 1
    np.testing.assert_array_equal(band[:above], reached[:above])
    # Below, the band only grows outwards: the face's share is never lower.
    assert (band >= reached).all()
    assert (band[above:] > reached[above:] + 0.2).any()


def test_the_compositor_shows_more_of_a_turned_face_s_jaw_and_the_same_frontal_face(
        landmarks_at: Callable[[float], np.ndarray], composite_still: StillComposite,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from facedub.composite import compositor as compositor_module

    turned, frontal = landmarks_at(35.0), landmarks_at(0.0)
    near, reached = reach_parts(turned, SIZE, True, ERODE, BLUR)
    band = jaw_band(near, reached, turned, SIZE, True, ERODE, BLUR)
    newly = band - reached > 0.3  # the far jaw the thin band shows
    assert newly.sum() >= 10
    ours = _composited(turned, composite_still)
    ours_frontal = _composited(frontal, composite_still)
    # Main's compositor: the jaw band off.
    monkeypatch.setattr(compositor_module, "jaw_band", lambda near, reached, *_: reached)
    main = _composited(turned, composite_still)
    main_frontal = _composited(frontal, composite_still)
    gain = ours[..., 0].astype(int) - main[..., 0].astype(int)
    assert gain[newly].min() >= 50  # of the 200 levels between the target and the face
    assert (gain >= 0).all()  # nowhere less of the face
    np.testing.assert_array_equal(ours_frontal, main_frontal)


def test_what_the_jaw_band_adds_is_the_rim_the_compositor_tones(
        landmarks_at: Callable[[float], np.ndarray]) -> None:
    from facedub.composite.blend import rim_weights

    landmarks = landmarks_at(35.0)
    near, reached = reach_parts(landmarks, SIZE, True, ERODE, BLUR)
    band = jaw_band(near, reached, landmarks, SIZE, True, ERODE, BLUR)
    rim = rim_weights(near, band)
    assert rim is not None
    grown = band > reached + 0.05  # the jaw band's newly shown pixels
    assert grown.any()
    assert (rim[grown] > 0.0).all()
