"""A refiner trained on inputs whose low band is the truth's (RefineConfig.target_low_pass)
reads, in a swap, the laid face with the target crop's low band, as it was trained
(BENCHMARKS.md, Refiner, twenty-third round)."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from facedub.engines.base import SwappedFace
from facedub.engines.refiner import (
    LOW_PASS_DIVISOR,
    open_refiner,
    refine_face,
    with_low_pass_of,
)
from facedub.faceset import Faceset
from facedub.models.refiner import Refiner, RefinerArgs
from facedub.train import checkpoint as ckpt
from facedub.train.data import FaceSamples
from facedub.train.refine_data import Degradation, RefinePairs, degraded_sample
from facedub.train.refine_run import new_refiner_info, write_refiner_info

PHOTO = "still_rose_leslie_frontal.jpg"


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> np.ndarray:
    """A real face, (128, 128, 3) float32 RGB 0..255, the middle of the photo."""
    image = cv2.cvtColor(cv2.imread(str(faces_dir / PHOTO)), cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    side = min(height, width) // 2
    top, left = (height - side) // 2, (width - side) // 2
    crop = image[top:top + side, left:left + side]
    return cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)


def _mask(side: int = 128) -> np.ndarray:
    mask = np.zeros((side, side), np.float32)
    cv2.ellipse(mask, (side // 2, side // 2), (side // 3, side * 2 // 5), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), 2.0)


def _low(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    inside = (mask > 0.05).astype(np.float32)
    sigma = image.shape[0] / LOW_PASS_DIVISOR
    weight = cv2.GaussianBlur(inside, (0, 0), sigma)[..., None]
    return cv2.GaussianBlur(image * inside[..., None], (0, 0), sigma) / np.maximum(weight, 1e-4)


def _relit(face: np.ndarray) -> np.ndarray:
    """The same face in another light: darker, warmer, a gradient across it."""
    ramp = np.linspace(0.7, 1.1, face.shape[1], dtype=np.float32)[None, :, None]
    return np.clip(face * ramp * np.array([1.05, 0.9, 0.8], np.float32), 0, 255)


def test_the_low_pass_input_has_the_references_low_band_and_the_faces_detail(
        face: np.ndarray) -> None:
    mask = _mask()
    mesh = _relit(face)
    composed = with_low_pass_of(mesh, face, mask)
    inside = mask > 0.9
    # Below the band: the reference's light (the relit face's was 20 grey levels off).
    assert np.abs(_low(mesh, mask) - _low(face, mask))[inside].mean() > 15.0
    assert np.abs(_low(composed, mask) - _low(face, mask))[inside].mean() < 2.0
    # Above it: the face's own detail (to the smooth difference's own curvature, which a
    # second blur reads: a tenth of the detail).
    own = mesh - _low(mesh, mask)
    moved = (composed - _low(composed, mask)) - own
    assert np.abs(moved)[inside].mean() < 0.1 * np.abs(own)[inside].mean()
    # Outside the mask: untouched.
    outside = mask <= 0.05
    assert np.array_equal(composed[outside], mesh[outside])


class _Recorder:
    """A stand-in refiner that returns its input and keeps it."""

    res = 128

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.seen.append(x.copy())
        return np.asarray(x[:, :3])


def test_a_low_pass_refiner_reads_the_target_crops_light_and_corrects_the_laid_face(
        face: np.ndarray) -> None:
    mask = _mask()
    mesh = np.round(_relit(face)).astype(np.uint8)
    target = np.round(face).astype(np.uint8)
    inside = mask > 0.9
    plain, low = _Recorder(), _Recorder()
    plain_out = refine_face(plain, SwappedFace(mesh, mask), target)
    low_out = refine_face(low, SwappedFace(mesh, mask), target, target_low_pass=True)
    seen_plain = plain.seen[0][0, :3].transpose(1, 2, 0) * 255.0
    seen_low = low.seen[0][0, :3].transpose(1, 2, 0) * 255.0
    # The refiner reads the target's light under the mesh face's detail ...
    assert np.abs(seen_plain - target)[inside].mean() > 15.0
    assert np.abs(_low(seen_low, mask) - _low(target.astype(np.float32), mask))[
        inside].mean() < 2.0
    # ... and its correction (none: the recorder returns its input) is added to the laid
    # face, so an identity refiner changes nothing either way.
    assert np.array_equal(low_out, plain_out)


def test_training_inputs_take_the_truths_low_band(face: np.ndarray) -> None:
    mask = _mask()
    truth = np.round(face).astype(np.uint8)
    pairs = RefinePairs(
        mesh=np.round(_relit(face)).astype(np.uint8)[None],
        mesh_mask=np.round(mask * 255).astype(np.uint8)[None],
        truth=np.zeros(1, np.int64),
        faces=FaceSamples(images=truth[None], masks=np.round(mask * 255).astype(np.uint8)[None],
                          eyes_mouth=np.zeros((1, 128, 128), np.uint8), yaw=np.zeros(1),
                          frames=np.zeros(1, np.int64)))
    inside = mask > 0.9
    errors = {}
    for flag in (False, True):
        # chance 0: no degradation; the mirror is undone by comparing mirrored truths.
        sample = degraded_sample(pairs, 0, np.random.default_rng(1),
                                 Degradation(chance=0.0, target_low_pass=flag))
        given, wanted = sample[0][..., :3] * 255.0, sample[1] * 255.0
        errors[flag] = float(np.abs(_low(given, mask) - _low(wanted, mask))[inside].mean())
    assert errors[False] > 15.0
    assert errors[True] < 2.0


def test_a_folder_says_whether_it_was_trained_on_the_targets_low_band(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    source = extracted("clip_liveportrait_d3_woman_headturn.mp4", max_frames=60,
                       crop_size=128)
    args = RefinerArgs(width=4, levels=2)
    for flag in (False, True):
        folder = tmp_path / f"refiner-{flag}"
        info = new_refiner_info(folder, args, source, {"target_low_pass": flag})
        write_refiner_info(info)
        model = Refiner(args)
        ckpt.save_checkpoint(info, model, torch.optim.AdamW(model.parameters()),
                             ckpt.RunState(1, 1.0, {}, 0))
        assert open_refiner(folder).target_low_pass is flag
