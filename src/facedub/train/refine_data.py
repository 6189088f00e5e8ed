"""Training data of a refiner, from the source person's footage alone (self-reenactment).

Source face i is the truth. Its input is what the mesh engine makes of *other* source
faces warped onto face i's landmarks, degraded the way real targets degrade it. The
frames are cut into short blocks dealt alternately to two pools; the mesh engine that
renders a face of one pool sees only the other pool (and sometimes a thinned copy of it,
so the chosen sources lie at a range of pose and expression distances). The last stretch
of the faces (a video's last frames, a folder's last photos) is held out, with a gap of
faces used by neither before it: its faces, rendered from each other alone, measure
generalisation to frames the refiner never saw, not its fit to their neighbours.

`renderings="halves"` (RENDERINGS) renders them as a swap does instead: the training
faces cut into two contiguous halves, each face rendered from the whole other half (as a
self-swap's target from its own source clip: one stretch of time from another, the
engine choosing among all of it), and the held-out stretch from all the training faces.
The blocks' renderings were four times further from their truth than the pair's
composited faces (SSIM 0.888 held out against 0.9755 at 128 px; BENCHMARKS.md, Refiner,
twenty-third and twenty-fourth rounds).

Arrays at the refiner's resolution R: images (N, R, R, 3) uint8 RGB, masks (N, R, R) uint8.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faces.align import landmarks_in_crop
from facedub.faceset import FaceRecord, Faceset
from facedub.progress import Progress
from facedub.train.data import Batch, FaceSamples, jitter_colour

log = logging.getLogger(__name__)

BLOCK_FRAMES = 6  # consecutive faces per block: neighbours look alike, keep them together
THINNED_SHARES = (1.0, 0.3, 0.1)  # share of the other pool the mesh engine may choose from
# Faces between the training faces and the held-out stretch that neither uses: two blocks
# (at most a twentieth of the faces), about half a second of video.
HOLDOUT_GAP = 2 * BLOCK_FRAMES
MIN_HELD = 4  # two held-out pools of two faces, each rendering the other
MIN_TRAINING = 8
# How the training renderings are made (RefineConfig.renderings): "blocks", alternate
# blocks each rendered from the other pool, thinned at random (THINNED_SHARES); "halves",
# each half of the training faces from the whole other half, unthinned.
RENDERINGS = ("blocks", "halves")


@dataclass(frozen=True)
class RefinePairs:
    """Mesh renderings and the truths they should become.

    `mesh` (N, R, R, 3) uint8 RGB: the mesh engine's face over the truth crop (its own
    pixels where the mesh mask is 0); `mesh_mask` (N, R, R) uint8; `truth` index into
    `faces` for each rendering.
    """

    mesh: np.ndarray
    mesh_mask: np.ndarray
    truth: np.ndarray
    faces: FaceSamples

    def __len__(self) -> int:
        return int(self.mesh.shape[0])


@dataclass(frozen=True)
class FaceSplit:
    """Face indices (into the chosen person's records): two training pools, each rendered
    from the other, and two held-out pools, each rendered from the other (empty when the
    source is too short to hold any out)."""

    train_a: np.ndarray
    train_b: np.ndarray
    held_a: np.ndarray
    held_b: np.ndarray
    renderings: str = "blocks"

    @property
    def held(self) -> np.ndarray:
        return np.sort(np.concatenate([self.held_a, self.held_b]))

    def training_jobs(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """(faces rendered, faces the engine renders them from), per rendering pass."""
        return ((self.train_a, self.train_b), (self.train_b, self.train_a))

    def held_jobs(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The held-out passes: each held-out pool from the other ("blocks"), or the whole
        held-out stretch from every training face ("halves": a swap's target, later in
        time than all of its source); none when nothing is held out."""
        if not len(self.held):
            return ()
        if self.renderings == "halves":
            return ((self.held, np.concatenate([self.train_a, self.train_b])),)
        return ((self.held_a, self.held_b), (self.held_b, self.held_a))

    def thinned_shares(self) -> tuple[float, ...]:
        """Shares of its pool an engine may choose from: a swap's engine has all of its
        source ("halves"); the blocks' engines are thinned at random."""
        return (1.0,) if self.renderings == "halves" else THINNED_SHARES

    def copies(self, per_face: int) -> int:
        """Renderings of each face: an unthinned engine renders a face the same way each
        time, so "halves" makes one."""
        return 1 if self.renderings == "halves" else per_face


def split_faces(count: int, holdout_share: float, renderings: str = "blocks") -> FaceSplit:
    """Blocks of BLOCK_FRAMES faces dealt in turn (shorter blocks for few faces: a folder
    of photos deals them one by one). The last `holdout_share` of the faces (in the
    faceset's order: time for a video, name for photos) is held out and dealt into its own
    two pools; the faces of a gap before it belong to neither, so no training face is a
    near neighbour of a held-out one. None held out when 0 or when either side would be
    too small to render from the other. `renderings="halves"`: the training faces are
    two contiguous halves instead of dealt blocks (the held-out stretch is the same)."""
    size = _block_size(count)
    held_count = round(holdout_share * count)
    gap = min(HOLDOUT_GAP, count // 20)
    training = count - held_count - gap
    if held_count < MIN_HELD or training < MIN_TRAINING:
        held_count, training = 0, count
    if renderings not in RENDERINGS:
        raise ValueError(f"renderings must be one of {RENDERINGS}, not {renderings!r}")
    if renderings == "halves":
        train_a, train_b = np.arange(training // 2), np.arange(training // 2, training)
    else:
        train_a, train_b = _deal(np.arange(training), size)
    # Blocks small enough that each held-out pool gets some.
    held_a, held_b = _deal(np.arange(count - held_count, count),
                           min(size, max(1, held_count // 4)))
    return FaceSplit(train_a, train_b, held_a, held_b, renderings)


def _block_size(count: int) -> int:
    return min(BLOCK_FRAMES, max(1, count // 16))


def _deal(indices: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`indices` cut into blocks of `size` dealt alternately to two pools."""
    pool_of = (np.arange(len(indices)) // size) % 2
    return indices[pool_of == 0], indices[pool_of == 1]


def make_pairs(source: Faceset, faces: FaceSamples, indices: np.ndarray, others: np.ndarray,
               rng: np.random.Generator, per_face: int, progress: Progress,
               shares: tuple[float, ...] = THINNED_SHARES) -> RefinePairs:
    """`per_face` mesh renderings of each face in `indices` from the faces in `others`
    (both index the chosen person's records and `faces`, those records as loaded by
    `load_samples` at the refiner's resolution): the first from all of `others`, the rest
    from an engine thinned to one of `shares` of them at random."""
    records = source.faces_of()
    res = faces.images.shape[1]
    engines = [_engine_over(source, others, share, rng) for share in shares]
    mesh, masks, truth = [], [], []
    work_size = 2 * res  # rendered larger, then reduced, as a swap's crop is
    try:
        for number, index in enumerate(indices):
            for copy in range(per_face):
                engine = engines[int(rng.integers(len(engines)))] if copy else engines[0]
                target = _target_face(source, records[index], work_size,
                                      track=number * 8 + copy)
                swapped = engine.swap_face(target)
                mask = swapped.mask[..., None]
                laid = swapped.image * mask + target.image * (1.0 - mask)
                mesh.append(_reduce(np.clip(laid + 0.5, 0, 255).astype(np.uint8), res))
                masks.append(_reduce(np.round(swapped.mask * 255).astype(np.uint8), res))
                truth.append(index)
            progress.advance()
    finally:
        for engine in engines:
            engine.close()
    log.info("rendered %d mesh faces of %d source faces at %d px", len(mesh), len(indices),
             res)
    return RefinePairs(mesh=np.stack(mesh), mesh_mask=np.stack(masks),
                       truth=np.array(truth, dtype=np.int64), faces=faces)


def _engine_over(source: Faceset, indices: np.ndarray, share: float,
                 rng: np.random.Generator) -> MeshEngine:
    """A mesh engine that may only choose among a random `share` of these faces."""
    records = source.faces_of()
    keep = max(1, round(share * len(indices)))
    chosen = np.sort(rng.choice(indices, size=keep, replace=False))
    subset = tuple(records[int(i)] for i in chosen)
    # The stubble carried as it is: the truth is the source's own face, stubble and all,
    # and a restyled one (its hue taken out) would teach the refiner to put it back. No
    # eye readings: every rendering is a track of one frame, which a reading never acts on.
    # A pool (or its thinned part) may hold only turned faces where the source turns away
    # for a while: the source as a whole was accepted (`refine`), so it is not refused.
    return MeshEngine(replace(source, records=subset),
                      MeshEngineConfig(stubble="as-is", read_eyes=False), refuse_turned=False)


def _target_face(source: Faceset, record: FaceRecord, size: int, track: int) -> TargetFace:
    """A source face as the target of a swap, aligned at `size` px."""
    crop = source.load_image(record)
    scale = size / crop.shape[0]
    image = cv2.resize(crop, (size, size),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    face_from_frame = record.face_from_frame * scale
    return TargetFace(image=image,
                      face_landmarks=landmarks_in_crop(record.frame_landmarks, face_from_frame),
                      face_from_frame=face_from_frame, pose=record.pose,
                      blendshapes=record.blendshapes, time=record.time, track=track)


def _reduce(image: np.ndarray, res: int) -> np.ndarray:
    if image.shape[0] == res:
        return image
    return cv2.resize(image, (res, res), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Degradation:
    """How a real target spoils the mesh engine's face, each applied with probability
    `chance`: `misalign` (share of the side the face slips against its surroundings),
    `light` (colour gain, gamma and a light gradient across the face), `blur` (largest
    Gaussian sigma, pixels at the refiner's resolution), `noise` (largest sigma, in [0, 1]
    units), `jpeg` (lowest JPEG quality of the whole input). `grain_in_truth`: the same noise
    and JPEG hit the truth too, so the refiner keeps grain instead of learning to remove it
    (the compositor matches the target's grain anyway)."""

    chance: float = 0.25
    misalign: float = 0.015
    light: float = 0.2
    blur: float = 1.2
    noise: float = 0.025
    jpeg: int = 35
    grain_in_truth: bool = False


def make_refine_batch(pairs: RefinePairs, chosen: np.ndarray, rng: np.random.Generator,
                      degradation: Degradation) -> Batch:
    """The renderings `chosen`, degraded and randomly mirrored, with their truths, as CPU
    tensors: inputs (B, 4, R, R) (RGB + mesh mask), targets (B, 3, R, R), masks and
    eyes_mouth (B, 1, R, R) of the truth, all float32 in [0, 1]."""
    parts = [degraded_sample(pairs, int(i), rng, degradation) for i in chosen]
    inputs, targets, masks, eyes_mouth = (np.stack(column) for column in zip(*parts, strict=True))
    return Batch(inputs=torch.from_numpy(inputs).permute(0, 3, 1, 2).contiguous(),
                 targets=torch.from_numpy(targets).permute(0, 3, 1, 2).contiguous(),
                 masks=torch.from_numpy(masks)[:, None],
                 eyes_mouth=torch.from_numpy(eyes_mouth)[:, None])


def degraded_sample(pairs: RefinePairs, index: int, rng: np.random.Generator,
                    degradation: Degradation) -> tuple[np.ndarray, ...]:
    """(input (R, R, 4), truth (R, R, 3), face mask (R, R), eyes_mouth (R, R)), float32 in
    [0, 1]. The face layer slips, changes light and blurs; the surroundings (and the eyes
    and mouth the target keeps) stay the truth's; noise and JPEG hit the whole input (and
    the truth, with `grain_in_truth`)."""
    truth_index = int(pairs.truth[index])
    truth = pairs.faces.images[truth_index].astype(np.float32) / 255.0
    face = pairs.mesh[index].astype(np.float32) / 255.0
    mask = pairs.mesh_mask[index].astype(np.float32) / 255.0
    side, chance = face.shape[0], degradation.chance
    if rng.random() < chance:
        face, mask = _slip(face, mask, rng, degradation.misalign * side)
    if rng.random() < chance:
        face = _relight(face, rng, degradation.light)
    if rng.random() < chance:
        face = cv2.GaussianBlur(face, (0, 0), rng.uniform(0.3, degradation.blur))
    laid = face * mask[..., None] + truth * (1.0 - mask[..., None])
    if rng.random() < chance:
        noise = rng.normal(0.0, rng.uniform(0.0, degradation.noise), laid.shape)
        laid = laid + noise
        if degradation.grain_in_truth:
            truth = np.clip(truth + noise, 0.0, 1.0).astype(np.float32)
    laid = np.clip(laid, 0.0, 1.0).astype(np.float32)
    if rng.random() < chance:
        quality = int(rng.integers(degradation.jpeg, 96))
        laid = _jpeg(laid, quality)
        if degradation.grain_in_truth:
            truth = _jpeg(truth, quality)
    sample = [np.concatenate([laid, mask[..., None]], axis=2), truth,
              pairs.faces.masks[truth_index].astype(np.float32) / 255.0,
              pairs.faces.eyes_mouth[truth_index].astype(np.float32) / 255.0]
    if rng.random() < 0.5:
        sample = [np.ascontiguousarray(part[:, ::-1]) for part in sample]
    return tuple(sample)


def _slip(face: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
          pixels: float) -> tuple[np.ndarray, np.ndarray]:
    """Move the face layer and its mask together by a small random similarity: the
    landmark error of a real target."""
    side = face.shape[0]
    centre = (side - 1) / 2.0
    matrix = np.asarray(cv2.getRotationMatrix2D((centre, centre), rng.uniform(-2.0, 2.0),
                                                1.0 + rng.uniform(-0.02, 0.02)), np.float64)
    matrix[:, 2] += rng.uniform(-pixels, pixels, size=2)
    moved = [cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR,
                            borderMode=border)
             for image, border in ((face, cv2.BORDER_REPLICATE), (mask, cv2.BORDER_CONSTANT))]
    return moved[0], moved[1]


def _relight(face: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Another light on the face: per-channel gain, gamma, a linear gradient in a random
    direction, then the brightness, contrast and saturation jitter of training."""
    side = face.shape[0]
    gain = 1.0 + rng.normal(0.0, strength / 2.0, size=3).astype(np.float32)
    gamma = float(np.exp(rng.uniform(-strength, strength)))
    angle = rng.uniform(0.0, 2.0 * np.pi)
    ramp = np.linspace(-0.5, 0.5, side, dtype=np.float32)
    gradient = 1.0 + 2.0 * rng.uniform(-strength, strength) * (
        np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None])
    lit = np.clip(face, 0.0, 1.0) ** gamma * gain * gradient[..., None]
    return jitter_colour(np.clip(lit, 0.0, 1.0).astype(np.float32), rng, strength / 2.0)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through JPEG at `quality` (a float RGB image in [0, 1])."""
    pixels = cv2.cvtColor(np.round(image * 255.0).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        return image
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
