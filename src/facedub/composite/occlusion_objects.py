"""Objects in front of the face, found in its canonical crop (see
facedub.composite.occlusion), so they move with the face:

- `complete_by_colour`: an object the net found in part is taken whole where its pixels
  are not the face's skin colour and connect to what the net is sure of (hysteresis;
  inside the lips only through what is unlike the lips too), and regions floating wholly
  inside the face are dropped (`from_outside`);
- `dark_objects`: a near-black object under the lower lip (a microphone's head).

The glasses cues are facedub.faces.glasses_cues, their reflections facedub.composite.occlusion_cues.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.glasses_cues import (
    eyes_and_brows,
    order_median,
    order_percentile,
    order_quantile,
)
from facedub.faces.masks import face_mask, face_oval, feather
from facedub.faces.regions import MOUTH_CORNERS, mesh_regions

# Cheek and nose landmarks whose hull is almost always bare skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
NOSE_TIP = 1
SEED, GROW = 0.5, 0.2  # hysteresis: net probability that starts a region, and extends it
NOT_SKIN = 4.5  # Mahalanobis distance (CIELAB) beyond which a pixel is not the face's skin
LIGHTNESS_SLACK = 2.5  # shading changes lightness across a face far more than hue
LIPS_LESS_RED = 3.0  # CIELAB a* below the cheeks' at which "the lips" are something else
FEWEST_COLOURS = 12  # pixels below which a colour sample (skin, lips) says nothing
# Light on skin (a torch sweeping over a cheek): a pixel of the cheeks at least as
# light as their median whose chroma lies within LIT_CHROMA (Mahalanobis) of their
# lighter half's is lit skin.
LIT_CHROMA = 2.5
# ... and lit skin round the mouth, or the cheeks' skin lighter than the median of
# another hue, is the cheek's light carried on where it is reached from the lit cheek
# through pixels each within LIT_STEP of its neighbours (L* weighted by LIT_LIGHTNESS):
# a hand's or a microphone's outline is a larger step.
LIT_STEP, LIT_LIGHTNESS = 8.0, 0.5
# The cheeks leave out the eyes grown by RIM_MARGIN of the crop (glasses' lower rims),
# and the mouth and the chin grown by MOUTH_MARGIN.
RIM_MARGIN, MOUTH_MARGIN = 0.06, 0.03
# A bare face's eyes and brows are marked no further than EYE_REACH of the crop from
# the marks on the skin around them (see `_eyes_with_their_skin`): one pixel at 64. At
# three, clip 13's lit brows stayed, joined to the hair at his temple (frames 11, 57).
EYE_REACH = 0.02
# ... unless the skin ringing that eye or brow is marked over at least this share: then
# something covers it whole (a hand, hair across the brows) and its own marks stand.
EYE_RING_COVERED = 0.35
BARE_SOFTNESS = 1.0  # pixels (of 64): the blur of the bare cheeks the net's marks give way to
# A region the mask keeps (above MARKED) must reach within OUTLINE_BAND of the crop of
# the face's outline.
MARKED, OUTLINE_BAND = 0.25, 0.06
# Dark objects at the chin: lightness below DARK_SHARE of the skin's (and DARK_MAX), a
# region of DARK_AREA of the crop or more and DARK_HEIGHT of its side tall, under the
# lips, at DARK_DEPTH of the crop inside the face's outline (its median pixel).
DARK_SHARE, DARK_MAX = 0.45, 24.0
DARK_AREA, DARK_HEIGHT, DARK_DEPTH = 0.0012, 0.045, 0.04
# The net's guess with which a dark object's not-skin surroundings are taken on, up to
# DARK_STEPS of the crop from it.
DARK_GROW, DARK_STEPS = 0.12, 0.05


@dataclass(frozen=True)
class FaceZones:
    """Zones of the net's crop that several cues of a frame use, made once (see
    `face_zones`): `whole` (R, R) bool, the face's oval without the forehead; `inner`
    (R, R) bool, that oval eroded by `erode` pixels; `mouth` (R, R) bool, inside the outer
    lip line; `skin` (R, R) bool, the skin's reference pixels (`SKIN_REFERENCE`'s hull)
    that the frame shows."""

    whole: np.ndarray
    inner: np.ndarray
    erode: int
    mouth: np.ndarray
    skin: np.ndarray


def face_zones(points: np.ndarray, size: int, shown: np.ndarray) -> FaceZones:
    """`FaceZones` of a (size, size) crop with the landmarks `points` in its pixels and
    `shown` (size, size) bool its pixels inside the frame; the oval eroded by a
    sixteenth of the crop (at least a pixel) for `inner`."""
    oval = face_oval(points, size, forehead=False)
    erode = max(1, size // 16)
    return FaceZones(oval > 0, feather(oval, erode, 0) > 0.5, erode,
                     inside_loop(points, mesh_regions().lips_outer, size),
                     _skin_reference(points, size) & shown)


def complete_by_colour(probabilities: np.ndarray, lab: np.ndarray, points: np.ndarray,
                       shown: np.ndarray, bare_eyes: bool = False,
                       zones: FaceZones | None = None,
                       settled: np.ndarray | None = None) -> np.ndarray:
    """(R, R) float32: `probabilities` (R, R) of the net, raised to 1 over every pixel that
    is not skin-coloured and connects, through such pixels or the net's weaker guesses, to
    where the net is sure. `lab` (R, R, 3) the canonical crop in CIELAB, `points` (the
    landmarks) in its pixels (see facedub.faces.glasses_cues.half_pixels); `shown`
    (R, R) bool, its pixels inside the frame: nothing is learnt from, started in or grown
    through the black fill where the frame's edge cuts the face. `bare_eyes`: the face
    is known to wear no glasses, so the skin round the eyes is bare skin too (see
    `_cheeks`).

    Only the face itself grows (its oval with the forehead); eyes and brows never do,
    being unlike skin too. `zones`: the frame's `face_zones`, when already made.
    `settled` (R, R) bool or None: the face as the track's last frame showed it, bare
    and unchanged since (facedub.composite.occlusion); where the net is unsure (SEED or
    under) such pixels are the face's own (a beard, the jaw's shaded edge) and nothing
    grows through them."""
    size = probabilities.shape[0]
    # What several cues share is made once: the skin's reference pixels, the face's oval,
    # the eyes and brows grown by a pixel, the mouth.
    if zones is None:
        zones = face_zones(points, size, shown)
    reference = zones.skin
    distance = _colour_distance(lab, lab[reference], 80)
    whole = zones.whole
    eyes_grown = eyes_and_brows(points, size, grow=1)
    face = whole & ~(eyes_grown if max(1, size // 40) == 1
                     else eyes_and_brows(points, size, grow=max(1, size // 40)))
    # Seeds well inside the face: at its edge, hair and background are the other
    # modules' business (edge_occluders, the face mask's feather).
    erode = zones.erode
    inner = zones.inner
    # Lips (lipstick most of all) are unlike the cheeks' skin, and the net often guesses
    # at a lip line: inside the mouth the colour grows only through what is unlike the
    # lips as well, and a guess made only inside the mouth starts nothing. A cup or a
    # microphone at the mouth reaches beyond the lips (teeth, behind the lips, are
    # reached only through the net's own marks).
    mouth = zones.mouth  # lips, teeth, the open mouth
    # The cheeks' skin, lit or not, is no object: it neither counts as unlike skin nor
    # carries the net's weak guesses, nor starts a region (the net marks a torch-lit
    # cheek at 0.2 to 0.6: grown, it kept the cheek in hard-edged patches). Its own marks
    # stay, soft. Hands and hair reach the face across the parts left out (`_cheeks`);
    # skin-coloured pixels count away from the outline, lit skin out to it (the lit
    # cheek reaches the jaw's edge, hair at the temples is darker).
    round_mouth = _round_the_mouth(points, size, mouth)
    cheeks = _cheeks(points, size, mouth, bare_eyes,
                     eyes_grown if bare_eyes or max(1, round(RIM_MARGIN * size)) == 1 else None,
                     round_mouth)
    # Lit skin round the mouth, and the cheeks' skin in a light of another hue, are bare
    # too where they carry on the cheek's own light without an edge (a hand held there
    # has its outline).
    bare = (_lit_from_the_cheeks(lab, reference, whole & cheeks, whole & round_mouth & ~mouth,
                                 float(points[list(MOUTH_CORNERS), 1].mean()))
            | (inner & cheeks & (distance <= NOT_SKIN)))
    unlike = (distance > NOT_SKIN) & ~bare
    inside = mouth & unlike
    if inside.any():
        lips = _lips_distance(lab, points, probabilities, shown, inside, mouth, reference)
        unlike[inside] = lips[inside] > NOT_SKIN
    weak = (((probabilities > GROW) & ~bare) | unlike) & face & shown
    if settled is not None and reference.any():
        # The face's own darker parts below the nose (a beard, the jaw's shade) that the
        # last frame showed bare and that have not changed since: not an object's, where
        # the net is unsure. (Paler ones are left to the net: smoke breathed out thickens
        # by degrees; and hair over the brows, which the net marks on and off.)
        own = settled & (probabilities <= SEED)
        own[:max(0, int(np.ceil(points[NOSE_TIP, 1])))] = False
        weak &= ~(own & (lab[..., 0] < float(order_median(lab[reference][:, 0]))))
    weak = weak.astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=4)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[(probabilities > SEED) & inner & ~mouth & ~bare & shown])] = True
    seeded[0] = False
    grown = seeded[labels] & (weak > 0)
    # Inside the mouth the net's marks count only as part of what reaches in from outside
    # it: alone they are its lip-line and teeth guesses.
    kept = np.where(mouth & ~grown, 0.0, probabilities).astype(np.float32)
    # Nor do its marks on the cheeks' bare skin count (softened inwards: the skin test is
    # made pixel by pixel, and a hard-edged hole would be as jagged as the patches were).
    plain = bare.astype(np.float32)
    kept *= 1.0 - np.minimum(plain, cv2.GaussianBlur(plain, (0, 0), BARE_SOFTNESS))
    objects = np.maximum(kept, grown.astype(np.float32))
    if bare_eyes:
        objects = _eyes_with_their_skin(objects, points, eyes_grown)
    return from_outside(objects, points,
                        inner if erode == max(1, round(OUTLINE_BAND * size)) else None,
                        eyes_grown if bare_eyes else None)


def _eyes_with_their_skin(objects: np.ndarray, points: np.ndarray,
                          zone: np.ndarray | None = None) -> np.ndarray:
    """`objects` (R, R) whose marks on the eyes and brows go no further than the marks on
    the skin around them (EYE_REACH of the crop): what covers an eye or a brow covers the
    skin beside it too, while the net's marks on bare eyes alone are dark sockets under
    a passing light (clip 13: 0.6-0.7 on the brows and eyes, the lids' skin bare). An eye
    or brow whose ring of skin is marked over EYE_RING_COVERED keeps its marks whole: a
    hand over it reaches deeper than EYE_REACH into it. `zone`: the eyes and brows grown
    by a pixel (`eyes_and_brows`), when already made."""
    size = objects.shape[0]
    if zone is None:
        zone = eyes_and_brows(points, size, grow=1)
    reach = max(1, round(EYE_REACH * size))
    kernel = np.ones((2 * reach + 1,) * 2, np.uint8)
    limit = cv2.dilate(_wide_marks(objects, zone, kernel), kernel)
    count, parts = cv2.connectedComponents(zone.astype(np.uint8), connectivity=8)
    for part in range(1, count):
        inside = parts == part
        ring = (cv2.dilate(inside.astype(np.uint8), kernel) > 0) & ~zone
        if ring.any():
            # `np.quantile`'s value, without its argument handling (`order_quantile`).
            covered = float(order_quantile(objects[ring], 1.0 - EYE_RING_COVERED))
            limit[inside] = np.maximum(limit[inside], covered)
    return np.where(zone, np.minimum(objects, limit), objects).astype(np.float32)


def _wide_marks(objects: np.ndarray, zone: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(R, R) float32: `objects` off the eyes and brows `zone` (R, R) bool, 0 on them, where
    a region taken whole (1, colour-grown) narrower than `kernel` counts only as the
    least mark beside it (the zone neutral): what covers an eye or a brow is wider, while
    on a bare face the lid's dark crease between brow and eye is grown to 1 a pixel at a
    time (clip 13, frame 11: one pixel lifted the lit brow's 0.5-0.7 beside it into a
    pale fleck)."""
    hard = (objects >= 1.0) & ~zone
    skin = np.where(zone, 0.0, objects).astype(np.float32)
    if not hard.any():
        return skin
    # A grown pixel is wide when it lies in a kernel's square of grown pixels (the zone
    # counted as grown, so a hand's edge along a brow stays wide).
    core = (cv2.erode((hard | zone).astype(np.uint8), kernel) > 0) & hard
    narrow = hard & ~(cv2.dilate(core.astype(np.uint8), kernel) > 0)
    if narrow.any():
        least = cv2.erode(np.where(zone, 1.0, objects).astype(np.float32), kernel)
        skin[narrow] = least[narrow]
    return skin


def lit_skin(lab: np.ndarray, points: np.ndarray, shown: np.ndarray, where: np.ndarray
             ) -> np.ndarray:
    """(R, R) bool: pixels of `lab` (R, R, 3), among `where` (R, R) bool, that are the
    skin of the cheeks and nose where the light falls on it: at least as light as their
    median, with the chroma (a*, b*) of their lighter half (a torch's light has its own
    hue: on clip 13 it takes a* from 6 to -4). Darker pixels never count (hair at the
    temples, a beard's edge). `points`, `shown` as for `skin_distance`."""
    return _lit_skin(lab, _skin_reference(points, lab.shape[0]) & shown, where)


def _lit_skin(lab: np.ndarray, skin: np.ndarray, where: np.ndarray) -> np.ndarray:
    """`lit_skin` with the skin's reference pixels `skin` (R, R) bool already found."""
    lit = np.zeros(lab.shape[:2], bool)
    reference = lab[skin].astype(np.float32)
    if len(reference) < 2 * FEWEST_COLOURS:
        return lit
    middle = float(order_median(reference[:, 0]))
    candidates = where & (lab[..., 0] >= middle)
    chroma = reference[reference[:, 0] >= middle, 1:]
    inverse = np.linalg.inv(sample_covariance(chroma) + np.diag([2.0, 2.0]))
    offset = lab[candidates][:, 1:].astype(np.float32) - chroma.mean(axis=0)
    products = offset @ inverse.astype(np.float32)
    products *= offset
    # The two terms added as columns (the same values as a sum over the last axis).
    lit[candidates] = products[:, 0] + products[:, 1] < LIT_CHROMA ** 2
    return lit


def _cheeks(points: np.ndarray, size: int, mouth: np.ndarray, bare_eyes: bool = False,
            eyes_around: np.ndarray | None = None, round_mouth: np.ndarray | None = None
            ) -> np.ndarray:
    """(size, size) bool: below the eyes' centres, less round the eyes, the mouth
    (`mouth`, (size, size) bool, inside its outer lip line) and the chin under it
    (between the mouth's corners): where the face's skin is changed only by light. A
    blonde fringe is lit skin's colour, glasses' rims join the net's guesses at a
    fringe, and a hand held at the mouth is skin too.

    `bare_eyes` (a track judged to wear no glasses): from the brows down, less the eyes
    and brows themselves. A torch passing over a bare face makes dark sockets in lit
    skin, which the net marks as lenses (clip 13, frames 52-58)."""
    regions = mesh_regions()
    upper = (np.r_[regions.right_eyebrow, regions.left_eyebrow] if bare_eyes
             else np.r_[regions.right_eye, regions.left_eye])
    eyes = float(points[upper, 1].mean())
    below = np.arange(size)[:, None] > eyes
    if eyes_around is None:  # else made already: the eyes and brows grown as below
        eyes_around = eyes_and_brows(points, size, grow=1 if bare_eyes
                                     else max(1, round(RIM_MARGIN * size)))
    if round_mouth is None:  # else made already (`_round_the_mouth`)
        round_mouth = _round_the_mouth(points, size, mouth)
    return below & ~eyes_around & ~round_mouth


def _round_the_mouth(points: np.ndarray, size: int, mouth: np.ndarray) -> np.ndarray:
    """(size, size) bool: the mouth (`mouth`, inside its outer lip line) grown by
    MOUTH_MARGIN of the crop, and the chin under it between the mouth's corners (and as
    far beyond them): where a hand held at the mouth is looked for (see `_cheeks`)."""
    margin = max(1, round(MOUTH_MARGIN * size))
    around = cv2.dilate(mouth.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0
    left, right = sorted(points[list(MOUTH_CORNERS), 0])
    around[round(float(points[mesh_regions().lips_outer, 1].max())):,
           max(0, round(left) - margin):round(right) + margin + 1] = True
    return around


def _lit_from_the_cheeks(lab: np.ndarray, skin: np.ndarray, cheeks: np.ndarray,
                         round_mouth: np.ndarray, corners_row: float) -> np.ndarray:
    """(R, R) bool: the lit skin of `cheeks` (see `_lit_skin`), and where the cheek's
    light carries on from it without an edge: the lit skin of `round_mouth` ((R, R)
    bool, the lips left out), and the cheeks' skin lighter than the skin's median of
    another hue.

    A light falling across the cheek and on past the mouth's corner to the chin (clip
    13's torch, frames 10-13) lights one skin, each pixel like the next, from the cheek
    beside the mouth down: that skin is reached from the lit cheek above the mouth's
    corners (`corners_row`, the crop's row) through pixels each within LIT_STEP of its
    neighbours. Where the light grazes the face's side its hue is stronger than the lit
    cheek's (the torch at his temple, frames 58-59, a* -8 against -2), out of the lit
    skin's chroma, but it grades into the lit cheek as smoothly. A hand or a microphone
    held at the mouth has an outline against the skin around it, a larger step, and the
    fingers of a hand at the chin come up from below, lit as they may be where they
    cross the lower cheek (clip 11's stage shot, frame 35): neither is reached. `skin`
    the skin's reference pixels; `lab` (R, R, 3) CIELAB."""
    lit = _lit_skin(lab, skin, cheeks | round_mouth)
    on_cheeks = lit & cheeks
    if not on_cheeks.any():
        return on_cheeks
    even = _colour_step(lab) < LIT_STEP
    smooth = lit & even
    lighter = cheeks & even & ~lit & (lab[..., 0] >= float(order_median(lab[skin][:, 0])))
    beyond = (smooth & round_mouth & ~cheeks) | lighter
    if not beyond.any():
        return on_cheeks
    count, labels = cv2.connectedComponents(
        ((smooth & (cheeks | round_mouth)) | lighter).astype(np.uint8), connectivity=4)
    start = smooth & cheeks
    start[max(0, int(np.ceil(corners_row))):] = False
    reached = np.zeros(count, bool)
    reached[labels[start]] = True
    reached[0] = False
    return on_cheeks | (beyond & reached[labels])


def _colour_step(lab: np.ndarray) -> np.ndarray:
    """(R, R) float32: the largest colour difference between each pixel of `lab`
    (R, R, 3) and its four neighbours, as L* / 2 + |a*| + |b*| apart (light changes
    lightness far more than hue, as in facedub.composite.occlusion_motion). Summed plane
    by plane with OpenCV (a fifth of the time of NumPy's sum over the channels)."""
    planes: list[np.ndarray] = [np.asarray(plane, np.float32)
                                for plane in cv2.split(lab.astype(np.float32))]
    planes[0] *= np.float32(LIT_LIGHTNESS)
    down = np.asarray(cv2.absdiff(planes[0][1:], planes[0][:-1]), np.float32)
    across = np.asarray(cv2.absdiff(planes[0][:, 1:], planes[0][:, :-1]), np.float32)
    for plane in planes[1:]:
        down += np.asarray(cv2.absdiff(plane[1:], plane[:-1]), np.float32)
        across += np.asarray(cv2.absdiff(plane[:, 1:], plane[:, :-1]), np.float32)
    step = np.zeros(lab.shape[:2], np.float32)
    np.maximum(step[1:], down, out=step[1:])
    np.maximum(step[:-1], down, out=step[:-1])
    np.maximum(step[:, 1:], across, out=step[:, 1:])
    np.maximum(step[:, :-1], across, out=step[:, :-1])
    return step


def from_outside(objects: np.ndarray, points: np.ndarray,
                 inner: np.ndarray | None = None,
                 bare_eyes_and_brows: np.ndarray | None = None) -> np.ndarray:
    """`objects` (R, R) without the regions that lie wholly inside the face: what covers
    a face comes in from beyond its outline (a hand, a microphone, a cup, hair), while
    the net's marks that float inside it are stage light on a nose or a cheek, a frowning
    forehead's furrows, catch-lights in the eyes. (Glasses, the exception, are found by
    their own frames: see `glasses_frames`.) `points`, the landmarks, in its pixels.

    `bare_eyes_and_brows` (R, R) bool or None: for a face known to wear no glasses, its eyes and
    brows (grown by a pixel). Marks outside them must reach the outline without passing
    through them: a bare face's brows and sockets shaded by a passing light are marked
    on their own (clip 13, the net's 0.3-0.45 on his torch-shaded brow and socket), and
    through them a region of colour grown on the nose's far side reached his temple
    (frame 16: a violet patch of the target's own skin kept). What covers an eye or a
    brow covers the skin beside it and reaches the outline through that skin (a hand,
    a fringe). The marks on the eyes and brows themselves keep the rule as before."""
    size = objects.shape[0]
    marked = objects > MARKED
    if not marked.any():
        return objects
    if inner is None:  # else made already: (R, R) bool, the face's oval eroded as here
        inner = face_mask(points, size, forehead=False,
                          erode=max(1, round(OUTLINE_BAND * size))) > 0.5
    kept = _reaching_the_outline(marked, inner)
    if bare_eyes_and_brows is not None:
        kept = np.where(bare_eyes_and_brows, kept,
                        _reaching_the_outline(marked & ~bare_eyes_and_brows, inner))
    return np.where(kept, objects, 0.0).astype(np.float32)


def _reaching_the_outline(marked: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """(R, R) bool: true but on the regions of `marked` (R, R) bool (8-connected) that lie
    wholly in `inner` (R, R) bool, the face less its outline's band."""
    count, labels = cv2.connectedComponents(marked.astype(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[np.unique(labels[marked & ~inner])] = True
    touching[0] = True
    return touching[labels]


def dark_objects(lab: np.ndarray, points: np.ndarray, probabilities: np.ndarray,
                 shown: np.ndarray, zones: FaceZones | None = None) -> np.ndarray:
    """(R, R) bool: near-black objects over the chin and the lower lip (a microphone's
    head held at the mouth, to which the net gives only 0.1 to 0.4), in `lab` (R, R, 3)
    with `points` (the landmarks) in its pixels; `probabilities` (R, R) the net's;
    `shown` (R, R) bool, the pixels inside the frame (the black fill beyond its edge is
    never an object).

    Seeds far darker than the face's skin (see `_dark_seeds`), taken on a few pixels
    through the net's weak guesses where the pixels are not skin (the grille's lit
    parts), below the mouth's corners and outside its opening. `zones`: the frame's
    `face_zones`, when already made."""
    size = lab.shape[0]
    if zones is None:
        zones = face_zones(points, size, shown)
    # The oval is 0 or 255: over half of 255 where it is not 0.
    face = zones.whole.astype(np.uint8)
    opening = inside_loop(points, mesh_regions().lips_inner, size).astype(np.uint8)
    below = np.arange(size)[:, None] > float(points[list(MOUTH_CORNERS), 1].mean())
    zone = below & (cv2.dilate(opening, np.ones((3, 3), np.uint8)) == 0) & (face > 0) & shown
    seeds = _dark_seeds(lab, points, face, zone, zones.skin)
    if not seeds.any():
        return seeds
    guessed = (probabilities > GROW) | ((probabilities > DARK_GROW)
                                        & (_colour_distance(lab, lab[zones.skin], 80)
                                           > NOT_SKIN))
    # Only a few pixels on from the seeds: the stubble around is often not skin either.
    allowed = ((guessed & zone) | seeds).astype(np.uint8)
    grown = seeds.astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(round(DARK_STEPS * size)):
        grown = cv2.dilate(grown, cross) & allowed
    return grown > 0


def _dark_seeds(lab: np.ndarray, points: np.ndarray, face: np.ndarray, zone: np.ndarray,
                reference: np.ndarray) -> np.ndarray:
    """(R, R) bool: regions of `zone` far darker than the face's skin (stubble and shaded
    skin are not) that reach up to the lower lip and lie well inside the face's outline
    (`face`, uint8): not a shadow along the jaw's edge or under the chin. `reference`
    (R, R) bool: the skin's reference pixels that the frame shows."""
    size = lab.shape[0]
    if not reference.any():
        return np.zeros((size, size), bool)
    lightness = lab[..., 0]
    dark = lightness < min(DARK_MAX, DARK_SHARE * float(order_median(lightness[reference])))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((dark & zone).astype(np.uint8),
                                                               connectivity=8)
    seeds = np.zeros((size, size), bool)
    large = [label for label in range(1, count)
             if stats[label, cv2.CC_STAT_AREA] >= DARK_AREA * size * size]
    if not large:  # most frames: no dark region large enough, nothing more to measure
        return seeds
    depth = cv2.distanceTransform(face, cv2.DIST_L2, 3)
    lip = float(points[mesh_regions().lips_outer, 1].max())
    left, right = sorted(points[list(MOUTH_CORNERS), 0])
    below_lips = np.zeros((size, size), bool)
    below_lips[max(0, round(lip) - 1):, max(0, round(left)):round(right) + 1] = True
    for label in large:
        region = labels == label
        # A microphone's head is a blob under the lips, deep inside the outline; the dark
        # line under a pouting lip is flat, a beard's shaded edge hugs the jaw.
        if ((region & below_lips).any() and stats[label, cv2.CC_STAT_HEIGHT] >= DARK_HEIGHT * size
                and order_median(depth[region]) >= DARK_DEPTH * size):
            seeds |= region
    return seeds


def skin_distance(lab: np.ndarray, points: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """(R, R) Mahalanobis distance of every pixel of `lab` (R, R, 3) from the skin of the
    cheeks and nose that the frame shows (`shown` (R, R) bool; robust: the farthest fifth
    of those pixels is dropped, in case something covers part of them)."""
    return _colour_distance(lab, lab[_skin_reference(points, lab.shape[0]) & shown], 80)


def _lips_distance(lab: np.ndarray, points: np.ndarray, probabilities: np.ndarray,
                   shown: np.ndarray, where: np.ndarray, mouth: np.ndarray | None = None,
                   skin: np.ndarray | None = None) -> np.ndarray:
    """(R, R) Mahalanobis distance from the lips' own colour: the pixels between the outer
    and inner lip lines that the frame shows (`shown`) and the net leaves unmarked, their
    nearer half (an object over part of the lips is not their colour). Lips are no less
    red than the cheeks: when these pixels are less red, they are a cup or a microphone
    over the whole mouth, and every pixel counts as unlike the lips. Too few such pixels
    (the net marks nearly all the lips) say nothing, here as in the colour model.
    `mouth` (inside the outer lip line) and `skin` (the skin's reference pixels that the
    frame shows), (R, R) bool, when already made."""
    regions = mesh_regions()
    size = lab.shape[0]
    if mouth is None:
        mouth = inside_loop(points, regions.lips_outer, size)
    ring = mouth & ~inside_loop(points, regions.lips_inner, size)
    lips = lab[ring & (probabilities <= GROW) & shown]
    cheeks = _skin_reference(points, size) & shown if skin is None else skin
    if (len(lips) >= FEWEST_COLOURS and cheeks.any() and order_median(lips[:, 1])
            < order_median(lab[cheeks][:, 1]) - LIPS_LESS_RED):
        return np.full((size, size), np.inf, np.float32)
    return _colour_distance(lab, lips, 50, where)


def _colour_distance(lab: np.ndarray, reference: np.ndarray, keep: float,
                     where: np.ndarray | None = None) -> np.ndarray:
    """(R, R) Mahalanobis distance of `lab` from the colours `reference` (N, 3), of which
    the `keep` percent nearest their median make the model (zero with too few); only at
    the pixels `where` (R, R) bool, when given (zero elsewhere)."""
    pixels = reference.reshape(-1, 3).astype(np.float64)
    if len(pixels) < FEWEST_COLOURS:
        return np.zeros(lab.shape[:2], np.float32)
    if where is not None:
        distance = np.zeros(lab.shape[:2], np.float32)
        distance[where] = _colour_distance(lab[where][None], reference, keep)[0]
        return distance
    # NumPy's median and percentile to the bit, without their argument handling (see
    # `order_median`).
    centre = np.array([order_median(pixels[:, channel]) for channel in range(3)])
    spread = np.abs(pixels - centre).sum(axis=1)
    pixels = pixels[spread <= order_percentile(spread, keep)]
    covariance = sample_covariance(pixels) + np.diag([6.0, 2.0, 2.0])
    covariance[0] *= LIGHTNESS_SLACK
    covariance[:, 0] *= LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance).astype(np.float32)
    offset = np.subtract(lab.reshape(-1, 3), pixels.mean(axis=0).astype(np.float32),
                         dtype=np.float32)
    products = offset @ inverse
    products *= offset
    # The three terms added in the order of NumPy's sum over the last axis (the same
    # float32 values), as columns: its reduction over an axis of 3 was slower than both
    # products.
    squared = products[:, 0] + products[:, 1]
    squared += products[:, 2]
    np.maximum(squared, 0.0, out=squared)
    return np.sqrt(squared, out=squared).reshape(lab.shape[:2])


def sample_covariance(samples: np.ndarray) -> np.ndarray:
    """`np.cov(samples, rowvar=False)` of (N, D) samples, N of 2 or more: its own steps
    (float64 copy, means removed, the product with the transpose's conjugate, times
    1 / (N - 1)), the same values without its argument handling (several times the
    arithmetic at these sizes, three times a frame)."""
    centred = np.array(samples, dtype=np.float64).T
    centred -= centred.mean(axis=1)[:, None]
    product = np.dot(centred, centred.T.conj())
    product *= np.true_divide(1, centred.shape[1] - 1)
    return product


def inside_loop(points: np.ndarray, loop: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: inside the polygon of the landmarks `loop` (a lip line)."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(points[loop]).astype(np.int32)], 255)
    return mask > 0


def _skin_reference(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: the hull of SKIN_REFERENCE, cheeks and nose."""
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(SKIN_REFERENCE)]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    return mask > 0
