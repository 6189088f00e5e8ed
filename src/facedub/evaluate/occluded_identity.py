"""Identity with the kept occluders taken out alike: what dlib reads of the face itself.

Where the swap keeps what covers the target face (its glasses frames, a microphone, a
hand; facedub.composite.occlusion), the output shows the target's pixels there, and
dlib's descriptor, which glasses move a long way, then reads the target in every frame
(issue 15: 0% nearer the source on both glasses pairs). That is not the face's identity.
So on such frames the nearer-the-source measure compares the swapped face with the target
face of the same frame and with the source's faces, with the kept region filled in the
same way in all three (inpainted from its surroundings, in the aligned crop, which shares
its template with every other face's crop): the region no longer tells them apart, and
the rest of the face does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from facedub.evaluate.source_skin import source_faces
from facedub.faces.align import landmarks_in_crop
from facedub.faces.masks import face_mask
from facedub.faceset import Faceset

KEPT = 0.5  # mask value from which a pixel counts as kept (the target's)
# A frame whose kept region covers less of the face than this is measured as it is:
# stray specks do not change a face's identity, and pairs without occluders stay as they
# were.
MIN_SHARE = 0.01
INPAINT_RADIUS = 3
SOURCE_FACES = 4  # source faces described per measured frame (dlib: about 75 ms each)


class Describer(Protocol):
    def describe(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(128,) descriptor of the face with these landmarks (facedub.faces.identity)."""
        ...


@dataclass(frozen=True)
class SourceCrop:
    """One source face in the same aligned-crop space as the target's crops."""

    image: np.ndarray  # (S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (478, 2+) in its pixels


@dataclass(frozen=True)
class FilledDescriptors:
    """Descriptors with the kept region filled: the swapped face, the target face of the
    same frame, the source's faces' mean; `share` of the face that was filled."""

    swapped: np.ndarray
    target: np.ndarray
    source: np.ndarray
    share: float


def source_crops(source: Path, faceset: Faceset, target: Faceset,
                 count: int = SOURCE_FACES) -> tuple[SourceCrop, ...]:
    """Up to `count` faces of `source` (analysed in `faceset`) as crops in the space of
    the `target` analysis's crops; none where the two crops differ in size or coverage,
    or the source's frames cannot be read back (the frames are then measured as usual)."""
    if (faceset.meta.crop_size, faceset.meta.coverage) != (target.meta.crop_size,
                                                           target.meta.coverage):
        return ()
    return tuple(SourceCrop(crop, landmarks_in_crop(record.frame_landmarks,
                                                    record.face_from_frame))
                 for record, crop in source_faces(source, faceset, count))


def kept_region(occluded: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(S, S) uint8 region to fill (255) from the occlusion mask `occluded` (S, S) in
    [0, 1], grown by two pixels so that its soft edge goes too, and its share of the face
    (`landmarks` in the crop's pixels)."""
    size = occluded.shape[0]
    region = (occluded >= KEPT).astype(np.uint8) * 255
    face = face_mask(landmarks, size, forehead=True) > 0.5
    share = float((region[face] > 0).mean()) if face.any() else 0.0
    return np.asarray(cv2.dilate(region, np.ones((5, 5), np.uint8)), np.uint8), share


def filled(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`image` (S, S, 3) uint8 with `region` inpainted from its surroundings."""
    return cv2.inpaint(np.ascontiguousarray(image), region, INPAINT_RADIUS, cv2.INPAINT_TELEA)


def filled_descriptors(encoder: Describer, target: np.ndarray, swapped: np.ndarray,
                       landmarks: np.ndarray, occluded: np.ndarray,
                       sources: Sequence[SourceCrop]) -> FilledDescriptors | None:
    """The descriptors of `swapped` and `target` (aligned crops of one frame, the target
    face's `landmarks` in their pixels) and of the `sources` with the region that
    `occluded` keeps filled alike in all of them; None where it keeps too little of the
    face to matter (MIN_SHARE) or there is no source crop."""
    region, share = kept_region(occluded, landmarks)
    if share < MIN_SHARE or not sources:
        return None
    source = np.mean([encoder.describe(filled(face.image, region), face.landmarks)
                      for face in sources], axis=0).astype(np.float32)
    return FilledDescriptors(encoder.describe(filled(swapped, region), landmarks),
                             encoder.describe(filled(target, region), landmarks), source,
                             share)
