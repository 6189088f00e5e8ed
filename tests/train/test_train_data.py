import numpy as np
import pytest

from facedub.faceset import Faceset
from facedub.train.data import (
    Augmentation,
    augment_face,
    load_samples,
    make_batch,
    sampling_weights,
    split_holdout,
)


def test_yaw_balance_gives_rare_head_turns_their_share() -> None:
    yaw = np.array([0.0] * 90 + [35.0] * 10)
    natural = sampling_weights(yaw, 10.0, balance=0.0)
    balanced = sampling_weights(yaw, 10.0, balance=1.0)
    assert natural.sum() == pytest.approx(1.0) and balanced.sum() == pytest.approx(1.0)
    assert natural[90:].sum() == pytest.approx(0.1)
    assert balanced[90:].sum() == pytest.approx(0.5)
    assert 0.1 < sampling_weights(yaw, 10.0, balance=0.75)[90:].sum() < 0.5


def test_faceset_samples_have_masks_where_the_eyes_and_mouth_are(
        pair: tuple[Faceset, Faceset]) -> None:
    samples = load_samples(pair[0], 64)
    assert samples.images.shape == (len(pair[0].faces_of()), 64, 64, 3)
    eyes_mouth = samples.eyes_mouth.astype(np.float32).mean(axis=0) / 255
    # Eyes sit in the upper middle of the "whole" crop, the mouth below them.
    assert eyes_mouth[20:40, 16:48].max() > 0.5 and eyes_mouth[:12].max() < 0.05
    assert 0.02 < eyes_mouth.mean() < 0.2
    assert samples.masks[:, 32, 32].min() > 200  # the face mask covers the crop's centre
    train, held = split_holdout(samples, 10)
    assert len(train) + len(held) == len(samples) and len(held) == len(samples) // 10


def test_augmentation_warps_the_input_only_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    mask = np.full((64, 64), 255, np.uint8)
    plain = Augmentation(warp=0.0, flip=False, rotate=0, scale=0, shift=0, colour=0)
    source, target, _, _ = augment_face(image, mask, mask, rng, plain)
    np.testing.assert_allclose(target, image / 255.0, atol=1e-6)
    np.testing.assert_array_equal(source, target)
    source, target, _, _ = augment_face(image, mask, mask, rng, Augmentation(warp=1.0))
    assert np.abs(source - target).mean() > 0.01
    assert source.dtype == np.float32 and source.min() >= 0 and source.max() <= 1
    first = augment_face(image, mask, mask, np.random.default_rng(5), Augmentation())
    again = augment_face(image, mask, mask, np.random.default_rng(5), Augmentation())
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_batches_are_tensors_in_the_documented_layout(pair: tuple[Faceset, Faceset]) -> None:
    samples = load_samples(pair[1], 64)
    weights = sampling_weights(samples.yaw, 10.0, 0.75)
    batch = make_batch(samples, weights, 3, np.random.default_rng(0), Augmentation())
    assert batch.inputs.shape == batch.targets.shape == (3, 3, 64, 64)
    assert batch.masks.shape == batch.eyes_mouth.shape == (3, 1, 64, 64)
    assert float(batch.targets.max()) <= 1.0 and float(batch.masks.min()) >= 0.0
