"""The refiner's held-out faces at the swap's crop size: what `refine_face` composites.

Why: a swap composites the mesh face at about the face's own size S (one crop pixel per
frame pixel, swap.compositing_crop_size: 256 to 512 px on the benchmark pairs) plus the
refiner's correction computed at R = 128 px and upscaled (engines.refiner). Judged at R,
a fine band that smooths the face looks harmless (the truth's fine detail is averaged
away at R) while the composited face at S comes out softer than the mesh engine's
(BENCHMARKS.md, Refiner, fifth and sixth rounds). Here held-out source faces are rendered
by the mesh engine at S, their truths kept at S, and a gate's gains are scored on the
faces `refine_face` would make of them: SSIM and the detail energy's mismatch, both at S.

Arrays: images (N, S, S, 3) uint8 RGB; masks (N, S, S) float32 in [0, 1]; the refiner's
inputs (N, 4, R, R) float32 (RGB in [0, 1] and the mesh mask), as refine_face builds them.
Scoring runs per face in OpenCV: the training's dense blur matrices cost S^3 a blur.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from facedub.engines.mesh import MeshEngine
from facedub.engines.refiner import upscale_correction
from facedub.faceset import FaceRecord, Faceset
from facedub.models.refiner import Gains, Refiner
from facedub.swap import compositing_crop_size
from facedub.train.refine_data import FaceSplit, _engine_over, _target_face
from facedub.train.refine_loss import LOW_PASS_DIVISOR, MASK_FLOOR

log = logging.getLogger(__name__)

GATE_FACES = 32  # held-out faces judged at crop size: ~0.5 s of CPU a gain at 512 px
MAX_CROP = 512  # swap's default --max-crop
SSIM_SIGMA, SSIM_TAPS = 1.5, 11  # as train/losses.ssim_map
ENERGY_SIGMA, ENERGY_WINDOW = 1.0, 3.0  # as train/refine_loss.detail_energy
BOX_MARGIN = 16  # px round the face mask: beyond the SSIM and energy blurs' reach
LOW_PASS_STEP = 4.0  # px: the low-pass is taken where its sigma is this (see _low_pass)


@dataclass(frozen=True)
class CropFaces:
    """Held-out source faces rendered by the mesh engine at the crop size S.

    `laid` (N, S, S, 3) float32 0-255: the mesh face over the truth crop (refine_face's
    `laid`); `kept` (N, S, S) float32: where the engine kept the target's own pixels;
    `truth` (N, S, S, 3) uint8; `face_mask` (N, S, S) float32: the truth's face mask;
    `inputs` (N, 4, R, R) float32: `laid` and the mesh mask reduced as refine_face does.
    """

    laid: np.ndarray
    kept: np.ndarray
    truth: np.ndarray
    face_mask: np.ndarray
    inputs: np.ndarray

    def __len__(self) -> int:
        return int(self.laid.shape[0])


@dataclass(frozen=True)
class CropScores:
    """Means over the faces, inside the truth's face mask: `whole` SSIM of the composited
    face, `kept` SSIM of what `--color detail` keeps of it, `energy` the mean |local
    detail energy - the truth's| (grey levels in [0, 1] units; 0: as detailed as the
    truth, larger for a face blurred or grainier)."""

    whole: float
    kept: float
    energy: float


def crop_size_for(records: tuple[FaceRecord, ...], faceset_crop: int, res: int) -> int:
    """The crop size a swap of these faces composites at, within [res, faceset_crop]
    (the truths are the faceset's crops: no finer detail exists)."""
    size = compositing_crop_size(records, faceset_crop, MAX_CROP)
    return int(np.clip(size, res, max(res, faceset_crop)))


def render_crop_faces(source: Faceset, split: FaceSplit, res: int, seed: int
                      ) -> CropFaces | None:
    """Up to GATE_FACES held-out faces, each rendered from the other held-out pool at the
    crop size (None when nothing is held out). Seeded on its own: training draws nothing
    different for it."""
    if not len(split.held_a) or not len(split.held_b):
        return None
    records = source.faces_of()
    size = crop_size_for(tuple(records[int(i)] for i in split.held), source.meta.crop_size,
                         res)
    rng = np.random.default_rng([seed, 4])
    rows: list[tuple[np.ndarray, ...]] = []
    for mine, theirs in ((split.held_a, split.held_b), (split.held_b, split.held_a)):
        chosen = mine[np.linspace(0, len(mine) - 1, min(len(mine), GATE_FACES // 2)).astype(int)]
        engine = _engine_over(source, theirs, 1.0, rng)
        try:
            rows += [_rendered(source, engine, records[int(i)], size, res, track)
                     for track, i in enumerate(np.unique(chosen))]
        finally:
            engine.close()
    log.info("the gate judges %d held-out faces at %d px", len(rows), size)
    laid, kept, truth, face_mask, inputs = (np.stack(column) for column in zip(*rows,
                                                                                strict=True))
    return CropFaces(laid, kept, truth, face_mask, inputs)


def _rendered(source: Faceset, engine: MeshEngine, record: FaceRecord, size: int, res: int,
              track: int) -> tuple[np.ndarray, ...]:
    target = _target_face(source, record, size, track)
    swapped = engine.swap_face(target)
    mask = swapped.mask[..., None]
    laid = swapped.image.astype(np.float32) * mask + target.image * (1.0 - mask)
    kept = np.zeros((size, size), np.float32) if swapped.kept is None else swapped.kept
    face_mask = np.clip(source.load_mask(record).astype(np.float32), 0.0, 1.0)
    if face_mask.shape[0] != size:
        face_mask = np.asarray(cv2.resize(face_mask, (size, size),
                                          interpolation=cv2.INTER_AREA), np.float32)
    small = _reduce(laid, res) / 255.0
    small_mask = _reduce(swapped.mask.astype(np.float32), res)
    inputs = np.concatenate([small, small_mask[..., None]], axis=2).transpose(2, 0, 1)
    return (laid.astype(np.float32), kept.astype(np.float32), target.image, face_mask,
            np.ascontiguousarray(inputs, dtype=np.float32))


def _reduce(image: np.ndarray, res: int) -> np.ndarray:
    if image.shape[0] == res:
        return image
    return cv2.resize(image, (res, res), interpolation=cv2.INTER_AREA)


class CropHeldOut:
    """CropFaces with a refiner's banded correction of them; scores a gate's gains on
    the faces refine_face would composite. Holds the truths' blurs, computed once."""

    def __init__(self, faces: CropFaces, bands: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> None:
        self.faces = faces
        self.bands = bands  # each (N, R, R, 3) float32
        self._truth = [_Truth.of(faces.truth[i], faces.face_mask[i]) for i in range(len(faces))]
        self._scored: dict[Gains, CropScores] = {}  # a gate and its log score gains twice

    def composed(self, index: int, gains: Gains) -> np.ndarray:
        """(S, S, 3) float32 in [0, 1]: refine_face's output for face `index` with `gains`
        (the refiner clamps its face at R, then its correction is upscaled)."""
        small = self.faces.inputs[index, :3].transpose(1, 2, 0)
        gated = sum(gain * band[index] for gain, band in zip(gains, self.bands, strict=True))
        correction = np.clip(small + gated, 0.0, 1.0) - small
        size = self.faces.laid.shape[1]
        up = upscale_correction(correction.astype(np.float32), size)
        up = up * (1.0 - self.faces.kept[index][..., None])
        return np.clip(self.faces.laid[index] / 255.0 + up, 0.0, 1.0)

    def scores(self, gains: Gains) -> CropScores:
        """The faces' mean scores with `gains` (computed once per gains)."""
        gains = (float(gains[0]), float(gains[1]), float(gains[2]))
        if gains not in self._scored:
            values = np.array([self._truth[i].scores(self.composed(i, gains))
                               for i in range(len(self.faces))])
            whole, kept, energy = values.mean(axis=0)
            self._scored[gains] = CropScores(float(whole), float(kept), float(energy))
        return self._scored[gains]


def crop_held_out(model: Refiner, faces: CropFaces, device: torch.device) -> CropHeldOut:
    """The refiner's banded correction of `faces` (eval mode), scored at crop size."""
    parts = []
    with torch.inference_mode():
        for start in range(0, len(faces), 8):
            x = torch.from_numpy(faces.inputs[start:start + 8]).to(device)
            parts.append([band.float().cpu().numpy().transpose(0, 2, 3, 1)
                          for band in model.bands(model.correction(x))])
    low, mid, fine = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return CropHeldOut(faces, (low, mid, fine))


@dataclass(frozen=True)
class _Truth:
    """One truth at crop size and what every score of it needs, inside `box` (the face
    mask's bounding box and a margin wider than every small blur's reach: the scores are
    those of the whole crop, at half its pixels)."""

    box: tuple[slice, slice]
    image: np.ndarray  # (H, W, 3) float32 in [0, 1], the box of the truth
    inside: np.ndarray  # (H, W) float32: the face mask above MASK_FLOOR
    weight: np.ndarray  # (H, W) float32: the soft face mask (SSIM's weights)
    low: np.ndarray  # (H, W, 3): the truth's masked low-pass (the compositor's base)
    spread: np.ndarray  # (H, W): the low-passed `inside`, the low-pass's normaliser
    energy: np.ndarray  # (H, W)
    sigma: float  # of the low-pass: the crop's side / LOW_PASS_DIVISOR

    @staticmethod
    def of(truth: np.ndarray, face_mask: np.ndarray) -> _Truth:
        rows, columns = np.nonzero(face_mask > 0)
        side = face_mask.shape[0]
        if not len(rows):
            rows = columns = np.array([0, side - 1])
        box = (slice(max(0, rows.min() - BOX_MARGIN), min(side, rows.max() + BOX_MARGIN + 1)),
               slice(max(0, columns.min() - BOX_MARGIN),
                     min(side, columns.max() + BOX_MARGIN + 1)))
        image = truth[box].astype(np.float32) / 255.0
        weight = face_mask[box]
        inside = (weight > MASK_FLOOR).astype(np.float32)
        sigma = side / LOW_PASS_DIVISOR
        spread = np.maximum(_low_pass(inside, sigma), 1e-4)
        low = _low_pass(image * inside[..., None], sigma) / spread[..., None]
        return _Truth(box, image, inside, weight, low, spread, detail_energy(image), sigma)

    def scores(self, face: np.ndarray) -> tuple[float, float, float]:
        """(whole SSIM, kept SSIM, energy error) of `face` (S, S, 3) in [0, 1]."""
        face = face[self.box]
        inside = self.inside[..., None]
        face_low = _low_pass(face * inside, self.sigma) / self.spread[..., None]
        kept = inside * (face - face_low + self.low) + (1.0 - inside) * face
        weights = self.weight.sum() + 1e-6
        energy_error = np.abs(detail_energy(face) - self.energy)
        return (float((ssim_map(face, self.image) * self.weight).sum() / weights),
                float((ssim_map(kept, self.image) * self.weight).sum() / weights),
                float((energy_error * self.inside).sum() / max(self.inside.sum(), 1.0)))


def _low_pass(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian low-pass of `sigma` (tens of pixels: the compositor's detail base),
    taken on the image reduced so that sigma is LOW_PASS_STEP px there, then enlarged:
    the band it keeps is smooth at that scale, and a full-size blur cost a quarter of a
    second a face at 512 px."""
    height, width = image.shape[:2]
    factor = max(1.0, sigma / LOW_PASS_STEP)
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    blurred = _blur(small, sigma * small_size[0] / width)
    out: np.ndarray = cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)
    return out


def _blur(image: np.ndarray, sigma: float, taps: int = 0) -> np.ndarray:
    """Gaussian blur with `taps` taps (0: the training's 2 * round(3 sigma) + 1)."""
    taps = taps or 2 * round(3.0 * sigma) + 1
    out: np.ndarray = cv2.GaussianBlur(image, (taps, taps), sigma,
                                       borderType=cv2.BORDER_REFLECT)
    return out


def ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(H, W) SSIM of two (H, W, 3) float32 images in [0, 1], averaged over channels
    (Wang et al. 2004; Gaussian window of sigma 1.5, as train/losses.ssim_map)."""
    c1, c2 = 0.01**2, 0.03**2
    def window(image: np.ndarray) -> np.ndarray:
        return _blur(image, SSIM_SIGMA, SSIM_TAPS)

    mx, my = window(x), window(y)
    vx = window(x * x) - mx * mx
    vy = window(y * y) - my * my
    cov = window(x * y) - mx * my
    value = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return value.mean(axis=2)  # type: ignore[no-any-return]


def detail_energy(image: np.ndarray) -> np.ndarray:
    """(H, W): local RMS of what a Gaussian of ENERGY_SIGMA px removes from (H, W, 3)
    `image`, averaged over a Gaussian window and the channels (as
    train/refine_loss.detail_energy, here at the crop's pixels)."""
    fine = image - _blur(image, ENERGY_SIGMA)
    power = _blur(fine * fine, ENERGY_WINDOW).mean(axis=2)
    return np.sqrt(np.maximum(power, 1e-8))  # type: ignore[no-any-return]
