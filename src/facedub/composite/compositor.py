"""The compositor: from an engine's face to the finished target crop. Shared by every
engine. Keeps, per target track, the state that makes video steady: filtered landmarks
and eased colour statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facedub.composite.band_jaw import jaw_band
from facedub.composite.blend import (
    BLEND_METHODS,
    beyond_cuts_in_box,
    feather_blend,
    poisson_blend,
    reach_parts,
    rim_weights,
)
from facedub.composite.color import (
    COLOR_METHODS,
    ColorStats,
    apply_lut,
    from_lab,
    histogram_lut,
    masked_stats,
    reinhard_transfer,
    relight,
    to_lab,
)
from facedub.composite.detail import (
    filled_beyond_frame,
    match_sharpness,
    resized,
    sharpness_sigma,
    texture_box,
)
from facedub.composite.glasses_tracks import glasses_by_track
from facedub.composite.grain import GrainLevels, add_grain, grain_levels
from facedub.composite.light_change import LightFrame, light_change, owned_brows, owned_features
from facedub.composite.lips import MIN_PIXELS, TargetMouth, own_lip_colour, target_mouth
from facedub.composite.mouth import SpeechFilter
from facedub.composite.nose_base import flat_band
from facedub.composite.occlusion import (
    OCCLUSION_MODES,
    OccluderModel,
    OcclusionMasks,
    edge_occluders,
    edge_zones,
)
from facedub.composite.occlusion_cues import with_lens_highlights
from facedub.composite.tone import (
    SkinWeights,
    brow_weights,
    carry_detail,
    eye_band_weights,
    lid_weights,
    region_box,
    skin_weights,
    socket_skin_weights,
    socket_weights,
    surround_weights,
)
from facedub.composite.tone_eyes import eye_makeup
from facedub.engines.base import SwappedFace, TargetFace
from facedub.errors import FacedubError
from facedub.faces.masks import BETWEEN_EYES, mask_bounds
from facedub.faces.regions import MOUTH_CORNERS
from facedub.faceset import FaceRecord, Faceset

# Per frame, the blur of the source's kept eyes moves this share of the way to the one
# measured (the target's eye detail there is a few hundred pixels: it wavers).
EYE_SIGMA_EASING = 0.5
DETAIL_SIGMA_DIVISOR = 16.0  # colour method "detail": low-pass sigma is the crop / this
RIM_SIGMA_DIVISOR = 64.0  # the far rim's lightness matched at this fraction of the crop


@dataclass(frozen=True)
class CompositeConfig:
    color: str = "detail"  # detail | reinhard | histogram | none (see COLOR_METHODS)
    blend: str = "feather"  # feather | poisson
    mask_erode: int = 5  # pixels at a 256 px crop; scaled with the crop
    mask_blur: int = 15  # feather width, pixels at a 256 px crop; scaled with the crop
    forehead: bool = True  # the mask reaches above the landmark oval
    relight: float = 0.8  # 0: off; 1: the target's full low-frequency shading
    smooth_landmarks: bool = True
    keep_occluders: bool = True  # hair at the face's edges is not swapped, either way
    occlusion: str = "auto"  # auto: hands, glasses, objects in front stay in front | off
    color_easing: float = 0.3  # share of the new frame's colour statistics
    grain: bool = True  # add the frame's grain to a face smoother than it
    # A moving light's finer marks taken (`light_change`): on self-photo's torch frames
    # the face SSIM 0.900 -> 0.914 and blobs 0.0068 -> 0.0012; the lit face reads
    # farther from the unlit photo (nearer the source 13 -> 9 of 31), as the lit target
    # frame itself does. Only a light that is added: the other 25 pairs are untouched
    # (BENCHMARKS.md, fifty-second to fifty-fourth rounds).
    follow_light: bool = True

    def __post_init__(self) -> None:
        if self.color not in COLOR_METHODS:
            raise FacedubError(f"--color {self.color}: use one of {', '.join(COLOR_METHODS)}")
        if self.blend not in BLEND_METHODS:
            raise FacedubError(f"--blend {self.blend}: use one of {', '.join(BLEND_METHODS)}")
        if not 0 <= self.mask_erode <= 64:
            raise FacedubError("--mask-erode must be between 0 and 64 pixels")
        if not 0 <= self.mask_blur <= 128:
            raise FacedubError("--mask-blur must be between 0 and 128 pixels")
        if not 0.0 <= self.relight <= 1.0:
            raise FacedubError("--relight must be between 0 and 1")
        if self.occlusion not in OCCLUSION_MODES:
            raise FacedubError(f"--occlusion {self.occlusion}: use one of "
                               f"{', '.join(OCCLUSION_MODES)}")
        if not 0.0 < self.color_easing <= 1.0:
            raise FacedubError("colour easing must be in (0, 1]")


@dataclass(frozen=True)
class Composited:
    """The finished crop (S, S, 3) uint8 RGB and the share of it that replaces the frame,
    `alpha` (S, S) float32; `occluded` (S, S) float32 in [0, 1], what was found in front
    of the face and kept (None with --occlusion off)."""

    image: np.ndarray
    alpha: np.ndarray
    occluded: np.ndarray | None = None


@dataclass
class _ColourState:
    source_stats: ColorStats | None = None
    target_stats: ColorStats | None = None
    lut: np.ndarray | None = None
    grain: GrainLevels | None = None
    eye_sigma: float | None = None  # the blur of the source's kept eyes, eased
    light: tuple[LightFrame, ...] = ()  # the target's last frames' light (`light_change`)


def box_around(share: np.ndarray, sigma: float) -> tuple[slice, slice] | None:
    """The box round where `share` (S, S) is above 0, grown by a Gaussian of `sigma`'s
    reach (so a blur inside it gives the whole crop's pixels there); None where it is 0
    everywhere."""
    rows, columns = np.flatnonzero(share.any(axis=1)), np.flatnonzero(share.any(axis=0))
    if not rows.size:
        return None
    reach = math.ceil(3 * sigma) + 1
    height, width = share.shape
    return (slice(max(0, rows[0] - reach), min(height, rows[-1] + 1 + reach)),
            slice(max(0, columns[0] - reach), min(width, columns[-1] + 1 + reach)))


def _blurred_around(image: np.ndarray, share: np.ndarray, sigma: float) -> np.ndarray:
    """`image` (S, S, 3) uint8 Gaussian-blurred by `sigma` inside the box where `share`
    (S, S) is above 0 (the same pixels there as blurring the whole crop: the box is read
    with a margin the kernel's reach wide); elsewhere as it is."""
    box = box_around(share, sigma)
    if box is None:
        return image
    result = image.copy()
    result[box] = cv2.GaussianBlur(np.ascontiguousarray(image[box]), (0, 0), sigma)
    return result


# The reach of the kept mouth corners' smooth colour, in mouth widths: a corner disc's
# radius (`engines.mesh_mouth.CORNER_RADIUS`).
CORNER_SIGMA = 0.2
# The kept corners are toned only as far as one of them is more colourful than the coloured
# face round it (Lab chroma over its kept pixels, the more colourful corner's, ramped from
# CORNER_CHROMA_FROM to full at CORNER_CHROMA_FULL): that is a patch (hair-band-photo's
# boy, his near corner +4.5 to +6.0 over Rose Leslie's toned skin on every frame: a brown
# patch at 1x). Corners as colourful or greyer are the target's own hair or shade (the
# twitch streamer's moustache ends under Kit Harington's skin: -3.4 to +1.0 near, -7.7 to
# -0.3 far), and their colour is part of what the smile is read from: toned, they turned
# redder (far corner a +2.5 to +6) and hair-forehead's smile read 36 -> 34 and 34 -> 30 of
# 40 at ids own and 101. Both corners by the one reading: skin or hair is the person's,
# while the chroma follows the light (the boy's lit far corner, -0.9 to +3.4, toned with
# the near one, read his smile 39 of 40 at his own id; left as it was, 37). The ramp sits
# between photo-to-mouth's d18 (his corners +0.5 to +3.5 over Rowan Atkinson's skin on the
# 11 frames that keep them; toned from 2, his tone vs neck read 0.970 -> 0.978) and the
# boy's +4.5 (BENCHMARKS.md, forty-ninth and fiftieth rounds).
CORNER_CHROMA_FROM = 3.8
CORNER_CHROMA_FULL = 4.4
# ... and not on a target wearing lipstick: her lips' colour reaches her corners and is part
# of the lip outline the smile is read from. Katie Hill's lips stand 28.1-33.9 Lab a/b
# units off her skin round them (`lip_contrast`, readme-photo's 40 frames): her corners
# toned, readme-photo's smile read 158 -> 154 of 160 over four ids and nearer the source
# 158 -> 157. The boy's bare lips stand 15.0-17.1 off his (hair-band-photo, his corners
# toned: smile 151 -> 154), d18's 12.6-13.6, the streamer's 14.3-17.4, the older woman's
# (expr-smile-older) 23.3-25.5. The corners are toned in full below LIPSTICK_FROM and not
# at all from LIPSTICK_FULL. The corner's own colour does not part them: both pairs' kept
# corners sit at the skin's end of the line from the target's skin to its lips (-0.1 to
# +0.4 of the way) and both are yellower than the skin (the boy's near corner b +5,
# her far corner +8; BENCHMARKS.md, fiftieth round).
LIPSTICK_FROM = 21.0
LIPSTICK_FULL = 23.0
# ... and only as far as the target's own corner stands off its own skin round its lips
# (`corner_off_skin`, Lab a/b): the boy's near corner is a shade of his own, 5.84-11.61
# off his skin; d18's corners under Paul Rudd's photo (expr-neutral) are his skin's
# colour, 1.57-2.02 off it (photo-to-mouth's 1.40-2.31, the older woman's 1.55-1.64),
# and toned, expr-neutral's smile read 158 -> 157 of 160 over four ids (frames 1, 2, 4
# flipping both ways at the bar) and its grain mismatch rose at three of them. None at
# OFF_SKIN_FROM, in full from OFF_SKIN_FULL.
OFF_SKIN_FROM = 3.0
OFF_SKIN_FULL = 5.0


def mouth_width(face_landmarks: np.ndarray) -> float:
    """The distance between the mouth corners of `face_landmarks` (478, 2+)."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    return float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))


def _weighted_low(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """(h, w, 3) float32: `image`'s (h, w, 3) mean colour in a Gaussian of `sigma` pixels,
    weighted by `weight` (h, w) float32."""
    total = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None] + np.float32(1e-6)
    return np.asarray(cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma) / total,
                      dtype=np.float32)


def lip_contrast(image: np.ndarray, face_landmarks: np.ndarray,
                 mouth: TargetMouth | None = None) -> float | None:
    """How far the lips of `image` (S, S, 3) uint8 stand off the skin round them: the
    distance in Lab a/b between the mean of its lips' cores (`lips.lip_zones`, inside the
    outline of `face_landmarks` (478, 2+), away from the corners) and of the ring of skin
    round them; None where either is too small to measure (under MIN_PIXELS). `mouth`:
    `lips.target_mouth(image, face_landmarks)` where the caller has made it."""
    mouth = target_mouth(image, face_landmarks) if mouth is None else mouth
    if mouth is None:
        return None
    zones = mouth.zones
    lips = zones.lips[0] + zones.lips[1]
    if float(lips.sum()) < MIN_PIXELS or int(zones.skin.sum()) < MIN_PIXELS:
        return None
    colour = mouth.lab[..., 1:]
    lip_colour = (colour * lips[..., None]).sum(axis=(0, 1)) / float(lips.sum())
    skin_colour = colour[zones.skin].mean(axis=0)
    return float(np.hypot(*(lip_colour - skin_colour)))


def corner_off_skin(image: np.ndarray, face_landmarks: np.ndarray, corners: np.ndarray,
                    kept: np.ndarray, mouth: TargetMouth | None = None) -> float | None:
    """How far the target's own kept mouth corners in `image` (S, S, 3) uint8 stand off
    its skin round its lips: the larger, over the corners (each connected part of
    `corners` (S, S) above 0), of the Lab a/b distance between the corner's mean (weighted
    by `corners` times `kept` (S, S)) and the mean of the ring of skin round the lips
    (`lips.lip_zones`) that is not kept; None where either cannot be measured. `mouth`:
    `lips.target_mouth(image, face_landmarks)` where the caller has made it."""
    mouth = target_mouth(image, face_landmarks) if mouth is None else mouth
    if mouth is None:
        return None
    zones = mouth.zones
    ring = zones.skin * (1.0 - kept[zones.box])
    if float(ring.sum()) < MIN_PIXELS:
        return None
    colour = to_lab(np.ascontiguousarray(image))[..., 1:]
    skin_colour = (colour[zones.box] * ring[..., None]).sum(axis=(0, 1)) / float(ring.sum())
    weight = corners * kept
    count, labels = cv2.connectedComponents((corners > 0).astype(np.uint8))
    farthest = None
    for label in range(1, count):
        part = weight * (labels == label)
        total = float(part.sum())
        if total > 0.0:
            own = (colour * part[..., None]).sum(axis=(0, 1)) / total
            distance = float(np.hypot(*(own - skin_colour)))
            farthest = distance if farthest is None else max(farthest, distance)
    return farthest


def own_patch_share(image: np.ndarray, face_landmarks: np.ndarray, corners: np.ndarray,
                    kept: np.ndarray, mouth: TargetMouth | None = None) -> float:
    """How far the target's kept mouth corners (`corners`, their share of `kept`, both
    (S, S)) in its `image` (S, S, 3) uint8 are a shade of its own to tone, 0 .. 1: as far
    as they stand off its skin (`corner_off_skin` from OFF_SKIN_FROM to OFF_SKIN_FULL),
    times 1 for bare lips falling to 0 as they stand off its skin like lipstick
    (`lip_contrast` from LIPSTICK_FROM to LIPSTICK_FULL); 0 where the corners cannot be
    measured, and the lips counted bare where they cannot. `mouth`:
    `lips.target_mouth(image, face_landmarks)` where the caller has made it."""
    mouth = target_mouth(image, face_landmarks) if mouth is None else mouth
    if mouth is None:  # no lips to measure: nor a ring round them for the corners
        return 0.0
    contrast = lip_contrast(image, face_landmarks, mouth)
    unpainted = 1.0 if contrast is None else float(np.clip(
        (LIPSTICK_FULL - contrast) / (LIPSTICK_FULL - LIPSTICK_FROM), 0.0, 1.0))
    if unpainted <= 0.0:  # lipstick: the corners' own reading (a whole face in Lab) not needed
        return 0.0
    off_skin = corner_off_skin(image, face_landmarks, corners, kept, mouth)
    if off_skin is None:
        return 0.0
    return unpainted * float(np.clip((off_skin - OFF_SKIN_FROM) / (OFF_SKIN_FULL - OFF_SKIN_FROM),
                                     0.0, 1.0))


def corners_toned(kept_image: np.ndarray, face: np.ndarray, kept: np.ndarray,
                  corners: np.ndarray, sigma: float, own_patch: float = 1.0) -> np.ndarray:
    """`kept_image` (S, S, 3) uint8 with the target's kept mouth corners (`corners` (S, S),
    their share of `kept` (S, S)) given the coloured `face`'s (S, S, 3) uint8 smooth
    colour round them: their Lab a and b moved by the difference of the face's mean there
    (a Gaussian of `sigma` pixels over what is not kept) and their own (over what of them
    is kept). Their lightness, and so their shade and crease, stays the target's own: the
    smile is read off it (the whole corner toned as face: hair-band-photo's smile 39 -> 34
    of 40, BENCHMARKS.md, forty-ninth round). Weighted by how much of them is kept, not by
    their share alone: the barely kept rim holds the source's uncoloured skin, and counted
    whole it drew the far corner's b 4 under the cheek beside it (a pale blotch). Only as
    far as their colour is a patch (`patch_share`: a corner more colourful than the face
    round it), times `own_patch` (0 .. 1: `own_patch_share`, a corner off the target's
    own skin, on a target wearing no lipstick); `kept_image` itself where none is."""
    box = box_around(corners > 0.01, sigma)
    if box is None or own_patch <= 0.0:
        return kept_image
    sigma = max(1.0, sigma)
    around = np.ascontiguousarray(1.0 - kept[box], dtype=np.float32)
    own_weight = np.ascontiguousarray(corners[box] * kept[box], dtype=np.float32)
    own = cv2.cvtColor(np.ascontiguousarray(kept_image[box]), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_face = cv2.cvtColor(np.ascontiguousarray(face[box]), cv2.COLOR_RGB2LAB).astype(np.float32)
    face_low = _weighted_low(lab_face, around, sigma)
    own_low = _weighted_low(own, own_weight, sigma)
    patch = patch_share(own_low, face_low, corners[box], own_weight) * own_patch
    if patch <= 0.0:  # no patch: the target's corners as they are, to the bit
        return kept_image
    share = corners[box] * np.float32(patch)
    shift = face_low - own_low
    shift[..., 0] = 0.0
    moved = np.clip(own + share[..., None] * shift + 0.5, 0, 255).astype(np.uint8)
    result = kept_image.copy()
    # Only the toned pixels: Lab and back moves the rest by a level.
    result[box] = np.where((share > 0)[..., None], cv2.cvtColor(moved, cv2.COLOR_LAB2RGB),
                           kept_image[box])
    return result


def patch_share(own_low: np.ndarray, face_low: np.ndarray, corners: np.ndarray,
                own_weight: np.ndarray) -> float:
    """How much of the kept corners is a patch to tone away, 0 .. 1: from their smooth
    colour `own_low` against the face's round them `face_low` (both (h, w, 3) 8-bit Lab
    as float), their chroma's difference averaged over each corner's (each connected part
    of `corners` (h, w) above 0) kept pixels (`own_weight`), the larger of the two: 0 at
    most CORNER_CHROMA_FROM, 1 from CORNER_CHROMA_FULL."""
    def chroma(low: np.ndarray) -> np.ndarray:
        return np.hypot(low[..., 1] - 128.0, low[..., 2] - 128.0)

    excess = chroma(own_low) - chroma(face_low)
    count, labels = cv2.connectedComponents((corners > 0).astype(np.uint8))
    most = -np.inf
    for label in range(1, count):
        part = labels == label
        weight = float(own_weight[part].sum())
        if weight > 0.0:
            most = max(most, float((excess[part] * own_weight[part]).sum()) / weight)
    if not np.isfinite(most):
        return 0.0
    return float(np.clip((most - CORNER_CHROMA_FROM) / (CORNER_CHROMA_FULL - CORNER_CHROMA_FROM),
                         0.0, 1.0))


class Compositor:
    """Per target track, the landmark filter and the eased colour statistics.

    `smooth_landmarks` and `composite` may run on two threads (the swap pipelines them):
    each owns its own per-track dict and never touches the other's.
    """

    def __init__(self, config: CompositeConfig) -> None:
        self.config = config
        self._landmark_filters: dict[int, SpeechFilter] = {}  # smooth_landmarks only
        self._colour_states: dict[int, _ColourState] = {}  # composite only
        self._rng = np.random.default_rng(0)  # grain (composite only); a swap repeats exactly
        self._occlusion = (OcclusionMasks(OccluderModel()) if config.occlusion == "auto"
                           else None)  # composite only

    def learn_glasses(self, target: Path, faceset: Faceset,
                      records: Sequence[FaceRecord]) -> None:
        """Before compositing: which tracks of `target` wear glasses, judged over each
        whole track, so that faint frames are kept in front from the first frame on."""
        if self._occlusion is not None:
            self._occlusion.worn.update(glasses_by_track(self._occlusion, target, faceset,
                                                         records))

    def smooth_landmarks(self, track: int, time: float, frame_landmarks: np.ndarray
                         ) -> np.ndarray:
        """Filtered landmarks (478, 3) of a target face, in frame pixels."""
        if not self.config.smooth_landmarks:
            return frame_landmarks
        extent = frame_landmarks[:, :2].max(axis=0) - frame_landmarks[:, :2].min(axis=0)
        face_size = float(extent.max())
        landmark_filter = self._landmark_filters.setdefault(track, SpeechFilter())
        smoothed = landmark_filter(time, frame_landmarks, scale=face_size)
        return smoothed.astype(np.float32)

    def end_smoothing(self, track: int) -> None:
        """The track has no more faces: its landmark filter dropped (smooth_landmarks'
        thread)."""
        self._landmark_filters.pop(track, None)

    def end_track(self, track: int) -> None:
        """The track has no more faces: its colour state (with the eased blur of the
        source's kept eyes) and occlusion masks dropped (composite's thread)."""
        self._colour_states.pop(track, None)
        if self._occlusion is not None:
            self._occlusion.forget(track)

    def composite(self, target: TargetFace, swapped: SwappedFace) -> Composited:
        config = self.config
        size = target.image.shape[0]
        scale = size / 256.0
        near, reached = reach_parts(target.face_landmarks, size, forehead=config.forehead,
                                    erode=round(config.mask_erode * scale),
                                    blur=round(config.mask_blur * scale))
        # A turned face's far jaw: the thin band there, as far as it is turned (the
        # frontal feather kept the turned smoker's jaw and chin the target's). What it
        # newly shows is toned as the far rim (below, from the frontal mask `near`): left
        # at the source's own lightness the whole jaw's band raised the smoker's seam
        # excess 0.76 -> 0.93 and blobs 0.4 -> 1.0% (BENCHMARKS.md, thirty-eighth round).
        reached = jaw_band(near, reached, target.face_landmarks, size, config.forehead,
                           round(config.mask_erode * scale), round(config.mask_blur * scale))
        mask = reached * swapped.mask
        occluded = None
        if self._occlusion is not None:  # what is in front of the target's face stays
            occluded = self._occlusion(target.track, target.time, target.image,
                                       target.face_landmarks, target.in_frame)
            occluded_box = mask_bounds(occluded.mask)  # often nothing: 1 - 0 elsewhere
            if occluded_box is not None:
                mask[occluded_box] *= 1.0 - occluded.mask[occluded_box]
        if config.keep_occluders:
            # Both crops judged with the target's landmarks: their zones made once.
            zones = edge_zones(target.face_landmarks, size)
            target_edges = edge_occluders(target.image, target.face_landmarks, zones)
            face_edges = edge_occluders(swapped.image, target.face_landmarks, zones)
            edges = np.maximum(target_edges, face_edges)
            # Each cut and `blend.beyond_cuts_in_box`'s share only in its box: beyond it
            # the mask's factor is 1 - 0, which leaves it as it is.
            edges_box = mask_bounds(edges)
            if edges_box is not None:
                mask[edges_box] *= 1.0 - target_edges[edges_box]
                mask[edges_box] *= 1.0 - face_edges[edges_box]
            # Nor the face's outer feather past them.
            beyond = beyond_cuts_in_box(edges, reached, target.face_landmarks[BETWEEN_EYES, :2])
            if beyond is not None:
                mask[beyond.box] *= 1.0 - beyond.share
        # The target's statistics and low-passes are taken only where it shows the frame:
        # beyond a frame edge that cuts the face the crop is black fill.
        measured = (mask if target.in_frame is None or target.in_frame.all()
                    else mask * shown(target.in_frame))
        # The skin and the features' sharpness matched apart (`match_sharpness`); the
        # weights made once for it and the colour.
        skin = skin_weights(target.face_landmarks, size)
        face = match_sharpness(swapped.image, target.image, measured, skin.bare)
        face = self._match_colour(target, face, measured, mask, swapped.relief, swapped.hair,
                                  swapped.socket_light, skin)
        # The target's lips' zones and their Lab colour, made once for the lips' colour
        # and the corners' own shade (each made them: 0.86 profiled ms a call).
        mouth = (target_mouth(target.image, target.face_landmarks)
                 if config.color == "detail" or swapped.corners is not None else None)
        if config.color == "detail" and mouth is not None:
            # The lips' middle in the target's lip colour (her lipstick, averaged with her
            # skin at the tone's split, came out pale; BENCHMARKS.md, thirty-fifth round).
            face = own_lip_colour(face, target.image, target.face_landmarks, measured,
                                  swapped.kept, mouth)
        rim = rim_weights(near, reached)
        if rim is not None and config.color != "none":
            # The reach's far rim (a turned face's far cheek, newly shown) lit like the
            # target's own there: the colour's low-pass (sigma a sixteenth of the crop)
            # averages the target's cheek darkening as it turns away with its lit middle,
            # and the source's lit cheek came out 1.6-5.9 L lighter than the target's
            # along the outline (BENCHMARKS.md, twenty-sixth round).
            face = toned_rim(face, target.image, measured, rim, size / RIM_SIGMA_DIVISOR)
        if config.grain:
            state = self._colour_states.setdefault(target.track, _ColourState())
            state.grain = grain_levels(face, target.image, measured, state.grain)
            face = add_grain(face, state.grain, mask, self._rng)
        if swapped.kept is not None:  # the target's own eyes and mouth: not recoloured
            # Pasted from the target's own pixels where the engine has them: its image
            # mixes the source's in the kept margin, uncoloured (a dark source's pale lids).
            kept_image = swapped.image if swapped.kept_image is None else swapped.kept_image
            if swapped.kept_source is not None and swapped.kept_source.max() > 0.01:
                # The source's own eyes there come past the face's sharpness matching: no
                # sharper than the target's own eyes in this frame (an old photo's crisp,
                # blocky eyes stood out of a soft webcam frame: old-photo's eyes +0.7
                # log2 of the target's Laplacian; BENCHMARKS.md, thirteenth round).
                # Measured by the source's share wherever it is: as the target's eyes
                # close it stays under one half, and measured above one half only the
                # blur went off and on from frame to frame; eased per track likewise.
                state = self._colour_states.setdefault(target.track, _ColourState())
                own = sharpness_sigma(kept_image, target.image, swapped.kept_source,
                                      weighted=True)
                state.eye_sigma = (own if state.eye_sigma is None else
                                   state.eye_sigma + EYE_SIGMA_EASING * (own - state.eye_sigma))
                if state.eye_sigma > 0:
                    kept_image = feather_blend(
                        _blurred_around(kept_image, swapped.kept_source, state.eye_sigma),
                        kept_image, swapped.kept_source)
            if swapped.corners is not None:
                # The target's own corners (kept for their shade) on the face's colour
                # round them: pasted uncoloured, the boy's brown near corner (L 42, b 20)
                # stood beside Rose Leslie's toned lips and skin (b 11-15), hair-band-photo.
                # A shade of the target's own, not its skin's colour nor its lipstick's
                # (expr-neutral, readme-photo: `own_patch_share`).
                kept_image = corners_toned(
                    kept_image, face, swapped.kept, swapped.corners,
                    CORNER_SIGMA * mouth_width(target.face_landmarks),
                    0.0 if mouth is None else own_patch_share(
                        target.image, target.face_landmarks, swapped.corners, swapped.kept,
                        mouth))
            face = feather_blend(kept_image, face, swapped.kept)
        if config.blend == "poisson":
            image = poisson_blend(face, target.image, mask)
        else:
            image = feather_blend(face, target.image, mask)
        if occluded is not None:  # the target's reflections on its glasses, over the eyes
            image = with_lens_highlights(image, target.image, target.face_landmarks, mask,
                                         occluded.glasses)
        return Composited(image=image, alpha=mask,
                          occluded=None if occluded is None else occluded.mask)

    def _match_colour(self, target: TargetFace, face: np.ndarray, mask: np.ndarray,
                      alpha: np.ndarray, relief: float = 0.0, hair: np.ndarray | None = None,
                      socket_light: bool = True, skin: SkinWeights | None = None
                      ) -> np.ndarray:
        """`face` coloured and lit like the target, both measured inside `mask`; with the
        "detail" colour, `relief` of the face's own middle-scale lightness kept, its
        darkness greyed as hair where `hair` (SwappedFace.hair) says so, and with
        `socket_light` (SwappedFace.socket_light) the sockets' base taken from their skin;
        the "detail" colour computed only where the blend's `alpha` shows the face; `skin`:
        the target's `skin_weights` (None: made here)."""
        config = self.config
        if config.color == "none" and config.relight == 0:
            return face
        state = self._colour_states.setdefault(target.track, _ColourState())
        face_lab, size = to_lab(face), target.image.shape[0]
        if config.color == "detail":
            # The target's light and skin tone, the source's detail: no relight needed.
            # Only the target's smooth bands are used: its colour at half size.
            target_half = to_lab(cv2.resize(target.image, (size // 2, size // 2),
                                            interpolation=cv2.INTER_AREA))
            skin = skin_weights(target.face_landmarks, size) if skin is None else skin
            lids = lid_weights(target.face_landmarks, size)
            shown_skin = mask * skin.bare  # the bare skin shown: levelled on, held to
            # Round a made-up target's eyes (liner, lashes, eye shadow) its base moves to
            # its bare skin's there (`tone._bare_eye_base`); only where the gate finds
            # make-up: elsewhere it moved pixels at the threshold of every photo pair's
            # likeness for nothing, at 2.8 ms a frame (BENCHMARKS.md, thirty-sixth and
            # thirty-seventh rounds). Read on a small copy of the eyes' box (a third
            # of a millisecond); a photo's light only, as the sockets' own base.
            eye_bands = None
            if socket_light:
                makeup = eye_makeup(target_half, target.face_landmarks, size)
                if makeup.any:
                    eye_bands = (eye_band_weights(target.face_landmarks, size),
                                 makeup.strengths)
            # Its mean levelled where the face shows (the blend's alpha) on bare skin, hair
            # included (left out, blink-video read a little less like the source: margin
            # 0.071 against 0.081; lighting the same; BENCHMARKS.md, twelfth round).
            inside = (mask > 0.05).astype(np.float32)
            light = None
            if config.follow_light:
                # A moving light's finer marks (a torch's cast shadows, its lit nose tip)
                # as the target's band changes where its coarse light moved, over the
                # face inside its feather's outer half (the outline moves with the head):
                # on the bare skin only, self-photo's torch frames took 0.897 -> 0.903
                # face SSIM (the lit nose tip is a feature's zone), on all of it 0.918
                # (BENCHMARKS.md, fifty-second round); but not on the brows, eyes, lips
                # and nostrils the source owns (`owned_features`: the term moved them by
                # 14-18, 10-16 and 7-11 L; fifty-third round). On the brows the light's
                # gain is taken instead, on the source's own brows (`owned_brows`: they
                # came out 6.2 L darker than the target's lit brows; fifty-sixth round).
                mask_half = resized(inside, size // 2)
                change = light_change(target_half[..., 0], mask_half,
                                      np.clip(2.0 * resized(mask, size // 2) - 1.0, 0.0, 1.0),
                                      resized(shown_skin, size // 2),
                                      owned_features(target.face_landmarks / 2, size // 2),
                                      (target.pose.yaw, target.pose.pitch),
                                      size / DETAIL_SIGMA_DIVISOR / 2, state.light,
                                      owned_brows(target.face_landmarks / 2, size // 2))
                state.light, light = change.history, change.lightness
            coloured = carry_detail(face_lab, target_half, inside,
                size / DETAIL_SIGMA_DIVISOR, skin=skin.folds, lids=lids, light=light,
                shown=shown_skin, relief=relief,
                # The colour's finer split on the upper lip too (`skin.shading`): at
                # sigma her red lipstick, in the upper lip's base, tinged his upper lip
                # (the README pair: a +9 against hers; BENCHMARKS.md, twenty-second round).
                bare=np.maximum(skin.colour, skin.shading),
                shading=skin.shading,
                # The nose's sides: her skin's colour round them, as much more colourful
                # as his shaded skin there is, within her skin's range (his shading at her
                # lit skin's chroma read grey; BENCHMARKS.md, twenty-eighth round).
                flanks=skin.flanks,
                # The nose's underside at most a little darker than the target's there
                # (a photo lit from above: Biden's shadowed underside was a dark wedge
                # under the nose tip; BENCHMARKS.md, forty-first round), only where it is
                # one flat painted band: where the source's nostrils show inside its
                # shadow, that is who it is (the webcam source's likeness fell with it;
                # `nose_base.flat_band`, BENCHMARKS.md, forty-second round).
                nose_base=(skin.nose_base if flat_band(face_lab[..., 0],
                                                       target.face_landmarks,
                                                       skin.nose_base) else None),
                under_eyes=skin.under_eyes, hair=hair,
                # The brows' darkness as dim as the target's light (a lit photo's brows
                # were black bars under a dim light; BENCHMARKS.md, thirty-fourth round).
                brows=brow_weights(target.face_landmarks, size),
                sockets=socket_weights(target.face_landmarks, lids),
                # The sockets' own base only for a photo's light: on a video source it
                # took his deep upper lids off as shading, and headturn-man read less like
                # the source (BENCHMARKS.md, sixteenth round).
                socket_skin=(socket_skin_weights(target.face_landmarks, size)
                             if socket_light else None),
                surround=surround_weights(target.face_landmarks, size) if socket_light else None,
                eye_bands=eye_bands,
                target_lightness=_texture_lightness(target.image, shown_skin,
                                                    size / DETAIL_SIGMA_DIVISOR,
                                                    target.in_frame),
                # Only where the blend shows the face (its alpha, not `mask`: that
                # leaves out the rows at a frame edge the blend still shows): there is
                # its colour computed (elsewhere the face is not seen).
                region=alpha,
                into_face=True)  # `face_lab` is this call's own, unused after
            return _from_lab_in(coloured, face, region_box(alpha, size))
        target_lab = to_lab(target.image)
        if config.color == "reinhard":
            state.source_stats = masked_stats(face_lab, mask).eased(state.source_stats,
                                                                    config.color_easing)
            state.target_stats = masked_stats(target_lab, mask).eased(state.target_stats,
                                                                      config.color_easing)
            face_lab = reinhard_transfer(face_lab, state.source_stats, state.target_stats)
        elif config.color == "histogram":
            lut = histogram_lut(face_lab, mask, target_lab, mask)
            state.lut = lut if state.lut is None else state.lut + config.color_easing * (
                lut - state.lut)
            face_lab = apply_lut(face_lab, state.lut)
        if config.relight > 0:
            sigma = target.image.shape[0] / 14.0
            face_lab = relight(face_lab, target_lab, (mask > 0.05).astype(np.float32), sigma,
                               config.relight)
        return from_lab(face_lab)


def _from_lab_in(lab: np.ndarray, image: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """`image` (S, S, 3) uint8 RGB with `lab` (S, S, 3) converted back in `box` (the
    rest of `lab` is unused: the face's own colour)."""
    if box == (slice(0, image.shape[0]), slice(0, image.shape[1])):
        return from_lab(lab)
    result = image.copy()
    if box[0].stop > box[0].start:  # an empty box (nothing shown): the face as it is
        result[box] = from_lab(lab[box])
    return result


def _texture_lightness(image: np.ndarray, bare: np.ndarray, sigma: float,
                       in_frame: np.ndarray | None = None) -> np.ndarray:
    """(S, S) float32: the target crop `image`'s L at full size in the box the texture
    limit needs for the bare skin shown, `bare` (`texture_box`), 0 elsewhere; beyond a
    frame edge (`in_frame` False) the frame's lightness spread across the fill
    (`filled_beyond_frame`).

    Its skin texture is measured at full size: at half size a webcam's 1-2 px grain is
    averaged away (BENCHMARKS.md, twentieth round). Only that box is converted, with
    the same values: the whole crop's Lab took 2.8 ms at 440 px, a quarter of the limit.
    """
    box = texture_box(bare, sigma)
    lightness = np.zeros(image.shape[:2], dtype=np.float32)
    if box[0].stop > box[0].start:
        lightness[box] = filled_beyond_frame(to_lab(image[box])[..., 0],
                                             None if in_frame is None else in_frame[box],
                                             sigma)
    return lightness


def shown(in_frame: np.ndarray) -> np.ndarray:
    """(S, S) float32: 1 on the crop's pixels inside the frame (`TargetFace.in_frame`, not
    all of it) that no 3x3 filter of the target (Laplacian, median) sees the fill from."""
    kernel = np.ones((5, 5), dtype=np.uint8)
    return cv2.erode(in_frame.astype(np.uint8), kernel, borderValue=1).astype(np.float32)


def toned_rim(face: np.ndarray, target: np.ndarray, measured: np.ndarray, rim: np.ndarray,
              sigma: float) -> np.ndarray:
    """`face` (S, S, 3) uint8 RGB with its lightness moved, in `rim`'s share (S, S in
    [0, 1]: `blend.rim_weights`), by the target's minus its own, both Gaussian-blurred by
    `sigma` inside `measured` (S, S: where the face's colour is measured): on the rim the
    face keeps its detail finer than sigma, its shading is the target's. Only in the box
    round the rim (with the blur's reach); elsewhere `face` as it is."""
    box = box_around(rim, sigma)
    if box is None:
        return face
    face_lab = to_lab(face[box])
    inside = (measured[box] > 0.05).astype(np.float32)
    difference = (to_lab(target[box])[..., 0] - face_lab[..., 0]) * inside
    weight = cv2.GaussianBlur(inside, (0, 0), sigma) + 1e-6
    shading = cv2.GaussianBlur(difference, (0, 0), sigma) / weight
    face_lab[..., 0] += rim[box] * shading
    result = face.copy()
    # Only on the rim: Lab's round trip moves other pixels by a level.
    result[box] = np.where(rim[box][..., None] > 0, from_lab(face_lab), face[box])
    return result
