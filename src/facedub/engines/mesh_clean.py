"""Which pixels of a source face crop are clean skin and features, and which must not be
carried onto the target: regions outside the source image (a photo whose face touches
its border leaves black in the crop, which would become a dark stripe down a cheek),
hair over the forehead and temples, and the shadow that hair casts; on a photo, an object
held at the face and hair hanging over the cheeks.

`clean_weights` gives a per-pixel weight in [0, 1]; the mesh engine multiplies its trust
in each warped pixel by it and fills what is left out from the mirrored side of the face,
then from the target's own skin.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.masks import convex_hull_mask, face_oval, hair_zone
from facedub.faces.regions import NOSE_TIP, face_halves, mesh_regions

# Cheek and nose landmarks whose hull is almost always bare, lit skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
SKIN_DISTANCE = 3.0  # Mahalanobis distance (chroma) beyond which a pixel is not skin
SHADOW_DEPTH = 2.5  # standard deviations of skin lightness below which skin is shadowed
BORDER_MARGIN = 3  # pixels next to the outside of the source image are not trusted
NARROWEST_SIDE = 0.1  # the least share of its margin a side of the hair zone keeps
# A held object (the ball photo's basketball at her cheek) is lighter than any of the skin
# (median + OBJECT_LIGHTER sd of lightness) or more vivid (median + OBJECT_VIVID sd of
# chroma), lies past the outline and reaches inside it. It is taken only where one such
# region's pixels below the brows number at least OBJECT_SHARE of the whole (dilated)
# outline's area: the ball reads 8.1%, every other benchmark photo's face at most 2.4%
# (Rose Leslie's red hair). Lit skin passes that gate too (a backlit, stage-lit or
# over-exposed face joined to a bright background or collar: 7-19%), so nothing is taken
# where the taken area would cover an eye or a brow's inner or middle (FEATURE_GUARD): the
# ball's covers none (the nearest, her eye's outer corner, 2.8 px off at quarter size, 11
# at 512); each lit face that passed the gate covers one to six (BENCHMARKS.md,
# forty-sixth round).
OBJECT_LIGHTER = 2.5
OBJECT_VIVID = 3.0
OBJECT_SHARE = 0.05
BROW_TOPS = (105, 334)  # the brows' upper middle landmarks: the object is counted below
# The eyes' corners and lids' middles, the brows' inner ends and middles: a held object
# that covered one would hide the face it is held to; lit skin round them is what a
# false find takes.
FEATURE_GUARD = (33, 133, 159, 145, 263, 362, 386, 374, 55, 285, 105, 334)
# Hair hanging over a photo's cheeks inside the outline (Rose Leslie's red hair, from the
# temple to the jaw, which became a grey-brown band down the swapped far cheek): darker
# than the skin's shadow floor and more vivid than its chroma (median + HAIR_CHROMA sd),
# which a shadow on skin and grey or black hair are not, joined to such matter past the
# outline. Taken only where its pixels below the brows number HAIR_SHARE of the outline's
# area, counted HAIR_GATE_DEPTH below the skin: Rose Leslie 3.16%, every other benchmark
# source's face (12 photos, every fourth face of the 6 clips) 0%, the data set's other
# photos' faces at most 1.34% (a sitcom cast's face; the eyes-closed head-tilt photo's
# 1.21%); at 1 sd of chroma Kit Harington's and Jolie's photos brightened by 1.35 passed
# the gate (9.4%, 10.2%; BENCHMARKS.md, forty-seventh round, the survey's table).
HAIR_CHROMA = 3.0
HAIR_SHARE = 0.02
# The gate counts only strands HAIR_GATE_DEPTH (Lab L) or more below the skin's median: a pale,
# low-spread skin's shadow floor lies close under it (the head-tilt photo's: 91 - 2.5 x 4.4
# = 80), and her warm shaded cheek's edge and ear passed it, joined to her hair past the
# outline (16.9% of the outline taken, at 3x bare skin; BENCHMARKS.md). Its joined matter
# below the brows reads 7.77% of the outline at the shadow floor, 1.82% at 25, 1.21% at 30
# (her temple's hair); Rose Leslie's 4.70%, 3.78%, 3.16% (her strands 21-51 below her skin,
# median 36; the cheek's shade and ear 12-29). Those readings are the photos as they are; the
# margin is thin both ways: the head-tilt photo x1.1 reads 2.40% (x1.2 2.10%) and the sitcom
# blonde re-saved as JPEG q60 2.99%, and then the taken extent (read at the shadow floor)
# takes their shaded cheek edges; Rose Leslie 20% darker reads 1.33% and keeps her band; a
# skin under L 35 can never pass. Taking only the gate's strands brought her band back
# (BENCHMARKS.md, forty-seventh round, third pass).
HAIR_GATE_DEPTH = 30.0
# Where it is looked for: outside the eyes' outer corners (EYE_CORNERS), from HAIR_ABOVE of
# the crop above the brows' tops (the temple beside a brow's tail, half trusted in the hair
# zone's fade) down to the lower jaw angle (JAW_ANGLES; below, the chin and the neck's
# shadow), within HAIR_BAND of the crop of the outline (her strands lie 10-14 px of 128
# inside it beside the eyes).
EYE_CORNERS = (33, 263)
JAW_ANGLES = (172, 397)
HAIR_ABOVE = 0.08
HAIR_BAND = 0.12
# Its shaded strands are duller (chroma 24-33 against her skin's 29 +- 3) but far darker
# (L 15-30 against 74 +- 7): deeper than HAIR_DEPTH sd, joined to the vivid strands; at the
# shadow floor's 2.5 sd a brightened photo's shaded cheek joined them too (Kit Harington
# at gain 1.35 lost his far cheek). Gaps of HAIR_GAP px (quarter size) between strands are
# closed, and the whole grown by HAIR_MARGIN (2, or the cheek's shade beside the hair taken
# too, moved the faint line where the fill meets her cheek inward and darkened it at 1x).
HAIR_DEPTH = 5.0
HAIR_GAP = 2
HAIR_MARGIN = 1
# Never taken: each eye's hull grown by EYE_KEEP px (quarter size), each brow's hull (her
# brows and lids join the strands through her dark eye make-up) and the skin reference's
# hull grown by SKIN_KEEP (without it the closing and the margin reached her left cheek's
# landmark 280, 0.28 clean; grown by 2, 0.86 after `clean_weights`' margin and blur).
# Grown by 2 the band reached her left eye's outer corner and lash tail (landmark 359 0.65
# clean, 8 px outside the corner 0.35) and the swap's gaze error rose at every id; by 4
# they keep (0.98, 0.93) and the hair begins past the lashes' tail (at 3x).
EYE_KEEP = 4
SKIN_KEEP = 3
RAYS = 360  # directions from the nose tip a held object is followed along
OBJECT_MARGIN = 2  # pixels at quarter size the object's soft edge is grown by (8 at 512)
OBJECT_HALO = 4  # pixels at quarter size its pale edge is followed over (16 at 512)


def clean_weights(crop: np.ndarray, face_landmarks: np.ndarray,
                  held_objects: bool = False) -> np.ndarray:
    """(S, S) float32 in [0, 1]: 1 on clean source skin and features, 0 on what lies
    outside the source image and on hair or hair shadow above the brows, beside the eyes
    and past the face's outline. `crop` (S, S, 3) uint8 RGB aligned source face,
    `face_landmarks` (478, 2+) in its pixels. Judged at quarter size (hair is not fine
    detail), returned at full size. `held_objects`: an object held at the face and hair
    hanging over the cheeks inside the outline are left out too (`_held_object`,
    `_hanging_hair`); for a photo source only: on a video source a hard gate is met on
    some frames and not their neighbours (a stage-lit clip: 6-8% on frames 82-92, 4.5% on
    90 and 94), and the engine blends neighbouring source faces, so a region would come
    and go from frame to frame."""
    full = crop.shape[0]
    outside = _outside_image(crop)
    size = max(32, full // 4)
    small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    points = np.asarray(face_landmarks)[:, :2] * (size / full)
    reference = convex_hull_mask(points[list(SKIN_REFERENCE)], (size, size))
    skin = lab[reference & ~cv2.resize(outside.astype(np.uint8), (size, size)).astype(bool)]
    foreign = np.zeros((size, size), dtype=np.float32)
    if len(skin) >= 20:
        # Past the face's outline too: a turned face's far cheek is warped from just
        # past it, where long hair hangs (Kit Harington's curls became a grey band down
        # the swapped cheek). A pixel of margin (4 at 256) keeps a beard on the jaw
        # line; skin past the outline stays clean.
        oval = cv2.dilate(face_oval(points, size), np.ones((3, 3), np.uint8))
        beyond = 1.0 - oval.astype(np.float32) / 255.0
        zone = np.maximum(hair_zone(points, size, inset=1.0,
                                    side_shares=_side_shares(points)), beyond)
        foreign = _not_skin(lab, skin) * zone
        if held_objects:
            foreign = np.maximum(foreign, _held_object(lab, skin, points, oval > 0))
            foreign = np.maximum(foreign, _hanging_hair(lab, skin, points, oval > 0))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        foreign = cv2.morphologyEx(foreign, cv2.MORPH_OPEN, kernel)
        foreign = cv2.dilate(foreign, kernel)  # hair edges are soft: take a margin
    foreign = cv2.GaussianBlur(foreign, (0, 0), 1.0)
    weights = 1.0 - cv2.resize(foreign, (full, full), interpolation=cv2.INTER_LINEAR)
    weights[outside] = 0.0
    return np.clip(weights, 0.0, 1.0).astype(np.float32)


def _side_shares(points: np.ndarray) -> tuple[float, float]:
    """How wide each half of the face shows (the person's right, left) against the wider
    one: the hair zone's margin beside each brow's outer end is shrunk by it. On a turned
    face's far side the brow's tail ends a few pixels from the curls at the temple, inside
    the outline, which the full margin kept clean (Kit Harington's became a grey smear
    beside the swapped far eye; BENCHMARKS.md, sixteenth round). No threshold: a
    near-frontal face's narrower side is shrunk by its share too (Bob Dylan's 62 of 69 px),
    not visible in the swaps seen. `points` (478, 2+) in crop pixels."""
    halves = face_halves(points)
    widest = max(max(halves), 1e-6)
    right, left = (float(np.clip(half / widest, NARROWEST_SIDE, 1.0)) for half in halves)
    return right, left


def _outside_image(crop: np.ndarray) -> np.ndarray:
    """(S, S) bool: pure black regions touching the crop's border (the warp's fill
    outside the source image), grown by BORDER_MARGIN."""
    # Every channel at most 2: the pixels of `crop.max(axis=2) <= 2`, at a fortieth of its
    # cost (NumPy's reduction over a last axis of three took 4.7 of clean_weights' 6 ms a
    # 512 px face; BENCHMARKS.md, thirty-second round).
    black = cv2.inRange(crop, (0, 0, 0), (2, 2, 2))
    if not black.any():
        return np.zeros(black.shape, dtype=bool)
    _count, labels = cv2.connectedComponents(black, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    touching = np.isin(labels, edge[edge > 0])
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BORDER_MARGIN + 1,) * 2)
    grown: np.ndarray = cv2.dilate(touching.astype(np.uint8), kernel).astype(bool)
    return grown


def _not_skin(lab: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """(s, s) float32 0..1: how far each pixel is from the skin's colour (chroma by
    Mahalanobis distance) or below its lightness (hair, the shadow hair casts)."""
    chroma = skin[:, 1:].astype(np.float64)
    mean = chroma.mean(axis=0)
    inverse = np.linalg.inv(np.cov(chroma, rowvar=False) + np.eye(2))
    offset = lab[..., 1:].reshape(-1, 2) - mean
    distance = np.sqrt(np.einsum("pi,ij,pj->p", offset, inverse, offset)).reshape(
        lab.shape[:2])
    lightness = skin[:, 0]
    floor = float(np.median(lightness)) - SHADOW_DEPTH * max(float(lightness.std()), 4.0)
    by_colour = np.clip((distance - SKIN_DISTANCE) / 1.5, 0.0, 1.0)
    by_darkness = np.clip((floor - lab[..., 0]) / 6.0, 0.0, 1.0)
    result: np.ndarray = np.maximum(by_colour, by_darkness).astype(np.float32)
    return result


def _held_object(lab: np.ndarray, skin: np.ndarray, points: np.ndarray,
                 oval: np.ndarray) -> np.ndarray:
    """(s, s) float32 0/1: an object held in front of the face (a ball at the cheek), by
    what skin never is: lighter than any of it, or more vivid, connected to past the
    outline (`oval`, bool), its pixels below the brows OBJECT_SHARE of the outline's whole
    area, and what it takes covering no FEATURE_GUARD landmark; else zeros. `_not_skin`
    reads the ball's orange and cream as skin (its chroma lies along the skin's own hue:
    within 3 Mahalanobis), and inside the outline nothing but the hair zone is judged, so
    its rim became a pale line down the swapped cheek."""
    size = lab.shape[0]
    lightness = skin[:, 0]
    chroma = np.hypot(skin[:, 1], skin[:, 2])
    lighter = lab[..., 0] > (float(np.median(lightness))
                             + OBJECT_LIGHTER * max(float(lightness.std()), 4.0))
    vivid = np.hypot(lab[..., 1], lab[..., 2]) > (float(np.median(chroma))
                                                  + OBJECT_VIVID * max(float(chroma.std()), 2.0))
    count, labels = cv2.connectedComponents((lighter | vivid).astype(np.uint8), connectivity=8)
    brows = min(float(points[index, 1]) for index in BROW_TOPS)
    below_brows = oval & (np.arange(size)[:, None] > brows)
    outside = np.unique(labels[~oval])
    reaching = outside[outside > 0]
    inside = np.bincount(labels[below_brows], minlength=count)[reaching]
    if not len(reaching) or inside.max() < OBJECT_SHARE * max(int(oval.sum()), 1):
        return np.zeros(lab.shape[:2], dtype=np.float32)
    held = np.isin(labels, reaching[inside >= OBJECT_SHARE * oval.sum()])
    taken = _behind(held, points[NOSE_TIP, :2]).astype(np.uint8)
    # Its rim's out-of-focus edge is paler than her shaded cheek beside it (L 62 against
    # 37-43, her skin's median 53) and became a thin light line in the swap: grown over
    # what is lighter than the skin's median, within OBJECT_HALO of it.
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * OBJECT_HALO + 1,) * 2)
    halo = (cv2.dilate(taken, reach) > 0) & (lab[..., 0] > float(np.median(lightness)))
    taken = np.maximum(taken, halo.astype(np.uint8))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * OBJECT_MARGIN + 1,) * 2)
    grown: np.ndarray = cv2.dilate(taken, kernel).astype(np.float32)
    if _covers_features(grown > 0, points):
        return np.zeros(lab.shape[:2], dtype=np.float32)
    return grown


def _hanging_hair(lab: np.ndarray, skin: np.ndarray, points: np.ndarray,
                  oval: np.ndarray) -> np.ndarray:
    """(s, s) float32 0/1: hair hanging over the cheeks inside the outline (`oval`, bool):
    its dark, vivid strands joined to past the outline, its darker dull strands joined to
    them, beside the cheeks (`_beside_cheeks`), less the eyes, brows and the skin
    reference (`_kept_features`); zeros unless the vivid strands below the brows number
    HAIR_SHARE of the outline's area. `lab` (s, s, 3) the crop at quarter size, `skin` the skin
    reference's Lab pixels, `points` the landmarks in its pixels. Inside the outline nothing
    else but the hair zone (above the brows, beside them down to the nose tip) is judged."""
    size = lab.shape[0]
    nothing = np.zeros((size, size), dtype=np.float32)
    lightness = skin[:, 0]
    spread = max(float(lightness.std()), 4.0)
    chroma = np.hypot(skin[:, 1], skin[:, 2])
    dark = lab[..., 0] < float(np.median(lightness)) - SHADOW_DEPTH * spread
    vivid = np.hypot(lab[..., 1], lab[..., 2]) > (float(np.median(chroma))
                                                  + HAIR_CHROMA * max(float(chroma.std()), 2.0))
    hair = _joined(dark & vivid, ~oval)
    brows = min(float(points[index, 1]) for index in BROW_TOPS)
    below_brows = oval & (np.arange(size)[:, None] > brows)
    deepest = lab[..., 0] < float(np.median(lightness)) - max(SHADOW_DEPTH * spread,
                                                              HAIR_GATE_DEPTH)
    counted = _joined(deepest & vivid, ~oval)
    if (counted & below_brows).sum() < HAIR_SHARE * max(int(oval.sum()), 1):
        return nothing
    beside = _beside_cheeks(points, oval, brows)
    deep = lab[..., 0] < float(np.median(lightness)) - HAIR_DEPTH * spread
    strands = hair | _joined(deep & beside, hair & beside)
    bridge = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HAIR_GAP + 1,) * 2)
    taken = cv2.morphologyEx((strands & beside).astype(np.uint8), cv2.MORPH_CLOSE, bridge)
    taken *= beside.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HAIR_MARGIN + 1,) * 2)
    grown: np.ndarray = cv2.dilate(taken, kernel).astype(np.float32)
    grown[_kept_features(points, size)] = 0.0
    return grown


def _joined(candidates: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(s, s) bool: the 8-connected regions of `candidates` that hold a pixel of `seeds`."""
    _count, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    held = np.unique(labels[seeds])
    joined: np.ndarray = np.isin(labels, held[held > 0])
    return joined


def _beside_cheeks(points: np.ndarray, oval: np.ndarray, brows: float) -> np.ndarray:
    """(s, s) bool: inside `oval`, outside the eyes' outer corners, from HAIR_ABOVE of the
    crop above `brows` (a row) to the lower jaw angle, within HAIR_BAND of the outline."""
    size = oval.shape[0]
    rows, columns = np.arange(size)[:, None], np.arange(size)[None, :]
    outer = ((columns < float(points[EYE_CORNERS[0], 0]))
             | (columns > float(points[EYE_CORNERS[1], 0])))
    jaw = max(float(points[index, 1]) for index in JAW_ANGLES)
    depth = cv2.distanceTransform(oval.astype(np.uint8), cv2.DIST_L2, 3)
    beside: np.ndarray = (oval & outer & (rows > brows - HAIR_ABOVE * size) & (rows < jaw)
                          & (depth <= HAIR_BAND * size))
    return beside


def _kept_features(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) bool: each eye's hull grown by EYE_KEEP pixels, the skin reference's by
    SKIN_KEEP, and each brow's hull."""
    regions = mesh_regions()
    kept = np.zeros((size, size), dtype=bool)
    for parts, margin in (((regions.right_eye, regions.left_eye), EYE_KEEP),
                          ((SKIN_REFERENCE,), SKIN_KEEP),
                          ((regions.right_eyebrow, regions.left_eyebrow), 0)):
        hulls = np.zeros((size, size), dtype=np.uint8)
        for part in parts:
            hull = cv2.convexHull(np.round(points[list(part), :2]).astype(np.int32))
            cv2.fillConvexPoly(hulls, hull, 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2)
        kept |= cv2.dilate(hulls, kernel) > 0
    return kept


def _covers_features(taken: np.ndarray, points: np.ndarray) -> bool:
    """Whether `taken` ((s, s) bool) holds a FEATURE_GUARD landmark of `points`."""
    size = taken.shape[0]
    spots = np.clip(np.round(points[list(FEATURE_GUARD), :2]).astype(int), 0, size - 1)
    return bool(taken[spots[:, 1], spots[:, 0]].any())


def _behind(held: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(s, s) bool: `held` and all that lies behind it seen from the face's `centre` (the
    nose tip): a held object hides what is past its rim on each ray. The ball's shaded
    cream below the cheekbone (L 63-77 against her skin's 53 +- 10) is neither lighter
    nor vivid, and joins her face's own pixels round the rim's upper end."""
    size = held.shape[0]
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = cols - float(centre[0]), rows - float(centre[1])
    radius = np.hypot(dx, dy)
    ray = ((np.arctan2(dy, dx) + np.pi) * (RAYS / (2 * np.pi))).astype(int) % RAYS
    nearest = np.full(RAYS, np.inf, dtype=np.float32)
    np.minimum.at(nearest, ray[held], radius[held])
    hidden: np.ndarray = radius >= nearest[ray]
    return hidden


