"""The source's own lips from its faces whose mouth fits the target's, where the faces
chosen for the whole face have a mouth more open, wider or more smiling than the target's.

There the engine used to show the target's own lips and the skin round them
(`mesh_mouth.target_lips_share`): a stretched source mouth warped over closed lips reads
as a smile or a shout. But the target's lips are who the target is: on older-glasses
(d10's smiling clip onto an older woman who talks with her mouth nearly closed) they held
the face to the target in most frames. A source video has other faces whose mouth is no
more open or stretched than the target's (d10: 7-60 of 448 for every one of those 40
target frames): their lips, warped over the target's lip outline, keep the target's
opening and expression and show the source's lips. A photo source has no other face, and
a self-swap shows the target's own lips as before.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_choice import eased_nearest, pose_distances
from facedub.engines.mesh_mouth import LIP_BLENDSHAPES, lips_shares
from facedub.engines.mesh_sources import SourceFaces
from facedub.engines.mesh_warp import (
    TargetRaster,
    clamped_maps,
    smooth_upsample,
    source_maps,
    split_rgba,
)
from facedub.faces.landmarks import BLENDSHAPE_NAMES

# The mouth's blendshapes a face is chosen by, besides the head pose.
MOUTH_KEYS = (*LIP_BLENDSHAPES, "mouthPucker", "mouthFunnel", "mouthClose")
# What a face's own `target_lips_share` costs in its distance: a face that would need the
# target's lips back (share 1) is 4 units of distance further (48 degrees of pose at
# the engine's defaults), so a fitting mouth is taken before a nearer pose.
SHARE_COST = 4.0
CLEAN_MIN = 0.05  # the mouth faces' summed clean weight below which the blend stays


class SourceMouths:
    """Per target track, the eased blend of the source faces whose mouth fits the
    target's. `poses` (N, 3) yaw, pitch, roll in degrees and `blendshapes` (N, 52) of the
    source faces; `degrees_per_unit`, `expression_weight`, `neighbours` and `follow` as in
    the engine's own choice (MeshEngineConfig)."""

    def __init__(self, poses: np.ndarray, blendshapes: np.ndarray, degrees_per_unit: float,
                 expression_weight: float, neighbours: int, follow: float) -> None:
        self._poses = poses
        self._blendshapes = blendshapes
        self._keys = [BLENDSHAPE_NAMES.index(name) for name in MOUTH_KEYS]
        self._mouths = blendshapes[:, self._keys]
        self._degrees_per_unit = degrees_per_unit
        self._expression_weight = expression_weight
        self._neighbours = neighbours
        self._follow = follow
        self._by_track: dict[int, dict[int, float]] = {}

    def choose(self, track: int, pose: np.ndarray, target_blendshapes: np.ndarray
               ) -> dict[int, float]:
        """Blend weights (summing to 1) of the source faces nearest the target face's
        `pose` (3,) and mouth (`target_blendshapes` (52,)) among those whose lips need no
        target lips over them, eased over the track's frames like the engine's choice."""
        distance = (pose_distances(self._poses, pose, self._degrees_per_unit)
                    + self._expression_weight * np.linalg.norm(
                        self._mouths - target_blendshapes[self._keys], axis=1)
                    + SHARE_COST * lips_shares(self._blendshapes, target_blendshapes))
        kept = eased_nearest(distance, self._by_track.get(track, {}), self._neighbours,
                             self._follow)
        norm = sum(kept.values())
        kept = {index: weight / norm for index, weight in kept.items()}
        self._by_track[track] = kept
        return kept

    def blendshapes(self, blend: dict[int, float]) -> np.ndarray:
        """(52,) the blend's weighted blendshapes."""
        return np.asarray(sum(weight * self._blendshapes[i] for i, weight in blend.items()))

    def forget(self, track: int) -> None:
        self._by_track.pop(track, None)


def warped_mouths(faces: SourceFaces, vertices: list[np.ndarray], blend: dict[int, float],
                  raster: TargetRaster, size: int, box: tuple[slice, slice]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The faces of `blend` warped onto the target raster of an (S, S) crop (`size` S)
    inside `box`, each triangle from itself: (H, W, 3) float32 RGB texture, (H, W) float32
    clean share in [0, 1] (0 where they show little clean skin, CLEAN_MIN of the blend and
    below) and (H, W) float32 mouth interior (teeth, cavity) in [0, 1]."""
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    total = np.zeros((height, width, 3), dtype=np.float32)
    trust = np.zeros((height, width), dtype=np.float32)
    cleanness = np.zeros((height, width), dtype=np.float32)
    interior = np.zeros((height, width), dtype=np.float32)
    for index, weight in blend.items():
        crop = faces.clean_crop(index)
        sampling = faces.sampling(index)
        map_x, map_y = source_maps(raster, vertices[index], sampling.triangles, size, box)
        texture, clean = split_rgba(cv2.remap(crop, *clamped_maps(map_x, map_y, crop.shape),
                                              cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REPLICATE))
        clean *= np.float32(weight) * (map_x >= 0)
        # Trusted by how well each face shows each triangle, as the whole face is: a face
        # turned away gives little of its far lip corner, foreshortened.
        seen = smooth_upsample(sampling.visibility[raster.triangle] + 1e-3, raster, size,
                               size / 48.0)[box] * clean
        total += texture * seen[..., None]
        trust += seen
        cleanness += clean
        interior += np.float32(weight) * cv2.remap(
            faces.interior(index), map_x, map_y, cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    texture = total / np.maximum(trust, 1e-6)[..., None]
    return (texture, np.clip((cleanness - CLEAN_MIN) / (1.0 - CLEAN_MIN), 0.0, 1.0),
            np.clip(interior, 0.0, 1.0))
