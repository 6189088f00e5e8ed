"""`refine --stage composited` trains through the fine band the swap keeps (fifty-second
round): the loss reads `band_output`, the torch twin of `refine_composited`'s band, so a
correction the swap throws away (a colour shift of the whole face) costs and gains
nothing. On a real photo's face, in seconds."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from facedub.engines.refiner import TorchCropRefiner, refine_composited
from facedub.models.crop_refiner import CropRefiner
from facedub.train.refine_crop_loss import (
    BAND_MARGIN,
    PATCH,
    Patches,
    TrainingFace,
    band_kernel,
    band_output,
    gaussian_window,
    patch_loss,
    patches,
    sharpness_rise,
)
from portrait_support import portrait_middle
from refiner_support import random_head_refiner

PHOTO = "still_biden_frontal.jpg"
SIZE = 160


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8 RGB: the middle of a real frontal portrait (the face)."""
    return portrait_middle(faces_dir / PHOTO, SIZE)


def _alpha(hard: bool) -> np.ndarray:
    rows, columns = np.mgrid[:SIZE, :SIZE]
    alpha = (np.hypot(rows - SIZE / 2, columns - SIZE / 2) < SIZE * 0.35).astype(np.float32)
    return alpha if hard else cv2.GaussianBlur(alpha, (0, 0), 4.0)


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]


class _Shift(CropRefiner):
    """A network whose correction is one colour shift over the whole crop (-20 red
    levels): the colour mapping the twenty-sixth round's network learnt from one clip's
    light."""

    def correction(self, shown: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        shift = torch.zeros_like(shown)
        shift[:, 0] = -20.0 / 255.0
        return shift


@pytest.mark.parametrize("hard", [True, False])
def test_the_loss_reads_the_band_the_swap_keeps(face: np.ndarray, hard: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """band_output is what refine_composited makes of the same network on the same crop
    (its sharpness gain, tested on its own, held at 1): within the swap's rounding."""
    monkeypatch.setattr("facedub.engines.refiner.composited_band_gain", lambda *args: 1.0)
    model = random_head_refiner(0.05)
    alpha = _alpha(hard)
    target = cv2.GaussianBlur(face, (0, 0), 1.0)
    swapped = refine_composited(TorchCropRefiner(model), face, alpha, target)
    weight = alpha[..., None]
    expected = swapped * weight + target * (1.0 - weight)
    shown = (face * weight + target * (1.0 - weight)).astype(np.float32) / 255.0
    alpha_t = torch.from_numpy(alpha)[None, None]
    with torch.no_grad():
        out = band_output(model, _tensor(shown), alpha_t, (alpha_t >= 1 / 255).float(),
                          band_kernel())
    made = out[0].permute(1, 2, 0).numpy() * 255.0
    inside = alpha > 0.05
    assert np.abs(made - expected)[inside].max() <= 1.0
    assert np.abs(made - shown * 255.0)[inside].max() > 3.0  # the band does move it


@pytest.mark.parametrize("hard", [True, False])
def test_a_colour_shift_of_the_whole_face_costs_and_gains_nothing(face: np.ndarray,
                                                                  hard: bool) -> None:
    """The twenty-sixth round's loss read the whole correction: a network could lower
    it by mapping one clip's colour, which the swap then cut away (+0.0015 held out
    became +0.0008). Through the band a face-wide shift leaves the crop as it was, up
    to a hard alpha's edge, and its loss is the identity's."""
    alpha = _alpha(hard)
    shown = _tensor(face.astype(np.float32) / 255.0)
    alpha_t = torch.from_numpy(alpha)[None, None]
    seen = (alpha_t >= 1 / 255).float()
    with torch.no_grad():
        out = band_output(_Shift(), shown, alpha_t, seen, band_kernel())
    assert float((out - shown).abs().max()) * 255.0 < 0.01
    truth = _tensor(cv2.GaussianBlur(face, (0, 0), 0.7).astype(np.float32) / 255.0)
    side = PATCH + 2 * BAND_MARGIN
    box = (..., slice(0, side), slice(SIZE - side, SIZE))
    weight = torch.zeros_like(alpha_t)
    weight[..., BAND_MARGIN:BAND_MARGIN + PATCH, SIZE - side + BAND_MARGIN:SIZE - BAND_MARGIN] = 1
    batch = Patches(shown[box], alpha_t[box], truth[box], seen[box], weight[box] * seen[box])
    window, kernel = gaussian_window(), band_kernel()
    with torch.no_grad():
        shifted = patch_loss(_Shift(), batch, window, kernel)
        identity = patch_loss(CropRefiner(), batch, window, kernel)
    assert float(shifted) == pytest.approx(float(identity), abs=1e-6)


def test_the_sharpness_rise_reads_a_softer_output(face: np.ndarray) -> None:
    """The evaluation's sharpness mismatch per patch: an output blurred away from a
    truth already sharper than the input counts; the input itself, or an output
    sharpened toward the truth, does not."""
    truth = _tensor(face.astype(np.float32) / 255.0)
    shown = _tensor(cv2.GaussianBlur(face, (0, 0), 0.8).astype(np.float32) / 255.0)
    softer = _tensor(cv2.GaussianBlur(face, (0, 0), 1.6).astype(np.float32) / 255.0)
    weight = torch.ones((1, 1, SIZE, SIZE))
    assert float(sharpness_rise(shown, shown, truth, weight)) == 0.0
    assert float(sharpness_rise(truth, shown, truth, weight)) == 0.0
    assert float(sharpness_rise(softer, shown, truth, weight)) > 0.1


def test_the_patches_see_the_frame_and_weigh_their_centre(face: np.ndarray) -> None:
    """A patch is cut BAND_MARGIN px wider than the loss's PATCH px: its band reads the
    correction round the centre as on the whole crop; the loss weighs the centre only,
    and the band reads no crop pixel beyond the frame."""
    in_frame = np.ones((SIZE, SIZE), bool)
    in_frame[:, 100:] = False
    region = np.zeros((SIZE, SIZE), bool)
    region[40:120, 40:120] = True
    faces = [TrainingFace(face, np.ones((SIZE, SIZE), np.float16), face, region, in_frame)]
    batch = patches(faces, 3, np.random.default_rng(0))
    side = PATCH + 2 * BAND_MARGIN
    assert batch.shown.shape == (3, 3, side, side)
    assert float(batch.weight[..., :BAND_MARGIN, :].abs().sum()) == 0.0
    assert float(batch.weight[..., :, -BAND_MARGIN:].abs().sum()) == 0.0
    assert float(batch.seen.min()) == 0.0  # the columns beyond the frame
    assert float(batch.weight.sum()) > 0.0
