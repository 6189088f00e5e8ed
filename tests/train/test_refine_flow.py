"""The refiner's warp (RefinerArgs.flow): it starts still, moves the mesh face's pixels at
most `flow` pixels and only inside the mesh mask, survives a save and the ONNX export,
and folders from before it load without one."""

from pathlib import Path

import numpy as np
import pytest
import torch

from facedub.engines.refiner import open_refiner
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.refiner import Refiner, RefinerArgs, refiner_args_from_json
from facedub.models.refiner_export import export_refiner_onnx
from facedub.train import checkpoint as ckpt
from facedub.train.refine_run import new_refiner_info, save_best, write_refiner_info


def _ramp(side: int = 128) -> torch.Tensor:
    """(1, 3, side, side): each pixel's column, in pixels."""
    return torch.arange(side, dtype=torch.float32).view(1, 1, 1, side).expand(
        1, 3, side, side).clone()


def test_an_untrained_warping_refiner_returns_its_input() -> None:
    model = Refiner(RefinerArgs(flow=2.0)).eval()
    x = torch.rand(2, 4, 128, 128)
    assert torch.allclose(model(x), x[:, :3], atol=1e-6)


def test_the_warp_moves_at_most_flow_pixels_and_only_inside_the_mask() -> None:
    model = Refiner(RefinerArgs(flow=2.0))
    raw = torch.zeros(1, 2, 128, 128)
    raw[:, 0] = 50.0  # far beyond the bound: tanh saturates
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., :, :64] = 1.0  # the mesh face on the left half only
    moved = model.warp(_ramp(), raw, mask) - _ramp()
    assert torch.allclose(moved[..., 32:96, 8:56], torch.full((1, 3, 64, 48), 2.0), atol=1e-3)
    assert moved[..., 72:].abs().max() < 1e-4  # the target's surroundings stay
    assert moved.abs().max() <= 2.0 + 1e-4


def test_the_flow_is_saved_with_the_arguments_and_older_folders_have_none() -> None:
    args = RefinerArgs(flow=1.5)
    assert refiner_args_from_json(args.to_json()) == args
    assert refiner_args_from_json({"res": 128, "width": 8, "levels": 4}).flow == 0.0
    with pytest.raises(FacedubError, match="flow"):
        RefinerArgs(flow=-1.0)


def test_a_warping_refiner_exports_to_onnx(pair: tuple[Faceset, Faceset],
                                           tmp_path: Path) -> None:
    folder = tmp_path / "refiner"
    torch.manual_seed(0)
    model = Refiner(RefinerArgs(width=4, levels=2, flow=2.0)).eval()
    torch.nn.init.normal_(model.head.weight, std=0.05)  # a warp and a correction
    info = new_refiner_info(folder, model.args, pair[0], {})
    write_refiner_info(info)
    ckpt.save_checkpoint(info, model, torch.optim.AdamW(model.parameters()),
                         ckpt.RunState(3, 1.0, {}, 0))
    save_best(info, model, 3, 0.5, (1.0, 0.0, 1.0))
    x = np.random.default_rng(3).random((2, 4, 128, 128), dtype=np.float32)
    from_folder = open_refiner(folder).backend(x)
    with torch.inference_mode():
        base, _ = model.parts(torch.from_numpy(x))
    assert (base - torch.from_numpy(x[:, :3])).abs().max() > 0.01  # it moved pixels
    exported = tmp_path / "refiner.onnx"
    export_refiner_onnx(folder, exported)
    assert np.abs(open_refiner(exported).backend(x) - from_folder).max() < 1e-4
