import cv2
import numpy as np
import pytest
import torch

from facedub.train.losses import (
    LossWeights,
    gaussian_matrix,
    masked_ssim,
    reconstruction_loss,
    ssim_map,
)


def _reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """SSIM as in Wang et al. 2004 / OpenCV's tutorial, one grey channel, mean map."""
    c1, c2 = 0.01**2, 0.03**2

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT_101)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim.mean())


def test_ssim_matches_the_reference_formula() -> None:
    rng = np.random.default_rng(0)
    x = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (0, 0), 2)
    y = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    ours = float(ssim_map(torch.from_numpy(x)[None, None], torch.from_numpy(y)[None, None]).mean())
    assert ours == pytest.approx(_reference_ssim(x, y), abs=1e-4)
    same = torch.from_numpy(x)[None, None]
    assert float(ssim_map(same, same).mean()) == pytest.approx(1.0, abs=1e-6)


def test_blur_matrix_reflects_like_opencv() -> None:
    signal = np.random.default_rng(1).random((1, 40)).astype(np.float32)
    blurred = torch.from_numpy(signal) @ gaussian_matrix(40, 11, 1.5, torch.device("cpu")).T
    expected = cv2.GaussianBlur(signal, (11, 1), 1.5, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(blurred.numpy(), expected, atol=1e-6)


def test_masked_ssim_only_sees_inside_the_mask() -> None:
    x = torch.rand(1, 3, 64, 64)
    y = x.clone()
    y[..., :, 40:] = torch.rand(1, 3, 64, 24)
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., :, :20] = 1.0
    assert float(masked_ssim(x, y, mask)[0]) == pytest.approx(1.0, abs=1e-5)
    assert float(masked_ssim(x, y, torch.ones_like(mask))[0]) < 0.8


def test_reconstruction_loss_is_zero_for_a_perfect_face_and_weights_eyes_and_mouth() -> None:
    target = torch.rand(1, 3, 32, 32)
    mask = torch.ones(1, 1, 32, 32)
    eyes_mouth = torch.zeros(1, 1, 32, 32)
    eyes_mouth[..., 10:14, :] = 1.0
    weights = LossWeights()
    assert float(reconstruction_loss(target, target, mask, eyes_mouth, weights)) < 1e-6
    wrong_eyes = target.clone()
    wrong_eyes[..., 10:14, :] = 1 - wrong_eyes[..., 10:14, :]
    wrong_cheek = target.clone()
    wrong_cheek[..., 20:24, :] = 1 - wrong_cheek[..., 20:24, :]
    eyes_loss = reconstruction_loss(wrong_eyes, target, mask, eyes_mouth, weights)
    cheek_loss = reconstruction_loss(wrong_cheek, target, mask, eyes_mouth, weights)
    assert float(eyes_loss) > 1.5 * float(cheek_loss)
