"""The refined engine: the correction carried to full size, ONNX export, refusals, and a
refined swap through the command line (refine, export, swap)."""

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from facedub import media
from facedub.cli import app
from facedub.engines import refiner as refiner_module
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.refiner import (
    DETAIL_FLOOR,
    DETAIL_LIFT,
    FINE_SIGMA,
    OnnxRefiner,
    RefinedEngine,
    TorchRefiner,
    keep_detail,
    load_refined_engine,
    open_refiner,
    refine_face,
)
from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models import refiner as refiner_model
from facedub.models.refiner import Refiner, RefinerArgs
from facedub.models.refiner_export import export_refiner_onnx
from facedub.models.refiner_run import check_refiner_source, person_identity
from facedub.models.run import FacesetInfo
from facedub.provenance import verify
from facedub.train import checkpoint as ckpt
from facedub.train.refine_run import new_refiner_info, write_refiner_info

runner = CliRunner()
D3 = "clip_liveportrait_d3_woman_headturn.mp4"
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"


class _Brighter:
    """A stand-in refiner that adds 0.1 to every channel."""

    res = 128

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x[:, :3] + 0.1, 0, 1)


@pytest.fixture(scope="module")
def source(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(D3, max_frames=60, crop_size=128)


@pytest.fixture(scope="module")
def refiner_dir(source: Faceset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A refiner folder with random weights (a zero head would hide export errors)."""
    folder = tmp_path_factory.mktemp("refiner") / "refiner"
    args = RefinerArgs(width=4, levels=2)
    info = new_refiner_info(folder, args, source, {})
    write_refiner_info(info)
    torch.manual_seed(0)
    model = Refiner(args)
    torch.nn.init.normal_(model.head.weight, std=0.05)
    optimizer = torch.optim.AdamW(model.parameters())
    ckpt.save_checkpoint(info, model, optimizer, ckpt.RunState(7, 1.0, {}, 0))
    return folder


def test_the_correction_is_carried_to_the_full_crop() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 200, size=(256, 256, 3), dtype=np.uint8)
    face = np.full((256, 256, 3), 100, dtype=np.uint8)
    mask = np.zeros((256, 256), dtype=np.float32)
    mask[64:192, 64:192] = 1.0
    out = refine_face(_Brighter(), SwappedFace(face, mask), target).astype(np.int16)
    assert np.abs(out[96:160, 96:160] - 126).max() <= 1  # 100 + 0.1 * 255
    # Outside the mask the target's pixels, brightened by the same correction (blurred
    # by the resize where the target has detail, so compared on average).
    outside = out[:32, :32].astype(np.float32) - target[:32, :32]
    assert abs(float(outside.mean()) - 25.5) < 1.0


def test_the_refined_engine_passes_on_what_the_engine_said() -> None:
    """The refined face replaces the image only: masks, kept parts and the mesh engine's
    relief (the source's face shape shown) pass on (the relief was dropped, so a swap
    with --refiner lost the source's middle-scale lightness)."""
    face = np.full((64, 64, 3), 100, dtype=np.uint8)
    mask = np.ones((64, 64), dtype=np.float32)
    kept = np.zeros((64, 64), dtype=np.float32)

    class _Base:
        crop_size = 64

        def swap_face(self, target: object) -> SwappedFace:
            return SwappedFace(face, mask, kept=kept, kept_image=face, relief=0.7)

    class _Target:
        image = np.zeros((64, 64, 3), dtype=np.uint8)

    engine = RefinedEngine(_Base(), _Brighter(), facts=None)  # type: ignore[arg-type]
    refined = engine.swap_face(_Target())  # type: ignore[arg-type]
    assert refined.relief == 0.7 and refined.kept is kept and refined.mask is mask
    assert int(refined.image.mean()) > 110  # the refiner's face


def test_a_refiner_folder_runs_on_one_torch_thread_and_gives_the_count_back() -> None:
    """torch's default intra-op team (a thread per core) spun against the swap's other
    threads: a folder's face took 110-200 ms of wall against 19 on one thread (2 cores,
    headturn-man, d18-s0). The call runs on one thread, its output as on two, and the
    caller's count is put back."""
    torch.manual_seed(0)
    model = Refiner(RefinerArgs())
    seen: list[int] = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.get_num_threads()))
    x = np.random.default_rng(2).random((1, 4, 128, 128), dtype=np.float32)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch.inference_mode():
            on_two = model.eval()(torch.from_numpy(x)).numpy()
        refined = TorchRefiner(model)(x)
        assert seen == [2, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    assert np.abs(refined - on_two).max() <= 1e-6


def test_onnx_export_matches_pytorch(refiner_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "refiner.onnx"
    export_refiner_onnx(refiner_dir, exported)
    torch_backend, onnx_backend = open_refiner(refiner_dir), open_refiner(exported)
    assert isinstance(torch_backend.backend, TorchRefiner)
    assert isinstance(onnx_backend.backend, OnnxRefiner)
    assert onnx_backend.source == torch_backend.source
    x = np.random.default_rng(1).random((2, 4, 128, 128), dtype=np.float32)
    expected, got = torch_backend.backend(x), onnx_backend.backend(x)
    assert np.abs(expected - x[:, :3]).max() > 0.01  # the head is not the identity
    assert np.abs(expected - got).max() < 1e-4


def test_a_refiner_for_another_person_is_refused(refiner_dir: Path,
                                                 extracted: Callable[..., Faceset],
                                                 tmp_path: Path) -> None:
    other = extracted("clip_liveportrait_d12_man_glasses_headturn_hand.mp4", crop_size=64,
                      identity_every=30)
    exported = tmp_path / "refiner.onnx"
    export_refiner_onnx(refiner_dir, exported)
    for path in (refiner_dir, exported):
        with pytest.raises(FacedubError, match="was refined for person"):
            load_refined_engine(MeshEngine(other), other, path)


def test_other_media_of_the_same_person_are_accepted_by_identity(source: Faceset) -> None:
    elsewhere = replace(FacesetInfo.of(source), source_sha256="0" * 64,
                        source_name="another_clip.mp4")
    identity = person_identity(source)
    assert identity is not None
    check_refiner_source(elsewhere, identity, "refiner", source)  # the same face: accepted
    stranger = tuple(value + 0.1 for value in identity)  # 0.1 * sqrt(128) = 1.13 away
    with pytest.raises(FacedubError, match="was refined for person"):
        check_refiner_source(elsewhere, stranger, "refiner", source)
    with pytest.raises(FacedubError, match="was refined for person"):
        check_refiner_source(elsewhere, None, "refiner", source)


def test_a_single_photo_is_refused_with_a_reason(faces_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["refine", str(faces_dir / "still_biden_frontal.jpg"), "-o",
                                 str(tmp_path / "refiner")])
    assert result.exit_code == 2
    assert "a single photo" in result.output and "video" in result.output
    assert not (tmp_path / "refiner").exists()


@pytest.mark.parametrize("exported", [False, True])
def test_refine_export_and_swap_through_the_command_line(
        source: Faceset, exported: bool, short_clip: Callable[[str, float], Path],
        tmp_path: Path) -> None:
    refiner = tmp_path / "refiner"
    result = runner.invoke(app, ["refine", str(source.root), "-o", str(refiner), "--steps",
                                 "2", "--batch", "2", "--device", "cpu", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "refined to step 2" in result.output and "swaps use step 2" in result.output
    if exported:
        onnx_file = tmp_path / "refiner.onnx"
        result = runner.invoke(app, ["export", str(refiner), "-o", str(onnx_file)])
        assert result.exit_code == 0, result.output
        refiner = onnx_file
    target = short_clip(KATIE, 0.5)  # the clip the next test swaps (made once)
    out = tmp_path / "swapped.mp4"
    result = runner.invoke(app, ["swap", "--source", str(source.root), "--refiner",
                                 str(refiner), "--target", str(target), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert media.probe(out).frame_count == media.probe(target).frame_count
    marks = verify(out)
    assert marks.exit_code == 0 and marks.manifest.valid
    facts = marks.manifest.facts
    assert facts is not None and facts.engine == "mesh"
    assert facts.settings["engine"]["refiner_step"] == 2
    assert {fact.role for fact in facts.inputs} == {"source", "refiner", "target"}


def test_a_swap_with_an_exported_refiner_does_not_import_torch(
        source: Faceset, refiner_dir: Path, short_clip: Callable[[str, float], Path],
        tmp_path: Path) -> None:
    """torch costs about 1 s of CPU at start-up; onnxruntime alone runs an exported
    refiner, so the swap must not load it (a fresh process: this one has torch)."""
    exported = tmp_path / "refiner.onnx"
    export_refiner_onnx(refiner_dir, exported)
    out = tmp_path / "swapped.mp4"
    argv = ["swap", "--source", str(source.root), "--refiner", str(exported), "--target",
            str(short_clip(KATIE, 0.5)), "-o", str(out)]
    code = ("import sys\nfrom facedub.cli import app\n"
            f"try:\n    app({argv!r})\nexcept SystemExit as done:\n    status = done.code\n"
            "print(status, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout + done.stderr
    assert out.is_file()


class _Smoother:
    """A stand-in refiner that blurs its input's colour (sigma 1 px at its 128 px)."""

    res = 128

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rgb = x[0, :3].transpose(1, 2, 0)
        return cv2.GaussianBlur(rgb, (0, 0), 1.0).transpose(2, 0, 1)[None]


def _detail_strength(image: np.ndarray, box: tuple[slice, slice]) -> float:
    grey = image.astype(np.float32).mean(axis=2)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[box].mean())


def test_a_smoothing_correction_keeps_the_engine_faces_detail_strength() -> None:
    """A refiner that smooths the band just below its own 128 px (as trained ones do on
    detail the engine put in the wrong place) left the face's Laplacian below the mesh
    engine's (the sharpness mismatch; BENCHMARKS.md, Refiner, eighth round): the refined
    detail is lifted back to the engine face's local strength, and no further."""
    rng = np.random.default_rng(0)
    # Texture at 3-6 px on a 300 px face: the band the 128 px correction reaches.
    noise = cv2.GaussianBlur(rng.normal(0, 1, (300, 300)).astype(np.float32), (0, 0), 1.5)
    face = np.clip(128 + 30 * noise / noise.std(), 0, 255).astype(np.uint8)
    face = np.repeat(face[..., None], 3, axis=2)
    target = np.full((300, 300, 3), 90, dtype=np.uint8)
    mask = np.zeros((300, 300), dtype=np.float32)
    mask[40:260, 40:260] = 1.0
    inside = (slice(80, 220), slice(80, 220))
    out = refine_face(_Smoother(), SwappedFace(face, mask), target)
    before = _detail_strength(face, inside)
    assert _detail_strength(out, inside) >= 0.9 * before
    assert _detail_strength(out, inside) <= 1.1 * before
    # The refiner's own smoothing is kept where it is: only the strength is given back.
    smoothed = cv2.GaussianBlur(face.astype(np.float32), (0, 0), 300 / 128)
    assert np.abs(out[inside].astype(np.float32) - smoothed[inside]).mean() < \
        np.abs(face[inside].astype(np.float32) - smoothed[inside]).mean()


def _textured_face(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (size, size, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(128 + 30 * noise / noise.std(), 0, 255).astype(np.float32)


def _keep_detail_at_full_size(refined: np.ndarray, laid: np.ndarray, mask: np.ndarray,
                              sigma: float) -> np.ndarray:
    """The lift with every blur at the crop's own size: what the cheaper sizes stand for."""
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    detail = refined - cv2.GaussianBlur(refined, (0, 0), sigma)
    before = laid @ luma - cv2.GaussianBlur(laid @ luma, (0, 0), sigma)
    after = detail @ luma
    strength_before = np.sqrt(cv2.GaussianBlur(before * before, (0, 0), 2 * sigma))
    strength_after = np.sqrt(cv2.GaussianBlur(after * after, (0, 0), 2 * sigma))
    lift = np.clip(strength_before / np.maximum(strength_after, DETAIL_FLOOR), 1.0, DETAIL_LIFT)
    lift = 1.0 + (lift - 1.0) * mask
    lifted: np.ndarray = refined + detail * (lift - 1.0)[..., None]
    return lifted


@pytest.mark.parametrize("size", [304, 512, 301])
def test_the_detail_lift_worked_out_at_smaller_sizes_matches_the_full_size_one(size: int) -> None:
    """The lift's wide blurs run at reduced sizes (a 512 px crop's cost 26 -> 8 ms,
    BENCHMARKS.md): the lifted face stays within half a grey level of the full-size
    blurs' (a twentieth on average), odd sizes included."""
    laid = _textured_face(size, 1)
    refined = cv2.GaussianBlur(laid, (0, 0), 1.2)
    mask = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(mask, (size // 2, size // 2), (size // 3, size // 2 - 20), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 5)
    sigma = FINE_SIGMA * size / 128
    full = _keep_detail_at_full_size(refined, laid, mask, sigma)
    assert np.abs(full - refined).mean() > 1.0  # the lift acts on this face
    error = np.abs(keep_detail(refined, laid, mask, sigma) - full)
    assert error.max() < 0.5
    assert error.mean() < 0.05


def test_the_detail_lift_leaves_the_targets_kept_eyes_and_mouth_alone() -> None:
    """The refiner's correction is zero where the engine kept the target's own pixels
    (eyes, mouth opening): the lift of the refined face's detail must not sharpen them
    either."""
    face = _textured_face(300, 2).astype(np.uint8)
    target = face.copy()
    mask = np.ones((300, 300), dtype=np.float32)
    kept = np.zeros((300, 300), dtype=np.float32)
    kept[100:160, 60:240] = 1.0
    out = refine_face(_Smoother(), SwappedFace(face, mask, kept=kept), target)
    inside = (slice(115, 145), slice(80, 220))
    assert np.array_equal(out[inside], face[inside])
    assert np.abs(out.astype(np.int16) - face).max() > 3  # and it does act outside


def test_the_swap_side_fine_band_is_the_models() -> None:
    """engines.refiner keeps its own copy of the fine band's sigma (it must not import
    torch); it is the one the refiner was trained with."""
    assert FINE_SIGMA == refiner_model.FINE_SIGMA


def test_the_refiner_runs_in_the_compositing_stage(
        faces_dir: Path, short_clip: Callable[[str, float], Path], tmp_path: Path) -> None:
    """The swap's engine thread gets the base engine's face and the compositing thread
    refines it: the refiner keeps no per-track state, and a video source's mesh engine
    already holds the engine thread twice as long as compositing takes (BENCHMARKS.md,
    Refiner, eleventh round). The swapped frame is the same as refining in the engine
    stage."""
    from facedub.composite.compositor import CompositeConfig
    from facedub.extract.config import ExtractConfig
    from facedub.extract.workspace import analysed
    from facedub.progress import NoProgress
    from facedub.swap import SwapConfig, TwoStageEngine, analyse_target, frame_swapper

    calls: list[str] = []

    class _Counted(_Brighter):
        def __call__(self, x: np.ndarray) -> np.ndarray:
            calls.append("refined")
            return super().__call__(x)

    clip, source_clip = short_clip(KATIE, 0.3), short_clip(D3, 0.5)
    source = analysed(source_clip, tmp_path / "work", ExtractConfig(crop_size=128))
    config = SwapConfig(work_dir=tmp_path / "work", config_dir=tmp_path / "config",
                        composite=CompositeConfig(grain=False))
    analysis = analyse_target(clip, config, NoProgress())
    engine = RefinedEngine(MeshEngine(source), _Counted(), facts=None)  # type: ignore[arg-type]
    # The same frame refined in one stage, as `swap_face` does for other callers.
    whole = RefinedEngine(MeshEngine(source), _Brighter(), facts=None)  # type: ignore[arg-type]

    class _OneStage:
        crop_size, coverage, facts = whole.crop_size, whole.coverage, None
        swap_face, end_track, close = whole.swap_face, whole.end_track, whole.close

    try:
        assert isinstance(engine, TwoStageEngine)
        swapper = frame_swapper(clip, analysis, engine, config)
        frame = next(iter(media.iter_frames(clip)))
        face = swapper.engine_face(frame)
        assert face.swapped is not None and calls == []  # not on the engine thread
        split = swapper.finish(face)
        assert calls == ["refined"]
        one_stage = frame_swapper(clip, analysis, _OneStage(), config)  # type: ignore[arg-type]
        assert np.array_equal(split, one_stage.finish(one_stage.engine_face(frame)))
    finally:
        # The eye readings' landmarker closed here: left to the garbage collector, its
        # close can block inside a later test's work.
        engine.close()
        whole.close()


def _refine_face_as_expressions(refiner: _Smoother, swapped: SwappedFace,
                                target_image: np.ndarray) -> np.ndarray:
    """`refine_face` and `keep_detail` as the expressions they were before they worked in
    place (thirtieth round): what the in-place steps must give to the bit."""
    size, res = target_image.shape[0], refiner.res
    mask = swapped.mask[..., None]
    laid = swapped.image.astype(np.float32) * mask + target_image * (1.0 - mask)
    small = cv2.resize(laid, (res, res), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(swapped.mask, (res, res), interpolation=cv2.INTER_AREA)
    x = np.concatenate([small / 255.0, small_mask[..., None]], axis=2)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
    correction = cv2.resize(refiner(x)[0].transpose(1, 2, 0) * 255.0 - small, (size, size),
                            interpolation=cv2.INTER_LINEAR)
    if swapped.kept is not None:
        correction *= 1.0 - swapped.kept[..., None]
    refined = laid + correction
    sigma = FINE_SIGMA * size / res
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    detail = refined - refiner_module._smooth(refined, sigma)
    laid_luma = laid @ luma
    before = laid_luma - refiner_module._smooth(laid_luma, sigma)
    after = detail @ luma
    lift = np.clip(refiner_module._local_rms(before, 2 * sigma) / np.maximum(
        refiner_module._local_rms(after, 2 * sigma), DETAIL_FLOOR), 1.0, DETAIL_LIFT)
    gate = (swapped.mask if swapped.kept is None
            else swapped.mask * (1.0 - swapped.kept))
    lift = 1.0 + (lift - 1.0) * gate
    lifted = refined + detail * (lift - 1.0)[..., None]
    # The inputs of keep_detail too, to compare its float32 result.
    lifted_by_function = keep_detail(refined, laid, swapped.mask, sigma, swapped.kept)
    assert np.array_equal(lifted_by_function, lifted)
    # Then the frame's finest band (twentieth round), its own function's.
    lifted = refiner_module.to_frame_sharpness(lifted, target_image, gate)
    return np.clip(lifted + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("size", "with_kept"), [(440, True), (440, False), (301, True),
                                                 (200, False)])
def test_the_refined_face_worked_out_in_place_is_the_expressions_to_the_bit(
        size: int, with_kept: bool) -> None:
    """refine_face and keep_detail work in place on their own temporaries (a few crop-
    sized arrays fewer on the compositing thread): the same float32 operations in the
    same order, so the same values as the expressions (the lifted face in float32 too),
    and the caller's arrays untouched."""
    rng = np.random.default_rng(size)
    face = _textured_face(size, 3).astype(np.uint8)
    target = _textured_face(size, 4).astype(np.uint8)
    mask = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 4)
    kept = (cv2.GaussianBlur((rng.random((size, size)) > 0.8).astype(np.float32), (0, 0), 3)
            if with_kept else None)
    swapped = SwappedFace(face, mask, kept=kept)
    copies = [a.copy() for a in (face, target, mask) + (() if kept is None else (kept,))]
    out = refine_face(_Smoother(), swapped, target)
    assert np.array_equal(out, _refine_face_as_expressions(_Smoother(), swapped, target))
    for before, after in zip(copies, (face, target, mask) + (() if kept is None else (kept,)),
                             strict=True):
        assert np.array_equal(before, after)


def test_the_refined_face_on_real_crops_with_kept_parts_in_a_box_is_the_expressions_to_the_bit(
        first_target_face: Callable[..., TargetFace]) -> None:
    """The correction is scaled by 1 - kept only in the kept parts' box, and the lift's
    strength maps are floored, divided and rooted in place (thirty-second round): on real
    440 px crops (Katie Hill's first face as the target, d3's as the engine's), with a
    mask and kept eyes and mouth that are 0 over most of the crop as the mesh engine's
    are, the same bits as the expressions."""
    size = 440
    target = first_target_face(KATIE, size)
    face = first_target_face(D3, size).image
    mask = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(mask, (size // 2, size // 2 + 20), (150, 190), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 8)
    mask[mask < 1e-3] = 0.0  # 0 round the face, as the engine's mask is
    kept = np.zeros((size, size), dtype=np.float32)
    for centre in target.face_landmarks[[468, 473, 13], :2]:  # the irises, the lips' middle
        x, y = (round(float(v)) for v in centre)
        kept[y - 18:y + 18, x - 40:x + 40] = 1.0
    kept = cv2.GaussianBlur(kept, (0, 0), 3)
    kept[kept < 1e-3] = 0.0
    for kept_parts in (kept, None):
        swapped = SwappedFace(face, mask, kept=kept_parts)
        out = refine_face(_Smoother(), swapped, target.image)
        assert np.array_equal(out, _refine_face_as_expressions(_Smoother(), swapped,
                                                               target.image))
