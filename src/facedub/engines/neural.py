"""The neural engine: a trained per-pair autoencoder renders the source person (A) in the
target face's pose, expression and light.

`load_neural_engine(path)` takes a run folder (PyTorch) or an exported `.onnx` file
(onnxruntime); both give the same SwapEngine. Each call encodes the aligned target crop
and decodes it along person A's path; the predicted mask tells the compositor where the
rendered face is valid.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch

from facedub.engines.base import EngineFacts, SwapEngine, SwappedFace, TargetFace
from facedub.engines.torch_threads import TORCH_INFERENCE_THREADS, torch_threads
from facedub.errors import FacedubError
from facedub.faces.align import Coverage
from facedub.models import FaceModel
from facedub.models.export import OnnxInfo, onnx_session, read_onnx_info
from facedub.models.run import load_run, select_device

log = logging.getLogger(__name__)


def load_neural_engine(path: Path, device: str = "auto") -> SwapEngine:
    """A run folder -> PyTorch engine on `device` ("auto", "cpu", "cuda", "mps"); an
    `.onnx` file from `facedub export` -> onnxruntime engine (CUDA if the installed
    onnxruntime has it and device allows, else CPU)."""
    path = Path(path)
    if path.is_dir():
        model, info, state = load_run(path, select_device(device))
        log.info("neural engine: %s %d px, step %d, from %s", info.arch, info.args.res,
                 state.step, path)
        return NeuralEngine(model, info.coverage, _facts(path, device))
    if path.suffix.lower() == ".onnx" and path.is_file():
        return OnnxEngine(path, read_onnx_info(path), device)
    raise FacedubError(f"{path}: not a run folder or .onnx file; pass the -o folder of "
                       "`facedub train` or the file written by `facedub export`")


def _facts(path: Path, device: str) -> EngineFacts:
    return EngineFacts("neural", {"device": device}, (("model", path),))


def crop_to_input(image: np.ndarray, res: int) -> np.ndarray:
    """(S, S, 3) uint8 RGB crop -> (1, 3, res, res) float32 RGB in [0, 1]."""
    if image.shape[0] != res:
        interpolation = cv2.INTER_AREA if image.shape[0] > res else cv2.INTER_CUBIC
        image = cv2.resize(image, (res, res), interpolation=interpolation)
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def output_to_swapped(face: np.ndarray, mask: np.ndarray, size: int) -> SwappedFace:
    """Model outputs face (1, 3, R, R) and mask (1, 1, R, R) in [0, 1] -> SwappedFace at
    the caller's crop size."""
    image = np.round(np.clip(face[0].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
    soft = np.clip(mask[0, 0], 0, 1).astype(np.float32)
    if image.shape[0] != size:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
        soft = cv2.resize(soft, (size, size), interpolation=cv2.INTER_LINEAR)
    return SwappedFace(image=image, mask=soft)


class NeuralEngine:
    """PyTorch inference of a trained model, one face per call."""

    def __init__(self, model: FaceModel, coverage: Coverage,
                 facts: EngineFacts | None = None,
                 threads: int = TORCH_INFERENCE_THREADS) -> None:
        """`facts`: the run folder and device for the provenance (default: no inputs, for
        a model that was never saved, as in benchmarks). `threads`: torch's intra-op
        threads for a face (one: torch's default team spun against other threads, a 64 px
        face 31-337 ms of wall against 14; see torch_threads)."""
        self._model = model.eval()
        self._threads = threads
        self._facts = facts or EngineFacts("neural", {}, ())
        self._coverage = coverage
        self._device = next(model.parameters()).device

    @property
    def facts(self) -> EngineFacts:
        return self._facts

    @property
    def crop_size(self) -> int:
        return self._model.args.res

    @property
    def coverage(self) -> Coverage:
        return self._coverage

    def swap_face(self, target: TargetFace) -> SwappedFace:
        x = torch.from_numpy(crop_to_input(target.image, self.crop_size)).to(self._device)
        with torch_threads(self._threads), torch.inference_mode():
            face, mask = self._model(x)
        return output_to_swapped(face.float().cpu().numpy(), mask.float().cpu().numpy(),
                                 target.image.shape[0])

    def end_track(self, track: int) -> None:
        """Nothing is kept per track."""

    def close(self) -> None:
        """Nothing is held open."""


class OnnxEngine:
    """onnxruntime inference of an exported model, one face per call."""

    def __init__(self, path: Path, info: OnnxInfo, device: str = "auto") -> None:
        self._session = onnx_session(path, device)
        self._info = info
        self._facts = _facts(path, device)

    @property
    def facts(self) -> EngineFacts:
        return self._facts

    @property
    def crop_size(self) -> int:
        return self._info.res

    @property
    def coverage(self) -> Coverage:
        return self._info.coverage

    def swap_face(self, target: TargetFace) -> SwappedFace:
        x = crop_to_input(target.image, self.crop_size)
        face, mask = self._session.run(["face", "mask"], {"crop": x})
        return output_to_swapped(np.asarray(face), np.asarray(mask), target.image.shape[0])

    def end_track(self, track: int) -> None:
        """Nothing is kept per track."""

    def close(self) -> None:
        """Nothing is held open."""
