"""The refined engine: the mesh engine's face, cleaned by a refiner trained for the same
source person (`facedub refine`). Engine -> refiner -> compositor.

The refiner works at a fixed small size (128 px by default) while the swap composites
at about the face's own size, so only its correction is carried back up: the output is
the mesh face at full size plus the upscaled difference the refiner made. Detail of the
source texture stays sharp; colour, light, seams and blur are what the refiner fixes.

`load_refined_engine(base, source, path)` takes a refiner folder (PyTorch) or an exported
`.onnx` file (onnxruntime) and refuses one made for another source person. Only the
folder imports torch: with an .onnx file the swap starts without it (~1 s of CPU less).

A refiner whose folder (or export) says it runs at the composited stage
(`facedub refine --stage composited`; facedub.models.crop_refiner) is not run on the
engine's face: the engine is `CompositedRefinedEngine`, and the swap runs its
`refine_composited` on the compositor's finished crop, before the paste-back and the
marks (the compositor's tone and low-pass steps took away what a refiner before it
learnt; BENCHMARKS.md, Refiner, twenty-fifth round).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import cv2
import numpy as np

from facedub.engines.base import EngineFacts, SwapEngine, SwappedFace, TargetFace
from facedub.engines.torch_threads import TORCH_INFERENCE_THREADS, torch_threads
from facedub.errors import FacedubError
from facedub.faces.align import Coverage
from facedub.faces.masks import mask_bounds, three_channels
from facedub.faceset import FaceRecord, Faceset
from facedub.models.crop_refiner_run import (
    TrainedLight,
    load_crop_refiner,
    read_trained_light,
    refiner_stage,
)
from facedub.models.export import onnx_session
from facedub.models.refiner_export import (
    ALPHA_NAME,
    INPUT_NAME,
    OUTPUT_NAME,
    SHOWN_NAME,
    read_refiner_onnx_info,
)
from facedub.models.refiner_run import (
    COMPOSITED_STAGE,
    check_refiner_source,
    is_refiner,
    load_refiner,
)
from facedub.models.run import FacesetInfo, select_device

if TYPE_CHECKING:
    from facedub.models.crop_refiner import CropRefiner
    from facedub.models.refiner import Refiner

log = logging.getLogger(__name__)

DETAIL_LIFT = 1.5  # the most `keep_detail` strengthens the refined face's detail
DETAIL_FLOOR = 0.5  # grey levels: local detail below this counts as flat
# models.refiner.FINE_SIGMA, the fine band's edge at the refiner's size (that module
# imports torch, which a swap with an exported refiner does without).
FINE_SIGMA = 1.5
# The frame's finest band (what a 3x3 Laplacian reads): the refined face's detail finer
# than FRAME_BAND_SIGMA pixels of the crop is strengthened, by at most FRAME_BAND_GAIN
# times itself more, until the face's Laplacian energy there is the target crop's own.
# 0.25: with the refiners trained on today's main, over four job ids (160 frames), the
# split clips' sharpness mismatch against the mesh engine's +0.0097 -> +0.0011 (webcam)
# and +0.0026 -> -0.0063 (d3), the webcam's grain +0.0213 -> -0.0070, the SSIM gains
# kept (+0.0005, +0.0003); at 1 the webcam's gain halved. A band at the refiner's own
# fine scale (3.6 to 5.8 px of a crop) took the whole SSIM gain (BENCHMARKS.md,
# Refiner, twentieth and twenty-first rounds).
FRAME_BAND_SIGMA = 1.0
FRAME_BAND_GAIN = 0.25


class RefinerBackend(Protocol):
    """Runs a refiner: (N, 4, R, R) float32 -> (N, 3, R, R) float32 RGB in [0, 1]."""

    @property
    def res(self) -> int: ...

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


class CropRefinerBackend(Protocol):
    """Runs a composited-stage refiner: shown (1, 3, H, W) and alpha (1, 1, H, W) float32
    in [0, 1] -> (1, 3, H, W) float32, shown with its correction inside the alpha.
    `reach`: the pixels on each side an output pixel reads."""

    @property
    def reach(self) -> int: ...

    def __call__(self, shown: np.ndarray, alpha: np.ndarray) -> np.ndarray: ...


# The backend a refined engine runs (RefinerBackend or CropRefinerBackend).
BackendT = TypeVar("BackendT")


@dataclass(frozen=True)
class RefinerFile:
    """A loaded refiner and what it says about itself."""

    backend: RefinerBackend
    coverage: Coverage
    source: FacesetInfo
    identity: tuple[float, ...] | None
    step: int


class TorchRefiner:
    def __init__(self, model: Refiner, threads: int = TORCH_INFERENCE_THREADS) -> None:
        """`threads`: torch's intra-op threads for a call (one: see torch_threads)."""
        self._model = model.eval()
        self._device = next(model.parameters()).device
        self._threads = threads

    @property
    def res(self) -> int:
        return self._model.args.res

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch  # loaded already with the model; a dict lookup per frame

        with torch_threads(self._threads), torch.inference_mode():
            refined = self._model(torch.from_numpy(x).to(self._device))
        return refined.float().cpu().numpy()  # type: ignore[no-any-return]


class OnnxRefiner:
    def __init__(self, path: Path, res: int, device: str) -> None:
        # One thread: a 128 px face takes a few milliseconds on one core, and the swap's
        # decode, engine and compositor threads keep the other cores busy; a second
        # thread spinning against them made it several times slower (BENCHMARKS.md).
        self._session = onnx_session(path, device, threads=1)
        self._res = res

    @property
    def res(self) -> int:
        return self._res

    def __call__(self, x: np.ndarray) -> np.ndarray:
        (refined,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: x})
        return np.asarray(refined, dtype=np.float32)


class TorchCropRefiner:
    def __init__(self, model: CropRefiner, threads: int = TORCH_INFERENCE_THREADS) -> None:
        """`threads`: torch's intra-op threads for a call (one: see torch_threads)."""
        self._model = model.eval()
        self._device = next(model.parameters()).device
        self._threads = threads

    @property
    def reach(self) -> int:
        return self._model.args.reach

    def __call__(self, shown: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        import torch

        with torch_threads(self._threads), torch.inference_mode():
            refined = self._model(torch.from_numpy(shown).to(self._device),
                                  torch.from_numpy(alpha).to(self._device))
        return refined.float().cpu().numpy()  # type: ignore[no-any-return]


class OnnxCropRefiner:
    def __init__(self, path: Path, reach: int, device: str) -> None:
        self._session = onnx_session(path, device, threads=1)  # as OnnxRefiner's
        self._reach = reach

    @property
    def reach(self) -> int:
        return self._reach

    def __call__(self, shown: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        (refined,) = self._session.run([OUTPUT_NAME], {SHOWN_NAME: shown, ALPHA_NAME: alpha})
        return np.asarray(refined, dtype=np.float32)


@dataclass(frozen=True)
class CropRefinerFile:
    """A loaded composited-stage refiner and what it says about itself (`light`: what
    it was trained under; None for a folder or export from before facedub kept it)."""

    backend: CropRefinerBackend
    coverage: Coverage
    source: FacesetInfo
    identity: tuple[float, ...] | None
    step: int
    light: TrainedLight | None = None


def open_crop_refiner(path: Path, device: str = "auto") -> CropRefinerFile | None:
    """The composited-stage refiner of a folder (PyTorch on `device`) or an exported .onnx
    file (onnxruntime); None where `path` is not one (a mesh-stage refiner, or neither)."""
    path = Path(path)
    if path.is_dir() and is_refiner(path) and refiner_stage(path) == COMPOSITED_STAGE:
        model, info, state = load_crop_refiner(path, select_device(device))
        log.info("composited-stage refiner: step %d, from %s", state.step, path)
        return CropRefinerFile(TorchCropRefiner(model), info.coverage, info.source,
                               info.identity, state.step, read_trained_light(path))
    if path.suffix.lower() == ".onnx" and path.is_file():
        onnx_info = read_refiner_onnx_info(path)
        if onnx_info.stage == COMPOSITED_STAGE:
            return CropRefinerFile(OnnxCropRefiner(path, onnx_info.reach, device),
                                   onnx_info.coverage, onnx_info.source, onnx_info.identity,
                                   onnx_info.step, onnx_info.light)
    return None


def open_refiner(path: Path, device: str = "auto") -> RefinerFile:
    """A mesh-stage refiner folder (PyTorch on `device`) or an exported .onnx file
    (onnxruntime); a composited-stage one is refused (`open_crop_refiner` opens it)."""
    path = Path(path)
    if path.is_dir() and is_refiner(path) and refiner_stage(path) == COMPOSITED_STAGE:
        raise FacedubError(f"{path}: a refiner of the composited crop, which runs after the "
                           "compositor (`open_crop_refiner`), not on the engine's face")
    if path.is_dir() and is_refiner(path):
        model, info, state = load_refiner(path, select_device(device))
        log.info("refiner: %d px, step %d, from %s", info.args.res, state.step, path)
        return RefinerFile(TorchRefiner(model), info.coverage, info.source, info.identity,
                           state.step)
    if path.suffix.lower() == ".onnx" and path.is_file():
        onnx_info = read_refiner_onnx_info(path)
        if onnx_info.stage == COMPOSITED_STAGE:
            raise FacedubError(f"{path}: a refiner of the composited crop, which runs after "
                               "the compositor (`open_crop_refiner`), not on the engine's face")
        return RefinerFile(OnnxRefiner(path, onnx_info.res, device), onnx_info.coverage,
                           onnx_info.source, onnx_info.identity, onnx_info.step)
    raise FacedubError(f"--refiner {path}: not a refiner folder or .onnx file; pass the -o "
                       "folder of `facedub refine` or the file `facedub export` made of it")


def load_refined_engine(base: SwapEngine, source: Faceset, path: Path,
                        device: str = "auto") -> RefinedEngine | CompositedRefinedEngine:
    """`base` (the mesh engine of `source`) followed by the refiner at `path` (on the
    engine's face, or on the composited crop where the refiner says so); refused if the
    refiner was trained for another person or on crops of another coverage."""
    refiner: CropRefinerFile | RefinerFile | None = open_crop_refiner(path, device)
    if refiner is None:
        refiner = open_refiner(path, device)
    check_refiner_source(refiner.source, refiner.identity, str(path), source)
    if refiner.coverage != base.coverage:
        raise FacedubError(f"--refiner {path} was trained on {refiner.coverage!r} crops and "
                           f"the source is {base.coverage!r}; refine again on this source")
    base_facts = base.facts
    if isinstance(refiner, CropRefinerFile):
        facts = EngineFacts(base_facts.name,
                            {**base_facts.settings, "refiner_stage": COMPOSITED_STAGE,
                             "refiner_step": refiner.step, "refiner_device": device},
                            (*base_facts.inputs, ("refiner", path)))
        if refiner.light is None:
            log.warning("--refiner %s keeps no record of the light it was trained under "
                        "(refined before facedub kept one): its band is kept on every "
                        "target's light; refine it on to write one", path)
        return CompositedRefinedEngine(base, refiner.backend, facts, refiner.light)
    facts = EngineFacts(base_facts.name,
                        {**base_facts.settings, "refiner_res": refiner.backend.res,
                         "refiner_step": refiner.step, "refiner_device": device},
                        (*base_facts.inputs, ("refiner", path)))
    return RefinedEngine(base, refiner.backend, facts)


class _RefinerOverEngine(Generic[BackendT]):
    """What both refined engines share: `base`'s facts, crop and coverage (`facts`: the
    base engine's, with the refiner among its inputs), its tracks, `prepare` and `close`;
    `refiner`, the stage's backend, for the subclass to run."""

    def __init__(self, base: SwapEngine, refiner: BackendT, facts: EngineFacts) -> None:
        self._base = base
        self._refiner = refiner
        self._facts = facts

    @property
    def facts(self) -> EngineFacts:
        return self._facts

    @property
    def crop_size(self) -> int:
        return self._base.crop_size

    @property
    def coverage(self) -> Coverage:
        return self._base.coverage

    def end_track(self, track: int) -> None:
        self._base.end_track(track)

    def prepare(self, targets: Sequence[FaceRecord]) -> None:
        """The base engine's `prepare` (what it can make ahead for the target's faces)."""
        prepare = getattr(self._base, "prepare", None)
        if callable(prepare):
            prepare(targets)

    def close(self) -> None:
        self._base.close()


class CompositedRefinedEngine(_RefinerOverEngine[CropRefinerBackend]):
    """A SwapEngine: `base`'s face, unchanged, and `refine_composited`, which the swap
    runs on the compositor's finished crop (swap.FrameSwapper.finish) before the
    paste-back and the marks; `facts`: the base engine's, with the refiner among its
    inputs; `light`: the light the refiner was trained under (None: any light)."""

    def __init__(self, base: SwapEngine, refiner: CropRefinerBackend, facts: EngineFacts,
                 light: TrainedLight | None = None) -> None:
        super().__init__(base, refiner, facts)
        self._light = light

    def swap_face(self, target: TargetFace) -> SwappedFace:
        return self._base.swap_face(target)

    def refine_composited(self, target: TargetFace, image: np.ndarray, alpha: np.ndarray
                          ) -> np.ndarray:
        """The compositor's finished crop `image` with the refiner's correction (see
        `refine_composited`); stateless, so it runs on the compositing thread."""
        return refine_composited(self._refiner, image, alpha, target.image,
                                 target.in_frame, crop_scale(target.face_from_frame),
                                 self._light)


def crop_scale(face_from_frame: np.ndarray) -> float:
    """Crop pixels a frame pixel of the 2x3 similarity `face_from_frame`."""
    return math.sqrt(abs(float(np.linalg.det(face_from_frame[:, :2]))))


# The composited-stage correction keeps only its band finer than this Gaussian (crop
# pixels): the band the oracles put the composited face's error in (1 to 3.6 px of a
# 300 px crop; BENCHMARKS.md, Refiner, twenty-fifth round). Whole, the network trained on
# the webcam split shifted the self-photo pair's face (clip 13, torch light) -20 red
# levels, grey-green at 1x (tone vs neck 0.12 -> 7.35 ΔE, SSIM 0.933 -> 0.914): a colour
# mapping learnt from one clip's light, which its fine band does not carry (twenty-sixth
# round).
CROP_BAND_SIGMA = 3.6
# Alpha below which the composited crop is left as it is: the correction is read back
# from the network's alpha-weighted output (divided by the alpha), and the paste-back
# shows under a grey level of it there.
MIN_ALPHA = 1.0 / 255.0
# The composited band's gain is one of k / BAND_GAIN_STEPS (composited_band_gain).
BAND_GAIN_STEPS = 20
# How much worse than the band left out (gain 0) the face's sharpness mismatch (|log2|)
# may be at the gain kept; the largest gain within it is kept. With none (fifty-second
# round) the webcam split's band was dropped in 26 of its 40 frames, and the d3 split's
# network moved no pixel: its band softens a face the compositor already left softer
# than the target's (1.2-1.3 against 1.3-1.7 mean |Laplacian|, 40 of 40 frames), so any
# of it raised the mismatch. 0.01 is a sixth of the targets' own sharpness change from
# one frame to the next (0.067 log2 on the d3 split, 0.052 on the webcam's); it keeps
# the webcam's band in all 40 frames (face SSIM +0.00065 over the mesh engine against
# +0.00017, tone vs neck and colour flatness lower), and a tenth of the d3 band, which
# the 8-bit crop rounds nearly all away (BENCHMARKS.md, Refiner, thirty-second round).
SHARPNESS_SLACK = 0.01
# L*: how far outside its training faces' lightness (`TrainedLight`, per face) a
# target's face may be lit and keep the band (`fits_light`). The webcam split's network
# trained on faces of 65.7 to 72.1 L*; its band lifts the webcam's own auto-exposure dip
# (45.3 to 54 L*, frames 0-5 of the pair: +0.0004 to +0.0008 face SSIM), and lowers
# every frame of the same man under a torch (20.4 to 40.1 L*, the clip's 88 faces:
# -0.0012 to -0.0029). 23 lies midway between the two (20.4 and 25.6 below the
# training's lowest); chosen on these two targets, the only unfit one measured
# (BENCHMARKS.md, Refiner, twenty-ninth round).
LIGHT_MARGIN = 23.0


def refine_composited(refiner: CropRefinerBackend, image: np.ndarray, alpha: np.ndarray,
                      target_image: np.ndarray, in_frame: np.ndarray | None = None,
                      frame_scale: float = 1.0, light: TrainedLight | None = None
                      ) -> np.ndarray:
    """(S, S, 3) uint8: the compositor's finished crop `image` (S, S, 3) uint8 with the
    composited-stage refiner's correction, so that the paste-back (image * alpha + frame
    * (1 - alpha)) shows what the refiner made of the crop as shown (`image` over
    `target_image` in `alpha`, its training input), its correction's band finer than
    CROP_BAND_SIGMA only, under `composited_band_gain` (read at `frame_scale`, crop
    pixels a frame pixel). `in_frame` (S, S) bool: the crop's pixels inside the frame
    (None: all). Run in the alpha's bounding box grown by the network's reach: inside
    the alpha the same values as on the whole crop. `image` as it is where the target's
    face is lit outside `light`, the light the refiner was trained under (`fits_light`;
    None: any light)."""
    box = mask_bounds(alpha >= MIN_ALPHA)
    if box is None:
        return image
    size = image.shape[0]
    rows, columns = _grown_box(box, size, refiner.reach)
    weight = alpha[rows, columns].astype(np.float32)
    inside = weight >= MIN_ALPHA
    seen = inside if in_frame is None else inside & in_frame[rows, columns]
    if light is not None and not fits_light(
            light, face_lightness(target_image[rows, columns], (weight > 0.5) & seen)):
        return image
    spread = three_channels(weight)
    face = image[rows, columns].astype(np.float32)
    shown = face * spread + target_image[rows, columns].astype(np.float32) * (1.0 - spread)
    shown /= np.float32(255.0)
    refined = refiner(np.ascontiguousarray(shown.transpose(2, 0, 1))[None],
                      np.ascontiguousarray(weight)[None, None])[0].transpose(1, 2, 0)
    # refined - shown is alpha times the network's correction: back to the crop's own
    # pixels, which the paste-back weighs by the alpha again.
    correction = (refined - shown) * np.float32(255.0)
    np.divide(correction, spread, out=correction, where=spread >= MIN_ALPHA)
    correction[~seen] = 0.0
    correction -= _local_mean(correction, seen, CROP_BAND_SIGMA)
    correction[~seen] = 0.0  # the crop beyond the alpha (and the frame) stays
    correction *= np.float32(composited_band_gain(
        shown * np.float32(255.0), correction * spread,
        target_image[rows, columns].astype(np.float32), (weight > 0.5) & seen, frame_scale))
    face += correction
    face += np.float32(0.5)
    out = image.copy()
    out[rows, columns] = np.clip(face, 0, 255).astype(np.uint8)
    return out


def face_lightness(image: np.ndarray, face: np.ndarray) -> float:
    """The mean CIE L* (0..100; sRGB, D65, as OpenCV's RGB to Lab) of `image` (H, W, 3)
    uint8 RGB over `face` (H, W) bool; NaN where `face` is empty. L* is a function of
    the luminance Y alone: read through a table of the sRGB levels' linear values,
    under half the CPU of OpenCV's whole Lab conversion (1.0 against 2.3 ms a 304 px face)."""
    if not face.any():
        return math.nan
    linear = np.take(_SRGB_LINEAR, image[face])  # (N, 3)
    luminance = linear @ _LUMINANCE
    lightness = np.where(luminance > _LAB_EPSILON, 116.0 * np.cbrt(luminance) - 16.0,
                         _LAB_KAPPA * luminance)
    return float(np.mean(lightness))


# sRGB's 256 levels as linear light (IEC 61966-2-1), Y's weights of linear RGB (D65),
# and CIE L*'s threshold and slope below it.
_SRGB_LINEAR = np.where(np.arange(256) / 255.0 <= 0.04045, np.arange(256) / 255.0 / 12.92,
                        ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LUMINANCE = np.array([0.212671, 0.715160, 0.072169], dtype=np.float32)
_LAB_EPSILON, _LAB_KAPPA = 216.0 / 24389.0, 24389.0 / 27.0


def fits_light(light: TrainedLight, lightness: float) -> bool:
    """Whether a face of mean L* `lightness` lies within LIGHT_MARGIN of the light the
    refiner was trained under (a face with no pixels to read, NaN, does not)."""
    return light.low - LIGHT_MARGIN <= lightness <= light.high + LIGHT_MARGIN


def composited_band_gain(shown: np.ndarray, extra: np.ndarray, target_image: np.ndarray,
                         face: np.ndarray, frame_scale: float = 1.0) -> float:
    """The gain k in [0, 1] (steps of 1/BAND_GAIN_STEPS) on the composited stage's band
    `extra` (H, W, 3) float32, what it adds to the crop as shown, `shown` (H, W, 3)
    float32 in 0..255: the most of it under which the face's sharpness (the mean |grey
    Laplacian| over `face` (H, W) bool, the evaluation's `texture_mismatch` statistic)
    is no further from the `target_image`'s than `shown`'s own is, in |log2|: the
    sharpness mismatch does not rise (`to_frame_sharpness` holds the mesh stage's band
    to the frame the same way). Read at the frame's scale: `frame_scale`, crop pixels a
    frame pixel (the crop is shrunk by it first where it is above 1). 1 where `face`
    is empty.

    Whole, the band trained on the webcam split raised that pair's sharpness mismatch
    +0.030 over the mesh engine's (BENCHMARKS.md, Refiner, twenty-sixth round)."""
    if not face.any():
        return 1.0
    planes = [_grey(image) for image in (shown, extra, target_image)]
    if frame_scale > 1.0:
        size = (max(1, round(face.shape[1] / frame_scale)),
                max(1, round(face.shape[0] / frame_scale)))
        planes = [cv2.resize(plane, size, interpolation=cv2.INTER_AREA) for plane in planes]
        face = cv2.resize(face.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        if not face.any():
            return 1.0
    now, more, target = (cv2.Laplacian(plane, cv2.CV_32F)[face] for plane in planes)
    wanted = float(np.mean(np.abs(target)))
    # The Laplacian is linear: the face with k of the band has now + k more.
    gains = np.linspace(1.0, 0.0, BAND_GAIN_STEPS + 1, dtype=np.float32)
    sharpness = np.abs(now[None] + gains[:, None] * more[None]).mean(axis=1)
    if wanted <= 0.0 or sharpness[-1] <= 0.0:
        return 1.0
    mismatch = np.abs(np.log2(np.maximum(sharpness, 1e-6) / wanted))
    return float(gains[int(np.argmax(mismatch <= mismatch[-1] + SHARPNESS_SLACK))])


def _local_mean(values: np.ndarray, where: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) float32: the Gaussian mean of `values` (H, W, C) over the pixels of
    `where` (H, W) bool only (normalised: blur(values * w) / blur(w)), so that a shift
    of the whole face is its own mean up to the alpha's edge and the crop's (a plain
    blur with zeros beyond them kept half of it there: a ring; fifty-first round,
    review). Zero where no pixel of `where` is near."""
    weight = where.astype(np.float32)
    spread = cv2.GaussianBlur(weight, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    summed = cv2.GaussianBlur(values * three_channels(weight), (0, 0), sigma,
                              borderType=cv2.BORDER_CONSTANT)
    spread3 = three_channels(spread)
    mean = np.zeros_like(summed)
    np.divide(summed, spread3, out=mean, where=spread3 > np.float32(1e-6))
    return mean


class RefinedEngine(_RefinerOverEngine[RefinerBackend]):
    """A SwapEngine: `base`'s face, refined. Mask and kept regions stay the base
    engine's; `facts`: the base engine's, with the refiner among its inputs."""

    def swap_face(self, target: TargetFace) -> SwappedFace:
        return self.finish_face(target, self.base_face(target))

    def base_face(self, target: TargetFace) -> SwappedFace:
        """The base engine's face, unrefined: the stage that keeps per-track state."""
        return self._base.swap_face(target)

    def finish_face(self, target: TargetFace, swapped: SwappedFace) -> SwappedFace:
        """`swapped` (base_face's) refined. Stateless, so the swap runs it on the
        compositing thread, which a video source's mesh engine leaves idle part of each
        frame (BENCHMARKS.md, Refiner, eleventh round)."""
        # Everything else the engine said (its masks, kept parts, relief) passes on.
        return replace(swapped, image=refine_face(self._refiner, swapped, target.image))


def refine_face(refiner: RefinerBackend, swapped: SwappedFace,
                target_image: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 RGB: the engine's face over the target crop, plus the refiner's
    correction (computed at the refiner's size, upscaled to S; none where the engine kept
    the target's own pixels), its fine detail lifted back to the engine face's strength
    where the crop is larger than the refiner (`keep_detail`)."""
    size, res = target_image.shape[0], refiner.res
    laid = laid_over_target(swapped.image, target_image, swapped.mask)  # (S, S, 3)
    small = laid if size == res else cv2.resize(laid, (res, res), interpolation=cv2.INTER_AREA)
    small_mask = swapped.mask if size == res else cv2.resize(
        swapped.mask, (res, res), interpolation=cv2.INTER_AREA)
    x = _refiner_input(small, small_mask)
    refined = refiner(x)[0].transpose(1, 2, 0) * 255.0  # (R, R, 3)
    correction = np.subtract(refined, small, out=refined)
    if size != res:
        correction = cv2.resize(correction, (size, size), interpolation=cv2.INTER_LINEAR)
    kept_box = None
    if swapped.kept is not None:
        # The target's own eyes and mouth opening are real pixels: nothing to clean there.
        # Scaled only in the box where they are kept (a sixth of a 440 px crop): beyond
        # it the factor is 1 - 0, which leaves the correction as it is.
        kept_box = mask_bounds(swapped.kept)
        if kept_box is not None:
            correction[kept_box] *= three_channels(1.0 - swapped.kept[kept_box])
    # In place on the correction (its own array from here on): the values of laid +
    # correction, a crop-sized temporary fewer (each is about 0.1 ms at 440 px, and the
    # compositing thread sets the swap's pace with the engine's; BENCHMARKS.md, Swap
    # speed, thirty-first round). The same in place below and in keep_detail.
    refined_face = np.add(correction, laid, out=correction)
    if size != res:
        refined_face = keep_detail(refined_face, laid, swapped.mask, FINE_SIGMA * size / res,
                                   swapped.kept, kept_box)
    refined_face = to_frame_sharpness(refined_face, target_image,
                                      _gate(swapped.mask, swapped.kept, kept_box))
    refined_face += np.float32(0.5)
    return np.clip(refined_face, 0, 255, out=refined_face).astype(np.uint8)


def laid_over_target(face: np.ndarray, target_image: np.ndarray, mask: np.ndarray
                     ) -> np.ndarray:
    """(S, S, 3) float32: `face` (S, S, 3) uint8 over `target_image` (S, S, 3) uint8 in
    `mask`'s (S, S) share; the values of face * mask + target * (1 - mask) in float32,
    worked out in place (two crop-sized temporaries fewer), the mask spread over the
    three channels first (NumPy's products over a broadcast last axis are several times
    slower: `masks.channels_of`)."""
    spread = three_channels(mask)
    laid = face.astype(np.float32)
    laid *= spread
    if mask.dtype != np.float32:
        laid += np.multiply(target_image, three_channels(1.0 - mask), dtype=np.float32)
        return laid
    # A float32 mask: 1 - mask spread is the spread mask's 1 - m, and the target converted
    # first and scaled in place (the ufunc's cast on the fly was slower): the same values.
    under = target_image.astype(np.float32)
    under *= np.subtract(np.float32(1.0), spread, out=spread)
    laid += under
    return laid


def _refiner_input(small: np.ndarray, small_mask: np.ndarray) -> np.ndarray:
    """(1, 4, R, R) float32: the laid face `small` (R, R, 3) float32 in 0..1 and the mask
    (R, R), channels first: the values of the concatenation of small / 255 and the mask,
    transposed, written into one array."""
    res = small.shape[0]
    x = np.empty((1, 4, res, res), dtype=np.float32)
    np.divide(small.transpose(2, 0, 1), 255.0, out=x[0, :3])
    x[0, 3] = small_mask
    return x


def keep_detail(refined: np.ndarray, laid: np.ndarray, mask: np.ndarray, sigma: float,
                kept: np.ndarray | None = None, kept_box: tuple[slice, slice] | None = None
                ) -> np.ndarray:
    """(S, S, 3) float32: `refined` with its detail finer than `sigma` pixels lifted back,
    inside `mask` and outside `kept` (the target's own eyes and mouth, real pixels the
    correction leaves alone), to the local strength it had in `laid` (the engine's face),
    by at most DETAIL_LIFT times; never weakened.

    The refiner's correction, made at its 128 px and enlarged, holds little of the
    frame's finest pixels (the bilinear enlargement's kinks, which the paste-back's
    resampling removes), but it does smooth the band just below its own resolution (2-5
    pixels on a 300 px face): what the loss pays for where the engine's detail sits in
    the wrong place. The face's Laplacian in the frame fell with it, below the mesh
    engine's that was already softer than the target's (the sharpness mismatch;
    BENCHMARKS.md, Refiner, eighth round). Scaling the refined detail keeps where the
    refiner put it and gives back its strength."""
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    smooth = _smooth(refined, sigma)
    detail = np.subtract(refined, smooth, out=smooth)
    laid_luma = laid @ luma
    before = _smooth(laid_luma, sigma)
    np.subtract(laid_luma, before, out=before)
    after = detail @ luma
    # clip(before's strength / max(after's, floor), 1, DETAIL_LIFT) in place on the two
    # maps (each _local_rms's own): two crop-sized temporaries fewer, the same values.
    # The floor taken inside the root (`_local_rms`): one crop-sized pass fewer.
    lift, floored = _local_rms(before, 2 * sigma), _local_rms(after, 2 * sigma, DETAIL_FLOOR)
    np.divide(lift, floored, out=lift)
    np.clip(lift, 1.0, DETAIL_LIFT, out=lift)
    gate = _gate(mask, kept, kept_box)
    # lift = 1 + (lift - 1) * gate, then refined + detail * (lift - 1), step by step in
    # place: the same float32 operations in the same order, so the same values.
    lift -= np.float32(1.0)
    lift *= gate
    lift += np.float32(1.0)
    lift -= np.float32(1.0)
    detail *= three_channels(lift)
    lifted: np.ndarray = np.add(detail, refined, out=detail)
    return lifted


def to_frame_sharpness(face: np.ndarray, target_image: np.ndarray, gate: np.ndarray
                       ) -> np.ndarray:
    """(S, S, 3) float32: `face` with its band finer than FRAME_BAND_SIGMA pixels
    strengthened inside `gate` (S, S) in [0, 1] (the mask without the target's own eyes
    and mouth) until the grey Laplacian energy where `gate` is above one half is the
    `target_image`'s there, by at most FRAME_BAND_GAIN times the band more; never
    weakened (the compositor blurs a face sharper than its frame: `match_sharpness`).

    The compositor only blurs a face (never sharpens one) and its tone step holds the
    face's detail to the target's (`tone.carry_detail`'s limits). The refined face came
    into it a little sharper than the mesh engine's and left it softer (not traced
    further than the tone step, which took 11% of its energy and 6% of the mesh
    engine's): on the webcam split its Laplacian energy went from 0.80
    of the target's to 0.69 against the mesh engine's 0.75 to 0.70, and the sharpness
    mismatch rose over the mesh engine's on both split clips. Strengthened toward what
    the frame's own face says (0.87 and 0.75 of the target crop's energy on the split
    clips before), the webcam's mismatch came to the mesh engine's and d3's rise halved
    at FRAME_BAND_GAIN's limit, both below the mesh engine's without it, for half the
    webcam's SSIM gain (BENCHMARKS.md, Refiner, twentieth round).
    """
    inside = gate > 0.5
    box = mask_bounds(inside)
    if box is None:
        return face
    # The band and the Laplacians in the mask's box, with the blur's reach round it. The
    # gain is read on the grey planes (the band's grey is the grey's band: both linear),
    # a third of the RGB band's cost; the RGB band is made only where it is added.
    rows, columns = _grown_box(box, face.shape[0], 3 * math.ceil(2 * FRAME_BAND_SIGMA) + 2)
    region = face[rows, columns]
    weight = gate[rows, columns]
    within = inside[rows, columns]
    grey = _grey(region)
    wanted = _energy(cv2.Laplacian(_grey(target_image[rows, columns].astype(np.float32)),
                                   cv2.CV_32F)[within])
    now = cv2.Laplacian(grey, cv2.CV_32F)[within]
    if _energy(now) >= wanted:
        # Already as sharp as the crop: _band_gain's first test, before the band's blur
        # and Laplacian (a face sharper than its frame, the photo and cross pairs'
        # refined faces: every face of headturn-man and self-photo).
        return face
    grey_band = grey - cv2.GaussianBlur(grey, (0, 0), FRAME_BAND_SIGMA)
    grey_band *= weight
    gain = _band_gain(now, cv2.Laplacian(grey_band, cv2.CV_32F)[within], wanted)
    if gain <= 0.0:
        return face
    band: np.ndarray = region - cv2.GaussianBlur(region, (0, 0), FRAME_BAND_SIGMA)
    band *= three_channels(weight * np.float32(gain))
    region += band
    return face


def _band_gain(now: np.ndarray, extra: np.ndarray, wanted: float) -> float:
    """The gain k in [0, FRAME_BAND_GAIN] with mean((now + k extra)^2) = `wanted` (the
    Laplacian is linear: the strengthened face's is now + k extra), 0 where `now` is at
    `wanted` already, FRAME_BAND_GAIN where no k in range reaches it."""
    a = _energy(extra)
    b = float(np.mean(now.astype(np.float64) * extra))
    c = _energy(now)
    if c >= wanted or a <= 0.0:
        return 0.0
    gain = min(max((-b + math.sqrt(max(b * b - a * (c - wanted), 0.0))) / a, 0.0),
               FRAME_BAND_GAIN)
    # A band against the face (b < 0: not a high-pass band of it) would take energy away
    # below the root: never weaken.
    return gain if 2.0 * b * gain + a * gain * gain >= 0.0 else 0.0


def _energy(laplacian: np.ndarray) -> float:
    """Mean square of `laplacian`'s values, in float64."""
    return float(np.mean(np.square(laplacian, dtype=np.float64)))


def _grey(image: np.ndarray) -> np.ndarray:
    """(H, W) float32: `image` (H, W, 3) float32 RGB's grey (ITU-R 601 weights, as
    OpenCV's RGB to grey and the realism measures')."""
    grey: np.ndarray = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return grey


def _grown_box(box: tuple[slice, slice], size: int, margin: int) -> tuple[slice, slice]:
    rows, columns = box
    return (slice(max(0, rows.start - margin), min(size, rows.stop + margin)),
            slice(max(0, columns.start - margin), min(size, columns.stop + margin)))


def _gate(mask: np.ndarray, kept: np.ndarray | None, kept_box: tuple[slice, slice] | None
          ) -> np.ndarray:
    """mask * (1 - kept) (`mask` where `kept` is None), the same values: with float32
    planes and `kept_box` (`masks.mask_bounds` of `kept`, found by the caller) only in
    that box (a sixth of the crop), beyond which the factor is 1 - 0."""
    if kept is None:
        return mask
    if kept_box is None or mask.dtype != np.float32 or kept.dtype != np.float32:
        return mask * (1.0 - kept)
    gate = mask.copy()
    gate[kept_box] *= 1.0 - kept[kept_box]
    return gate


def _smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """`image` under a Gaussian of `sigma` pixels; from 5 pixels (crops of 427 px and
    more) worked out at half size and enlarged: within 0.1 grey level on average and 0.7
    at most of the full-size blur on a 512 px crop's skin texture, and a third of its
    cost. Under 5 pixels the half size's error grows to several grey levels."""
    if sigma < 5.0:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    size = image.shape[0]
    half = cv2.resize(image, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
    half = cv2.GaussianBlur(half, (0, 0), sigma * (size // 2) / size)
    smooth: np.ndarray = cv2.resize(half, (size, size), interpolation=cv2.INTER_LINEAR)
    return smooth


def _local_rms(band: np.ndarray, sigma: float, floor: float = 0.0) -> np.ndarray:
    """(S, S) float32: the band's RMS over a Gaussian window of `sigma` pixels, no lower
    than `floor` (0 or more).

    The window is wide (12 px at a 512 px crop), so its map is smooth: it is worked out
    at a size where the window spans about 2 pixels and enlarged, a fraction of the
    full-size blur's cost (BENCHMARKS.md, Refiner, ninth round)."""
    size = band.shape[0]
    step = max(1, int(sigma // 2))
    energy = band * band
    if step == 1:
        rooted = np.sqrt(cv2.GaussianBlur(energy, (0, 0), sigma))
        if floor > 0.0:
            np.maximum(rooted, np.float32(floor), out=rooted)
        return rooted
    small_size = max(1, round(size / step))
    small = cv2.resize(energy, (small_size, small_size), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma * small_size / size)
    # max(., floor squared) and the root in place on the enlarged map: two crop-sized
    # arrays fewer. The floor inside the root is the floor after it to the bit: the
    # float32 root is correctly rounded and never decreasing, and the root of the floor
    # squared is the floor (DETAIL_FLOOR 0.5: 0.25 and 0.5 are exact; checked in the
    # tests on every float32 round it), so max(sqrt(max(x, 0)), f) is sqrt(max(x, f^2)).
    rms: np.ndarray = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    np.maximum(rms, _squared_floor(floor), out=rms)
    return np.sqrt(rms, out=rms)


def _squared_floor(floor: float) -> np.float32:
    """The float32 whose root is `floor` exactly (0 for 0); a floor without one (its
    square is not exact in float32) is refused: the root inside the maximum would not
    be the maximum of the root to the bit."""
    value = np.float32(floor)
    squared = value * value
    if np.sqrt(squared) != value or float(squared) != float(value) ** 2:
        raise ValueError(f"a floor of {floor} has no exact float32 square")
    return squared
