"""Training data: a faceset's chosen person as arrays, yaw-balanced sampling, augmentation.

Every face is held in memory at the training resolution (a 256 px face is 0.2 MB), so a
step never waits on PNG decoding. Images are (R, R, 3) uint8 RGB; masks (R, R) uint8.
Batches are made from a generator seeded by (seed, step, person): a resumed run draws the
same batches it would have drawn without the stop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from facedub.faces.align import landmarks_in_crop
from facedub.faces.masks import feather, polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Augmentation:
    """How strongly to distort training faces; 0 turns a distortion off.

    `warp` scales the random non-linear warp applied to the input only (the target stays
    sharp: learning to undo the warp is what makes the autoencoder generalise). The rest
    apply to input and target alike: `flip` (mirror half the faces), `rotate` (degrees),
    `scale` (relative), `shift` (share of the side), `colour` (brightness, contrast and
    saturation jitter).
    """

    warp: float = 0.5
    flip: bool = True
    rotate: float = 10.0
    scale: float = 0.05
    shift: float = 0.05
    colour: float = 0.1


@dataclass(frozen=True)
class FaceSamples:
    """One person's faces at the training resolution.

    `images` (N, R, R, 3) uint8 RGB; `masks` (N, R, R) uint8, the faceset's soft face
    mask; `eyes_mouth` (N, R, R) uint8, a soft mask of eyes and mouth; `yaw` (N,) degrees;
    `frames` (N,) the frame index of each face.
    """

    images: np.ndarray
    masks: np.ndarray
    eyes_mouth: np.ndarray
    yaw: np.ndarray
    frames: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: np.ndarray) -> FaceSamples:
        return FaceSamples(self.images[indices], self.masks[indices],
                           self.eyes_mouth[indices], self.yaw[indices], self.frames[indices])


@dataclass(frozen=True)
class Batch:
    """A batch on the training device: `inputs` (B, 3, R, R) warped, `targets` (B, 3, R, R),
    both float RGB in [0, 1]; `masks` and `eyes_mouth` (B, 1, R, R) in [0, 1]."""

    inputs: torch.Tensor
    targets: torch.Tensor
    masks: torch.Tensor
    eyes_mouth: torch.Tensor

    def to(self, device: torch.device, channels_last: bool = False) -> Batch:
        fmt = torch.channels_last if channels_last else torch.contiguous_format

        def move(x: torch.Tensor) -> torch.Tensor:
            return x.to(device, non_blocking=True).contiguous(memory_format=fmt)

        return Batch(move(self.inputs), move(self.targets), move(self.masks),
                     move(self.eyes_mouth))


def load_samples(faceset: Faceset, res: int) -> FaceSamples:
    """The chosen person's crops, masks and eye/mouth masks, resized to `res`."""
    records = faceset.faces_of()
    scale = res / faceset.meta.crop_size
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    images, masks, eyes_mouth = [], [], []
    for record in records:
        image = cv2.resize(faceset.load_image(record), (res, res), interpolation=interpolation)
        mask = cv2.resize(faceset.load_mask(record), (res, res), interpolation=cv2.INTER_AREA)
        landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame) * scale
        images.append(image)
        masks.append(np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8))
        eyes_mouth.append(eyes_mouth_mask(landmarks, res))
    return FaceSamples(
        images=np.stack(images), masks=np.stack(masks), eyes_mouth=np.stack(eyes_mouth),
        yaw=np.array([r.pose.yaw for r in records], dtype=np.float32),
        frames=np.array([r.frame for r in records], dtype=np.int64))


def eyes_mouth_mask(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) uint8 soft mask of both eyes and the mouth, grown a little so the
    lids and lip edges count too."""
    regions = mesh_regions()
    hard = np.zeros((size, size), dtype=np.float32)
    for loop in (regions.left_eye, regions.right_eye, regions.lips_outer):
        hard = np.maximum(hard, polygon_mask(face_landmarks[loop], size))
    grow = max(1, size // 32)
    soft = feather(hard, erode=-grow, blur=2 * grow)
    return np.round(soft * 255).astype(np.uint8)


def split_holdout(samples: FaceSamples, every: int) -> tuple[FaceSamples, FaceSamples]:
    """(training, held-out): every `every`-th face is held out (none when 0, or when the
    person has too few faces to spare). Neighbouring frames look alike, so held-out faces
    measure fit to this footage more than generalisation to new footage."""
    count = len(samples)
    if every == 0 or count < 2 * every:
        return samples, samples.subset(np.zeros(0, dtype=np.int64))
    held = np.arange(count) % every == every // 2
    return samples.subset(np.flatnonzero(~held)), samples.subset(np.flatnonzero(held))


def sampling_weights(yaw: np.ndarray, bin_width: float, balance: float) -> np.ndarray:
    """(N,) probabilities that sum to 1: faces grouped in yaw bins of `bin_width` degrees;
    a bin of n faces is drawn with weight n^(1 - balance), its faces equally. balance 0
    draws faces uniformly; 1 draws every bin equally, however rare its head turn."""
    if bin_width <= 0 or len(yaw) == 0:
        return np.full(len(yaw), 1.0 / max(len(yaw), 1))
    bins = np.floor(yaw / bin_width).astype(np.int64)
    _, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    per_bin = counts.astype(np.float64) ** (1.0 - balance)
    weights: np.ndarray = per_bin[inverse] / counts[inverse]
    return weights / float(weights.sum())


def make_batch(samples: FaceSamples, weights: np.ndarray, size: int,
               rng: np.random.Generator, augmentation: Augmentation) -> Batch:
    """`size` augmented faces drawn with `weights` (with replacement), as CPU tensors."""
    chosen = rng.choice(len(samples), size=size, p=weights)
    parts = [augment_face(samples.images[i], samples.masks[i], samples.eyes_mouth[i], rng,
                          augmentation) for i in chosen]
    return _to_batch(parts)


def draw_batch(samples: FaceSamples, weights: np.ndarray, size: int,
               seed: tuple[int, ...], augmentation: Augmentation,
               shard: slice | None = None) -> Batch:
    """The faces `shard` (default: all) of a batch of `size` drawn with `weights`, as CPU
    tensors. The choice and each face's augmentation are seeded by `seed` and the face's
    place in the batch alone, so the shards of several processes put together are exactly
    the batch one process draws (see facedub.train.distributed)."""
    chosen = np.random.default_rng(seed).choice(len(samples), size=size, p=weights)
    places = range(size)[shard or slice(None)]
    parts = [augment_face(samples.images[chosen[i]], samples.masks[chosen[i]],
                          samples.eyes_mouth[chosen[i]], np.random.default_rng([*seed, i]),
                          augmentation) for i in places]
    return _to_batch(parts)


def _to_batch(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> Batch:
    inputs, targets, masks, eyes_mouth = (np.stack(column) for column in zip(*parts, strict=True))
    return Batch(inputs=torch.from_numpy(inputs).permute(0, 3, 1, 2).contiguous(),
                 targets=torch.from_numpy(targets).permute(0, 3, 1, 2).contiguous(),
                 masks=torch.from_numpy(masks)[:, None],
                 eyes_mouth=torch.from_numpy(eyes_mouth)[:, None])


def augment_face(image: np.ndarray, mask: np.ndarray, eyes_mouth: np.ndarray,
                 rng: np.random.Generator,
                 augmentation: Augmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray]:
    """(input, target, mask, eyes_mouth) float32 in [0, 1]: images (R, R, 3), masks (R, R).

    The same flip, rotation, scale, shift and colour jitter go to all; the non-linear warp
    only to the input."""
    side = image.shape[0]
    matrix = random_affine(side, rng, augmentation)

    def move(pixels: np.ndarray, border: int) -> np.ndarray:
        return cv2.warpAffine(pixels, matrix, (side, side), flags=cv2.INTER_LINEAR,
                              borderMode=border)
    target = move(image, cv2.BORDER_REPLICATE).astype(np.float32) / 255.0
    target = jitter_colour(target, rng, augmentation.colour)
    moved_mask = move(mask, cv2.BORDER_CONSTANT).astype(np.float32) / 255.0
    moved_eyes_mouth = move(eyes_mouth, cv2.BORDER_CONSTANT).astype(np.float32) / 255.0
    source = random_warp(target, rng, augmentation.warp) if augmentation.warp > 0 else target
    return source, target, moved_mask, moved_eyes_mouth


def random_affine(side: int, rng: np.random.Generator,
                  augmentation: Augmentation) -> np.ndarray:
    """2x3 matrix: a random rotation, scale and shift about the centre, mirrored half of
    the time when flips are on."""
    angle = rng.uniform(-augmentation.rotate, augmentation.rotate)
    scale = 1.0 + rng.uniform(-augmentation.scale, augmentation.scale)
    centre = (side - 1) / 2.0
    matrix = np.asarray(cv2.getRotationMatrix2D((centre, centre), angle, scale), np.float64)
    matrix[:, 2] += rng.uniform(-augmentation.shift, augmentation.shift, size=2) * side
    if augmentation.flip and rng.random() < 0.5:
        # Mirror first (x -> side - 1 - x), then rotate: compose the two affines.
        matrix = matrix @ np.array([[-1.0, 0.0, side - 1.0], [0.0, 1.0, 0.0], [0, 0, 1.0]])
    return matrix.astype(np.float64)


def jitter_colour(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Random brightness, contrast and saturation change of a float RGB image in [0, 1]."""
    if strength <= 0:
        return image
    grey = image.mean(axis=2, keepdims=True)
    image = grey + (image - grey) * (1.0 + rng.uniform(-strength, strength))  # saturation
    mean = float(image.mean())
    image = mean + (image - mean) * (1.0 + rng.uniform(-strength, strength))  # contrast
    image = image + rng.uniform(-strength, strength) * 0.5  # brightness
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def random_warp(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Bend the image with a smooth random displacement field (DeepFaceLab's
    gen_warp_params): offsets drawn on a coarse grid of 3, 5 or 9 points a side, with a
    spread of a quarter of a grid cell, interpolated to every pixel. Borders stay put."""
    side = image.shape[0]
    points = int(rng.choice([3, 5, 9]))
    cell = side / (points - 1)
    offsets = rng.normal(0.0, 0.24 * cell * strength, size=(2, points, points))
    offsets[:, [0, -1], :] = 0.0
    offsets[:, :, [0, -1]] = 0.0
    dx, dy = (cv2.resize(o.astype(np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
              for o in offsets)
    grid_y, grid_x = np.mgrid[0:side, 0:side].astype(np.float32)
    return cv2.remap(image, grid_x + dx, grid_y + dy, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
