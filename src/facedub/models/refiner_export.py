"""A refiner folder -> an ONNX graph for onnxruntime, and that file's metadata read back.

A mesh-stage refiner's graph takes `mesh` (N, 4, R, R) float32 (the mesh engine's face
over the target crop, RGB in [0, 1], and its mask) and gives `refined` (N, 3, R, R) RGB
in [0, 1]; see facedub.models.refiner. The metadata names the source person the refiner
belongs to, so the file alone is refused with another source, as its folder is. A
composited-stage refiner's graph (facedub.models.crop_refiner; metadata "stage"
"composited") takes `shown`
(N, 3, H, W) and `alpha` (N, 1, H, W), any H and W, and gives `refined` (N, 3, H, W).

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
from facedub.models.crop_refiner_run import (
    TrainedLight,
    read_trained_light,
    trained_light_from_json,
)
from facedub.models.export import onnx_graph, onnx_metadata, write_onnx
from facedub.models.refiner_run import (
    COMPOSITED_STAGE,
    MESH_STAGE,
    STAGES,
    load_refiner,
    parse_identity,
)
from facedub.models.run import FacesetInfo

log = logging.getLogger(__name__)

REFINER_ONNX_FORMAT = "facedub-refiner-onnx"
REFINER_ONNX_VERSION = 1  # the mesh stage's graph, as earlier rounds wrote it
# The composited stage's graph: another version, so that a facedub from before it refuses
# the file with "version 2 is not supported ...; export it again" instead of reading it
# as a mesh-stage refiner of 0 px and failing inside the resize (fifty-first round).
COMPOSITED_ONNX_VERSION = 2
INPUT_NAME, OUTPUT_NAME = "mesh", "refined"
SHOWN_NAME, ALPHA_NAME = "shown", "alpha"  # the composited stage's inputs


@dataclass(frozen=True)
class RefinerOnnxInfo:
    res: int
    coverage: Coverage
    step: int
    source: FacesetInfo
    identity: tuple[float, ...] | None
    stage: str = MESH_STAGE  # res is 0 for the composited stage: it takes any size
    reach: int = 0  # the composited stage's: pixels each side an output pixel reads
    light: TrainedLight | None = None  # the composited stage's training light, if kept


def export_refiner_onnx(refiner_dir: Path, out_path: Path) -> None:
    """Write the refiner of `refiner_dir` to `out_path` as ONNX (atomically)."""
    import torch

    from facedub.models.crop_refiner_run import refiner_stage

    if refiner_stage(Path(refiner_dir)) == COMPOSITED_STAGE:
        export_crop_refiner_onnx(Path(refiner_dir), Path(out_path))
        return

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


def export_crop_refiner_onnx(refiner_dir: Path, out_path: Path) -> None:
    """Write the composited-stage refiner of `refiner_dir` to `out_path` as ONNX
    (atomically), its batch, height and width dynamic."""
    import tempfile
    import warnings

    import onnx
    import torch

    from facedub.models.crop_refiner_run import load_crop_refiner
    from facedub.models.export import OPSET

    model, info, state = load_crop_refiner(refiner_dir, torch.device("cpu"))
    example = (torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64))
    sizes = {0: "batch", 2: "height", 3: "width"}
    with tempfile.TemporaryDirectory() as folder:
        graph_path = Path(folder) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # as models.export's
            torch.onnx.export(model.eval(), example, str(graph_path), dynamo=False,
                              input_names=[SHOWN_NAME, ALPHA_NAME],
                              output_names=[OUTPUT_NAME],
                              dynamic_axes={SHOWN_NAME: sizes, ALPHA_NAME: sizes,
                                            OUTPUT_NAME: sizes},
                              opset_version=OPSET)
        proto = onnx.load(str(graph_path))
    metadata = {"format": REFINER_ONNX_FORMAT, "version": str(COMPOSITED_ONNX_VERSION),
                "facedub_version": __version__, "stage": COMPOSITED_STAGE, "res": "0",
                "coverage": info.coverage, "arch": info.arch,
                "args": json.dumps(info.args.to_json(), sort_keys=True),
                "run_id": info.run_id, "step": str(state.step),
                "source": json.dumps(asdict(info.source), sort_keys=True),
                "identity": json.dumps(info.identity),
                "input": "shown (N,3,H,W) float32: RGB [0,1] composited crop over the target "
                         "crop; alpha (N,1,H,W) float32: the compositor's alpha",
                "outputs": "refined (N,3,H,W) RGB [0,1], unclamped"}
    light = read_trained_light(refiner_dir)
    if light is not None:
        metadata["light"] = json.dumps(light.to_json(), sort_keys=True)
    write_onnx(proto, metadata, out_path)
    log.info("exported composited-stage refiner %s (step %d) to %s", refiner_dir,
             state.step, out_path)


def _refiner_metadata(path: Path) -> dict[str, str]:
    """The metadata of a refiner export of either stage's version; FacedubError (the
    mesh stage's version named) for any other file."""
    try:
        return onnx_metadata(path, REFINER_ONNX_FORMAT, COMPOSITED_ONNX_VERSION)
    except FacedubError:
        return onnx_metadata(path, REFINER_ONNX_FORMAT, REFINER_ONNX_VERSION)


def read_refiner_onnx_info(path: Path) -> RefinerOnnxInfo:
    """The facedub metadata of an exported refiner; FacedubError if it has none."""
    metadata = _refiner_metadata(path)
    try:
        coverage = metadata["coverage"]
        if coverage not in COVERAGES:
            raise ValueError(f"coverage {coverage!r}")
        stage = metadata.get("stage", MESH_STAGE)
        if stage not in STAGES:
            raise ValueError(f"stage {stage!r}")
        if (stage == COMPOSITED_STAGE) != (metadata["version"] == str(COMPOSITED_ONNX_VERSION)):
            raise ValueError(f"stage {stage!r} at version {metadata['version']}")
        return RefinerOnnxInfo(res=int(metadata["res"]), coverage=coverage,  # type: ignore[arg-type]
                               step=int(metadata["step"]),
                               source=FacesetInfo(**json.loads(metadata["source"])),
                               identity=parse_identity(json.loads(metadata["identity"])),
                               stage=stage,
                               reach=(int(json.loads(metadata["args"])["layers"])
                                      if stage == COMPOSITED_STAGE else 0),
                               light=(trained_light_from_json(json.loads(metadata["light"]),
                                                              str(path))
                                      if "light" in metadata else None))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"{path}: facedub metadata {error} is missing or malformed; "
                           "export it again") from error
