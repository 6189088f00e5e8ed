"""The mesh engine: no training. For each target face, pick the source faces nearest in
head pose and expression, warp their texture over the landmark mesh onto the target, and
blend them. Works from one photo; better from a source video that turns its head.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import cv2
import numpy as np

from facedub.align import Coverage, landmarks_in_crop
from facedub.composite.masks import feather, polygon_mask
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.mesh_clean import clean_weights
from facedub.engines.mesh_shape import FaceShape
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_warp import (
    SourceSampling,
    TargetRaster,
    rasterize,
    source_maps,
    triangle_visibility,
    upsample,
)
from facedub.errors import FacedubError
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

# Blendshapes that change the face's texture (open mouth, closed eyes, smile lines, brows).
EXPRESSION_KEYS = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft",
                   "mouthSmileRight", "mouthPucker", "mouthFunnel", "browInnerUp",
                   "browDownLeft", "browDownRight")
CROP_CACHE_SIZE = 48
BLINK_KEYS = ("eyeBlinkLeft", "eyeBlinkRight")
# The target's kept eyes reach this share of the crop past the eye contour (lids and
# lashes stay the target's, so they meet the source's skin on the lid, not on the lash
# line), and this much more when the target blinks (the whole closed lid is its own).
EYE_MARGIN = 0.012
BLINK_MARGIN = 0.03
CLEAN_ENOUGH = 0.5  # per-pixel clean coverage below which the target's own skin fills in
MIRROR_BELOW = 0.5  # triangle visibility below which the mirrored side helps out ...
MIRROR_PREFERENCE = 2.0  # ... with this much more trust than its visibility alone
T = TypeVar("T")


@dataclass(frozen=True)
class MeshEngineConfig:
    neighbours: int = 3  # source faces blended per target face
    degrees_per_unit: float = 12.0  # pose difference that counts as much as ...
    expression_weight: float = 1.5  # ... this weight times the blendshape difference
    follow: float = 0.35  # share of the new choice per frame; the rest is the last choice
    keep_target_eyes: bool = True  # the target's own eyes: gaze and blinks stay true
    keep_target_mouth: bool = True  # the target's own mouth opening: teeth, tongue
    shape: float = 1.0  # 0: the target's face shape; 1: features moved to the source's

    def __post_init__(self) -> None:
        if not 1 <= self.neighbours <= 16:
            raise FacedubError("--neighbours must be between 1 and 16")
        if not 0.0 < self.follow <= 1.0:
            raise FacedubError("the mesh engine's follow rate must be in (0, 1]")
        if not 0.0 <= self.shape <= 1.0:
            raise FacedubError("the mesh engine's shape strength must be in [0, 1]")


class MeshEngine:
    """Holds the source faces' features and a small cache of their crops, and per target
    track the current blend of source faces (so the texture does not pop)."""

    def __init__(self, source: Faceset, config: MeshEngineConfig | None = None) -> None:
        self.config = config or MeshEngineConfig()
        self._source = source
        self._records = source.faces_of()
        if not self._records:
            raise FacedubError(f"{source.root}: the chosen person has no faces; extract again")
        self._topology = mesh_topology()
        poses = [(r.pose.yaw, r.pose.pitch, r.pose.roll) for r in self._records]
        self._poses = np.array(poses, dtype=np.float64)
        keys = [BLENDSHAPE_NAMES.index(name) for name in EXPRESSION_KEYS]
        self._expressions = np.array([r.blendshapes[keys] for r in self._records])
        self._expression_keys = keys
        source_landmarks = [landmarks_in_crop(r.frame_landmarks, r.face_from_frame)
                            for r in self._records]
        self._vertices = [mesh_vertices(landmarks) for landmarks in source_landmarks]
        self._shape = FaceShape(source_landmarks, self.config.shape)
        self._crops: _Recent[np.ndarray] = _Recent(CROP_CACHE_SIZE)
        self._cleans: _Recent[np.ndarray] = _Recent(CROP_CACHE_SIZE)
        self._samplings: _Recent[SourceSampling] = _Recent(4 * CROP_CACHE_SIZE)
        self._mirrors: _Recent[SourceSampling] = _Recent(4 * CROP_CACHE_SIZE)
        self._blink_keys = [BLENDSHAPE_NAMES.index(name) for name in BLINK_KEYS]
        self._blend_by_track: dict[int, dict[int, float]] = {}

    @property
    def crop_size(self) -> int:
        return self._source.meta.crop_size

    @property
    def coverage(self) -> Coverage:
        return self._source.meta.coverage  # type: ignore[return-value]

    def swap_face(self, target: TargetFace) -> SwappedFace:
        size = target.image.shape[0]
        landmarks = self._shape.moved(target.track, target.face_landmarks)
        vertices = mesh_vertices(landmarks)
        raster = rasterize(vertices, mesh_depths(landmarks), size, self._topology)
        # The target itself, reshaped like the source: its kept eyes and mouth move with it.
        reshaped = self._reshaped_target(target, raster, size)
        total = np.zeros((size, size, 3), dtype=np.float32)
        weight_sum = np.zeros((size, size), dtype=np.float32)
        coverage = np.zeros((size, size), dtype=np.float32)  # clean source share per pixel
        for index, weight in self._choose_sources(target).items():
            self._add_source(index, weight, raster, size, total, weight_sum, coverage)
        covered = weight_sum > 1e-6
        image = reshaped.copy()
        image[covered] = total[covered] / weight_sum[covered, None]
        # Nothing clean to show (hair over the source's forehead on both sides, outside a
        # cut-off photo): the target's own skin, which the compositor tones like the rest.
        own = np.clip(1.0 - coverage / CLEAN_ENOUGH, 0.0, 1.0)[..., None]
        image += own * (reshaped - image)
        kept = self._kept(raster, size, target, landmarks)
        image += kept[..., None] * (reshaped - image)
        image_u8 = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        valid = upsample(np.ones(len(raster.triangle), dtype=np.float32), raster, size)
        return SwappedFace(image=image_u8, mask=feather(valid, erode=2, blur=max(2, size // 96)),
                           kept=kept)

    def _add_source(self, index: int, weight: float, raster: TargetRaster, size: int,
                    total: np.ndarray, weight_sum: np.ndarray, coverage: np.ndarray) -> None:
        """Accumulate one source face's warped texture, trusted per pixel by how well the
        source shows each triangle and how clean its pixels are. Where the source turns a
        triangle away or shows no clean skin there (hair, outside the photo), its mirror
        image on the other side of the face fills in; the weights are smoothed so that no
        triangle edge shows where direct and mirrored texture meet."""
        clean = self._clean(index)
        direct = self._sampling(index)
        mirror = self._mirror(index)
        smooth = size / 48.0
        texture, cleanness = self._warp(index, raster, direct.triangles, size, clean)
        trust = _smooth_upsample(weight * (direct.visibility[raster.triangle] + 1e-3),
                                 raster, size, smooth) * (cleanness + 1e-3)
        total += texture * trust[..., None]
        weight_sum += trust
        coverage += weight * cleanness
        turned_away = np.clip(1.0 - direct.visibility / MIRROR_BELOW, 0.0, 1.0)
        need = np.maximum(_smooth_upsample(turned_away[raster.triangle], raster, size, smooth),
                          1.0 - cleanness)
        if float(need.max()) < 0.05:
            return
        texture, cleanness = self._warp(index, raster, mirror.triangles, size, clean)
        used = cleanness * need
        trust = _smooth_upsample(weight * (mirror.visibility[raster.triangle] + 1e-3),
                                 raster, size, smooth) * (used + 1e-3) * MIRROR_PREFERENCE
        total += texture * trust[..., None]
        weight_sum += trust
        coverage += weight * used * (1.0 - coverage.clip(0, 1))

    def _warp(self, index: int, raster: TargetRaster, triangles: np.ndarray, size: int,
              clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(texture (S, S, 3) float32, cleanness (S, S) float32) of a source face warped
        onto the target raster through `triangles` (direct or mirrored)."""
        map_x, map_y = source_maps(raster, self._vertices[index], triangles, size)
        texture = cv2.remap(self._crop(index), map_x, map_y, cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        cleanness = cv2.remap(clean, map_x, map_y, cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        return texture, cleanness

    def _reshaped_target(self, target: TargetFace, raster: TargetRaster, size: int
                         ) -> np.ndarray:
        """(S, S, 3) float32: the target crop warped from its own mesh onto the moved one."""
        image = target.image.astype(np.float32)
        if self.config.shape <= 0:
            return image
        map_x, map_y = source_maps(raster, mesh_vertices(target.face_landmarks),
                                   self._topology.triangles, size)
        warped = cv2.remap(target.image, map_x, map_y, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        covered = map_x >= 0
        image[covered] = warped[covered]
        return image

    def _sampling(self, index: int) -> SourceSampling:
        """Every triangle sampled from itself, with how well the source shows it."""
        def plan() -> SourceSampling:
            triangles = self._topology.triangles
            return SourceSampling(triangles, triangle_visibility(
                self._vertices[index], self._topology.template_vertices, triangles))
        return self._samplings.get(index, plan)

    def _mirror(self, index: int) -> SourceSampling:
        """Every triangle sampled from its mirror image on the other side of the face."""
        def plan() -> SourceSampling:
            mirror = self._topology.mirror
            visibility = triangle_visibility(self._vertices[index],
                                             self._topology.template_vertices, mirror)
            return SourceSampling(triangles=mirror, visibility=visibility)
        return self._mirrors.get(index, plan)

    def _clean(self, index: int) -> np.ndarray:
        record = self._records[index]
        return self._cleans.get(index, lambda: clean_weights(
            self._crop(index), landmarks_in_crop(record.frame_landmarks,
                                                 record.face_from_frame)))

    def _crop(self, index: int) -> np.ndarray:
        return self._crops.get(index, lambda: self._source.load_image(self._records[index]))

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

    def _kept(self, raster: TargetRaster, size: int, target: TargetFace,
              landmarks: np.ndarray) -> np.ndarray:
        """(S, S) float32: where the target keeps its own eyes and mouth opening (feathered
        a little so lids and lips meet softly). The kept eyes reach past their contour over
        the lashes, further when the target blinks."""
        kept = np.zeros((size, size), dtype=np.float32)
        if self.config.keep_target_mouth:
            mouth = upsample(self._topology.mouth_opening[raster.triangle].astype(np.float32),
                             raster, size)
            kept = feather(mouth, erode=-2, blur=max(2, size // 96))
        if self.config.keep_target_eyes:
            kept = np.maximum(kept, self._kept_eyes(target, size, landmarks))
        return kept

    def _kept_eyes(self, target: TargetFace, size: int, landmarks: np.ndarray) -> np.ndarray:
        """(S, S) float32: the eye openings of `landmarks`, grown by EYE_MARGIN (plus
        BLINK_MARGIN times how closed the target's eyes are) and feathered."""
        regions = mesh_regions()
        points = landmarks[:, :2]
        eyes = np.maximum(polygon_mask(points[regions.left_eye], size),
                          polygon_mask(points[regions.right_eye], size))
        blink = float(np.max(target.blendshapes[self._blink_keys]))
        grow = round(size * (EYE_MARGIN + BLINK_MARGIN * float(np.clip(blink, 0.0, 1.0))))
        kept = feather(eyes, erode=-max(1, grow), blur=max(2, size // 48))
        return np.clip(kept, 0.0, 1.0)


def _smooth_upsample(values: np.ndarray, raster: TargetRaster, size: int, sigma: float
                     ) -> np.ndarray:
    """Per-covered-pixel values (P,) as a (size, size) float32 image, Gaussian-smoothed
    (`sigma` in crop pixels) at the raster's resolution, 0 where uncovered."""
    small = np.zeros(raster.size * raster.size, dtype=np.float32)
    small[raster.pixels] = values
    blurred = cv2.GaussianBlur(small.reshape(raster.size, raster.size), (0, 0),
                               max(0.5, sigma * raster.scale))
    resized: np.ndarray = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
    return resized


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
