"""What every swap engine takes and gives, so the compositor never knows which one ran."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from facedub.faces.align import Coverage
from facedub.types import HeadPose


@dataclass(frozen=True)
class TargetFace:
    """One face of the target, aligned to the engine's crop.

    `image` (S, S, 3) uint8 RGB crop of the target frame; `face_landmarks` (478, 3) in crop
    pixels; `face_from_frame` 2x3; `blendshapes` (52,); `time` in seconds, and `track`, so
    an engine may keep per-track temporal state. `in_frame` (S, S) bool: the crop's pixels
    that lie inside the frame (facedub.faces.geometry.crop_in_frame; None: all of them),
    the rest being black fill where the frame's edge cuts the face. `person`: the target
    person's mean identity descriptor (128,) over the analysed clip (None: unknown, as
    live), so an engine can tell another person from the source's own other footage.
    """

    image: np.ndarray
    face_landmarks: np.ndarray
    face_from_frame: np.ndarray
    pose: HeadPose
    blendshapes: np.ndarray
    time: float
    track: int
    in_frame: np.ndarray | None = None
    person: np.ndarray | None = None


@dataclass(frozen=True)
class SwappedFace:
    """The source person's face in the target's crop.

    `image` (S, S, 3) uint8 RGB; `mask` (S, S) float32 in [0, 1]: where the engine's face
    is valid (the compositor intersects it with the target's landmark mask); `kept`
    (S, S) float32 in [0, 1] or None: where `image` shows the target's own pixels (its eyes
    and mouth opening, possibly moved with the face shape), which the compositor leaves
    uncoloured; `kept_image` (S, S, 3) uint8 or None: those pixels of the target alone
    (`image` mixes them with the source's where `kept` is partial), what the compositor
    pastes back (None: `image`). `relief` in [0, 1]: how much of `image`'s own middle-scale
    lightness (its face's relief, its brows' and sockets' tone) the compositor keeps over
    the target's (`composite.tone.carry_detail`); 0: the target's, as for a face of the
    target's own shape. `hair` (S, S) float32 in [0, 1] or None: where `image`'s darkness
    is hair (the source's stubble, `engines.mesh_stubble`), which the compositor greys as
    it darkens (`composite.tone.carry_detail`). `kept_source` (S, S) float32 in [0, 1] or
    None: the share of `kept_image` around the eyes that is the source's own (the mesh
    engine's toned source eyes, less the target's catchlights laid over them), which the
    compositor blurs down to the target's own eye detail there, as it does the rest of
    the face (`composite.detail.sharpness_sigma`); None or 0: none of the eyes' kept
    image is the source's. It covers the eyes only: the mesh engine's kept image is the
    target's own where its lips and the skin round them are kept (the engine's image
    there, which holds the untoned source by 1 - kept, put a dark ring round the shouting
    photo's kept lips: BENCHMARKS.md, Realism, fifty-sixth round); round the kept opening
    alone and in the kept corners' share its feathered edge still holds the source's
    pixels (kept * (1 - kept) of them, up to a quarter), uncounted. `socket_light`: whether
    the face's coarse shading over its sockets is the source's light (a photo's top
    light): the compositor then takes both faces' base there from their own skin
    (`composite.tone.carry_detail`'s `socket_skin`), which
    takes that shading off; False: the sockets as any skin, the source's own deep lids
    kept (the mesh engine says False for a video source). `corners` (S, S) float32 in
    [0, 1] or None: the share of `kept` that is the target's own mouth corners (the skin
    round them, kept for the smile read off their shade), whose smooth colour the compositor
    takes from the coloured face round them, keeping their own detail
    (`composite.compositor.corners_toned`); None: no such pixels.
    """

    image: np.ndarray
    mask: np.ndarray
    kept: np.ndarray | None = None
    kept_image: np.ndarray | None = None
    relief: float = 0.0
    hair: np.ndarray | None = None
    kept_source: np.ndarray | None = None
    socket_light: bool = True
    corners: np.ndarray | None = None


@dataclass(frozen=True)
class EngineFacts:
    """What the provenance of a swap records about its engine, given by the engine itself:
    `name` (its key in `facedub.engines.registry.ENGINES`), `settings` (JSON values), and
    `inputs` as (role, path), e.g. ("source", photo) or ("model", run folder)."""

    name: str
    settings: Mapping[str, Any]
    inputs: tuple[tuple[str, Path], ...]


class SwapEngine(Protocol):
    """An engine works at one crop size and coverage; the swap stage aligns target faces
    to them before calling `swap_face`. `facts` describes it for the provenance."""

    @property
    def facts(self) -> EngineFacts: ...

    @property
    def crop_size(self) -> int: ...

    @property
    def coverage(self) -> Coverage: ...

    def swap_face(self, target: TargetFace) -> SwappedFace: ...

    def end_track(self, track: int) -> None:
        """The target track has no more faces: drop what the engine keeps of it (a long
        video has a track per shot; kept, their state grew by about 0.4 MB each)."""

    def close(self) -> None:
        """Close what the engine holds open (the mesh engine's landmarker for its eye
        readings, else nothing); it can still swap after, opening it again."""
