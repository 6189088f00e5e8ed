"""The source's mouth interior (teeth, tongue, the dark of the mouth), found in its crop so
the mesh engine can leave it out and show the target's own mouth there.

MediaPipe's inner lip loop is not the edge of the lips on an open smile: the upper teeth
show above it, and at the corners the loop closes before the teeth end. The interior is
therefore the inner loop, grown a little, plus the pixels inside the outer lips that look
like teeth (lighter and much greyer than the lips) or like the mouth's cavity (much darker),
as far as they are joined to the inner loop.

The target's own lips replace the source's where the source's mouth is more open, wider
or more smiling than the target's (`target_lips_share`, `lips_mask`), and so does the skin
just around them: a smile's corners pulled up and out stay in the skin beside the lips and
read as a smile on the target's closed ones. Not for a closed-lipped smile onto a closed
mouth: those lips are the source's own, and who the source is. From a source video, the
engine shows there the lips of its other faces whose mouth fits instead
(mesh_source_mouth), the target's only as far as even those are wider or more open.
The other way round, where the target smiles more than the source, only the skin round
the target's mouth corners shows (`target_corners_share`, `corners_mask`): MediaPipe
reads the smile from it.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import feather, mask_bounds, polygon_mask, three_channels
from facedub.faces.regions import MOUTH_CORNERS, mesh_regions

OPEN_AREA_SHARE = 0.06  # inner loop area / outer loop area above which teeth may show
TEETH_LIGHTER = 8.0  # Lab L (0..255) above the nearby lips' that may be teeth ...
TEETH_GREYER = 0.6  # ... when their chroma is also below this share of the lips' chroma
CAVITY_DARKER = 35.0  # Lab L below the nearby lips': the inside of the mouth
LOCAL_LIPS = 0.25  # mouth widths: the reach of the lips each pixel is compared with


# A photo's closed lips have no interior to leave out, yet MediaPipe's inner loop keeps
# some area toward their corners (Rowan Atkinson's: 6.7% of his lips', over
# OPEN_AREA_SHARE), and grown it is a band about the lip line: the target's pixels there,
# its lip line inside the source's upper lip under the source's own (photo-to-mouth frame
# 0: two dark lines in the upper lip, a pale band between them that reads as a smirk;
# BENCHMARKS.md, thirty-third round). So a photo's interior counts only as far as its lips
# are apart: not at all up to the first middle gap (mouth widths), wholly from the second
# (the closed photos 0.001-0.012, Bob Dylan's 0.030, Biden's 0.13).
CLOSED_GAP = (0.015, 0.03)
LIPS_MIDDLE = (13, 14)  # the inner lips' middle points


def lips_open_share(face_landmarks: np.ndarray) -> float:
    """0..1: how far the lips of `face_landmarks` (478, 2+) are apart, from their middle
    gap over the mouth's width: 0 up to CLOSED_GAP[0], 1 from CLOSED_GAP[1]."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    gap = float(np.linalg.norm(points[LIPS_MIDDLE[0]] - points[LIPS_MIDDLE[1]]))
    low, high = CLOSED_GAP
    return float(np.clip((gap / max(width, 1e-6) - low) / (high - low), 0.0, 1.0))


# Only a closed-lipped smile: where a closed photo does not smile (Kit Harington 0.000,
# Paul Rudd 0.022, the older woman 0.001) the band is where the landmarker reads a smiling
# target's own lip line, and without it the streamer's smiles under Kit Harington's lips
# read further under his (hair-forehead's smile 37 -> 32 of 40 at id 101, its smile error
# 0.053-0.057 -> 0.057-0.065 on two ids). A closed smile's lips (Rowan Atkinson 0.25, the
# border photo 0.28) are stretched, and their upper edge shows over the band as a second
# lip line: the doubled lip reads as a smirk. The mean mouthSmile from which a closed photo
# counts as closed-lipped smiling, from none at the first to wholly at the second:
CLOSED_SMILE = (0.1, 0.2)


def photo_lips_open(face_landmarks: np.ndarray, blendshapes: np.ndarray) -> float:
    """0..1: how far a photo's mouth interior and smile count for `closed_counts`, from its
    `face_landmarks` (478, 2+) and (52,) `blendshapes`: 1 but for a closed-lipped smile
    (its lips closed, `lips_open_share`, and its smile over CLOSED_SMILE)."""
    low, high = CLOSED_SMILE
    smiling = float(np.clip((mean_smile(blendshapes) - low) / (high - low), 0.0, 1.0))
    return 1.0 - (1.0 - lips_open_share(face_landmarks)) * smiling


def closed_counts(source_open: float, target_landmarks: np.ndarray) -> float:
    """0..1: how far a photo's mouth interior and smile count (`target_corners_share`)
    in a frame: wholly but as far as both the photo's lips (`source_open`, its
    `photo_lips_open`) and the target's (`target_landmarks`, (478, 2+)) are closed. Where
    the target's lips part, the band round its opening is its own lips' inner edge, and
    from it the landmarker reads its smile: without it the streamer's broad smile under
    Kit Harington's closed lips (hair-forehead) read 0.1-0.3 under his (smile 35 -> 27 of
    40), and the target's corners beside the border photo's closed smile cost d3's smiling
    frames her likeness (nearer the source 37 -> 30 of 40; BENCHMARKS.md, thirty-fourth
    round)."""
    if source_open >= 1.0:
        return 1.0
    return 1.0 - (1.0 - source_open) * (1.0 - lips_open_share(target_landmarks))


def mouth_interior(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the mouth interior of the face in `image` ((S, S, 3) uint8
    RGB) with `face_landmarks` (478, 2+) in its pixels; softened by about one pixel."""
    size = image.shape[0]
    regions = mesh_regions()
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    outer = polygon_mask(points[regions.lips_outer], size) > 0.5
    inner = polygon_mask(points[regions.lips_inner], size) > 0.5
    grown = _grow(inner, max(1, round(0.015 * width)))
    interior = grown & outer if outer.any() else grown
    if inner.sum() > OPEN_AREA_SHARE * max(1, int(outer.sum())):
        interior = _joined(interior, _teeth_or_cavity(image, outer, grown, width) & outer)
    return feather(interior.astype(np.uint8) * 255, -1, 2)


def _teeth_or_cavity(image: np.ndarray, outer: np.ndarray, inner: np.ndarray,
                     width: float) -> np.ndarray:
    """(S, S) bool: pixels coloured like teeth or like the inside of the mouth, judged
    against the lips near them (the outer loop less the grown inner loop): a mouth lit
    from one side has one half of its lips in shadow, and against the lips' overall median
    that half read as cavity (the shouting photo's lower lip: carried onto the target's
    chin as a crescent and a bar of its own skin)."""
    lips = outer & ~inner
    if lips.sum() < 20:
        return np.zeros(outer.shape, dtype=bool)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[..., 0]
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    lip_lightness = _near_lips(lightness, lips, LOCAL_LIPS * width)
    lip_chroma = _near_lips(chroma, lips, LOCAL_LIPS * width)
    teeth = ((lightness > lip_lightness + TEETH_LIGHTER)
             & (chroma < TEETH_GREYER * lip_chroma))
    cavity = lightness < lip_lightness - CAVITY_DARKER
    opened = cv2.morphologyEx((teeth | cavity).astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((2, 2), np.uint8))
    return opened.astype(bool)


def _near_lips(values: np.ndarray, lips: np.ndarray, sigma: float) -> np.ndarray:
    """(S, S) float32: the lips' mean of `values` around each pixel (a Gaussian of `sigma`
    pixels normalised over the lips); the lips' median where no lip is near."""
    weight = lips.astype(np.float32)
    share = cv2.GaussianBlur(weight, (0, 0), max(1.0, sigma))
    mean = cv2.GaussianBlur(values * weight, (0, 0), max(1.0, sigma)) / np.maximum(share, 1e-6)
    return np.where(share > 0.02, mean, float(np.median(values[lips]))).astype(np.float32)


def _joined(seed: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`seed`, plus the connected parts of `candidates` that touch it."""
    union = (seed | candidates).astype(np.uint8)
    count, labels = cv2.connectedComponents(union, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[np.unique(labels[seed])] = True
    keep[0] = False
    return keep[labels]


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def keep_target_interior(face: np.ndarray, mask: np.ndarray, target: np.ndarray,
                         interior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Show the target's own pixels where the source's mouth interior was warped to.

    `face` (S, S, 3) float32 RGB, `mask` (S, S) the engine's valid-face mask, `target`
    (S, S, 3) uint8 RGB, `interior` (S, S) in [0, 1] the warped source interior. The
    interior is grown by about one pixel at 256 px and softened, so no rim of teeth stays
    and lips meet the target's mouth without a step. Returns the new face and mask.
    """
    face, mask = face.copy(), mask.copy()
    box = target_interior(face, target, interior)
    if box is not None:
        mask[box[0]] = mask[box[0]] * (1.0 - box[1])
    return face, mask


def target_interior(face: np.ndarray, target: np.ndarray, interior: np.ndarray
                    ) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """`keep_target_interior` in place on `face`, for a mask of ones: returns the box
    where its share is not 0 and that share there ((h, w) float32; the new mask is
    1 - share there, 1 elsewhere), None where it is 0 everywhere. No copies of the crop."""
    size = face.shape[0]
    share = feather(interior, -max(1, round(size / 256)), max(2, round(size / 128)))
    # Only the box where the share is not 0 changes (the mouth: a small part of the crop).
    box = mask_bounds(share != 0)
    if box is None:
        return None
    part = three_channels(share[box])
    face[box] = face[box] * (1.0 - part) + target[box].astype(np.float32) * part
    return box, share[box]


# A source mouth more open, wider or more smiling than the target's leaves its lips
# stretched thin over teeth: warped over the target's lip outline they read as a smile or
# a shout on closed lips. So the target's own lips show as far as the source's mouth is
# more open or stretched. Not the other way round: a neutral source's lips warped onto a
# smiling target take the target's shape well, and showing the target's lips there made
# the smile read 0.05-0.1 lower on the neutral pair (and a rolled-in target lip on the
# video pair read as a jaw less open).
LIP_BLENDSHAPES = ("jawOpen", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
                   "mouthStretchRight", "mouthLowerDownLeft", "mouthLowerDownRight",
                   "mouthUpperUpLeft", "mouthUpperUpRight")
_SMILES = np.array([name.startswith("mouthSmile") for name in LIP_BLENDSHAPES])
LIPS_UNCHANGED = 0.1  # largest excess of the source's lip blendshapes that keeps its lips
LIPS_FULL_CHANGE = 0.3  # ... and from this on the lips are wholly the target's
# A closed-lipped smile onto a closed mouth is no stretched lip over teeth: the smile's
# excess counts this much less while the target's jawOpen is below the first value (and
# fully again from the second). Its own lips are part of who the source is: the border
# photo's slight smile (0.33) put the target's lips and the skin around them on every
# frame the target did not smile, and face recognition read the target (nearer the source
# 29 of 60 frames, 45 without). An open target keeps the full rule: the webcam source's
# closed smile over d18's dropped jaw read as a mouth barely open.
CLOSED_SMILE_ALLOWANCE = 0.25
TARGET_MOUTH_CLOSED = (0.1, 0.25)


def target_lips_share(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray
                      ) -> float:
    """0..1: how much of the target's own lips to show, from two (52,) blendshape vectors:
    the largest excess of the source's LIP_BLENDSHAPES over the target's (a smile's less
    CLOSED_SMILE_ALLOWANCE onto a closed mouth), ramped from LIPS_UNCHANGED to
    LIPS_FULL_CHANGE."""
    return float(lips_shares(np.asarray(source_blendshapes)[None], target_blendshapes)[0])


def lips_shares(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray
                ) -> np.ndarray:
    """(N,) `target_lips_share` of each of N source faces' (N, 52) blendshapes against one
    target face's (52,)."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in LIP_BLENDSHAPES]
    excess = source_blendshapes[:, keys] - target_blendshapes[keys]
    low, high = TARGET_MOUTH_CLOSED
    jaw = float(target_blendshapes[BLENDSHAPE_NAMES.index("jawOpen")])
    closed = 1.0 - float(np.clip((jaw - low) / (high - low), 0.0, 1.0))
    largest = np.where(_SMILES, excess - CLOSED_SMILE_ALLOWANCE * closed, excess).max(axis=1)
    return np.clip((largest - LIPS_UNCHANGED) / (LIPS_FULL_CHANGE - LIPS_UNCHANGED),
                   0.0, 1.0)


# The other way round, the mouth's corners: a neutral source's corners warped onto a
# target that smiles more keep the source's unsmiling commissures (the lip line's end,
# the shading and hair beside it), and MediaPipe reads its smile from them. The target's
# own corners show as far as its smile exceeds the source's (ramped from CORNERS_UNCHANGED
# to CORNERS_FULL_CHANGE), in a disc round each corner wholly out to CORNER_RADIUS mouth
# widths, fading out by CORNER_REACH, outside the lips (the engine leaves `lips_mask` out:
# with them a lipstick target's red corner tips showed on the source's paler lips).
CORNERS_UNCHANGED = 0.1
CORNERS_FULL_CHANGE = 0.25
CORNER_RADIUS = 0.2
CORNER_REACH = 0.35
# Eased per track as the lips are, but rising by at most this much a frame: nothing of the
# target's has to be covered there, and at once the corners flickered (hair-forehead's
# flicker measure -0.30 -> -0.20, frames 16 and 22 +0.45; fourteenth round's review).
CORNERS_RISE_PER_FRAME = 0.25


_SMILE_KEYS = [BLENDSHAPE_NAMES.index(name) for name in LIP_BLENDSHAPES
               if name.startswith("mouthSmile")]


# The mouth is drawn nearer the nose by the eye reading's ratio (`mesh_shape.narrowed_mouth`):
# placed, a low mouth no longer read open (expr-shouting's pout on frame 5) and
# threequarter-glasses read more like the source. Not on a closed smile: the mouth drawn
# higher reads more smile, and on d10's closed smile (frames 29-33, jawOpen 0.01-0.12,
# mouthSmile 0.20-0.31) that came on top of the eye rim's excess: all of expr-shouting's
# smile misses (BENCHMARKS.md, Realism, fifty-seventh round). A mouth counts as open from
# the first jawOpen value (wholly from the second), a smile from the first mean mouthSmile.
PLACED_OPEN = (0.14, 0.2)
PLACED_SMILE = (0.1, 0.2)


def placement_share(target_blendshapes: np.ndarray) -> float:
    """0..1: how far the mouth is placed by the eye reading's ratio: whole unless the
    target smiles (`PLACED_SMILE`) with its mouth closed (`PLACED_OPEN`)."""
    jaw = float(target_blendshapes[BLENDSHAPE_NAMES.index("jawOpen")])
    low, high = PLACED_OPEN
    opened = float(np.clip((jaw - low) / (high - low), 0.0, 1.0))
    low, high = PLACED_SMILE
    smiling = float(np.clip((mean_smile(target_blendshapes) - low) / (high - low), 0.0, 1.0))
    return 1.0 - (1.0 - opened) * smiling


def mean_smile(blendshapes: np.ndarray) -> float:
    """The mean of mouthSmileLeft and mouthSmileRight of a (52,) blendshape vector."""
    return float(np.mean(np.asarray(blendshapes)[_SMILE_KEYS]))


def target_corners_share(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray,
                         source_open: float = 1.0) -> float:
    """0..1: how much of the target's own mouth corners to show, from two (52,) blendshape
    vectors: the target's mean mouthSmile over the source's, ramped from CORNERS_UNCHANGED
    to CORNERS_FULL_CHANGE. The source's smile counts as far as `source_open` (1: wholly;
    `closed_counts` for a photo): a closed-lipped smile is in the lips' shape, which the
    warp replaces by the target's, and its corners over the target's closed lips read
    unsmiling (Rowan Atkinson's photo smiles 0.25; over d18's resting smile, 0.13-0.22,
    with no interior band the output read 0.01-0.06, the mouth read 0.04 eye distances
    narrower at each corner)."""
    excess = mean_smile(target_blendshapes) - source_open * mean_smile(source_blendshapes)
    return float(np.clip((excess - CORNERS_UNCHANGED) / (CORNERS_FULL_CHANGE - CORNERS_UNCHANGED),
                         0.0, 1.0))


def corners_mask(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32: 1 within CORNER_RADIUS mouth widths of either mouth corner of
    `face_landmarks` (478, 2+) in crop pixels, falling to 0 by CORNER_REACH."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    inner, outer = CORNER_RADIUS * width, CORNER_REACH * width
    low = np.floor(points[list(MOUTH_CORNERS)].min(axis=0) - outer).astype(int)
    high = np.ceil(points[list(MOUTH_CORNERS)].max(axis=0) + outer).astype(int) + 1
    low, high = np.clip(low, 0, size), np.clip(high, 0, size)
    result = np.zeros((size, size), dtype=np.float32)
    if (high <= low).any() or outer <= 0.0:
        return result
    ys, xs = np.mgrid[low[1]:high[1], low[0]:high[0]].astype(np.float64)
    share = np.zeros(ys.shape)
    for corner in MOUTH_CORNERS:
        distance = np.hypot(xs - points[corner, 0], ys - points[corner, 1])
        ramp = np.clip((outer - distance) / max(outer - inner, 1e-6), 0.0, 1.0)
        share = np.maximum(share, ramp * ramp * (3.0 - 2.0 * ramp))  # smoothstep
    result[low[1]:high[1], low[0]:high[0]] = share
    return result


# The target's corner skin can carry what the source's has not: a moustache's or goatee's
# ends, stubble (Lin-Manuel Miranda's moustache round Paul Rudd's smooth mouth, occlusion-mic,
# at 1x; the faint stubble on Bob Dylan's smooth lip, 2-3 levels, stays under the gate:
# findable at 1x). Where the target's skin there is darker
# against its own surroundings than the source's by more than CORNER_DARKER_FROM grey
# levels, its share falls, to none by CORNER_DARKER_FROM + CORNER_DARKER_RANGE.
CORNER_DARKER_FROM = 4.0
CORNER_DARKER_RANGE = 2.0
# A smile deepens the crease at its own corners: the gate allows this many grey levels more
# per unit of the target's mean mouthSmile. Where the streamer smiles broadest (hair-forehead
# frames 27-33, mouthSmile 0.36-0.45) his corners read 5.6-7.4 levels darker against their
# surroundings than Kit Harington's, the gate (then 4 levels, none by 8) took the corners away
# (share 0.4-0.6) and the smile read 0.10-0.31 under his (seventeenth round). Lin-Manuel
# Miranda's moustache reads 10.2-18.3 levels darker on the frames he smiles 0.15-0.78
# (occlusion-mic), the painted strokes of the engine test 9.9 at 0.4: still past it, with
# the range narrowed from 4 to 2 levels (at 4 the strokes kept a third of the corners).
# Fitted to those three readings, with little to spare (hair-forehead 28-30 pass by 0.04-0.2
# levels, the strokes are 0.3 past the zero point); for smiles of 0.1-0.25 the zero point
# falls from 8 to 6.8-8 levels, stricter than before the narrowing.
CORNER_CREASE_PER_SMILE = 8.0
# ... up to this smile: a crease is no darker on a broader one, and past it the strokes
# (9.9 levels) came back on a target smiling 0.8.
CORNER_CREASE_SMILE = 0.45
# A moustache has two ends, each as dark: Lin-Manuel Miranda's read 16.0-20.3 levels at
# either corner on every frame he smiles 0.5-0.78 (occlusion-mic; the less dark end 0.80-0.99
# of the darker), the engine test's painted ends 8.9 and 10.9 (0.82). A broad smile's
# crease can be deep on one side only: the boy under Rose Leslie's photo (hair-band-photo,
# turned 17°, smiling 0.61-0.72 on frames 33-39) reads 9.8-11.6 levels at one corner and
# 6.1-7.7 at the other (0.61-0.70), 7.9-9.4 over both, past the gate's 7.6 there; with his
# corners taken away (share 0.3-0.9) his smile read 0.10-0.26 under his on every job id,
# and the target's mouth box or cheeks pasted back into the output read within 0.08 and
# 0.05. So on a broad smile (from the first smile, wholly from the second) where the less
# dark corner is at most the first share of the darker (none from the second), the gate
# reads that corner alone. Not on slighter smiles: a microphone before one of Miranda's
# ends left it 3.8 levels against 16.4 at a smile of 0.15. The shares have no margin (the
# boy's most even frame 0.70, Miranda's least even 0.80); Miranda's ends stay gated by their
# darkness too (his less dark end alone is 16.0 levels, 6.4 past the gate's zero point of 9.6
# there), the painted ends (8.9 alone, under it) only by their share.
CORNER_LOPSIDED_SMILE = (0.45, 0.6)
CORNER_LOPSIDED_SHARE = (0.7, 0.8)
CORNER_DETAIL = 1 / 128  # the darkness's own scale (sigma, share of the crop) ...
CORNER_SURROUND = 1 / 16  # ... against the skin this far around


def not_darker(source: np.ndarray, target: np.ndarray, weight: np.ndarray, size: int,
               smile: float = 0.0) -> float:
    """0..1: 1 where `target` (H, W, 3) float32 is on average (over `weight`, (H, W)) no
    darker against its own surroundings than `source` (same shape, same place) beyond
    CORNER_DARKER_FROM grey levels (and CORNER_CREASE_PER_SMILE more per unit of `smile`,
    the target's mean mouthSmile, up to CORNER_CREASE_SMILE: its corners' own crease),
    falling to 0 over CORNER_DARKER_RANGE; the scales are shares of `size`, the crop's
    side. On a broad smile whose two corners (the two parts of `weight`) lie far apart in
    darkness, the less dark one counts (`_lopsided`): a moustache has two dark ends, a
    smile's crease may have one deep side. One value for the region: a moustache's ends
    beside a source's corners do not line up with the target's stubble, and pixel by
    pixel the gate left a patchwork of the two."""
    total = float(weight.sum())
    if total <= 0.0:
        return 1.0
    darkness = _darkness(target.mean(axis=2) - source.mean(axis=2), size)
    excess = float((darkness * weight).sum()) / total
    low, high = CORNER_LOPSIDED_SMILE
    if smile > low:
        corners = _per_corner(darkness, weight)
        broad = float(np.clip((smile - low) / (high - low), 0.0, 1.0))
        excess -= broad * _lopsided(corners) * max(excess - min(corners, default=excess), 0.0)
    allowed = CORNER_DARKER_FROM + CORNER_CREASE_PER_SMILE * float(
        np.clip(smile, 0.0, CORNER_CREASE_SMILE))
    return float(np.clip(1.0 - (excess - allowed) / CORNER_DARKER_RANGE, 0.0, 1.0))


def _lopsided(corners: list[float]) -> float:
    """0..1: how far the less dark of two corners' darkness (`corners`, grey levels) is a
    small share of the other's: wholly from CORNER_LOPSIDED_SHARE's first share down, not
    from its second up; 0 unless there are two and one is darker than its surroundings."""
    if len(corners) != 2 or max(corners) <= 0.0:
        return 0.0
    share = max(min(corners), 0.0) / max(corners)
    first, second = CORNER_LOPSIDED_SHARE
    return float(np.clip((second - share) / (second - first), 0.0, 1.0))


def _per_corner(darkness: np.ndarray, weight: np.ndarray) -> list[float]:
    """The mean `darkness` (H, W) over each corner's part of `weight` (H, W), the two
    discs of `corners_mask` as two separate regions; none where they are not two (joined,
    or one outside the frame)."""
    count, labels = cv2.connectedComponents((weight > 0.0).astype(np.uint8))
    if count != 3:  # the background and two discs
        return []
    means = []
    for label in (1, 2):
        part = np.where(labels == label, weight, 0.0)
        means.append(float((darkness * part).sum()) / float(part.sum()))
    return means


def _darkness(luma: np.ndarray, size: int) -> np.ndarray:
    """(H, W) float32: `luma` (H, W) against its own surroundings (its blur at
    CORNER_SURROUND of the crop `size` less its blur at CORNER_DETAIL). Linear in `luma`:
    the target's darkness less the source's is that of their difference, one pair of
    blurs instead of two (the wide one was a tenth of the engine's blurring; equal to the
    two pairs to float32 rounding)."""
    luma = luma.astype(np.float32)
    near = cv2.GaussianBlur(luma, (0, 0), max(size * CORNER_DETAIL, 0.5))
    around = cv2.GaussianBlur(luma, (0, 0), size * CORNER_SURROUND)
    darkness: np.ndarray = around - near
    return darkness


# The share follows the target's jaw and smile frame by frame, and with the closed-smile
# allowance it switched from the source's lips to the target's and back in one frame
# (d10 under the border photo: 13 steps over 0.5 in 150 frames, against 6 without the
# allowance). It rises at once (a source's stretched lips never show over an opening
# mouth) and falls by at most this much a frame (the target's lips fade out over a few
# frames once its mouth closes): `track_share.EasedShare`.
LIPS_FALL_PER_FRAME = 0.1


def lips_mask(face_landmarks: np.ndarray, size: int, margin: float = 0.0) -> np.ndarray:
    """(size, size) float32: the outer lip outline of `face_landmarks` (478, 2+) in crop
    pixels, grown by about a pixel at 256 px and softened, so the lips' edge stays whole;
    with `margin` (mouth widths), plus the skin around them fading out over that much."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    outer = polygon_mask(points[mesh_regions().lips_outer], size)
    outline = feather(outer, -max(1, round(size / 256)), max(2, size // 96))
    reach = margin * float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    if reach < 2.0:
        return outline
    around = feather(outer, -round(0.6 * reach), round(reach))  # half at 0.6, gone by 1.6
    return np.maximum(outline, around)
