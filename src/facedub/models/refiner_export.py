"""A refiner folder -> an ONNX graph for onnxruntime, and that file's metadata read back.

The graph takes `mesh` (N, 4, R, R) float32 (the mesh engine's face over the target crop,
RGB in [0, 1], and its mask) and gives `refined` (N, 3, R, R) RGB in [0, 1]; see
facedub.models.refiner. The metadata names the source person the refiner belongs to, so
the file alone is refused with another source, as its folder is.

Reading the metadata back needs no torch (the swap does it); exporting imports it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from facedub import __version__
from facedub.errors import FacedubError
from facedub.faces.align import COVERAGES, Coverage
from facedub.models.export import onnx_graph, onnx_metadata, write_onnx
from facedub.models.refiner_run import load_refiner, parse_identity
from facedub.models.run import FacesetInfo

log = logging.getLogger(__name__)

REFINER_ONNX_FORMAT = "facedub-refiner-onnx"
REFINER_ONNX_VERSION = 1
INPUT_NAME, OUTPUT_NAME = "mesh", "refined"


@dataclass(frozen=True)
class RefinerOnnxInfo:
    res: int
    coverage: Coverage
    step: int
    source: FacesetInfo
    identity: tuple[float, ...] | None


def export_refiner_onnx(refiner_dir: Path, out_path: Path) -> None:
    """Write the refiner of `refiner_dir` to `out_path` as ONNX (atomically)."""
    import torch

    from facedub.models.refiner import INPUT_CHANNELS

    model, info, state = load_refiner(Path(refiner_dir), torch.device("cpu"))
    proto = onnx_graph(model, info.args.res, INPUT_CHANNELS, (INPUT_NAME,), (OUTPUT_NAME,))
    metadata = {"format": REFINER_ONNX_FORMAT, "version": str(REFINER_ONNX_VERSION),
                "facedub_version": __version__, "res": str(info.args.res),
                "coverage": info.coverage, "arch": info.arch,
                "args": json.dumps(info.args.to_json(), sort_keys=True),
                "run_id": info.run_id, "step": str(state.step),
                "gains": json.dumps(model.gains),  # the band gate, baked into the graph
                "source": json.dumps(asdict(info.source), sort_keys=True),
                "identity": json.dumps(info.identity),
                "input": "mesh (N,4,R,R) float32: RGB [0,1] mesh face over the target crop, "
                         "mesh mask",
                "outputs": "refined (N,3,R,R) RGB [0,1]"}
    write_onnx(proto, metadata, Path(out_path))
    log.info("exported refiner %s (step %d, %d px) to %s", refiner_dir, state.step,
             info.args.res, out_path)


def read_refiner_onnx_info(path: Path) -> RefinerOnnxInfo:
    """The facedub metadata of an exported refiner; FacedubError if it has none."""
    metadata = onnx_metadata(path, REFINER_ONNX_FORMAT, REFINER_ONNX_VERSION)
    try:
        coverage = metadata["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        return RefinerOnnxInfo(res=int(metadata["res"]), coverage=coverage,  # type: ignore[arg-type]
                               step=int(metadata["step"]),
                               source=FacesetInfo(**json.loads(metadata["source"])),
                               identity=parse_identity(json.loads(metadata["identity"])))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: facedub metadata {error} is missing or malformed; "
                           "export it again") from error
