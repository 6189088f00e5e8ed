"""The mesh engine: no training. For each target face, pick the source faces nearest in
head pose and expression, warp their texture over the landmark mesh onto the target, and
blend them. Works from one photo; better from a source video that turns its head.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np

from facedub.engines.base import EngineFacts, SwappedFace, TargetFace
from facedub.engines.mesh_expression import region_weights, target_expression_lines
from facedub.engines.mesh_mouth import keep_target_interior, mouth_interior
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import (
    SourceSampling,
    TargetRaster,
    plan_sampling,
    rasterize,
    source_maps,
    upsample,
)
from facedub.errors import FacedubError
from facedub.faces.align import Coverage, landmarks_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import feather
from facedub.faceset import Faceset

# Blendshapes that change the face's texture (open mouth, closed eyes, smile lines, brows).
EXPRESSION_KEYS = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft",
                   "mouthSmileRight", "mouthPucker", "mouthFunnel", "browInnerUp",
                   "browDownLeft", "browDownRight")
CROP_CACHE_SIZE = 48
T = TypeVar("T")


@dataclass(frozen=True)
class MeshEngineConfig:
    neighbours: int = 3  # source faces blended per target face
    degrees_per_unit: float = 12.0  # pose difference that counts as much as ...
    expression_weight: float = 1.5  # ... this weight times the blendshape difference
    follow: float = 0.35  # share of the new choice per frame; the rest is the last choice
    keep_target_eyes: bool = True  # the target's own eyes: gaze and blinks stay true
    keep_target_mouth: bool = True  # the target's own mouth opening: teeth, tongue
    target_expression_lines: bool = True  # smile folds, crow's feet... follow the target

    def __post_init__(self) -> None:
        if not 1 <= self.neighbours <= 16:
            raise FacedubError("--neighbours must be between 1 and 16")
        if not 0.0 < self.follow <= 1.0:
            raise FacedubError("the mesh engine's follow rate must be in (0, 1]")


class MeshEngine:
    """Holds the source faces' features and a small cache of their crops, and per target
    track the current blend of source faces (so the texture does not pop)."""

    def __init__(self, source: Faceset, config: MeshEngineConfig | None = None,
                 source_path: Path | None = None) -> None:
        """`source_path`: the media the faceset was extracted from, as the provenance names
        it (default: the faceset folder)."""
        self.config = config or MeshEngineConfig()
        self._facts = EngineFacts("mesh", asdict(self.config),
                                  (("source", Path(source_path or source.root)),))
        self._source = source
        self._records = source.faces_of()
        if not self._records:
            raise FacedubError(f"{source.root}: the chosen person has no faces; extract again")
        self._topology = mesh_topology()
        poses = [(r.pose.yaw, r.pose.pitch, r.pose.roll) for r in self._records]
        self._poses = np.array(poses, dtype=np.float64)
        keys = [BLENDSHAPE_NAMES.index(name) for name in EXPRESSION_KEYS]
        self._blendshapes = np.array([r.blendshapes for r in self._records])
        self._expressions = self._blendshapes[:, keys]
        self._expression_keys = keys
        self._vertices = [mesh_vertices(landmarks_in_crop(r.frame_landmarks, r.face_from_frame))
                          for r in self._records]
        self._crops: _Recent[np.ndarray] = _Recent(CROP_CACHE_SIZE)
        self._interiors: _Recent[np.ndarray] = _Recent(CROP_CACHE_SIZE)
        self._samplings: _Recent[SourceSampling] = _Recent(4 * CROP_CACHE_SIZE)
        self._blend_by_track: dict[int, dict[int, float]] = {}

    @property
    def facts(self) -> EngineFacts:
        return self._facts

    @property
    def crop_size(self) -> int:
        return self._source.meta.crop_size

    @property
    def coverage(self) -> Coverage:
        return self._source.meta.coverage

    def swap_face(self, target: TargetFace) -> SwappedFace:
        size = target.image.shape[0]
        vertices = mesh_vertices(target.face_landmarks)
        raster = rasterize(vertices, mesh_depths(target.face_landmarks), size, self._topology)
        total = np.zeros((size, size, 3), dtype=np.float32)
        interior_total = np.zeros((size, size), dtype=np.float32)
        weight_sum = np.zeros((size, size), dtype=np.float32)
        blend = self._choose_sources(target)
        for index, weight in blend.items():
            sampling = self._sampling(index)
            map_x, map_y = source_maps(raster, self._vertices[index], sampling.triangles, size)
            texture = cv2.remap(self._crop(index), map_x, map_y, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
            # Trust each pixel as much as the source shows the triangle it came from.
            trust = upsample(weight * (sampling.visibility[raster.triangle] + 1e-3), raster,
                             size)
            total += texture * trust[..., None]
            weight_sum += trust
            if self.config.keep_target_mouth:
                interior_total += trust * cv2.remap(
                    self._interior(index), map_x, map_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        covered = weight_sum > 1e-4
        image = target.image.astype(np.float32)
        image[covered] = total[covered] / weight_sum[covered, None]
        mask = self._mask(raster, size)
        if self.config.keep_target_mouth:
            interior = np.zeros((size, size), dtype=np.float32)
            interior[covered] = interior_total[covered] / weight_sum[covered]
            image, mask = keep_target_interior(image, mask, target.image, interior)
        image_u8 = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        if self.config.target_expression_lines:
            source_blendshapes = sum(w * self._blendshapes[i] for i, w in blend.items())
            weights = region_weights(np.asarray(source_blendshapes), target.blendshapes)
            image_u8 = target_expression_lines(image_u8, target.image, target.face_landmarks,
                                               weights)
        return SwappedFace(image=image_u8, mask=mask)

    def _sampling(self, index: int) -> SourceSampling:
        return self._samplings.get(
            index, lambda: plan_sampling(self._vertices[index], self._topology))

    def _crop(self, index: int) -> np.ndarray:
        return self._crops.get(index, lambda: self._source.load_image(self._records[index]))

    def _interior(self, index: int) -> np.ndarray:
        record = self._records[index]
        return self._interiors.get(index, lambda: mouth_interior(
            self._crop(index), landmarks_in_crop(record.frame_landmarks, record.face_from_frame)))

    def _choose_sources(self, target: TargetFace) -> dict[int, float]:
        """Blend weights of the nearest source faces, eased over time per target track."""
        config = self.config
        pose = np.array([target.pose.yaw, target.pose.pitch, target.pose.roll])
        pose_distance = np.abs(self._poses - pose) / config.degrees_per_unit
        pose_distance[:, 2] *= 0.4  # roll is mostly undone by the alignment
        expression = target.blendshapes[self._expression_keys]
        distance = (np.linalg.norm(pose_distance, axis=1) + config.expression_weight
                    * np.linalg.norm(self._expressions - expression, axis=1))
        count = min(config.neighbours, len(distance))
        nearest = np.argpartition(distance, count - 1)[:count]
        fresh = 1.0 / (distance[nearest] + 0.05)
        fresh /= fresh.sum()
        previous = self._blend_by_track.get(target.track, {})
        blend = {int(i): config.follow * float(w) for i, w in zip(nearest, fresh, strict=True)}
        for index, weight in previous.items():
            blend[index] = blend.get(index, 0.0) + (1.0 - config.follow) * weight
        kept = dict(sorted(blend.items(), key=lambda item: -item[1])[:count + 2])
        norm = sum(kept.values())
        kept = {index: weight / norm for index, weight in kept.items() if weight / norm > 0.02}
        self._blend_by_track[target.track] = kept
        return kept

    def _mask(self, raster: TargetRaster, size: int) -> np.ndarray:
        """Where the warped face is valid, minus the eye and mouth openings the target
        keeps (feathered a little so lids and lips meet softly)."""
        keep = np.zeros(len(self._topology.triangles), dtype=bool)
        if self.config.keep_target_eyes:
            keep |= self._topology.eye_openings
        if self.config.keep_target_mouth:
            keep |= self._topology.mouth_opening
        valid = upsample((~keep[raster.triangle]).astype(np.float32), raster, size)
        return feather(valid, erode=2, blur=max(2, size // 96))


class _Recent(Generic[T]):
    """The most recently used values by source index; the blend changes slowly, so a few
    dozen crops cover it while memory stays flat however long the source video is."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._values: OrderedDict[int, T] = OrderedDict()

    def get(self, key: int, make: Callable[[], T]) -> T:
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = make()
        self._values[key] = value
        if len(self._values) > self._capacity:
            self._values.popitem(last=False)
        return value
