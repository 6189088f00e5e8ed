"""export: a trained run folder -> an ONNX inference graph of the swap direction.

The graph takes `crop` (N, 3, R, R) float32 RGB in [0, 1], an aligned target face, and
gives `face` (N, 3, R, R) and `mask` (N, 1, R, R) in [0, 1]: the face as the source person.
The run's metadata (resolution, coverage, architecture, step, faceset hashes) is stored in
the model's metadata_props, so the file alone is a complete swap engine.

Reading an exported file (metadata, onnxruntime session) needs no torch nor onnx; only writing one
imports them, so a swap with an exported refiner starts without torch's ~1 s of CPU.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facedub import __version__
from facedub.errors import FacedubError
from facedub.faces.align import COVERAGES, Coverage
from facedub.fsutil import write_bytes_atomic
from facedub.models.onnx_wire import model_metadata_props
from facedub.models.run import load_run

if TYPE_CHECKING:
    import onnx
    import torch

log = logging.getLogger(__name__)

ONNX_FORMAT = "facedub-onnx"
# facedub's exports by their format, and where each goes: one given to the other option
# was "not exported by facedub".
OTHER_EXPORTS = {
    ONNX_FORMAT: "a trained swap model (`facedub export` of a `facedub train` run); use it "
                 "with `swap --engine neural --model`",
    "facedub-refiner-onnx": "a refiner (`facedub export` of a `facedub refine` folder); use "
                            "it with `swap --source ITS_SOURCE --refiner`",
}
ONNX_VERSION = 1
OPSET = 17


@dataclass(frozen=True)
class OnnxInfo:
    """What an exported model says about itself."""

    res: int
    coverage: Coverage
    arch: str
    step: int
    metadata: dict[str, str]


def export_onnx(run_dir: Path, out_path: Path) -> None:
    """Write the inference graph of `run_dir`'s model to `out_path` (atomically)."""
    import torch

    model, info, state = load_run(Path(run_dir), torch.device("cpu"))
    res = info.args.res
    proto = onnx_graph(model, res)
    metadata = {"format": ONNX_FORMAT, "version": str(ONNX_VERSION),
                "facedub_version": __version__, "res": str(res), "coverage": info.coverage,
                "arch": info.arch, "args": json.dumps(info.args.to_json(), sort_keys=True),
                "run_id": info.run_id, "step": str(state.step),
                "source_sha256": info.source.source_sha256,
                "target_sha256": info.target.source_sha256,
                "input": "crop (N,3,R,R) float32 RGB [0,1], aligned target face",
                "outputs": "face (N,3,R,R) RGB [0,1] as the source person; mask (N,1,R,R)"}
    write_onnx(proto, metadata, Path(out_path))
    log.info("exported %s (step %d, %d px) to %s", run_dir, state.step, res, out_path)


def write_onnx(proto: onnx.ModelProto, metadata: dict[str, str], out_path: Path) -> None:
    """Set `metadata` as the graph's metadata_props, check it, write it atomically."""
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "facedub"
    proto.producer_version = __version__
    import onnx  # only writing needs it: a swap reads the metadata without (`onnx_metadata`)

    onnx.checker.check_model(proto)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out_path, proto.SerializeToString())


def onnx_graph(model: torch.nn.Module, res: int, channels: int = 3,
               inputs: tuple[str, ...] = ("crop",),
               outputs: tuple[str, ...] = ("face", "mask")) -> onnx.ModelProto:
    """The ONNX graph of `model`'s forward pass, without metadata: by default a face
    model's swap direction (see the module docstring); the refiner names its own input
    and output. The batch axis is dynamic."""
    import torch

    example = torch.rand(1, channels, res, res)
    with tempfile.TemporaryDirectory() as folder:
        graph_path = Path(folder) / "model.onnx"
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated for the torch.export one, which needs
            # onnxscript (not a dependency); for these plain conv nets both give one graph.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(model.eval(), (example,), str(graph_path), dynamo=False,
                              input_names=list(inputs), output_names=list(outputs),
                              dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
                              opset_version=OPSET)
        import onnx

        return onnx.load(str(graph_path))


def read_onnx_info(path: Path) -> OnnxInfo:
    """The facedub metadata of an exported model; FacedubError if it has none."""
    metadata = onnx_metadata(path, ONNX_FORMAT, ONNX_VERSION)
    coverage = metadata.get("coverage")
    try:
        res = int(metadata["res"])
        step = int(metadata["step"])
        arch = metadata["arch"]
    except (KeyError, ValueError) as error:
        raise FacedubError(f"{path}: facedub metadata {error} is missing or malformed; "
                           "export it again") from error
    for value in COVERAGES:
        if value == coverage:
            return OnnxInfo(res=res, coverage=value, arch=arch, step=step, metadata=metadata)
    raise FacedubError(f"{path}: unknown coverage {coverage!r} in its metadata; export it again")


def onnx_metadata(path: Path, format_name: str, version: int) -> dict[str, str]:
    """The metadata_props of an ONNX file that facedub exported as `format_name` at
    `version`; FacedubError, saying what to do, for any other file."""
    try:
        metadata = model_metadata_props(path.read_bytes())
    except (OSError, ValueError) as error:
        raise FacedubError(f"{path}: not a readable ONNX file ({error}); export it again "
                           "with `facedub export`") from error
    found = metadata.get("format")
    if found != format_name and found in OTHER_EXPORTS:
        raise FacedubError(f"{path}: {OTHER_EXPORTS[found]}")
    if found != format_name:
        raise FacedubError(f"{path}: not exported by facedub (no {format_name} metadata); "
                           "export one with `facedub export FOLDER -o FILE.onnx`")
    if metadata.get("version") != str(version):
        raise FacedubError(f"{path}: {format_name} version {metadata.get('version')} is not "
                           f"supported (this facedub reads {version}); export it again")
    return metadata


def onnx_session(path: Path, device: str = "auto", threads: int = 0) -> Any:
    """An onnxruntime InferenceSession of `path`: CUDA if the installed onnxruntime has it
    and `device` allows, else CPU with `threads` threads for one op (0: all cores)."""
    import onnxruntime as ort  # only the ONNX engines need it; keeps `import facedub` light

    available = ort.get_available_providers()
    providers = ["CPUExecutionProvider"]
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        providers.insert(0, "CUDAExecutionProvider")
    elif device == "cuda":
        raise FacedubError("--device cuda: this onnxruntime has no CUDA provider; install "
                           "onnxruntime-gpu or use --device cpu")
    options = ort.SessionOptions()
    # One session per process and a small graph: all cores for one op, none idle between.
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise FacedubError(f"{path}: onnxruntime cannot load it ({error}); export it "
                           "again with `facedub export`") from error
