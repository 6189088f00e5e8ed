"""The source's stubble on the target's chin, as hair and not as dirt. Warped onto a
smooth chin, and carried by the compositor as lightness detail on the target's own skin
colour, a ginger or dark stubble read as dirt round the mouth: a brown-orange moustache
band, a mottled chin. Its darkness came on the target's skin colour unchanged, and
darker at the same chroma is brown; the stubble's own hue was not the cause
(BENCHMARKS.md, twelfth round). Face recognisers read the stubble's darkness as the
person, so it is not simply left out.

A source face's stubble is judged once from its own crop: the share of fine dark specks
in its beard zone (below the nose, round the mouth, the chin and jaw) beyond that on its
own upper cheeks, and how much darker the zone is than those cheeks. Where a source has
stubble, the mesh engine either

- renders it as hair (`stubble_as_hair`, the default): in the beard zone, the source's
  own skin colour from its cheeks and nose, darkened where the stubble is (its density
  and its specks, the lightness the identity reads), and marked as hair, which the
  compositor greys as it darkens on the target's skin tone and light
  (`composite.tone`). On a smooth target's upper lip, seen large enough for single
  specks to show, its dots are spread into the shade they make (`smooth_lip`): Paul
  Rudd's stubble was a grey-green dotted moustache under Katie Hill's nose at 1x
  (BENCHMARKS.md, thirty-first round). A moustache stays as it is. On a smooth target's
  cheeks beyond the mouth's corners (`beard_cheeks`) its darkness is held near its skin's
  and is no hair: the streamer's shaded jaw beard, greyed, was a grey blotch on Obama's
  cheek (fifty-second round). Or
- shaves it (`shaven`, asked for): the target's own skin there, reshaped like the rest
  of the face (a smooth chin stays smooth; a target's own stubble or beard stays its
  own), under the source's broad lightness, kept only so much darker than the target's.
  A full beard on the source goes the same way: its hair would hang past the target's
  jaw. It costs the source's look (shaved swaps were nearer the source less often on
  every shaved pair, eleventh round).

As hair only onto another person's smooth chin: on a self-swap, or where the target shows
stubble of its own (`TargetBeards`), it is carried as it is, which `as-is` asks for
everywhere. On a pale target the hair reads ash-grey where the source's stubble is
ginger (twelfth round, left open).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from facedub.engines.mesh_mouth import corners_mask, lips_mask
from facedub.faces.masks import feather, mask_bounds, three_channels
from facedub.faces.regions import BEARD_ZONE, MOUTH_CORNERS, mesh_regions

# Upper cheeks, above where stubble grows: the face's own smooth skin.
CHEEKS = ((50, 101, 118, 117, 123, 36), (280, 330, 347, 346, 352, 266))
SPECK = -2.0  # fine-band lightness (L*, 0..100) below which a pixel is a dark speck
# Measured at 512 px, (share of specks in the zone less that on the cheeks, zone darker
# than the cheeks in L*): the streamer 0.08-0.12, 8-33 (by his light); Kit Harington
# 0.14, 31; Paul Rudd 0.11, 15; Biden 0.09, 16; Rowan Atkinson 0.08, 21; Bob Dylan 0.09,
# 8; the d18 man 0.07, 2; clip 14's man 0.04, 8; the women of d3, d10 and the dark-skinned
# photo 0.01-0.06. Specks alone do not tell d18's smooth chin (its mouth corners and
# folds) from the streamer's, darkness alone not a chin in shadow from stubble.
SPECKS_FROM, SPECKS_SPAN = 0.075, 0.03  # no stubble below, fully above their sum
DARK_FROM, DARK_SPAN = 6.0, 8.0  # the zone darker than the cheeks (L*), likewise
SAMPLED = 9  # source faces judged (evenly over the source): its stubble does not change
# A source is shaved wholly or not at all: shaved as far as its share, Biden (0.46) onto
# Kit Harington showed Kit's own beard through a veil of Biden's skin. Over the shared
# set, sources with stubble read 0.95-1.0 (the streamer, Kit Harington, Paul Rudd at 512
# px), folds, shadows and light stubble 0-0.46 (Biden, the shouting woman 0.34, wojtek
# 0.24, Bob Dylan 0.10, Rowan Atkinson 0.08; every other shared face 0).
SHAVED_FROM = 0.7


def shaved(stubble: float) -> bool:
    """Whether a source whose `source_stubble` is `stubble` is shaved."""
    return stubble >= SHAVED_FROM


def source_stubble(crops: Sequence[Callable[[], tuple[np.ndarray, np.ndarray]]]) -> float:
    """The upper quartile of `stubble_share` over up to SAMPLED of a source's faces,
    evenly spaced; `crops` gives each face's (crop, landmarks) when called. One value for
    the whole source, so it does not flicker, and as its better-lit faces show it: flat
    light hides stubble (the streamer's faces 0.14-1.0, the quartile 0.95)."""
    if not crops:
        return 0.0
    return _upper_quartile(crops, stubble_share)


def _upper_quartile(crops: Sequence[Callable[[], tuple[np.ndarray, np.ndarray]]],
                    reading: Callable[[np.ndarray, np.ndarray], float]) -> float:
    """The upper quartile of `reading` (crop, landmarks) over up to SAMPLED of `crops`
    (at least one), evenly spaced."""
    return float(np.percentile([reading(*crops[i]()) for i in sampled_faces(len(crops))], 75))


def sampled_faces(count: int) -> list[int]:
    """The indices of the faces `source_stubble` and `source_moustache` read of a source
    of `count` faces: up to SAMPLED, evenly spaced (what a kept reading is keyed by)."""
    picked = np.unique(np.linspace(0, count - 1, min(SAMPLED, count)).astype(int))
    return [int(i) for i in picked]


def stubble_share(crop: np.ndarray, landmarks: np.ndarray) -> float:
    """How much stubble a source face shows, 0 (smooth) .. 1: fine dark specks in its
    beard zone beyond those on its upper cheeks, times how much darker the zone is than
    them. `crop` (S, S, 3) uint8 RGB, `landmarks` (478, 2+) in its pixels."""
    size = crop.shape[0]
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    lightness = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (
        100.0 / 255.0)
    scale = size / 512.0
    middle = cv2.GaussianBlur(lightness, (0, 0), 4.0 * scale)
    band = cv2.GaussianBlur(lightness, (0, 0), max(0.5, scale)) - middle
    zone = (_polygon(points[list(BEARD_ZONE)], size, convex=False)
            & ~(lips_mask(points, size) > 0.01))
    cheeks = np.zeros((size, size), dtype=bool)
    for side in CHEEKS:
        cheeks |= _polygon(points[list(side)], size, convex=True)
    if np.count_nonzero(zone) < 50 or np.count_nonzero(cheeks) < 50:
        return 0.0
    specks = float(np.mean(band[zone] < SPECK) - np.mean(band[cheeks] < SPECK))
    darker = float(np.median(middle[cheeks]) - np.median(middle[zone]))
    share = (np.clip((specks - SPECKS_FROM) / SPECKS_SPAN, 0.0, 1.0)
             * np.clip((darker - DARK_FROM) / DARK_SPAN, 0.0, 1.0))
    return float(share)


# A target's own stubble or beard: a share of SHAVED_FROM or more (the source's line) in
# any of its first SAMPLED faces (the streamer's first nine 0.34-0.96, the third 0.77;
# smooth chins read 0: Obama's and d18's). Restyled as hair over it, the source's stubble
# was greyed inside the target's ginger beard: a grey-green moustache (twelfth round). A
# line at 0.02 took face folds for a beard (the shouting woman 0.33, Wojtek 0.26-0.28,
# Dylan's photo 0.17), and the source's stubble came back as a brown band on them.
TARGET_BEARD_FROM = SHAVED_FROM


# A target whose own `stubble_share` reaches this (its most over the faces judged) has a
# dotted upper lip of its own, and a source's dots there are in keeping: a ramp from smooth
# to rough. Katie Hill, Elon Musk's GIF and d18 read 0 on every judged face; wojtek (clip
# 15), whose short stubble shows at 1x, 0.15-0.31, which is under TARGET_BEARD_FROM.
TARGET_ROUGH_FROM, TARGET_ROUGH_SPAN = 0.05, 0.1


class TargetBeards:
    """Per target track, whether its face has stubble of its own: judged by
    `stubble_share` on its first SAMPLED faces, and once found it stays found (a track
    is not switched back and forth). Also how smooth it is (`smooth`), from the same
    readings."""

    def __init__(self) -> None:
        self._judged: dict[int, tuple[int, bool]] = {}
        self._roughest: dict[int, float] = {}  # per track, its largest share so far

    def bearded(self, track: int, crop: np.ndarray, landmarks: np.ndarray) -> bool:
        """Whether track `track` has shown stubble; `crop` (S, S, 3) uint8 RGB and
        `landmarks` (478, 2+) its face in this frame."""
        count, found = self._judged.get(track, (0, False))
        if not found and count < SAMPLED:
            share = stubble_share(crop, landmarks)
            self._roughest[track] = max(share, self._roughest.get(track, 0.0))
            found = share >= TARGET_BEARD_FROM
            self._judged[track] = (count + 1, found)
        return found

    def smooth(self, track: int) -> float:
        """1 (a smooth chin and lip) .. 0 (stubble of its own): the track's largest
        `stubble_share` so far on the ramp TARGET_ROUGH_FROM, TARGET_ROUGH_SPAN; 1 for a
        track not judged yet (`bearded` judges it)."""
        rough = self._roughest.get(track, 0.0)
        return float(1.0 - np.clip((rough - TARGET_ROUGH_FROM) / TARGET_ROUGH_SPAN, 0.0, 1.0))

    def forget(self, track: int) -> None:
        """Drop a track's verdict (its last face has been swapped)."""
        self._judged.pop(track, None)
        self._roughest.pop(track, None)


NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 4, 48, 64)  # the nostrils and the nose's tip


# Mouth widths round each mouth corner cut out of the hair: the corner's shadow is no
# hair (greyed with the stubble there, Obama's corners came out blue-grey at 1x, L 19.5
# RGB (68, 41, 31) against (87, 28, 6) as they were; twelfth round).
CORNER_REACH = 0.15


def hair_zone(landmarks: np.ndarray, zone: np.ndarray, cheeks: np.ndarray | None = None
              ) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the beard `zone` (S, S) less the nostrils (grown a
    little, soft) and round the mouth's corners (CORNER_REACH, soft): their shadows are
    no hair (greyed, they came out ashy grey on Obama). Less `cheeks` (S, S) in [0, 1]
    too where given (`beard_cheeks`: the source's shade there is no hair either)."""
    size = zone.shape[0]
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    shadows = _polygon(points[list(NOSTRILS)], size, convex=True).astype(np.uint8) * 255
    reach = CORNER_REACH * float(np.linalg.norm(points[MOUTH_CORNERS[0]]
                                                - points[MOUTH_CORNERS[1]]))
    for corner in MOUTH_CORNERS:
        centre = (round(float(points[corner, 0])), round(float(points[corner, 1])))
        cv2.circle(shadows, centre, max(1, round(reach)), 255, thickness=-1)
    soft = feather(shadows, erode=-max(1, round(size / 64)), blur=max(2, round(size / 64)))
    result: np.ndarray = zone * (1.0 - soft)
    if cheeks is not None:
        result *= 1.0 - cheeks
    return result


# The beard zone's cheeks: beyond the mouth's corners by more than CHEEK_FROM of the mouth's
# width, wholly from CHEEK_FROM + CHEEK_SPAN (the moustache's ends and the goatee stay
# inside). There the streamer's beard is denser and, on the side of his jaw turned from
# his light, shaded: held as hair and greyed by the compositor as it darkened, it was a
# grey blotch 15-25 px across on Obama's smooth left cheek (lighting; its darkest 15 px
# 3.5-8.0 L darker and 4.4-8.6 less chromatic than his skin on frames 40-70, 0.5-4.6 and
# 1.4-5.6 on 120-175; fifty-second round), 0.6-1.1 mouth widths beyond the corner.
# From 0.25 (wholly from 0.5) the face read less smile where Obama smiles (lighting 40 ->
# 38 of 40 frames agreeing, readme-photo 40 -> 39): the dark just beyond the moustache's
# ends reads as the corners' smile. From 0.4 lighting's 40 stay (39 -> 38 at job id 101,
# its last frame); the blotch's chroma loss 0.7 (median over frames 40-70; 0.2 from 0.25,
# 2.7 from 0.5, a grey rim left at its inner edge).
CHEEK_FROM, CHEEK_SPAN = 0.4, 0.25
# In those cheeks the zone's broad lightness (above crop / SPECK_SCALE) is held to at most
# this many grey levels (0..255) darker than the source's own skin fill, as `shaven` holds
# it against the target's (DARKEST): the streamer's shaded side read 16-21 below his fill
# at the median, 36-46 at the 90th percentile (frames 45-65 of lighting), his other side
# -17 to -3 and 7-26. Held to 12 (cheeks from 0.25) the blotch's darkest 15 px came to
# 4.2 L and 0.2 chroma (median over frames 40-70; main 6.4 and 7.7; held to 6, 3.4 L),
# held to 12 but left hair 4.3 L and 4.1 chroma (still grey at 1x), the cheeks shaved
# (`shaven`) 5.1 L and 0.2.
CHEEK_DARKEST = 12.0


def beard_cheeks(landmarks: np.ndarray, zone: np.ndarray, share: float) -> np.ndarray | None:
    """(S, S) float32 in [0, 1], S = `zone`'s size: the beard `zone` (S, S) beyond the
    mouth's corners of `landmarks` (478, 2+, crop pixels) along the line through them
    (CHEEK_FROM, CHEEK_SPAN, a ramp in mouth widths), times `share` (how smooth the
    target's own skin is, `TargetBeards.smooth`); None at 0 or where the zone has no
    cheeks. `stubble_as_hair` holds their darkness (CHEEK_DARKEST) and `hair_zone`
    leaves them out."""
    if share <= 0.0:
        return None
    size = zone.shape[0]
    box = mask_bounds(zone > 0.0)
    if box is None:
        return None
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    left, right = points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]]
    width = max(float(np.linalg.norm(right - left)), 1.0)
    axis = (right - left) / width
    centre = (left + right) / 2.0
    rows = np.arange(box[0].start, box[0].stop, dtype=np.float32)[:, None] - centre[1]
    columns = np.arange(box[1].start, box[1].stop, dtype=np.float32)[None, :] - centre[0]
    beyond = np.abs(columns * np.float32(axis[0]) + rows * np.float32(axis[1])) - width / 2.0
    ramp = np.clip((beyond / width - CHEEK_FROM) / CHEEK_SPAN, 0.0, 1.0)
    result = np.zeros((size, size), dtype=np.float32)
    result[box] = zone[box] * ramp * np.float32(min(share, 1.0))
    return result if result.any() else None


def beard_zone(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the beard zone of `landmarks` (478, 2+) in crop
    pixels, grown a little past its outline (stubble reaches up the lower cheeks) and
    softened, less the lips (the source's own lip shape and colour stay). Drawn at half
    size (it is smooth): 0.4 against 2.4 ms of CPU a frame at 512 px."""
    half = max(32, size // 2)
    points = np.asarray(landmarks, dtype=np.float64)[:, :2] * (half / size)
    zone = _polygon(points[list(BEARD_ZONE)], half, convex=False).astype(np.float32)
    soft = feather(zone, erode=-max(1, round(half / 64)), blur=max(2, round(half / 40)))
    soft *= 1.0 - lips_mask(points, half)
    result: np.ndarray = cv2.resize(soft, (size, size), interpolation=cv2.INTER_LINEAR)
    return result


KEPT_SCALE = 64.0  # the source's lightness kept above the crop size / this (8 px at 512)
# ... but never darker than the target's by more than this (grey levels, 0..255). On the
# streamer onto d18 (40 frames): the source's whole kept lightness left a soft brown
# moustache, nearer the source 97.5%; none of it (the target's chin) 47.5%; at most 6
# darker 80%, 8 72.5%, 12 95% with a faint shade above the lip (the runs spread ~10%).
DARKEST = 12.0


def shaven(face: np.ndarray, target: np.ndarray, weight: np.ndarray, size: int
           ) -> np.ndarray:
    """(H, W, 3) float32: `face` (the warped source) with, as far as `weight` (H, W) in
    [0, 1], the fine texture and colour of `target` (the target reshaped like it, same
    box) and the source's own lightness at scales above 1 / KEPT_SCALE of the crop, at
    most DARKEST darker than the target's. That lightness (the chin's and the upper lip's
    shape and shading) is what the identity reads; the specks, the tint and the deep
    shadow of stubble are not."""
    sigma = max(1.0, size / KEPT_SCALE)
    lift = cv2.GaussianBlur(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
                            - cv2.cvtColor(target, cv2.COLOR_RGB2GRAY), (0, 0), sigma)
    np.maximum(lift, -DARKEST, out=lift)
    result: np.ndarray = face + weight[..., None] * (target + lift[..., None] - face)
    return result


# A target smiling this much (mean mouthSmile) has the skin round its mouth corners shaved
# of the source's stubble not at all / wholly (`smiling_corners`). The streamer's moustache
# ends and goatee, restyled as hair, read as mouth corners held down: d18 smiles 0.17-0.22
# on frames 0-4 and expr-video-smiling's output read 0.06-0.08 (BENCHMARKS.md, Expression,
# twenty-second and twenty-third rounds). Only from a source of several faces: a photo
# source's corners are the corners' gate's (`mesh_mouth.target_corners_share`, shown as far
# as the target smiles more than the source), and shaved as well, readme-photo's frame 0
# read 0.33 where Katie Hill smiles 0.19 (0.28 unshaved; twenty-fifth round).
SMILE_SHAVED = (0.1, 0.2)


def corners_shave_share(smile: float) -> float:
    """0..1: how far a target whose mean mouthSmile is `smile` has the skin round its
    mouth corners shaved of the source's stubble (SMILE_SHAVED, a ramp)."""
    low, high = SMILE_SHAVED
    return float(np.clip((smile - low) / (high - low), 0.0, 1.0))


def smiling_corners(landmarks: np.ndarray, zone: np.ndarray, share: float
                    ) -> np.ndarray | None:
    """(S, S) float32 in [0, 1], S = `zone`'s size: how far the skin round the mouth
    corners of `landmarks` (478, 2+, crop pixels; `corners_mask`, less the lips) within
    the beard `zone` (S, S) is shaved (`shaven`: the target's own skin there), `share`
    (`corners_shave_share`, eased per track by the caller) of the way; None at 0 or
    where the corners fall outside the zone (nothing to shave).
    The stubble elsewhere (the moustache's middle, the goatee, the jaw) stays hair."""
    if share <= 0.0:
        return None
    size = zone.shape[0]
    around = corners_mask(landmarks, size) * (1.0 - lips_mask(landmarks, size))
    result: np.ndarray = (around * zone * share).astype(np.float32)
    return result if result.any() else None


# The corners' shave only lightens: where the target's skin there (shaven) comes out darker
# than the source's restyled stubble, its weight falls to none by this many grey levels. The
# target's own moustache ends (dark strokes painted at d10's corners, 0.35 of her skin)
# came onto the streamer's and Paul Rudd's faces; a region gate (`not_darker`) passed them
# on the streamer, whose dark stubble there is as dark against its surroundings.
SHAVE_DARKER = 8.0


def lighter_only(face: np.ndarray, shaved_face: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) float32: `shaved_face` (`shaven` of `face`, same box) only where it is
    not darker than `face` (grey levels, falling to `face` over SHAVE_DARKER; shrunk and
    softened over about a pixel at 256 px so single specks leave no speckle): the shave
    takes the source's stubble away and never brings the target's own dark hair."""
    darker = (cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
              - cv2.cvtColor(shaved_face, cv2.COLOR_RGB2GRAY))
    keep = np.clip(1.0 - darker / SHAVE_DARKER, 0.0, 1.0)
    # Shrunk before it is softened: softened alone, a thin dark stroke's edges let a third
    # of it through (the painted strokes 97 grey levels against 116 unshaved).
    reach = max(1, round(size / 256))
    keep = cv2.GaussianBlur(cv2.erode(keep, np.ones((2 * reach + 1,) * 2, np.uint8)), (0, 0),
                            max(0.5, size / 256))
    result: np.ndarray = face + three_channels(keep) * (shaved_face - face)
    return result


def _polygon(points: np.ndarray, size: int, convex: bool) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    outline = np.round(points).astype(np.int32)
    if convex:
        cv2.fillConvexPoly(mask, cv2.convexHull(outline), 1)
    else:
        cv2.fillPoly(mask, [outline], 1)
    return mask.astype(bool)


# Stubble as hair (`stubble_as_hair`). Lightness in grey levels (0..255).
SKIN_FILL = 10.0  # the source's skin colour spread into the zone over crop / this (sigma)
FILL_FLOOR = 1e-4  # skin weight below which the fill leans on the skin's mean colour
SPECK_SCALE = 64.0  # specks: the source's lightness finer than crop / this (8 px at 512)
LIGHTER_SPECKS = 7.0  # grey levels specks may be above their surroundings: ginger and
# blond hairs lit up read as light mottling (the streamer's chin); the dark side is kept
# whole. Its broad lightness is kept both ways: held to 5 grey levels above the skin as
# well, the chin's and lip's lit relief went and the swaps read less like the source
# (lighting: distance to the source 0.540 against 0.518; twelfth round).


def stubble_as_hair(face: np.ndarray, zone: np.ndarray, skin: np.ndarray, size: int,
                    in_place: bool = False, smooth: np.ndarray | None = None,
                    cheeks: np.ndarray | None = None) -> np.ndarray:
    """(S, S, 3) float32 RGB 0..255: `face` (the warped source, (S, S, 3) float32) with,
    as far as `zone` (S, S) in [0, 1], its own skin colour (spread from where `skin`
    (S, S) in [0, 1] is 1) scaled to its own lightness there: the zone's lightness kept
    above crop / SPECK_SCALE (the chin's relief, the stubble's density) and its specks
    below it (the identity reads them), lighter specks at most LIGHTER_SPECKS above their
    surroundings, and none of the stubble's own hue. The compositor then greys that darkness as hair
    (`SwappedFace.hair`): it carries the face's lightness detail on the target's skin
    colour, and darker at the same chroma is brown. Worked on the zone's box only, in
    RGB (in CIELAB the conversions took 4 times as long). `in_place`: `face` itself
    changed and returned (a copy of the whole crop fewer, and another in the caller).
    As far as `smooth` (S, S) in [0, 1] (`smooth_lip`), the specks are spread over crop /
    DOTS_SCALE: their darkness stays as a shade, their dots go. As far as `cheeks` (S, S)
    in [0, 1] (`beard_cheeks`), the broad lightness is at most CHEEK_DARKEST below the
    skin's fill: the specks stay, the source's shade goes."""
    result = face if in_place else face.copy()
    bounds = mask_bounds(zone > 0.01)
    if bounds is None:
        return result
    sigma = max(1.0, size / SPECK_SCALE)
    pad = int(3 * sigma) + 1  # the broad blur sees past the zone's edge as in the whole
    box = (slice(max(0, bounds[0].start - pad), bounds[0].stop + pad),
           slice(max(0, bounds[1].start - pad), bounds[1].stop + pad))
    fill = _skin_fill(face, skin, size / SKIN_FILL)[box]  # (h, w, 3) RGB
    fill_grey = np.maximum(cv2.cvtColor(fill, cv2.COLOR_RGB2GRAY), 1.0)
    grey = cv2.cvtColor(face[box], cv2.COLOR_RGB2GRAY)
    broad = cv2.GaussianBlur(grey, (0, 0), sigma)
    specks = np.minimum(grey - broad, LIGHTER_SPECKS)
    if cheeks is not None:
        held = np.maximum(broad, fill_grey - CHEEK_DARKEST)
        held -= broad
        held *= np.ascontiguousarray(cheeks[box])
        broad += held
    if smooth is not None:
        weight = np.ascontiguousarray(smooth[box])
        spread = cv2.GaussianBlur(specks, (0, 0), max(1.0, size / DOTS_SCALE))
        specks += weight * (spread - specks)
    wanted = broad + specks
    # Weights spread to three channels by OpenCV (three_channels): NumPy's loops over a
    # broadcast last axis took three times as long; the same values.
    rgb = fill * three_channels(np.maximum(wanted, 0.0) / fill_grey)
    rgb -= face[box]
    rgb *= three_channels(np.ascontiguousarray(zone[box]))
    result[box] += rgb
    return result


def _skin_fill(face: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """(S, S, 3) float32: the mean of `face` (S, S, 3) float32 over `skin` (S, S) within
    about `sigma` pixels of each pixel (a normalised Gaussian blur), the skin's mean
    where it is further than the blur reaches; made at quarter size (it is smooth)."""
    size = skin.shape[0]
    small = max(16, size // 4)
    shrink = (small, small)
    skin_small = cv2.resize(skin, shrink, interpolation=cv2.INTER_AREA)
    face_small = cv2.resize(face, shrink, interpolation=cv2.INTER_AREA)
    total = float(skin_small.sum())
    mean = ((face_small * skin_small[..., None]).sum(axis=(0, 1)) / total if total > 0.0
            else face_small.mean(axis=(0, 1)))
    scaled = max(0.5, sigma * small / size)
    spread = cv2.GaussianBlur(skin_small, (0, 0), scaled) + FILL_FLOOR
    fill = ((cv2.GaussianBlur(face_small * skin_small[..., None], (0, 0), scaled)
             + FILL_FLOOR * mean) / spread[..., None])
    result: np.ndarray = cv2.resize(fill, (size, size), interpolation=cv2.INTER_LINEAR)
    return result


def skin_around(landmarks: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """(S, S) float32 in {0, 1}, S = `zone`'s size: the face's skin below the lower lids
    and outside the beard `zone` (S, S) (the cheeks and the nose), where the source's
    own skin colour is taken from for `stubble_as_hair`. `landmarks` (478, 2+) in crop
    pixels."""
    size = zone.shape[0]
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    oval = _polygon(points[mesh_regions().face_oval], size, convex=False)
    below = np.arange(size)[:, None] > float(points[[145, 374], 1].max()) + size / 40
    return (oval & below & (zone < 0.05)).astype(np.float32)


# The upper lip, between the nose's wings and the lip: where a moustache grows.
UPPER_LIP = (98, 97, 2, 326, 327, 165, 391, 167, 393, 92, 322, 186, 410, 0, 37, 267, 39,
             269, 40, 270, 185, 409)
# A moustache darkens the upper lip as a whole; shaved stubble only dots it. How much
# darker the upper lip is than the source's own skin round the beard zone (L*, both blurred
# at crop / SPECK_SCALE; 512 px): Paul Rudd's studio photo 5.7-7.6, the streamer 8.1-31.8
# over nine faces (upper quartile 21-24), Kit Harington 22-29 (twenty-ninth round). Specks
# alone do not tell them apart (0.165 / 0.173 / 0.289).
MOUSTACHE_FROM, MOUSTACHE_SPAN = 10.0, 6.0  # no moustache below, a whole one above their sum


def upper_lip_darkness(crop: np.ndarray, landmarks: np.ndarray) -> float:
    """L* (0..100): how much darker a source face's upper lip (UPPER_LIP, less the lips and
    nostrils) is than its own skin round the beard zone (`skin_around`), both blurred at
    crop / SPECK_SCALE; 0 where either is too small to tell. `crop` (S, S, 3) uint8 RGB,
    `landmarks` (478, 2+) in its pixels."""
    size = crop.shape[0]
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    lightness = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (
        100.0 / 255.0)
    broad = cv2.GaussianBlur(lightness, (0, 0), max(1.0, size / SPECK_SCALE))
    zone = _polygon(points[list(BEARD_ZONE)], size, convex=False)
    lip = (_polygon(points[list(UPPER_LIP)], size, convex=True) & zone
           & ~(lips_mask(points, size) > 0.01)
           & ~_polygon(points[list(NOSTRILS)], size, convex=True))
    skin = skin_around(points, zone.astype(np.float32)) > 0.5
    if np.count_nonzero(lip) < 50 or np.count_nonzero(skin) < 50:
        return 0.0
    return float(np.median(broad[skin]) - np.median(broad[lip]))


def source_moustache(crops: Sequence[Callable[[], tuple[np.ndarray, np.ndarray]]]) -> float:
    """0 (shaved stubble) .. 1 (a moustache): the upper quartile of `upper_lip_darkness`
    over up to SAMPLED of a stubbled source's faces, evenly spaced, on the ramp
    MOUSTACHE_FROM, MOUSTACHE_SPAN; 1 (left as it is) with no faces. One value for the
    whole source, as `source_stubble`."""
    if not crops:
        return 1.0
    darkness = _upper_quartile(crops, upper_lip_darkness)
    return float(np.clip((darkness - MOUSTACHE_FROM) / MOUSTACHE_SPAN, 0.0, 1.0))


# Single specks show at 1x as dots once the speck band (crop / SPECK_SCALE) spans this many
# frame pixels: none below, whole above the sum. Katie Hill's head (440 px crops, 6.9 px)
# showed Paul Rudd's dots under her nose; Elon Musk's GIF (168 px, 2.6 px) a faint shade at
# 1x and its lip's dither at 6x, where the dots are what the identity reads (spread, the
# smoker's frames read nearer the target: 7 of 11 frames nearer the source -> 6 of 11).
DOTS_SHOWN_FROM, DOTS_SHOWN_SPAN = 3.0, 2.5
# On a smooth lip the specks are spread over crop / this (3.4 px at 440): the shade their
# density makes stays, the dots go. Spread over crop / SPECK_SCALE, or taken out, the
# README pair's likeness fell twice as far (dlib margin over 14 frames 0.072 -> 0.060 or
# 0.058, spread at crop / 128 0.065; thirty-first round).
DOTS_SCALE = 128.0


def dots_shown(size: int, face_from_frame: np.ndarray) -> float:
    """0 .. 1: how far single specks show as dots at 1x on a target face composited in a
    `size` px crop, `face_from_frame` (2, 3) its frame-to-crop matrix: the speck band's
    width (crop / SPECK_SCALE) in frame pixels on the ramp DOTS_SHOWN_FROM,
    DOTS_SHOWN_SPAN."""
    crop_per_frame = float(np.sqrt(abs(np.linalg.det(np.asarray(face_from_frame)[:, :2]))))
    width = size / SPECK_SCALE / max(crop_per_frame, 1e-6)
    return float(np.clip((width - DOTS_SHOWN_FROM) / DOTS_SHOWN_SPAN, 0.0, 1.0))


def nostril_openings(points: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32 in [0, 1]: the nostrils and the nose's tip (NOSTRILS' hull of
    `points`, (478, 2) crop pixels), softened inside their outline only: `smooth_lip`
    leaves them out and spreads the specks up to their edge.

    Grown a 64th of the crop past the outline and softened out as far again, the cut
    left a band under each nostril where Paul Rudd's dots stayed whole: warped down Katie
    Hill's wider, upturned nostrils, they were dark grey streaks under the nose at 2x
    (readme-photo frames 0 and 32, the fine band there 3.5-4.3 L rms against 2.5-3.0
    spread; BENCHMARKS.md, thirty-second round). The nostrils' own shadow lies inside
    the outline and stays."""
    reach = max(1, round(size / 64))
    nostrils = _polygon(points[list(NOSTRILS)], size, convex=True).astype(np.uint8) * 255
    return feather(nostrils, erode=0, blur=max(2, reach))


def smooth_lip(landmarks: np.ndarray, zone: np.ndarray, share: float) -> np.ndarray | None:
    """(S, S) float32 in [0, 1], S = `zone`'s size: where `stubble_as_hair` spreads the
    specks (`smooth`): the upper lip of `landmarks` (478, 2+, crop pixels; UPPER_LIP within
    the beard `zone`, softened, less the lips and the nostrils' own shadow), times `share`;
    None at 0 (the dots as they are)."""
    if share <= 0.0:
        return None
    size = zone.shape[0]
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    reach = max(1, round(size / 64))
    hull = _polygon(points[list(UPPER_LIP)], size, convex=True).astype(np.float32)
    soft = feather(hull, erode=-reach, blur=max(2, reach))
    box = mask_bounds(soft > 0.0)
    if box is None:
        return None
    openings = nostril_openings(points, size)
    # Multiplied on the lip's box only (0 outside it): 3.2 -> 2.3 ms of CPU at 440 px.
    result = np.zeros((size, size), dtype=np.float32)
    result[box] = (soft[box] * zone[box] * (1.0 - lips_mask(points, size)[box])
                   * (1.0 - openings[box]) * np.float32(min(share, 1.0)))
    return result if result.any() else None
