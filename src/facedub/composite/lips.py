"""The lips' own colour after the tone stage.

`tone.carry_detail` takes the target's colour at a coarse split (a sixteenth of the crop):
there a target's lipstick is averaged with the skin round it, and the face's lips come
out less colourful than hers (the README pair, Paul Rudd onto Katie Hill: lips chroma
27-31 against her 36-41; BENCHMARKS.md, thirty-third round). Taken at the split itself
(`tone._own_lips`, not shipped), her lip colour also reached the mouth's corners and
outline, and the landmarker read her smile differently there (headturn-woman 36 -> 31 of
40 frames). Here each lip's middle alone takes it: the face's lip colour is moved toward
the target's mean, as far as it falls below the target's chroma, inside the target's lip
outline less a margin from both outlines, faded out toward the corners, on the face's own
lip (its colour against its skin round the lips: her fuller lip put a salmon band on his
skin), and not on a broad smile's stretched lower lip. The lightness, the lip line, the
outer outline and the corners stay as the tone stage made them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.composite.color import from_lab, to_lab
from facedub.faces.regions import LOWER_LIP, MOUTH_CORNERS, UPPER_LIP, mesh_regions

# The upper lip and the lower lip (`UPPER_LIP`, `LOWER_LIP`) take their own colour (on the
# README pair his upper lip came out nearly as red as hers, his lower lip pale).
# The zone's margin inside each lip's outline, a share of the mouth's width: the outer
# outline's colour edge and the lip line are where the landmarker reads the lips.
LIP_INSET = 0.035
# Each corner's outer CORNER_KEEP of the mouth's half-width is left as it is, and the
# zone fades in over the next CORNER_FADE (the corners' colour moved how the landmarker
# read headturn-woman's smile: BENCHMARKS.md, thirty-third round).
CORNER_KEEP = 0.2
CORNER_FADE = 0.35
# Lab units of chroma a lip may fall below the target's before it is moved at all (noise,
# a lip already the target's), and over which the move is whole.
CHROMA_SLACK = 1.0
CHROMA_RAMP = 3.0
# The face's skin round its lips: a ring from SKIN_RING[0] to SKIN_RING[1] of the mouth's
# width past the lips' outline. Where the face's colour there and its lips' differ by less
# than LIP_COLOUR_MIN Lab units the face shows no lip of its own in the zone, and nothing
# is coloured.
SKIN_RING = (0.06, 0.2)
LIP_COLOUR_MIN = 3.0
LIP_FULL = 90  # the percentile of the zone's colour counted as wholly lip
# A broad smile's stretched lower lip (its area over the mouth's width squared: 0.14-0.17
# at rest or talking, 0.11 in headturn-woman's broad smile) is where the landmarker reads
# the smile: coloured there it read 0.01-0.06 less smile (frames 25-32, BENCHMARKS.md,
# thirty-fifth round). The move fades from STRETCH[1] down to none at STRETCH[0].
STRETCH = (0.11, 0.14)
# Pixels of a lip's zone (weight over one half, shown) needed to measure its colour.
MIN_PIXELS = 24


@dataclass(frozen=True)
class LipColour:
    """One lip's mean a, b (Lab) in its zone's core: the face's and the target's."""

    face: np.ndarray
    target: np.ndarray

    @property
    def shortfall(self) -> float:
        """How far the face's lip falls below the target's chroma (Lab units)."""
        return float(np.hypot(*self.target) - np.hypot(*self.face))


@dataclass(frozen=True)
class LipZones:
    """The lips' zones (`lip_zones`) in `box` of the crop: (upper, lower), each (h, w);
    `skin`: the ring of skin round the lips (`SKIN_RING`), (h, w) bool; `soft`: the
    zones' softening sigma in pixels."""

    box: tuple[slice, slice]
    lips: tuple[np.ndarray, np.ndarray]
    skin: np.ndarray
    soft: float


def lip_zones(face_landmarks: np.ndarray, size: int) -> LipZones | None:
    """Each of the target's lips (`UPPER_LIP`, `LOWER_LIP`) LIP_INSET of the mouth's
    width inside its outline, faded out toward the corners and softened, in the box round
    the lips; None for a mouth under two pixels wide or outside the crop."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    left, right = points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]]
    width = float(np.linalg.norm(right - left))
    if width < 2.0:
        return None
    inset = max(1, round(width * LIP_INSET))
    outline = points[list(UPPER_LIP + LOWER_LIP)]
    reach = int(np.ceil(width * SKIN_RING[1])) + 1
    low = np.clip(np.floor(outline.min(axis=0)).astype(int) - reach, 0, size)
    high = np.clip(np.ceil(outline.max(axis=0)).astype(int) + reach + 1, 0, size)
    if (high - low).min() < 2:
        return None
    box = (slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0])))
    shape = (int(high[1] - low[1]), int(high[0] - low[0]))
    # Along the mouth's axis: 0 at its middle, 1 at either corner.
    centre, axis = (left + right) / 2.0 - low, (right - left) / width
    columns, rows = np.meshgrid(np.arange(shape[1], dtype=np.float32),
                                np.arange(shape[0], dtype=np.float32))
    along = np.abs((columns - np.float32(centre[0])) * np.float32(axis[0])
                   + (rows - np.float32(centre[1])) * np.float32(axis[1])) / np.float32(width / 2)
    fade = np.clip((1.0 - np.float32(CORNER_KEEP) - along) / np.float32(CORNER_FADE),
                   0.0, 1.0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2)
    half = max(1, inset // 2)
    half_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * half + 1,) * 2)
    zones = []
    mouth = np.zeros(shape, dtype=np.uint8)
    sigma = max(0.5, inset / 2.0)
    for lip in (UPPER_LIP, LOWER_LIP):
        hard = np.zeros(shape, dtype=np.uint8)
        cv2.fillPoly(hard, [np.round(points[list(lip)] - low).astype(np.int32)], 1)
        mouth |= hard
        inside = cv2.erode(hard, kernel).astype(np.float32) * fade
        soft = cv2.GaussianBlur(inside, (0, 0), sigma)
        # Softened inward only: the outlines themselves stay the face's.
        zones.append(soft * cv2.erode(hard, half_kernel).astype(np.float32))
    cv2.fillPoly(mouth, [np.round(points[mesh_regions().lips_inner] - low).astype(np.int32)], 1)
    # The ring by each pixel's distance to the mouth: one pass, where two dilations by
    # ellipses a fifth of the mouth wide took most of this stage's time.
    distance = cv2.distanceTransform(1 - mouth, cv2.DIST_L2, cv2.DIST_MASK_5)
    near, far = (max(1, round(width * ring)) for ring in SKIN_RING)
    return LipZones(box=box, lips=(zones[0], zones[1]),
                    skin=(distance > near) & (distance <= far), soft=sigma)


@dataclass(frozen=True)
class TargetMouth:
    """The target's lips' zones (`lip_zones`) and its crop's Lab colour in their box,
    (h, w, 3) float32: made once a frame for `own_lip_colour` and
    `compositor.own_patch_share`, which both read them (the zones took 0.86 profiled ms a
    call on the README pair; BENCHMARKS.md, Swap speed, fifty-first round)."""

    zones: LipZones
    lab: np.ndarray


def target_mouth(target: np.ndarray, face_landmarks: np.ndarray) -> TargetMouth | None:
    """The `TargetMouth` of the target's crop `target` (S, S, 3) uint8 RGB with its
    `face_landmarks` (478, 2+); None where `lip_zones` is (no mouth to measure)."""
    zones = lip_zones(face_landmarks, target.shape[0])
    if zones is None:
        return None
    return TargetMouth(zones=zones, lab=to_lab(target[zones.box]))


def _unstretched(face_landmarks: np.ndarray) -> float:
    """1 for a lower lip at rest, fading to 0 as a broad smile stretches it (`STRETCH`)."""
    points = np.asarray(face_landmarks, dtype=np.float32)[:, :2]
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    if width < 2.0:
        return 0.0
    ratio = float(cv2.contourArea(points[list(LOWER_LIP)])) / width ** 2
    return float(np.clip((ratio - STRETCH[0]) / (STRETCH[1] - STRETCH[0]), 0.0, 1.0))


def lip_share(face_ab: np.ndarray, skin: np.ndarray, core: np.ndarray) -> np.ndarray | None:
    """(h, w) float32 in [0, 1]: how far the face's colour `face_ab` (h, w, 2) is its
    lip's rather than its skin's `skin` (2,): along the line from its skin to its mean in
    the zone's `core` (h, w) bool, as a share of the core's LIP_FULL percentile (the
    target's fuller lips put the face's skin in the core too); None where that mean is
    closer to the skin than LIP_COLOUR_MIN (no lip of its own there to colour)."""
    direction = (face_ab[core].mean(axis=0) - skin).astype(np.float32)
    length = float(np.hypot(*direction))
    if length < LIP_COLOUR_MIN:
        return None
    direction /= np.float32(length)
    along = ((face_ab[..., 0] - np.float32(skin[0])) * direction[0]
             + (face_ab[..., 1] - np.float32(skin[1])) * direction[1])
    full = max(float(np.percentile(along[core], LIP_FULL)), LIP_COLOUR_MIN)
    share: np.ndarray = np.clip(along / np.float32(full), 0.0, 1.0)
    return share


def own_lip_colour(face: np.ndarray, target: np.ndarray, face_landmarks: np.ndarray,
                   shown: np.ndarray, kept: np.ndarray | None = None,
                   mouth: TargetMouth | None = None) -> np.ndarray:
    """`face` (S, S, 3) uint8 RGB, after the tone stage, with each lip's a, b moved toward
    the target's (`target`, the target's crop) in its zone (`lip_zones`), on the face's
    own lips (`lip_share` against its skin round them: the target's lips may be fuller,
    and the landmarker reads the face's lips where they are), by as much as the face's lip
    falls below the target's mean chroma (whole past CHROMA_SLACK + CHROMA_RAMP), and
    less as a broad smile stretches the lower lip (`STRETCH`).
    Measured where `shown` (S, S: the face over the target, occluders out) is and the
    target's own mouth is not kept (`kept`, SwappedFace.kept). The lightness is the
    face's; pixels outside the zones are unchanged. `mouth`: the target's
    (`target_mouth(target, face_landmarks)`) where the caller has made it, else made here."""
    unstretched = _unstretched(face_landmarks)
    if unstretched <= 0.0:
        return face
    mouth = target_mouth(target, face_landmarks) if mouth is None else mouth
    if mouth is None:
        return face
    zones = mouth.zones
    box = zones.box
    seen = np.clip(shown[box], 0.0, 1.0)
    if kept is not None:
        seen = seen * (1.0 - np.clip(kept[box], 0.0, 1.0))
    face_lab = to_lab(face[box])
    target_lab = mouth.lab
    skin = zones.skin & (seen > 0.5)
    if int(skin.sum()) < MIN_PIXELS:
        return face
    skin_ab = face_lab[skin][:, 1:].mean(axis=0)
    # The face's colour a little blurred: its lips' extent, not its texture.
    soft_ab = cv2.GaussianBlur(face_lab[..., 1:], (0, 0), zones.soft)
    moved = face_lab.copy()
    reached = np.zeros(seen.shape, dtype=bool)
    for zone in zones.lips:
        weight = zone * seen
        core = weight > 0.5
        if int(core.sum()) < MIN_PIXELS:
            continue
        share = lip_share(soft_ab, skin_ab, core)
        if share is None:
            continue
        placed = weight * share
        if float(placed.sum()) < MIN_PIXELS / 2:
            continue
        # The face's lip colour where it is most lip (its soft edge is partly skin).
        counted = placed * share
        face_lip = (face_lab[..., 1:] * counted[..., None]).sum(axis=(0, 1)) / counted.sum()
        colour = LipColour(face=face_lip, target=target_lab[core][:, 1:].mean(axis=0))
        strength = unstretched * float(np.clip((colour.shortfall - CHROMA_SLACK) / CHROMA_RAMP,
                                               0.0, 1.0))
        if strength == 0.0:
            continue
        shift = (strength * (colour.target - colour.face)).astype(np.float32)
        moved[..., 1] += placed * shift[0]
        moved[..., 2] += placed * shift[1]
        reached |= placed > 1e-3
    if not reached.any():
        return face
    result = face.copy()
    # Written back only where a zone reaches: elsewhere the Lab round trip would move
    # pixels by a level.
    result[box] = np.where(reached[..., None], from_lab(moved), face[box])
    return result
