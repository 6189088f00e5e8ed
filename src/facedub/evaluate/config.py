"""Settings of the evaluate stage, and the head-turn bins every metric is broken down by."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from facedub.errors import FacedubError
from facedub.faces.landmarks import resolve_landmarker_model

# (label, lowest |yaw|, highest |yaw|) in degrees of the *target* face's landmark head pose.
# Swaps usually hold up frontally and fail on turned heads, so each bin is reported alone.
YAW_BINS: tuple[tuple[str, float, float], ...] = (
    ("<15", 0.0, 15.0),
    ("15-30", 15.0, 30.0),
    ("30-45", 30.0, 45.0),
    (">45", 45.0, math.inf),
)


def yaw_bin(yaw: float) -> str:
    """The label of the head-turn bin of a yaw angle in degrees ("" if it is not finite)."""
    turn = abs(yaw)
    for label, low, high in YAW_BINS:
        if low <= turn < high:
            return label
    return ""


@dataclass(frozen=True)
class EvalConfig:
    """What `evaluate` measures and how much of the media it reads.

    identity_every: describe the swapped face's identity (dlib, about 75 ms a face) on every
    Nth frame that has a target face; None picks 1 for clips with up to `identity_budget`
    such frames and spreads `identity_budget` descriptions evenly over longer ones.
    """

    gallery: Path | None = None  # folder of photos/videos, one person per file
    target_person: Path | None = None  # photo of the target person who was swapped
    max_frames: int | None = None  # evaluate only the first N frames
    identity_every: int | None = None
    identity_budget: int = 150
    max_faces: int = 4  # faces per frame the landmark model looks for
    source_frames: int = 60  # frames of a source video sampled for its mean identity
    worst_count: int = 10  # worst frames shown per metric in the report
    strip_frames: int = 8  # evenly spaced frames in the side-by-side strip
    cache_dir: Path | None = None  # where gallery descriptors are cached between runs
    landmarker: Path = field(default_factory=resolve_landmarker_model)  # resolved once
    sheet_worst: int = 3  # worst frames per realism measure on the contact sheet
    sheet_even: int = 4  # evenly spaced frames on the contact sheet

    def __post_init__(self) -> None:
        if self.gallery is not None and not Path(self.gallery).is_dir():
            raise FacedubError(f"--gallery {self.gallery}: not a folder; give a folder of "
                               "photos or videos, one person per file")
        if self.target_person is not None and not Path(self.target_person).is_file():
            raise FacedubError(f"--target-person {self.target_person}: no such file; give a "
                               "photo of the person who was swapped")
        if self.max_frames is not None and self.max_frames < 1:
            raise FacedubError("--max-frames must be at least 1")
        if self.identity_every is not None and self.identity_every < 1:
            raise FacedubError("--identity-every must be at least 1")
        if self.identity_budget < 1:
            raise FacedubError("the identity budget must be at least 1 frame")
        if self.max_faces < 1:
            raise FacedubError("--max-faces must be at least 1")
        if self.source_frames < 1:
            raise FacedubError("--source-frames must be at least 1")
        if min(self.worst_count, self.strip_frames, self.sheet_worst, self.sheet_even) < 0:
            raise FacedubError("--worst, --strip and the sheet's frame counts must be 0 or "
                               "more")

    def identity_step(self, face_frames: int) -> int:
        """Describe every Nth frame with a target face, for a clip with that many."""
        if self.identity_every is not None:
            return self.identity_every
        return max(1, math.ceil(face_frames / self.identity_budget))
