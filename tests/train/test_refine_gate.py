"""The refiner's band gate: bands of its correction, gains chosen on held-out faces, and
the gains carried through best.json, swaps and the ONNX export."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from facedub.engines.refiner import open_refiner
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.refiner import WHOLE, Refiner, RefinerArgs
from facedub.models.refiner_export import export_refiner_onnx
from facedub.models.refiner_run import load_refiner, read_best
from facedub.train import checkpoint as ckpt
from facedub.train.refine_gate import HeldOut, choose_gains
from facedub.train.refine_run import new_refiner_info, save_best, write_refiner_info


def _model(seed: int = 0) -> Refiner:
    """A refiner whose correction is not zero (a zero head would hide the gate)."""
    torch.manual_seed(seed)
    model = Refiner(RefinerArgs(width=4, levels=2)).eval()
    torch.nn.init.normal_(model.head.weight, std=0.05)
    return model


def _checker(side: int = 128) -> torch.Tensor:
    """(1, 3, side, side): +-0.05 alternating pixel by pixel, detail at the Nyquist limit."""
    pattern = (np.indices((side, side)).sum(axis=0) % 2) * 0.1 - 0.05
    return torch.from_numpy(np.broadcast_to(pattern, (1, 3, side, side)).copy()).float()


def _ramp(side: int = 128) -> torch.Tensor:
    """(1, 3, side, side): a gentle light gradient across the face."""
    ramp = torch.linspace(-0.1, 0.1, side)
    return ramp.view(1, 1, 1, side).expand(1, 3, side, side).clone()


def test_the_bands_sum_to_the_correction_and_sort_it_by_scale() -> None:
    model = _model()
    correction = _ramp() + _checker()
    low, mid, fine = model.bands(correction)
    assert torch.allclose(low + mid + fine, correction, atol=1e-6)
    inner = (slice(None), slice(None), slice(24, 104), slice(24, 104))  # off the borders
    assert torch.allclose(low[inner], _ramp()[inner], atol=2e-3)  # light: low band
    assert torch.allclose(fine[inner], _checker()[inner], atol=5e-3)  # pixel detail: fine
    assert mid[inner].abs().max() < 5e-3


def test_a_closed_gate_returns_the_mesh_face_whatever_the_weights() -> None:
    model = _model()
    x = torch.rand(2, 4, 128, 128)
    assert (model(x) - x[:, :3]).abs().max() > 0.01  # the trained-looking head corrects
    model.set_gains((0.0, 0.0, 0.0))
    assert torch.equal(model(x), x[:, :3])
    model.set_gains((0.0, 0.0, 1.0))  # only the fine band of its correction
    fine = model.bands(model.correction(x))[2]
    assert torch.allclose(model(x), (x[:, :3] + fine).clamp(0, 1), atol=1e-6)
    with pytest.raises(FacedubError, match="three values from 0 to 1"):
        model.set_gains((0.0, 1.5, 1.0))


def _held_out(helps: bool) -> HeldOut:
    """Faces whose mesh rendering carries an error in the mid and fine bands; the
    correction undoes both exactly (`helps`), or adds unrelated errors of the same size."""
    model = _model()
    generator = torch.Generator().manual_seed(1)
    truth = torch.rand(4, 3, 128, 128, generator=generator)
    truth = model.low_pass @ truth @ model.low_pass.T * 0.6 + 0.2
    _, mid_error, fine_error = model.bands(0.1 * torch.randn(4, 3, 128, 128,
                                                             generator=generator))
    _, mid_other, fine_other = model.bands(0.1 * torch.randn(4, 3, 128, 128,
                                                             generator=generator))
    bands = (-mid_error, -fine_error) if helps else (mid_other, fine_other)
    return HeldOut(inputs=truth + mid_error + fine_error, truth=truth,
                   mask=torch.ones(4, 1, 128, 128),
                   bands=(torch.zeros_like(truth), *bands))


@pytest.mark.parametrize("helps", [True, False])
def test_the_gate_opens_the_fine_band_only_where_it_helps(helps: bool) -> None:
    faces = _held_out(helps)
    low, mid, fine = choose_gains(faces)
    assert fine == (1.0 if helps else 0.0)
    assert mid == 0.0  # closed even where it would help here (see refine_gate)
    assert low == 0.0  # the low band is empty here: no reason to open it
    assert faces.kept(faces.refined((low, mid, fine))) >= faces.kept(faces.inputs)


def test_swaps_and_the_export_use_the_gains_saved_with_the_best_weights(
        pair: tuple[Faceset, Faceset], tmp_path: Path) -> None:
    folder = tmp_path / "refiner"
    model = _model()
    info = new_refiner_info(folder, model.args, pair[0], {})
    write_refiner_info(info)
    ckpt.save_checkpoint(info, model, torch.optim.AdamW(model.parameters()),
                         ckpt.RunState(7, 1.0, {}, 0))
    save_best(info, model, 7, 0.5, (0.0, 0.25, 1.0))
    best = read_best(folder)
    assert best is not None and best.gains == (0.0, 0.25, 1.0)
    loaded, _, state = load_refiner(folder, torch.device("cpu"))
    assert loaded.gains == (0.0, 0.25, 1.0) and state.step == 7
    x = np.random.default_rng(2).random((2, 4, 128, 128), dtype=np.float32)
    gated = open_refiner(folder).backend(x)
    with torch.inference_mode():
        whole = model(torch.from_numpy(x)).numpy()
    assert np.abs(gated - whole).max() > 0.01  # the gate changed the output
    exported = tmp_path / "gated.onnx"
    export_refiner_onnx(folder, exported)
    assert np.abs(open_refiner(exported).backend(x) - gated).max() < 1e-4
    # A folder from before the gate (best.json without gains) uses the whole correction.
    raw = json.loads((folder / "best.json").read_text())
    del raw["gains"]
    (folder / "best.json").write_text(json.dumps(raw))
    assert load_refiner(folder, torch.device("cpu"))[0].gains == WHOLE
