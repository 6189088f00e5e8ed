"""The composited-stage refiner's light augmentation (fifty-fifth round): a share of the
training patches relit, shown crop and truth by the same smooth field in linear light."""

import numpy as np
import pytest

from facedub.engines.refiner import face_lightness
from facedub.train.refine_crop_loss import TrainingFace, patches
from facedub.train.refine_relight import GAIN_RANGE, LightField, light_field, relit


def _faces(count: int = 3) -> list[TrainingFace]:
    rng = np.random.default_rng(0)
    faces = []
    for _ in range(count):
        truth = rng.integers(60, 230, (96, 96, 3), dtype=np.uint8)
        shown = truth.copy()
        shown[::2] = rng.integers(60, 230, (48, 96, 3), dtype=np.uint8)  # half its rows differ
        faces.append(TrainingFace(shown, np.ones((96, 96), np.float16), truth,
                                  np.ones((96, 96), bool)))
    return faces


def test_relit_patches_darken_shown_and_truth_by_the_same_field() -> None:
    """Every patch relit: where the shown crop equals its truth it still does (the same
    field on both), the patches differ from the unrelit draw, and on the whole they are
    darker (the gain is mostly below 1)."""
    faces = _faces()
    plain = patches(faces, 8, np.random.default_rng([0, 5, 3]))
    lit = patches(faces, 8, np.random.default_rng([0, 5, 3]), relight=1.0)
    same = plain.shown == plain.truth
    assert bool(same.any()) and bool((lit.shown[same] == lit.truth[same]).all())
    assert not bool((lit.shown == plain.shown).all())
    assert float(lit.truth.mean()) < float(plain.truth.mean())
    # the rest of a patch is as drawn: the windows and weights are the same
    assert all(bool((getattr(lit, name) == getattr(plain, name)).all())
               for name in ("alpha", "seen", "weight"))


def test_no_relight_draws_as_before() -> None:
    """relight 0 draws nothing more from the rng: a run without the augmentation (and a
    resume of one) takes the patches main took (the numbers read on main 15ef4b6)."""
    rng = np.random.default_rng([0, 9, 3])
    drawn = patches(_faces(), 4, rng, relight=0.0)
    assert float(drawn.shown.sum()) == pytest.approx(62623.421875, abs=0.01)
    assert float(rng.random()) == pytest.approx(0.24663277468622224, abs=1e-12)


def test_a_uniform_gain_scales_linear_light() -> None:
    """The field multiplies linear light: a gain of 1 is the identity to the level, and
    a quarter takes mid grey (L* 50) to the L* of a quarter of its luminance (34.5)."""
    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert bool((relit(image, LightField(np.ones((32, 32), np.float32))) == image).all())
    grey = np.full((32, 32, 3), 119, np.uint8)  # L* 50
    quarter = relit(grey, LightField(np.full((32, 32), 0.25, np.float32)))
    assert face_lightness(quarter, np.ones((32, 32), bool)) == pytest.approx(
        116.0 * (0.25 * ((50.0 + 16.0) / 116.0) ** 3) ** (1 / 3) - 16.0, abs=0.5)


def test_the_fields_are_smooth_and_within_their_range() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        gain = light_field(96, rng).gain
        assert gain.shape == (96, 96) and bool(np.isfinite(gain).all())
        assert GAIN_RANGE[0] * 0.5 < float(gain.min()) and float(gain.max()) < GAIN_RANGE[1] * 6
        # smooth: neighbours differ by a few percent at most
        assert float(np.abs(np.diff(np.log(gain), axis=1)).max()) < 0.1
