"""The refiner's loss on what the compositor keeps, its training data's grain, and the
unclamped training output."""

import numpy as np
import torch

from facedub.models.refiner import Refiner, RefinerArgs
from facedub.train.data import FaceSamples
from facedub.train.losses import LossWeights, reconstruction_loss
from facedub.train.refine_data import Degradation, RefinePairs, degraded_sample
from facedub.train.refine_loss import detail_composed, energy_loss, refine_loss

RES = 64


def _face() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(truth, mask, eyes_mouth): a textured face in a round mask."""
    generator = torch.Generator().manual_seed(0)
    truth = 0.3 + 0.4 * torch.rand(1, 3, RES, RES, generator=generator)
    ys, xs = torch.meshgrid(torch.arange(RES), torch.arange(RES), indexing="ij")
    mask = (((ys - RES / 2) ** 2 + (xs - RES / 2) ** 2) < (RES * 0.4) ** 2).float()
    return truth, mask[None, None], torch.zeros(1, 1, RES, RES)


def test_other_light_on_the_face_costs_nothing_and_lost_detail_does() -> None:
    truth, mask, eyes_mouth = _face()
    ramp = torch.linspace(-0.1, 0.1, RES).view(1, 1, 1, RES)
    relit = truth - 0.1 + ramp  # darker, with a light gradient: the compositor's to fix
    weights = LossWeights()
    error = (detail_composed(relit, truth, mask) - truth).abs() * mask
    assert float(error.sum() / mask.sum() / 3) < 0.01
    kept = float(refine_loss(relit, truth, mask, eyes_mouth, weights, whole=0.0))
    whole = float(reconstruction_loss(relit, truth, mask, eyes_mouth, weights))
    assert kept < 0.2 * whole
    blurred = torch.nn.functional.avg_pool2d(truth, 3, stride=1, padding=1,
                                             count_include_pad=False)
    assert float(refine_loss(blurred, truth, mask, eyes_mouth, weights, whole=0.0)) > kept


def test_the_whole_face_loss_is_added_by_its_weight() -> None:
    truth, mask, eyes_mouth = _face()
    face = truth * 0.8
    weights = LossWeights()
    kept = refine_loss(face, truth, mask, eyes_mouth, weights, whole=0.0)
    both = refine_loss(face, truth, mask, eyes_mouth, weights, whole=0.5)
    whole = reconstruction_loss(face, truth, mask, eyes_mouth, weights)
    assert torch.allclose(both, kept + 0.5 * whole)


def test_the_energy_term_charges_a_blurred_face_and_not_the_truth() -> None:
    truth, mask, eyes_mouth = _face()
    blurred = torch.nn.functional.avg_pool2d(truth, 3, stride=1, padding=1,
                                             count_include_pad=False)
    assert float(energy_loss(truth, truth, mask)) == 0.0
    assert float(energy_loss(blurred, truth, mask)) > 0.01
    weights = LossWeights()
    plain = refine_loss(blurred, truth, mask, eyes_mouth, weights, whole=-1.0)
    assert torch.allclose(plain, reconstruction_loss(blurred, truth, mask, eyes_mouth, weights))
    with_energy = refine_loss(blurred, truth, mask, eyes_mouth, weights, whole=-1.0,
                              energy=2.0)
    assert torch.allclose(with_energy, plain + 2.0 * energy_loss(blurred, truth, mask))


def _pairs() -> RefinePairs:
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, size=(1, RES, RES, 3), dtype=np.uint8)
    mesh_mask = np.zeros((1, RES, RES), np.uint8)
    mesh_mask[:, 16:48, 16:48] = 255
    faces = FaceSamples(images=image, masks=np.full((1, RES, RES), 255, np.uint8),
                        eyes_mouth=np.zeros((1, RES, RES), np.uint8),
                        yaw=np.zeros(1), frames=np.zeros(1, np.int64))
    return RefinePairs(mesh=image.copy(), mesh_mask=mesh_mask, truth=np.zeros(1, np.int64),
                       faces=faces)


def test_grain_hits_the_truth_as_well_as_the_input_when_asked() -> None:
    pairs = _pairs()
    clean = pairs.faces.images[0].astype(np.float32) / 255.0
    for grain_in_truth in (True, False):
        degradation = Degradation(chance=1.0, grain_in_truth=grain_in_truth)
        for seed in range(3):
            laid, truth, _, _ = degraded_sample(pairs, 0, np.random.default_rng(seed),
                                                degradation)
            # A corner JPEG block far from the mesh face: the truth's pixels plus noise.
            corner = (slice(0, 8), slice(0, 8))
            assert not np.array_equal(laid[corner][..., :3], np.fliplr(clean)[corner])
            if grain_in_truth:
                assert np.array_equal(truth[corner], laid[corner][..., :3])
            else:
                assert np.array_equal(truth, clean) or np.array_equal(truth, np.fliplr(clean))


def test_training_output_is_not_clamped_so_a_bad_step_can_be_undone() -> None:
    model = Refiner(RefinerArgs(width=4, levels=2))
    with torch.no_grad():
        model.head.bias.fill_(2.0)  # every pixel pushed far above white
    x = torch.rand(1, 4, 128, 128)
    out = model(x)
    assert float(out.detach().min()) > 1.0
    out.mean().backward()
    assert model.head.bias.grad is not None and float(model.head.bias.grad.abs().sum()) > 0
    assert float(model.eval()(x).detach().max()) <= 1.0
