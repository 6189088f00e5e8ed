"""OccluderNet's width is a parameter, stored in its weights' safetensors metadata: the swap's
loader builds the graph of the widths a file names (the first shipped file names none and
is read as OCCLUDER_WIDTHS), refuses a file whose tensors are not of those widths, and
tools/distill_occluder.py starts a narrower student from the teacher's own channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from facedub.composite.occlusion import OccluderModel, occluder_weights
from facedub.errors import FacedubError
from facedub.models.occluder import OccluderNet, occluder_metadata
from facedub.models.occluder_graph import (
    OCCLUDER_WIDTHS,
    occluder_shapes,
    occluder_widths,
    widths_metadata,
)

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _random_net(widths: tuple[int, ...], seed: int = 3) -> OccluderNet:
    """A net with random weights and batch statistics (so the folding is exercised)."""
    torch.manual_seed(seed)
    net = OccluderNet(widths)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return net.eval()


def _save(net: OccluderNet, path: Path, metadata: dict[str, str]) -> Path:
    tensors = {name: value.detach().contiguous() for name, value in net.state_dict().items()
               if value.dtype.is_floating_point}
    save_file(tensors, str(path), metadata=metadata)
    return path


def _image(seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)


def test_the_shipped_file_without_widths_reads_as_the_first_widths() -> None:
    with safe_open(str(occluder_weights()), "np") as weights:
        metadata = weights.metadata()
        shapes = {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()  # noqa: SIM118
                  if not name.endswith("num_batches_tracked")}
    widths = occluder_widths(metadata)
    assert shapes == occluder_shapes(widths)
    assert occluder_widths(None) == occluder_widths({}) == OCCLUDER_WIDTHS
    probabilities = OccluderModel().probabilities(_image())
    assert probabilities.shape == (64, 64)


@pytest.mark.parametrize("widths", [(4, 8, 16, 24, 32), (6, 12, 24, 32), (8, 16, 32, 48, 64)])
def test_a_file_of_other_widths_runs_as_its_torch_module(tmp_path: Path,
                                                          widths: tuple[int, ...]) -> None:
    """Narrower and shallower nets load from their metadata and give the torch module's
    probabilities (batch norm folded: within float32's rounding)."""
    net = _random_net(widths)
    path = _save(net, tmp_path / "net.safetensors", occluder_metadata(net))
    image = _image()
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.from_numpy(
            image.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)))[0, 0].numpy()
    assert np.abs(OccluderModel(path).probabilities(image) - expected).max() < 1e-5


def test_metadata_round_trip_and_malformed_widths() -> None:
    assert occluder_widths(widths_metadata((4, 8, 16, 24, 32))) == (4, 8, 16, 24, 32)
    assert occluder_metadata(OccluderNet((4, 8, 16)))["architecture"] == "OccluderNet"
    for bad in ('[4, 8]', '{"a": 1}', '[4, 8, "16"]', '[4, 0, 16]', '[4, 8, true]'):
        with pytest.raises(ValueError):
            occluder_widths({"widths": bad})


def test_a_file_whose_tensors_are_not_its_widths_is_refused(tmp_path: Path) -> None:
    net = _random_net((4, 8, 16, 24, 32))
    wrong = _save(net, tmp_path / "wrong.safetensors", widths_metadata((8, 16, 32, 48, 64)))
    with pytest.raises(FacedubError, match="widths"):
        OccluderModel(wrong)
    # No widths named: the first shipped widths, which these tensors are not.
    unnamed = _save(net, tmp_path / "unnamed.safetensors", {})
    with pytest.raises(FacedubError, match="widths"):
        OccluderModel(unnamed)
    malformed = _save(net, tmp_path / "malformed.safetensors", {"widths": "[4]"})
    with pytest.raises(FacedubError, match="widths"):
        OccluderModel(malformed)


def test_the_pruned_student_starts_from_the_teachers_channels(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """At the teacher's own widths the cut keeps every channel in order (the same net);
    narrower, it loads into OccluderNet of those widths with every key, and each kept
    output channel is one of the teacher's with its batch norm."""
    monkeypatch.syspath_prepend(str(TOOLS))
    from distill_occluder import pruned_state

    teacher = _random_net(OCCLUDER_WIDTHS)
    state = {name: value for name, value in teacher.state_dict().items()
             if value.dtype.is_floating_point}
    same = pruned_state(state, OCCLUDER_WIDTHS)
    assert all(torch.equal(same[name], state[name]) for name in same)
    narrow = pruned_state(state, (4, 8, 16, 24, 32))
    student = OccluderNet((4, 8, 16, 24, 32))
    missing, unexpected = student.load_state_dict(narrow, strict=False)
    assert not unexpected
    assert all(name.endswith("num_batches_tracked") for name in missing)
    scales = state["stem.1.weight"].abs()
    assert set(narrow["stem.1.weight"].abs().tolist()) == set(
        torch.topk(scales, 4).values.tolist())
