from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from facedub.engines.base import TargetFace
from facedub.engines.neural import (
    NeuralEngine,
    crop_to_input,
    load_neural_engine,
    output_to_swapped,
)
from facedub.errors import FacedubError
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import Faceset
from facedub.models.run import load_run
from facedub.train import preset_config, train

D3 = "clip_liveportrait_d3_woman_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"


@pytest.fixture(scope="module")
def run(extracted: Callable[..., Faceset], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained a few steps (the engine's contract, not its quality)."""
    source = extracted(D3, max_frames=60, crop_size=128)
    target = extracted(D12, crop_size=64, identity_every=30)
    folder = tmp_path_factory.mktemp("neural") / "run"
    config = preset_config("cpu", res=64, width=8, latent=32, decoder_width=8, batch=2,
                           steps=3, device="cpu", threads=1)
    train(source, target, folder, config)
    return folder


def _target_face(faceset: Faceset, size: int) -> TargetFace:
    record = faceset.faces_of()[0]
    image = faceset.load_image(record)
    scale = size / image.shape[0]
    crop = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame) * scale
    return TargetFace(image=crop, face_landmarks=landmarks,
                      face_from_frame=record.face_from_frame * scale, pose=record.pose,
                      blendshapes=record.blendshapes, time=record.time, track=record.track)


def test_engine_from_a_run_swaps_at_the_runs_crop(run: Path,
                                                  extracted: Callable[..., Faceset]) -> None:
    engine = load_neural_engine(run, device="cpu")
    assert isinstance(engine, NeuralEngine)
    assert engine.crop_size == 64 and engine.coverage == "whole"
    target = extracted(D12, crop_size=64, identity_every=30)
    swapped = engine.swap_face(_target_face(target, 64))
    assert swapped.image.shape == (64, 64, 3) and swapped.image.dtype == np.uint8
    assert swapped.mask.shape == (64, 64) and swapped.mask.dtype == np.float32
    assert float(swapped.mask.min()) >= 0.0 and float(swapped.mask.max()) <= 1.0
    again = engine.swap_face(_target_face(target, 64))
    np.testing.assert_array_equal(swapped.image, again.image)
    # A crop of another size still works: resized in and out.
    larger = engine.swap_face(_target_face(target, 96))
    assert larger.image.shape == (96, 96, 3) and larger.mask.shape == (96, 96)


def test_engine_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(FacedubError, match=r"not a run folder or \.onnx file"):
        load_neural_engine(tmp_path / "missing")
    with pytest.raises(FacedubError, match="not a facedub run"):
        load_neural_engine(tmp_path)


def test_engine_runs_a_face_on_one_torch_thread_and_gives_the_count_back(
        run: Path, extracted: Callable[..., Faceset]) -> None:
    """torch's default intra-op team (a thread per core) spun against other threads: a
    64 px face took 31-337 ms of wall on two threads against 14 on one (2 cores, load
    about 4). The face runs on one thread, its output as on two, and the caller's count
    is put back."""
    model, info, _ = load_run(run, torch.device("cpu"))
    seen: list[int] = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.get_num_threads()))
    target = _target_face(extracted(D12, crop_size=64, identity_every=30), 64)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch.inference_mode():
            face, mask = model(torch.from_numpy(crop_to_input(target.image, 64)))
        on_two = output_to_swapped(face.numpy(), mask.numpy(), 64)
        on_one = NeuralEngine(model, info.coverage).swap_face(target)
        assert seen == [2, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(on_one.image, on_two.image)
    np.testing.assert_array_equal(on_one.mask, on_two.mask)
