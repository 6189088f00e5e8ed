from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from facedub.engines.base import TargetFace
from facedub.engines.neural import OnnxEngine, load_neural_engine
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.export import export_onnx, read_onnx_info
from facedub.train import preset_config, train
from facedub.train.checkpoint import load_run
from facedub.types import HeadPose

D3 = "clip_liveportrait_d3_woman_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"


@pytest.fixture(scope="module", params=["df", "liae"])
def run(request: pytest.FixtureRequest, extracted: Callable[..., Faceset],
        tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = extracted(D3, max_frames=60, crop_size=128)
    target = extracted(D12, crop_size=64, identity_every=30)
    folder = tmp_path_factory.mktemp("export") / "run"
    config = preset_config("cpu", model=request.param, res=64, width=8, latent=32,
                           decoder_width=8, batch=2, steps=3, device="cpu", threads=1)
    train(source, target, folder, config)
    return folder


def test_onnx_export_gives_the_same_face_as_pytorch(run: Path, tmp_path: Path) -> None:
    path = tmp_path / "swap.onnx"
    export_onnx(run, path)
    info = read_onnx_info(path)
    model, run_info, state = load_run(run, torch.device("cpu"))
    assert (info.res, info.coverage, info.arch, info.step) == (64, "whole", run_info.arch,
                                                               state.step)
    engine = load_neural_engine(path)
    assert isinstance(engine, OnnxEngine) and engine.crop_size == 64
    image = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    target = TargetFace(image, np.zeros((478, 3), np.float32), np.eye(2, 3), HeadPose(0, 0, 0),
                        np.zeros(52, np.float32), 0.0, 0)
    swapped = engine.swap_face(target)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        face, mask = model(x)
    expected = face[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(swapped.image.astype(np.float32) - expected).max() <= 1.0
    np.testing.assert_allclose(swapped.mask, mask[0, 0].numpy(), atol=1e-4)


def test_onnx_without_facedub_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.onnx"
    value = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
                                   [value], [onnx.helper.make_tensor_value_info(
                                       "y", onnx.TensorProto.FLOAT, [1, 3, 8, 8])])
    onnx.save(onnx.helper.make_model(graph), str(path))
    with pytest.raises(FacedubError, match="not exported by facedub"):
        load_neural_engine(path)
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(FacedubError, match="not a readable ONNX file"):
        read_onnx_info(tmp_path / "broken.onnx")
