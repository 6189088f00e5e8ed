"""A crop refiner whose output isn't the identity, for tests that need a network that
changes a face without training one."""

import torch

from facedub.models.crop_refiner import CropRefiner


def random_head_refiner(spread: float) -> CropRefiner:
    """A `CropRefiner` (seed 0) whose last convolution's weights are drawn with standard
    deviation `spread`: a fresh network's head starts at zero (the identity), so without
    this it would change nothing."""
    torch.manual_seed(0)
    model = CropRefiner()
    with torch.no_grad():
        head = model.body[-1]
        assert isinstance(head, torch.nn.Conv2d)
        head.weight.normal_(0.0, spread)
    return model
