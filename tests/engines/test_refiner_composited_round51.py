"""A composited-stage refiner in the swap (`refine --stage composited`'s folder or its
ONNX export with `swap --refiner`): run on the compositor's finished crop, before the
paste-back and the marks; the output differs from the mesh engine's inside the face
only, and the watermark and label are still on every frame."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from facedub import media
from facedub.cli import app
from facedub.engines.base import EngineFacts
from facedub.engines.refiner import (
    CROP_BAND_SIGMA,
    CompositedRefinedEngine,
    TorchCropRefiner,
    load_refined_engine,
    open_crop_refiner,
    open_refiner,
    refine_composited,
)
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.fsutil import write_json_atomic
from facedub.models.crop_refiner import CropRefiner, CropRefinerArgs
from facedub.models.refiner_export import export_refiner_onnx
from facedub.models.refiner_run import COMPOSITED_METRIC
from facedub.models.run import CONFIG_FILE
from facedub.provenance import verify
from facedub.swap import CompositedStageEngine, label_area
from facedub.train.loop import save_state
from facedub.train.refine_crop import NO_GAINS, CropRefineConfig, new_crop_refiner_info
from facedub.train.refine_run import save_best

runner = CliRunner()
D3 = "clip_liveportrait_d3_woman_headturn.mp4"
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
JOB = 4242


@pytest.fixture(scope="module")
def source(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(D3, max_frames=60, crop_size=128)


def _sharpening(args: CropRefinerArgs) -> CropRefiner:
    """A crop refiner whose correction shows, in its fine band too: its head drawn at
    random (seeded)."""
    torch.manual_seed(0)
    model = CropRefiner(args)
    with torch.no_grad():
        head = model.body[-1]
        assert isinstance(head, torch.nn.Conv2d)
        head.weight.normal_(0.0, 0.3)
    return model


@pytest.fixture(scope="module")
def crop_refiner(source: Faceset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A composited-stage refiner folder for `source`, as `refine --stage composited`
    writes one (best state at step 2)."""
    folder = tmp_path_factory.mktemp("crop") / "refiner"
    config = CropRefineConfig()
    info = new_crop_refiner_info(folder, config.args, source, config.to_json())
    folder.mkdir()
    write_json_atomic(folder / CONFIG_FILE, info.raw)
    model = _sharpening(info.args)
    save_state(info, model, torch.optim.AdamW(model.parameters()), 2, 0.0, {}, 0)
    save_best(info, model, 2, 0.95, NO_GAINS, COMPOSITED_METRIC, 0.94)
    return folder


def _frames(path: Path) -> list[np.ndarray]:
    return [frame.image for frame in media.iter_frames(path)]


def _swap(source: Faceset, target: Path, out: Path, *extra: str) -> list[np.ndarray]:
    result = runner.invoke(app, ["swap", "--source", str(source.root), "--target",
                                 str(target), "-o", str(out), "--crf", "0", "--job-id",
                                 str(JOB), *extra])
    assert result.exit_code == 0, result.output
    return _frames(out)


@pytest.fixture(scope="module")
def swaps(source: Faceset, crop_refiner: Path, short_clip: Callable[[str, float], Path],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The target, and its swaps: the mesh engine alone, with the folder, with its
    export."""
    root = tmp_path_factory.mktemp("swaps")
    target = short_clip(KATIE, 0.5)
    exported = root / "crop.onnx"
    export_refiner_onnx(crop_refiner, exported)
    return {"target": _frames(target), "mesh": _swap(source, target, root / "mesh.mp4"),
            "folder": _swap(source, target, root / "folder.mp4", "--refiner",
                            str(crop_refiner)),
            "onnx": _swap(source, target, root / "onnx.mp4", "--refiner", str(exported)),
            "folder_path": root / "folder.mp4", "onnx_path": root / "onnx.mp4"}


def _face_zone(target: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """The box of where the mesh engine's swap changed the frame (the pasted face: more
    than the watermark's few grey levels), grown by 16 px: the face, whose feathered edge
    the mesh engine left near the target's own pixels."""
    changed = (np.abs(mesh.astype(np.int16) - target.astype(np.int16)).max(axis=2) > 12)
    changed[label_area(target.shape)] = False
    left, top, width, height = cv2.boundingRect(changed.astype(np.uint8))
    zone = np.zeros(changed.shape, bool)
    zone[max(0, top - 16):top + height + 16, max(0, left - 16):left + width + 16] = True
    return zone


@pytest.mark.parametrize("kind", ["folder", "onnx"])
def test_the_composited_stage_changes_the_face_only(swaps: dict, kind: str) -> None:
    target, mesh, refined = swaps["target"], swaps["mesh"], swaps[kind]
    assert len(refined) == len(mesh) == len(target)
    moved_inside = 0
    for before, after, original in zip(mesh, refined, target, strict=True):
        difference = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2)
        zone = _face_zone(original, before)
        # Outside the face, only the watermark's content-adaptive grey level or two.
        assert difference[~zone].max(initial=0) <= 2
        moved_inside += int((difference[zone] > 4).sum())
    assert moved_inside > 1000  # the correction shows in the face


def test_the_marks_are_on_every_output(swaps: dict) -> None:
    for kind in ("folder", "onnx"):
        marks = verify(swaps[f"{kind}_path"])
        assert marks.exit_code == 0 and marks.manifest.valid
        assert marks.watermark.found and marks.watermark.payload is not None
        assert marks.watermark.payload.job_id == JOB
        facts = marks.manifest.facts
        assert facts is not None and facts.settings["engine"]["refiner_stage"] == "composited"
        area = label_area(swaps["target"][0].shape)
        for frame, original in zip(swaps[kind], swaps["target"], strict=True):
            # The visible label is drawn over the corner, as on the mesh engine's output.
            assert np.abs(frame[area].astype(np.int16) - original[area]).max() > 40


def test_the_onnx_export_swaps_as_the_folder(swaps: dict) -> None:
    for folder, exported in zip(swaps["folder"], swaps["onnx"], strict=True):
        assert np.abs(folder.astype(np.int16) - exported.astype(np.int16)).max() <= 2


def test_the_folder_opens_as_a_composited_stage_engine(source: Faceset,
                                                      crop_refiner: Path) -> None:
    opened = open_crop_refiner(crop_refiner)
    assert opened is not None and opened.step == 2 and opened.backend.reach == 4
    with pytest.raises(FacedubError, match="composited crop"):
        open_refiner(crop_refiner)
    class _Base:
        coverage = source.meta.coverage
        facts = EngineFacts("mesh", {}, ())
        crop_size = 128

    engine = load_refined_engine(_Base(), source, crop_refiner)  # type: ignore[arg-type]
    assert isinstance(engine, CompositedRefinedEngine)
    assert isinstance(engine, CompositedStageEngine)


def test_the_box_gives_the_whole_crops_values_inside_the_alpha(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in the alpha's box grown by the network's reach: inside the alpha, what the
    network and the band's blur give on the whole crop (zero padding at the box's edge
    reaches no pixel of the alpha). The band's sharpness gain, which its own tests
    check (test_refiner_band_gain_round52.py), is held at 1."""
    monkeypatch.setattr("facedub.engines.refiner.composited_band_gain",
                        lambda *args: 1.0)
    rng = np.random.default_rng(1)
    size = 96
    image = rng.integers(40, 215, (size, size, 3), dtype=np.uint8)
    target = rng.integers(40, 215, (size, size, 3), dtype=np.uint8)
    alpha = np.zeros((size, size), np.float32)
    alpha[30:70, 20:60] = 1.0
    backend = TorchCropRefiner(_sharpening(CropRefinerArgs()))
    boxed = refine_composited(backend, image, alpha, target)
    weight = alpha[..., None]
    shown = (image * weight + target * (1 - weight)) / 255.0
    whole = backend(np.ascontiguousarray(shown.transpose(2, 0, 1), np.float32)[None],
                    alpha[None, None])[0].transpose(1, 2, 0)
    correction = ((whole - shown) * 255.0).astype(np.float32)
    weight = (alpha > 0).astype(np.float32)
    correction *= weight[..., None]
    low = cv2.GaussianBlur(correction, (0, 0), CROP_BAND_SIGMA,
                           borderType=cv2.BORDER_CONSTANT)
    low /= np.maximum(cv2.GaussianBlur(weight, (0, 0), CROP_BAND_SIGMA,
                                       borderType=cv2.BORDER_CONSTANT), 1e-6)[..., None]
    correction -= low
    correction[~(alpha > 0)] = 0.0
    expected = np.clip(image + correction + 0.5, 0, 255).astype(np.uint8)
    inside = alpha > 0
    assert np.abs(boxed.astype(np.int16) - expected)[inside].max() <= 1
    assert (boxed[inside] != image[inside]).any()
    assert (boxed[~inside] == image[~inside]).all()  # nothing outside the alpha moves


class _Reddening:
    """A stand-in network that shifts the whole face's red by -20 levels: the colour
    mapping the webcam's network applied to the self-photo pair's torch-lit face."""

    reach = 4

    def __call__(self, shown: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        out = shown.copy()
        out[:, 0] -= alpha[:, 0] * 20.0 / 255.0
        return out


@pytest.mark.parametrize("edge", ["hard", "off_the_crop"])
def test_a_colour_shift_of_the_whole_face_is_not_carried(edge: str) -> None:
    """Only the correction's fine band reaches the crop: a shift of the whole face's
    colour (grey-green on the self-photo pair at 1x) leaves the face as it was, in the
    middle and up to its edge: where the alpha is cut hard, and where it reaches the
    crop's edge at full strength (a plain blur with zeros beyond them kept half the
    shift there: red -9 to -1 over the last six rows)."""
    rng = np.random.default_rng(2)
    size = 128
    image = rng.integers(90, 160, (size, size, 3), dtype=np.uint8)
    alpha = np.zeros((size, size), np.float32)
    if edge == "hard":
        alpha[24:104, 24:104] = 1.0
    else:
        alpha[24:, 24:104] = 1.0
        alpha = cv2.GaussianBlur(alpha, (0, 0), 4.0, borderType=cv2.BORDER_REPLICATE)
    out = refine_composited(_Reddening(), image, alpha, image)
    moved = np.abs(out.astype(np.int16) - image).max(axis=2)
    assert moved.max() <= 1
    if edge == "off_the_crop":
        assert alpha[-1, 64] > 0.99  # the alpha is whole at the crop's edge


def test_the_band_reads_the_crop_inside_the_frame_only() -> None:
    """Crop pixels beyond the frame (the warp's padding, which the network also reads)
    do not count in the correction's band, nor move: a face at the frame's edge keeps
    its colour up to it."""
    rng = np.random.default_rng(3)
    size = 128
    image = rng.integers(90, 160, (size, size, 3), dtype=np.uint8)
    alpha = np.zeros((size, size), np.float32)
    alpha[24:104, 24:104] = 1.0
    in_frame = np.ones((size, size), bool)
    in_frame[:, 90:] = False  # the frame's right edge crosses the face

    class _ReddeningInFrame(_Reddening):
        def __call__(self, shown: np.ndarray, weight: np.ndarray) -> np.ndarray:
            out = super().__call__(shown, weight)
            # +40 green beyond the frame only (the box starts at column 20: grown by 4)
            out[:, 1, :, 70:] += weight[:, 0, :, 70:] * 40.0 / 255.0
            return out

    out = refine_composited(_ReddeningInFrame(), image, alpha, image, in_frame)
    moved = np.abs(out.astype(np.int16) - image).max(axis=2)
    assert moved[in_frame].max() <= 1
    assert (out[~in_frame] == image[~in_frame]).all()
