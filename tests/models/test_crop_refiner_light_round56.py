"""The composited-stage refiner that refines the face's detail, not its light (fifty-sixth
round): with `light_sigma` the network sees the crop divided by its own smooth light and
its correction is multiplied back by it, so the same face lit darker gets the same
correction, darker by as much. A folder refined before it (no `light_sigma`) loads as it
was. Tensors and one small ONNX export, about two seconds."""

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from facedub.errors import FacedubError
from facedub.models.crop_refiner import (
    CropRefiner,
    CropRefinerArgs,
    crop_refiner_args_from_json,
    gaussian_taps,
    smooth_light,
)
from facedub.models.export import OPSET
from refiner_support import random_head_refiner

SIZE = 48


def _face() -> tuple[torch.Tensor, torch.Tensor]:
    """(shown (1, 3, S, S) in 0.2..0.8, alpha (1, 1, S, S): 1 on a centred square, 0
    beyond it)."""
    generator = torch.Generator().manual_seed(1)
    shown = 0.2 + 0.6 * torch.rand(1, 3, SIZE, SIZE, generator=generator)
    alpha = torch.zeros(1, 1, SIZE, SIZE)
    alpha[..., 8:-8, 8:-8] = 1.0
    return shown, alpha


def _gap(model: CropRefiner, darker: float) -> float:
    """How far the correction of the face lit `darker` times is from `darker` times the
    correction of the face as it is, relative to the correction's size (inside the
    alpha)."""
    shown, alpha = _face()
    inside = alpha[0, 0] > 0
    with torch.no_grad():
        lit = model.correction(shown, alpha)[..., inside]
        dark = model.correction(shown * darker, alpha)[..., inside]
    return float((dark - darker * lit).abs().max() / lit.abs().max())


def test_the_detail_network_scales_its_correction_with_the_faces_light() -> None:
    detail = random_head_refiner(0.1, CropRefinerArgs(light_sigma=8.0))
    plain = random_head_refiner(0.1)
    # the torch-lit faces are about a third of the webcam's light (25 L* against 70)
    assert _gap(detail, 0.35) < 0.01
    assert _gap(plain, 0.35) > 0.2  # the plain network draws what it learnt, in any light


def test_the_light_is_read_on_the_face_not_the_frame_beyond_it() -> None:
    shown, alpha = _face()
    elsewhere = shown.clone()
    elsewhere[..., alpha[0, 0] == 0] = 1.0  # a bright frame beyond the alpha
    kernel = gaussian_taps(8.0)
    inside = alpha[0, 0] > 0
    assert torch.allclose(smooth_light(shown, alpha, kernel)[..., inside],
                          smooth_light(elsewhere, alpha, kernel)[..., inside], atol=1e-6)


def test_a_folder_refined_before_the_light_sigma_loads_as_it_was() -> None:
    args = crop_refiner_args_from_json({"width": 16, "layers": 4})  # main's config.json
    assert args == CropRefinerArgs() and args.light_sigma == 0.0
    plain, detail = CropRefiner(args), CropRefiner(CropRefinerArgs(light_sigma=8.0))
    # the same weights: one's state loads into the other, the light kernel is not saved
    assert plain.state_dict().keys() == detail.state_dict().keys()
    detail.load_state_dict(plain.state_dict(), strict=True)
    shown, alpha = _face()
    with torch.no_grad():  # the plain network sees the crop as it is
        expected = plain.body(torch.cat([shown, alpha], dim=1))
        assert torch.equal(plain.correction(shown, alpha), expected)


def test_a_light_sigma_too_small_to_be_a_light_is_refused() -> None:
    with pytest.raises(FacedubError, match="light sigma"):
        CropRefinerArgs(light_sigma=1.0)


def test_the_detail_network_exports_to_onnx_as_it_runs(tmp_path: Path) -> None:
    """The light's blur is in the graph (a first form, its kernels repeated per channel,
    had shapes the export could not know)."""
    model = random_head_refiner(0.1, CropRefinerArgs(light_sigma=8.0)).eval()
    path = tmp_path / "detail.onnx"
    sizes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64)),
                          str(path), dynamo=False, input_names=["shown", "alpha"],
                          output_names=["out"], opset_version=OPSET,
                          dynamic_axes={"shown": sizes, "alpha": sizes, "out": sizes})
    shown, alpha = _face()
    (exported,) = ort.InferenceSession(str(path)).run(
        ["out"], {"shown": shown.numpy(), "alpha": alpha.numpy()})
    with torch.no_grad():
        expected = model(shown, alpha).numpy()
    assert np.abs(exported - expected).max() < 1e-5
