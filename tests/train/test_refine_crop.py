"""The refiner's gate judged at the swap's crop size: held-out faces composited as
`refine_face` composites them (mesh face at full size + the upscaled correction)."""

from collections.abc import Callable

import cv2
import numpy as np
import torch

from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.refiner import TorchRefiner, refine_face
from facedub.models.refiner import Gains, Refiner, RefinerArgs
from facedub.train.refine_crop import CropFaces, CropHeldOut, crop_held_out
from facedub.train.refine_gate import HeldOut, choose_crop_gains, choose_gains

D3 = "clip_liveportrait_d3_woman_headturn.mp4"
SIZE, RES = 512, 128  # the d3 pairs composite at about 512 px


def _ellipse(side: int) -> np.ndarray:
    """(side, side) float32: a face-shaped mask."""
    rows, columns = np.mgrid[:side, :side]
    inside = ((rows - side / 2) / (0.38 * side)) ** 2 + ((columns - side / 2) / (0.3 * side)) ** 2
    return (inside < 1.0).astype(np.float32)


def _reduced(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.resize(image, (RES, RES), interpolation=cv2.INTER_AREA))


def _smoothing_fine_band(model: Refiner, laid: np.ndarray) -> torch.Tensor:
    """(1, 3, R, R): the fine band of a correction that smooths the face at R (what the
    refiner learns where it cannot know where detail lies)."""
    x = torch.from_numpy(_reduced(laid).transpose(2, 0, 1)[None].copy())
    return model.bands(model.smooth @ x @ model.smooth.T - x)[2]


def _both_gates(truth: np.ndarray, laid: np.ndarray) -> tuple[Gains, Gains]:
    """(the gate at the refiner's 128 px, the gate at crop size) for a face whose mesh
    rendering is `laid` (S, S, 3) float32 in [0, 1] and whose correction is a smoothing
    fine band."""
    model = Refiner(RefinerArgs(width=4, levels=2))
    mask = _ellipse(SIZE)
    fine = _smoothing_fine_band(model, laid)
    zero = torch.zeros_like(fine)
    small, small_mask = _reduced(laid), _reduced(mask)
    at_res = HeldOut(inputs=torch.from_numpy(small.transpose(2, 0, 1)[None].copy()),
                     truth=torch.from_numpy(_reduced(truth / 255.0).astype(np.float32)
                                            .transpose(2, 0, 1)[None].copy()),
                     mask=torch.from_numpy(small_mask)[None, None], bands=(zero, zero, fine))
    inputs = np.concatenate([small, small_mask[..., None]], axis=2).transpose(2, 0, 1)[None]
    faces = CropFaces(laid=laid[None] * 255.0, kept=np.zeros((1, SIZE, SIZE), np.float32),
                      truth=truth[None], face_mask=mask[None],
                      inputs=np.ascontiguousarray(inputs, dtype=np.float32))
    bands = tuple(band.numpy().transpose(0, 2, 3, 1) for band in (zero, zero, fine))
    at_crop = CropHeldOut(faces, (bands[0], bands[1], bands[2]))
    return choose_gains(at_res), choose_crop_gains(at_crop)


def test_a_band_that_smooths_misplaced_detail_is_shut_at_crop_size(
        first_target_face: Callable[..., TargetFace]) -> None:
    # A real face at 512 px; the mesh rendering carries its detail 2 px off (0.5 px at
    # 128): at 128 px smoothing it away scores higher, at the crop's pixels it only blurs.
    truth = first_target_face(D3, SIZE).image
    moved = cv2.warpAffine(truth, np.float32([[1, 0, 2], [0, 1, 2]]), (SIZE, SIZE),
                           borderMode=cv2.BORDER_REFLECT)
    at_res, at_crop = _both_gates(truth, moved.astype(np.float32) / 255.0)
    assert at_res[2] > 0.0  # judged at 128 px the band is opened
    assert at_crop[2] == 0.0


def test_a_band_that_removes_the_renderings_noise_stays_open_at_crop_size(
        first_target_face: Callable[..., TargetFace]) -> None:
    # The mesh face's grain at the refiner's own scale (the source video's, upscaled):
    # smoothing it brings the composited face nearer the truth in SSIM and in detail.
    truth = first_target_face(D3, SIZE).image
    grain = np.random.default_rng(0).normal(0.0, 0.04, (RES, RES, 3)).astype(np.float32)
    laid = np.clip(truth / 255.0 + cv2.resize(grain, (SIZE, SIZE)), 0.0, 1.0)
    _, at_crop = _both_gates(truth, laid.astype(np.float32))
    assert at_crop[2] >= 0.75


def test_the_gate_scores_exactly_what_refine_face_composites(
        first_target_face: Callable[..., TargetFace]) -> None:
    target = first_target_face(D3, SIZE)
    torch.manual_seed(0)
    model = Refiner(RefinerArgs(width=4, levels=2)).eval()
    torch.nn.init.normal_(model.head.weight, std=0.05)  # a correction that is not zero
    mask = _ellipse(SIZE)
    kept = np.zeros((SIZE, SIZE), np.float32)
    kept[300:340, 200:312] = 1.0  # the target's own mouth
    image = np.clip(target.image.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    swapped = SwappedFace(image=image, mask=mask, kept=kept)
    laid = image.astype(np.float32) * mask[..., None] + target.image * (1.0 - mask[..., None])
    inputs = np.concatenate([_reduced(laid) / 255.0, _reduced(mask)[..., None]], axis=2)
    faces = CropFaces(laid=laid[None], kept=kept[None], truth=target.image[None],
                      face_mask=mask[None],
                      inputs=np.ascontiguousarray(inputs.transpose(2, 0, 1)[None],
                                                  dtype=np.float32))
    judged = crop_held_out(model, faces, torch.device("cpu"))
    gains = (0.5, 0.0, 1.0)
    model.set_gains(gains)
    swapped_face = refine_face(TorchRefiner(model), swapped, target.image)
    gated = judged.composed(0, gains) * 255.0
    assert np.abs(gated - swapped_face).max() <= 1.0  # refine_face rounds to uint8
    assert np.abs(gated - laid).max() > 2.0  # and the correction was not nothing
