"""Which swapped frame and face belong to which target frame and face.

Frames are paired by time, not index, so an output from another tool that dropped or
duplicated a frame stays aligned; a target frame with no swapped frame near its time is
reported as missing. Faces are paired by box overlap with the target person's face.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.errors import FacedubError
from facedub.faces.track import box_iou
from facedub.types import FaceObservation

log = logging.getLogger(__name__)

# A swap reshapes the face a little (jaw, forehead), so its landmark box moves less than
# a neighbour's face would: half the target box overlapping is the same face.
PAIR_MIN_OVERLAP = 0.4


@dataclass(frozen=True)
class FramePair:
    """A target frame and the swapped frame shown at the same time.

    `swapped` is (H, W, 3) uint8 RGB at the target's size (resized if the output differs),
    or None where the swapped media has no frame near this time.
    """

    target: media.Frame
    swapped: np.ndarray | None


def same_kind(target: Path, swapped: Path) -> tuple[media.MediaInfo, media.MediaInfo]:
    """Both files probed; refused where one is a photo and the other a video."""
    target_info, swapped_info = media.probe(target), media.probe(swapped)
    if target_info.kind != swapped_info.kind:
        raise FacedubError(f"--swapped {swapped}: is a {swapped_info.kind} but the target is "
                           f"a {target_info.kind}; give the swap output of this target")
    return target_info, swapped_info


def check_kinds(target: Path, swapped: Path) -> tuple[media.MediaInfo, media.MediaInfo]:
    """`same_kind`, and a warning where the sizes differ (frames are resized to measure)."""
    target_info, swapped_info = same_kind(target, swapped)
    if (target_info.width, target_info.height) != (swapped_info.width, swapped_info.height):
        log.warning("%s is %dx%d, the target %dx%d: swapped frames are resized to the target's "
                    "size before measuring", swapped.name, swapped_info.width,
                    swapped_info.height, target_info.width, target_info.height)
    return target_info, swapped_info


def paired_frames(target: Path, swapped: Path, target_info: media.MediaInfo,
                  limit: int | None) -> Iterator[FramePair]:
    """Target frames in order (the first `limit` of them), each with its swapped frame."""
    period = 1.0 / float(target_info.fps) if target_info.fps else 1.0
    tolerance = 0.5 * period + 1e-3
    size = (target_info.width, target_info.height)
    outputs = media.iter_frames(swapped)
    current, following = next(outputs, None), next(outputs, None)
    for index, frame in enumerate(media.iter_frames(target)):
        if limit is not None and index >= limit:
            return
        # Step the swapped stream forward while its next frame is at least as near in time.
        while following is not None and (
                abs(following.time - frame.time) <= abs(_time(current) - frame.time)):
            current, following = following, next(outputs, None)
        image = None
        if current is not None and abs(current.time - frame.time) <= tolerance:
            image = _resized(current.image, size)
        yield FramePair(frame, image)


def match_face(target_box: tuple[float, float, float, float],
               swapped_faces: Sequence[FaceObservation]) -> FaceObservation | None:
    """The swapped face that overlaps the target person's box most, if any overlaps enough."""
    best, best_overlap = None, PAIR_MIN_OVERLAP
    for face in swapped_faces:
        overlap = box_iou(target_box, face.box)
        if overlap >= best_overlap:
            best, best_overlap = face, overlap
    return best


def _time(frame: media.Frame | None) -> float:
    return frame.time if frame is not None else float("inf")


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
