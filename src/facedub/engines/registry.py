"""The swap engines by name, as `facedub swap --engine NAME` chooses them.

A plain dict: each entry opens its engine from an `EngineRequest`; the engine then
describes itself for the provenance (`SwapEngine.facts`). A new engine adds one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facedub.engines.base import SwapEngine
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_source_cache import cache_folder
from facedub.errors import FacedubError
from facedub.extract.config import ExtractConfig
from facedub.extract.models import AnalysisModels
from facedub.extract.workspace import analysed
from facedub.progress import NoProgress, Progress

SOURCE_CROP = 512  # source faces are kept at this crop size: the mesh engine's texture


@dataclass(frozen=True)
class EngineRequest:
    """What the engines may need; each reads its own fields.

    `source`: video, photo, folder of photos or faceset of the face to put in (mesh);
    `model`: run folder or exported .onnx (neural); `device`: "auto", "cpu", "cuda", "mps"
    (neural, refiner); `work_dir`: where the source's analysis is cached (mesh);
    `refiner`: a refiner folder of `facedub refine` or its .onnx (mesh only);
    `models`: the analysis's models, shared with the target's analysis (mesh).
    """

    work_dir: Path
    source: Path | None = None
    model: Path | None = None
    device: str = "auto"
    mesh: MeshEngineConfig = field(default_factory=MeshEngineConfig)
    progress: Progress = field(default_factory=NoProgress)
    refiner: Path | None = None
    models: AnalysisModels | None = None


def open_mesh_engine(request: EngineRequest) -> SwapEngine:
    if request.source is None:
        raise FacedubError("the mesh engine needs --source (a video, photo, folder of photos "
                           "or faceset of the face to put in)")
    faceset = analysed(request.source, request.work_dir, ExtractConfig(crop_size=SOURCE_CROP),
                       request.progress, models=request.models)
    engine = MeshEngine(faceset, request.mesh, source_path=request.source,
                        cache_dir=cache_folder(faceset.root, request.work_dir))
    if request.refiner is None:
        return engine
    from facedub.engines.refiner import load_refined_engine  # torch: only when asked

    return load_refined_engine(engine, faceset, request.refiner, request.device)


def open_neural_engine(request: EngineRequest) -> SwapEngine:
    if request.model is None:
        raise FacedubError("the neural engine needs --model (a run folder from `facedub "
                           "train`, or an .onnx file from `facedub export`)")
    if request.refiner is not None:
        raise FacedubError("--refiner cleans the mesh engine's face: drop --engine neural or "
                           "--refiner")
    from facedub.engines.neural import load_neural_engine  # torch: only when chosen

    return load_neural_engine(request.model, request.device)


ENGINES: dict[str, Callable[[EngineRequest], SwapEngine]] = {
    "mesh": open_mesh_engine,
    "neural": open_neural_engine,
}


def open_engine(name: str, request: EngineRequest) -> SwapEngine:
    """The engine `name` opened for `request`; FacedubError naming the choices otherwise."""
    opener = ENGINES.get(name)
    if opener is None:
        raise FacedubError(f"--engine {name}: use one of {', '.join(sorted(ENGINES))}")
    return opener(request)
