"""composite/detail.py: the skin's and the features' sharpness matched apart."""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.detail import (
    SIGMAS,
    SplitSigmas,
    detail_energy,
    match_sharpness,
    sharpness_sigma,
    split_sigmas,
)
from facedub.composite.tone import skin_weights
from facedub.engines.base import SwappedFace, TargetFace
from facedub.faces.template import face_template
from facedub.types import HeadPose

SIZE = 192


def _landmarks() -> np.ndarray:
    template = face_template()
    return np.concatenate([template[:, :2] * SIZE * 0.45 + SIZE / 2,
                           template[:, 2:] * SIZE * 0.45], axis=1).astype(np.float32)


def _pictures(seed: int = 0, speckles: tuple[float, float] = (2.0, 4.0)
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A studio face and a dithered frame's (S, S, 3) uint8 RGB, and the bare skin
    (S, S): the face's features a hard, high-contrast pattern over smooth skin with a
    faint texture; the frame's features the same pattern soft, its skin a strong 1-px
    speckle (a GIF's dither); `speckles`: the face's and the frame's (grey levels)."""
    rng = np.random.default_rng(seed)
    bare = skin_weights(_landmarks(), SIZE).bare
    pattern = np.where(rng.random((SIZE // 4, SIZE // 4)) > 0.5, 60.0, 200.0)
    features = cv2.resize(pattern, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    skin = np.full((SIZE, SIZE), 170.0)

    def picture(feature_blur: float, speckle: float) -> np.ndarray:
        drawn = cv2.GaussianBlur(features, (0, 0), feature_blur) if feature_blur else features
        grey = bare * skin + (1.0 - bare) * drawn + rng.normal(0.0, speckle, (SIZE, SIZE))
        return np.repeat(np.clip(grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)

    return picture(0.0, speckles[0]), picture(2.0, speckles[1]), bare


def _inside() -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    return ((x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2 < (0.4 * SIZE) ** 2).astype(np.float32)


def test_the_skin_keeps_its_texture_where_the_features_set_a_stronger_blur() -> None:
    face, target, bare = _pictures()
    mask = _inside()
    skin, features = (mask > 0.5) & (bare > 0.99), (mask > 0.5) & (bare < 0.01)
    as_one = match_sharpness(face, target, mask)
    apart = match_sharpness(face, target, mask, bare)
    # Judged as one, the features' edges set the blur and the skin's own texture goes.
    assert detail_energy(as_one, skin) < 0.5 * detail_energy(face, skin)
    # Apart, the skin is left as it is (the frame's skin has more) ...
    assert detail_energy(apart, skin) > 0.95 * detail_energy(face, skin)
    # ... and the features still come down to about the frame's (the blur between two
    # trial sigmas is an estimate).
    ratio = detail_energy(apart, features) / detail_energy(target, features)
    assert 0.8 < ratio < 1.25


def test_a_sharper_skin_comes_down_to_the_frames_not_below_it() -> None:
    face, target, bare = _pictures(1)
    mask = _inside()
    skin = (mask > 0.5) & (bare > 0.99)
    sharp = face.copy()
    speckle = np.random.default_rng(2).normal(0.0, 6.0, (SIZE, SIZE, 1))
    sharp[skin] = np.clip(sharp.astype(float) + speckle + 0.5, 0, 255).astype(np.uint8)[skin]
    sigmas = split_sigmas(sharp, target, mask, bare)
    # Between two of the coarse trial blurs (0 and 0.5), not the next one up: the skin
    # lands near the frame's level instead of well under it.
    assert 0.0 < sigmas.skin < SIGMAS[1]
    matched = match_sharpness(sharp, target, mask, bare)
    ratio = detail_energy(matched, skin) / detail_energy(target, skin)
    assert 0.8 < ratio < 1.1
    next_step = cv2.GaussianBlur(sharp, (0, 0), SIGMAS[1])
    assert detail_energy(matched, skin) > 1.3 * detail_energy(next_step, skin)


def test_a_softer_face_is_never_sharpened_and_one_blur_is_one_blur() -> None:
    face, target, bare = _pictures(3)
    mask = _inside()
    softer = cv2.GaussianBlur(target, (0, 0), 1.0)
    assert match_sharpness(softer, face, mask, bare) is softer
    # Skin and features that want the same blur: the plain blurred face, no blend.
    same = cv2.GaussianBlur(face, (0, 0), 1.5)
    np.testing.assert_array_equal(match_sharpness(face, same, mask, np.ones_like(bare)),
                                  match_sharpness(face, same, mask))


def test_the_compositor_matches_the_skin_and_the_features_apart() -> None:
    face, target, bare = _pictures(4)
    landmarks = _landmarks()
    config = CompositeConfig(color="none", relight=0.0, grain=False, occlusion="off",
                             keep_occluders=False, smooth_landmarks=False)
    result = Compositor(config).composite(
        TargetFace(image=target, face_landmarks=landmarks, face_from_frame=np.eye(2, 3),
                   pose=HeadPose(0.0, 0.0, 0.0), blendshapes=np.zeros(52, np.float32),
                   time=0.0, track=0),
        SwappedFace(face, np.ones((SIZE, SIZE), np.float32)))
    skin = (result.alpha > 0.99) & (bare > 0.99)
    assert skin.sum() > 500
    assert detail_energy(result.image, skin) > 0.9 * detail_energy(face, skin)


def test_a_scans_dense_grain_is_not_spared_the_whole_blur() -> None:
    # The frame's skin: smooth, with a few strong specks (a compressed webcam's); the
    # face's: a dense fine grain (an old scanned photo's), grey (R = G = B), its features
    # sharper than the frame's. Matched by its energy alone the skin kept twice the
    # frame's grain (old-photo, BENCHMARKS.md, thirty-second round); under the whole
    # mask's blur it lacks none, so the face is judged as a whole.
    rng = np.random.default_rng(5)
    face, target, bare = _pictures(5)
    mask = _inside()
    skin = (mask > 0.5) & (bare > 0.5)  # as `split_sigmas` draws it
    specks = (rng.random((SIZE, SIZE)) < 0.01) * rng.choice([-40.0, 40.0], (SIZE, SIZE))
    target_grey = np.where(skin, 170.0 + specks, cv2.cvtColor(target, cv2.COLOR_RGB2GRAY))
    target = np.repeat(np.clip(target_grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)
    grain = cv2.GaussianBlur(rng.normal(0.0, 12.0, (SIZE, SIZE)), (0, 0), 0.6)
    face_grey = np.where(skin, 170.0 + grain, cv2.cvtColor(face, cv2.COLOR_RGB2GRAY))
    face = np.repeat(np.clip(face_grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)
    whole = sharpness_sigma(face, target, mask)
    assert split_sigmas(face, target, mask, bare) == SplitSigmas(whole, whole)
    np.testing.assert_array_equal(match_sharpness(face, target, mask, bare),
                                  match_sharpness(face, target, mask))


def test_a_skin_that_lacks_no_visible_grain_under_the_whole_blur_takes_it() -> None:
    # Both skins nearly clean (a webcam's under a grey level of noise), the face's
    # features sharper: the whole mask's blur leaves the skin lacking less grain than
    # MIN_MISSING, so it is not spared (self-photo: its own source texture kept cost the
    # likeness to the frame, SSIM 0.9171 -> 0.9166; BENCHMARKS.md, thirty-second round).
    face, target, bare = _pictures(6, speckles=(0.6, 0.5))
    mask = _inside()
    whole = sharpness_sigma(face, target, mask)
    assert whole > SIGMAS[1]
    sigmas = split_sigmas(face, target, mask, bare)
    assert sigmas.skin == whole
    # The frame's strong speckle (the test above): spared.
    face, target, bare = _pictures(6)
    assert split_sigmas(face, target, mask, bare).skin < sharpness_sigma(face, target, mask)
