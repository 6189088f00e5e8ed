"""composite/: exact identity cases first (kornia's manner), then the direction of change."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from facedub.composite.blend import feather_blend, poisson_blend
from facedub.composite.color import (
    apply_lut,
    from_lab,
    histogram_lut,
    masked_stats,
    reinhard_transfer,
    relight,
    to_lab,
)
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.detail import detail_energy, match_sharpness
from facedub.composite.smooth import OneEuroFilter
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.template import face_template
from facedub.types import HeadPose

SIZE = 128


def _skin(seed: int = 0) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8 RGB: a smooth skin-like gradient with fine texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    base = np.stack([170 + 40 * x, 120 + 30 * y, 100 + 20 * x * y], axis=2)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def _disc(radius: float = 40.0) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    inside = (x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2 < radius**2
    return cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 3.0)


def _target_face(image: np.ndarray) -> TargetFace:
    template = face_template()
    landmarks = np.concatenate([template[:, :2] * SIZE * 0.3 + SIZE / 2,
                                template[:, 2:] * SIZE * 0.3], axis=1).astype(np.float32)
    return TargetFace(image=image, face_landmarks=landmarks,
                      face_from_frame=np.eye(2, 3), pose=HeadPose(0.0, 0.0, 0.0),
                      blendshapes=np.zeros(52, np.float32), time=0.0, track=0)


def test_equal_colour_statistics_leave_the_face_unchanged() -> None:
    lab = to_lab(_skin())
    stats = masked_stats(lab, _disc())
    np.testing.assert_allclose(reinhard_transfer(lab, stats, stats), lab, atol=1e-4)


def test_reinhard_moves_the_mean_to_the_target() -> None:
    face, target, mask = to_lab(_skin(1)), to_lab(_skin(2) // 2 + 60), _disc()
    moved = reinhard_transfer(face, masked_stats(face, mask), masked_stats(target, mask))
    np.testing.assert_allclose(masked_stats(moved, mask).mean[0],
                               masked_stats(target, mask).mean[0], atol=0.05)


def test_the_same_histogram_maps_to_itself() -> None:
    lab, mask = to_lab(_skin()), _disc()
    mapped = apply_lut(lab, histogram_lut(lab, mask, lab, mask))
    np.testing.assert_allclose(mapped, lab, atol=0.05)


def test_relighting_with_the_faces_own_light_changes_nothing() -> None:
    lab, mask = to_lab(_skin()), _disc()
    np.testing.assert_array_equal(relight(lab, lab, mask, sigma=9.0, strength=0.8), lab)


def test_lab_round_trip_keeps_rgb_within_a_level() -> None:
    image = _skin()
    assert np.abs(from_lab(to_lab(image)).astype(int) - image).max() <= 1


@pytest.mark.parametrize("blend", [feather_blend, poisson_blend])
def test_a_mask_of_zero_keeps_the_target_exactly(blend: object) -> None:
    face, target = _skin(1), _skin(2)
    result = blend(face, target, np.zeros((SIZE, SIZE), np.float32))  # type: ignore[operator]
    np.testing.assert_array_equal(result, target)


def test_a_mask_of_one_takes_the_face_exactly() -> None:
    face, target = _skin(1), _skin(2)
    np.testing.assert_array_equal(feather_blend(face, target, np.ones((SIZE, SIZE),
                                                                      np.float32)), face)


def test_poisson_keeps_the_target_outside_the_mask() -> None:
    face, target, mask = _skin(1), _skin(2), _disc(30.0)
    result = poisson_blend(face, target, mask)
    np.testing.assert_array_equal(result[mask == 0], target[mask == 0])
    assert np.abs(result[mask > 0.99].astype(int) - target[mask > 0.99]).mean() > 1.0


def test_sharpness_matching_never_sharpens_and_leaves_an_equal_face_alone() -> None:
    sharp, mask = _skin(), _disc()
    soft = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    assert match_sharpness(sharp, sharp, mask) is sharp
    assert match_sharpness(soft, sharp, mask) is soft  # detail that is not there stays out
    matched = match_sharpness(sharp, soft, mask)
    assert detail_energy(matched, mask) <= 1.1 * detail_energy(soft, mask)


def test_a_constant_signal_passes_the_one_euro_filter_unchanged() -> None:
    smoother = OneEuroFilter()
    value = np.array([[12.5, -3.0], [0.0, 7.25]])
    for frame in range(30):
        np.testing.assert_array_equal(smoother(frame / 25.0, value, scale=100.0), value)


def test_the_one_euro_filter_smooths_jitter_and_follows_a_move() -> None:
    smoother = OneEuroFilter()
    inputs = 100.0 + np.random.default_rng(0).normal(0, 2.0, 50)
    outputs = [smoother(i / 25.0, np.array([value]), scale=100.0)[0]
               for i, value in enumerate(inputs)]
    assert np.std(outputs[10:]) < 0.9 * np.std(inputs[10:])  # steadier than its input
    for i in range(50, 100):
        moved = smoother(i / 25.0, np.array([200.0]), scale=100.0)[0]
    assert abs(moved - 200.0) < 1.0


def test_the_same_face_composites_to_the_target_exactly() -> None:
    image = _skin()
    compositor = Compositor(CompositeConfig(color="none", relight=0.0))
    result = compositor.composite(_target_face(image),
                                  SwappedFace(image.copy(), np.ones((SIZE, SIZE), np.float32)))
    np.testing.assert_array_equal(result.image, image)
    assert result.alpha.min() >= 0.0 and result.alpha.max() <= 1.0
    assert result.alpha[SIZE // 2, SIZE // 2] > 0.9  # the middle of the face is replaced
    assert result.alpha[0, 0] == 0.0  # the crop's corner is not


def test_the_engines_mask_limits_the_composite() -> None:
    target, face = _skin(1), _skin(2)
    compositor = Compositor(CompositeConfig(color="none", relight=0.0))
    result = compositor.composite(_target_face(target),
                                  SwappedFace(face, np.zeros((SIZE, SIZE), np.float32)))
    np.testing.assert_array_equal(result.image, target)
    assert result.alpha.max() == 0.0


def test_landmark_smoothing_keeps_still_landmarks_and_tracks_apart() -> None:
    compositor = Compositor(CompositeConfig())
    still = _target_face(_skin()).face_landmarks
    for frame in range(10):
        np.testing.assert_allclose(compositor.smooth_landmarks(0, frame / 25, still), still)
    # A second track starts from its own landmarks, not from track 0's.
    np.testing.assert_allclose(compositor.smooth_landmarks(1, 0.5, still + 40), still + 40)


def test_the_engines_relief_reaches_the_detail_colour() -> None:
    """`SwappedFace.relief` (the mesh engine's shape-move share) keeps the face's own
    middle-scale lightness over the target's in the "detail" colour; 0 leaves it as it was."""
    target = _skin(3)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    shade = 1.0 + 0.3 * np.exp(-((x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2) / (2 * 12.0**2))
    face = np.clip(_skin(4) * shade[..., None], 0, 255).astype(np.uint8)
    mask = np.ones((SIZE, SIZE), np.float32)
    results = [Compositor(CompositeConfig(grain=False, occlusion="off")).composite(
        _target_face(target), SwappedFace(face, mask, relief=relief)).image.astype(float)
        for relief in (0.0, 1.0)]
    centre = (slice(SIZE // 2 - 4, SIZE // 2 + 4),) * 2
    assert results[1][centre].mean() > results[0][centre].mean() + 5.0  # lighter: the face's


def test_the_sources_own_eyes_are_pasted_no_sharper_than_the_targets_own() -> None:
    """The mesh engine pastes the source's toned eyes through `kept_image`, past the face's
    sharpness matching: an old photo's blocky, crisp eyes stood out of a soft webcam frame
    (old-photo, BENCHMARKS.md thirteenth round). `kept_source` marks them; the compositor
    blurs that share down to the target's own detail there, and leaves the rest of the
    kept image (the target's own pixels) as it is."""
    target = cv2.GaussianBlur(_skin(5), (0, 0), 1.0)
    rng = np.random.default_rng(6)
    blocky = np.kron(rng.normal(0, 10, (SIZE // 2, SIZE // 2, 1)), np.ones((2, 2, 3)))
    sharp = np.clip(target + blocky, 0, 255).astype(np.uint8)  # the source's eye
    eye = _disc(14.0)
    inside = eye > 0.95
    config = CompositeConfig(color="none", relight=0.0, grain=False, occlusion="off",
                             keep_occluders=False)

    def pasted(kept_source: np.ndarray | None) -> np.ndarray:
        swapped = SwappedFace(target.copy(), np.ones((SIZE, SIZE), np.float32), kept=eye,
                              kept_image=sharp, kept_source=kept_source)
        return Compositor(config).composite(_target_face(target), swapped).image

    as_it_was = pasted(None)  # all of the kept image the target's own: pasted as it is
    assert detail_energy(as_it_was, inside) > 4.0 * detail_energy(target, inside)
    matched = pasted(eye)
    assert detail_energy(matched, inside) <= 1.2 * detail_energy(target, inside)
    # The source's eye, blurred, not replaced by the target's: its darkness stays.
    assert np.abs(cv2.GaussianBlur(matched, (0, 0), 3.0).astype(float)
                  - cv2.GaussianBlur(sharp, (0, 0), 3.0))[inside].mean() < 2.0
    # An eye already softer than the target's stays as it was.
    softer = cv2.GaussianBlur(target, (0, 0), 1.0)
    swapped = SwappedFace(target.copy(), np.ones((SIZE, SIZE), np.float32), kept=eye,
                          kept_image=softer, kept_source=eye)
    result = Compositor(config).composite(_target_face(target), swapped).image
    np.testing.assert_array_equal(result[inside], softer[inside])


def _eye_config() -> CompositeConfig:
    return CompositeConfig(color="none", relight=0.0, grain=False, occlusion="off",
                           keep_occluders=False)


def _sharp_eye(target: np.ndarray) -> np.ndarray:
    """A blocky, crisp copy of `target`: an old photo's eye."""
    rng = np.random.default_rng(6)
    blocky = np.kron(rng.normal(0, 10, (SIZE // 2, SIZE // 2, 1)), np.ones((2, 2, 3)))
    return np.clip(target + blocky, 0, 255).astype(np.uint8)


def test_a_source_eye_shown_at_half_is_blurred_too() -> None:
    """As the target's eyes close its share reaches one half and the source's share of the
    kept image stays under it (old-photo frame 19, older-glasses 8-15): measured only
    above one half, nothing was measured and the source's crisp eye was pasted as it is."""
    target = cv2.GaussianBlur(_skin(5), (0, 0), 1.0)
    sharp = _sharp_eye(target)
    eye = _disc(14.0)
    inside = eye > 0.95

    def pasted(kept_source: np.ndarray | None) -> np.ndarray:
        swapped = SwappedFace(target.copy(), np.ones((SIZE, SIZE), np.float32), kept=eye,
                              kept_image=sharp, kept_source=kept_source)
        return Compositor(_eye_config()).composite(_target_face(target), swapped).image

    as_it_was = detail_energy(pasted(None), inside)
    assert detail_energy(pasted(0.5 * eye), inside) < 0.6 * as_it_was


def test_the_targets_own_kept_pixels_are_never_blurred() -> None:
    """Only the source's share of the kept image is blurred: the target's own kept pixels
    round it (kept 1, kept_source 0) come out exactly as the engine gave them."""
    target = cv2.GaussianBlur(_skin(5), (0, 0), 1.0)
    sharp = _sharp_eye(target)  # the target's own crisp pixels, and the source's eye
    kept = (_disc(30.0) > 0.5).astype(np.float32)
    source = _disc(5.0)
    swapped = SwappedFace(target.copy(), np.ones((SIZE, SIZE), np.float32), kept=kept,
                          kept_image=sharp, kept_source=source)
    result = Compositor(_eye_config()).composite(_target_face(target), swapped).image
    own = (kept == 1.0) & (source == 0.0)
    assert own.sum() > 1000
    np.testing.assert_array_equal(result[own], sharp[own])
    assert np.abs(result.astype(int) - sharp)[source > 0.5].max() > 5  # the source's: blurred


def test_the_source_eyes_blur_is_eased_per_track_and_forgotten_at_its_end() -> None:
    """The blur of the source's kept eyes moves half way to each frame's measure (the
    target's eye detail wavers: the blur went on and off from frame to frame on
    older-glasses), per track, and starts afresh once the track has ended."""
    target = cv2.GaussianBlur(_skin(5), (0, 0), 1.0)
    eye = _disc(14.0)
    inside = eye > 0.95
    softer = cv2.GaussianBlur(target, (0, 0), 1.0)  # needs no blur of its own
    compositor = Compositor(_eye_config())

    def pasted(kept_image: np.ndarray, track: int = 0) -> np.ndarray:
        swapped = SwappedFace(target.copy(), np.ones((SIZE, SIZE), np.float32), kept=eye,
                              kept_image=kept_image, kept_source=eye)
        face = replace(_target_face(target), track=track)
        return compositor.composite(face, swapped).image

    pasted(_sharp_eye(target))  # blurred
    eased = pasted(softer)
    assert np.abs(eased.astype(int) - softer)[inside].max() > 0  # still somewhat blurred
    np.testing.assert_array_equal(pasted(softer, track=1)[inside], softer[inside])
    compositor.end_track(0)
    np.testing.assert_array_equal(pasted(softer)[inside], softer[inside])
