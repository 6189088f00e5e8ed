"""Cues that the occlusion mask adds to OccluderNet's guess, all in the face's canonical
crop (see facedub.composite.occlusion), so they move with the face:

- `complete_by_colour`: an object the net found in part is taken whole where its pixels
  are not the face's skin colour and connect to what the net is sure of (hysteresis;
  inside the lips only through what is unlike the lips too), and regions floating wholly
  inside the face are dropped (`from_outside`);
- `dark_objects`: a near-black object under the lower lip (a microphone's head);
- `glasses_frames`: thin dark or bright lines around the eyes, and how sure it is that
  the face wears glasses at all (a frame's bridge across the nose);
- `lens_highlights`: the target's reflections on its lenses, to put back on top of the
  swapped eyes.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab
from facedub.faces.masks import face_mask
from facedub.faces.regions import mesh_regions

# Cheek and nose landmarks whose hull is almost always bare skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
CHEEKS = (205, 425, 50, 280, 187, 411)
INNER_EYE_CORNERS = (133, 362)
SEED, GROW = 0.5, 0.2  # hysteresis: net probability that starts a region, and extends it
NOT_SKIN = 4.5  # Mahalanobis distance (CIELAB) beyond which a pixel is not the face's skin
LIGHTNESS_SLACK = 2.5  # shading changes lightness across a face far more than hue
LIPS_LESS_RED = 3.0  # CIELAB a* below the cheeks' at which "the lips" are something else
# Glasses: a line this much above the cheeks' own texture is a frame (clear plastic rims
# are faint; the lines only count once the face is known to wear glasses); a bridge whose
# strongest row of vertical gradient is BRIDGE_LOW..BRIDGE_HIGH times its median row, or
# a net that marks RING_LOW..RING_HIGH of the zone of lenses and frames, is unsure..sure
# evidence of glasses.
LINE_NOISE, LINE_FLOOR = 0.7, 1.5
BRIDGE_LOW, BRIDGE_HIGH = 4.0, 7.0
RING_LOW, RING_HIGH = 0.15, 0.35
REFLECTION_THRESHOLD = 8.0  # luminance above the lens's surroundings that is a reflection
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
MOUTH_CORNERS = (61, 291)


def complete_by_colour(probabilities: np.ndarray, canonical: np.ndarray,
                       landmarks: np.ndarray) -> np.ndarray:
    """(R, R) float32: `probabilities` (R, R) of the net, raised to 1 over every pixel that
    is not skin-coloured and connects, through such pixels or the net's weaker guesses, to
    where the net is sure. `canonical` (2R, 2R, 3) uint8 RGB, `landmarks` in its pixels.

    Only the face itself grows (its oval with the forehead); eyes and brows never do,
    being unlike skin too."""
    size = probabilities.shape[0]
    points = np.asarray(landmarks)[:, :2] * (size / canonical.shape[0])
    lab = to_lab(cv2.resize(canonical, (size, size), interpolation=cv2.INTER_AREA))
    distance = skin_distance(lab, points)
    face = face_mask(points, size, forehead=False) > 0.5
    face &= ~_features(points, size, grow=max(1, size // 40))
    # Seeds well inside the face: at its edge, hair and background are the other
    # modules' business (edge_occluders, the face mask's feather).
    inner = face_mask(points, size, forehead=False, erode=max(1, size // 16)) > 0.5
    # Lips (lipstick most of all) are unlike the cheeks' skin, and the net often guesses
    # at a lip line: inside the mouth the colour grows only through what is unlike the
    # lips as well, and a guess made only inside the mouth starts nothing. A cup or a
    # microphone at the mouth reaches beyond the lips (teeth, behind the lips, are
    # reached only through the net's own marks).
    mouth = _mouth(points, size)
    unlike = distance > NOT_SKIN
    inside = mouth & unlike
    if inside.any():
        unlike[inside] = _lips_distance(lab, points, probabilities, inside)[inside] > NOT_SKIN
    weak = (((probabilities > GROW) | unlike) & face).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=4)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[(probabilities > SEED) & inner & ~mouth])] = True
    seeded[0] = False
    grown = seeded[labels] & (weak > 0)
    # Inside the mouth the net's marks count only as part of what reaches in from outside
    # it: alone they are its lip-line and teeth guesses.
    kept = np.where(mouth & ~grown, 0.0, probabilities).astype(np.float32)
    return from_outside(np.maximum(kept, grown.astype(np.float32)), points)


def from_outside(objects: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`objects` (R, R) without the regions that lie wholly inside the face: what covers
    a face comes in from beyond its outline (a hand, a microphone, a cup, hair), while
    the net's marks that float inside it are stage light on a nose or a cheek, a frowning
    forehead's furrows, catch-lights in the eyes. (Glasses, the exception, are found by
    their own frames: see `glasses_frames`.) `points`, the landmarks, in its pixels."""
    size = objects.shape[0]
    marked = (objects > MARKED).astype(np.uint8)
    count, labels = cv2.connectedComponents(marked, connectivity=8)
    if count <= 1:
        return objects
    inner = face_mask(points, size, forehead=False, erode=max(1, round(OUTLINE_BAND * size)))
    touching = np.zeros(count, bool)
    touching[np.unique(labels[(marked > 0) & (inner < 0.5)])] = True
    touching[0] = True
    return np.where(touching[labels], objects, 0.0).astype(np.float32)


def dark_objects(lab: np.ndarray, points: np.ndarray, probabilities: np.ndarray
                 ) -> np.ndarray:
    """(R, R) bool: near-black objects over the chin and the lower lip (a microphone's
    head held at the mouth, to which the net gives only 0.1 to 0.4), in `lab` (R, R, 3)
    with `points` (the landmarks) in its pixels; `probabilities` (R, R) the net's.

    Seeds far darker than the face's skin (see `_dark_seeds`), taken on a few pixels
    through the net's weak guesses where the pixels are not skin (the grille's lit
    parts), below the mouth's corners and outside its opening."""
    size = lab.shape[0]
    face = (face_mask(points, size, forehead=False) > 0.5).astype(np.uint8)
    opening = np.zeros((size, size), np.uint8)
    cv2.fillPoly(opening, [np.round(points[mesh_regions().lips_inner]).astype(np.int32)], 255)
    below = np.arange(size)[:, None] > float(points[list(MOUTH_CORNERS), 1].mean())
    zone = below & (cv2.dilate(opening, np.ones((3, 3), np.uint8)) == 0) & (face > 0)
    seeds = _dark_seeds(lab, points, face, zone)
    if not seeds.any():
        return seeds
    guessed = (probabilities > GROW) | ((probabilities > DARK_GROW)
                                        & (skin_distance(lab, points) > NOT_SKIN))
    # Only a few pixels on from the seeds: the stubble around is often not skin either.
    allowed = ((guessed & zone) | seeds).astype(np.uint8)
    grown = seeds.astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(round(DARK_STEPS * size)):
        grown = cv2.dilate(grown, cross) & allowed
    return grown > 0


def _dark_seeds(lab: np.ndarray, points: np.ndarray, face: np.ndarray, zone: np.ndarray
                ) -> np.ndarray:
    """(R, R) bool: regions of `zone` far darker than the face's skin (stubble and shaded
    skin are not) that reach up to the lower lip and lie well inside the face's outline
    (`face`, uint8): not a shadow along the jaw's edge or under the chin."""
    size = lab.shape[0]
    reference = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(reference, cv2.convexHull(np.round(points[list(SKIN_REFERENCE)])
                                                 .astype(np.int32)), 255)
    if not reference.any():
        return np.zeros((size, size), bool)
    lightness = lab[..., 0]
    dark = lightness < min(DARK_MAX, DARK_SHARE * float(np.median(lightness[reference > 0])))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((dark & zone).astype(np.uint8),
                                                               connectivity=8)
    depth = cv2.distanceTransform(face, cv2.DIST_L2, 3)
    lip = float(points[mesh_regions().lips_outer, 1].max())
    left, right = sorted(points[list(MOUTH_CORNERS), 0])
    below_lips = np.zeros((size, size), bool)
    below_lips[max(0, round(lip) - 1):, max(0, round(left)):round(right) + 1] = True
    seeds = np.zeros((size, size), bool)
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < DARK_AREA * size * size:
            continue
        region = labels == label
        # A microphone's head is a blob under the lips, deep inside the outline; the dark
        # line under a pouting lip is flat, a beard's shaded edge hugs the jaw.
        if ((region & below_lips).any() and stats[label, cv2.CC_STAT_HEIGHT] >= DARK_HEIGHT * size
                and np.median(depth[region]) >= DARK_DEPTH * size):
            seeds |= region
    return seeds


def skin_distance(lab: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(R, R) Mahalanobis distance of every pixel of `lab` (R, R, 3) from the skin of the
    cheeks and nose (robust: the farthest fifth of those pixels is dropped, in case
    something covers part of them)."""
    size = lab.shape[0]
    reference = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(SKIN_REFERENCE)]).astype(np.int32))
    cv2.fillConvexPoly(reference, hull, 255)
    return _colour_distance(lab, lab[reference > 0], 80)


def _lips_distance(lab: np.ndarray, points: np.ndarray, probabilities: np.ndarray,
                   where: np.ndarray) -> np.ndarray:
    """(R, R) Mahalanobis distance from the lips' own colour: the pixels between the outer
    and inner lip lines that the net leaves unmarked, their nearer half (an object over
    part of the lips is not their colour). Lips are no less red than the cheeks: when
    these pixels are (a cup or a microphone over the whole mouth), every pixel counts as
    unlike the lips."""
    regions = mesh_regions()
    size = lab.shape[0]
    ring = np.zeros((size, size), np.uint8)
    cv2.fillPoly(ring, [np.round(points[regions.lips_outer]).astype(np.int32)], 255)
    cv2.fillPoly(ring, [np.round(points[regions.lips_inner]).astype(np.int32)], 0)
    lips = lab[(ring > 0) & (probabilities <= GROW)]
    cheeks = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(cheeks, cv2.convexHull(np.round(points[list(SKIN_REFERENCE)])
                                              .astype(np.int32)), 255)
    if (len(lips) and cheeks.any() and np.median(lips[:, 1])
            < np.median(lab[cheeks > 0][:, 1]) - LIPS_LESS_RED):
        return np.full((size, size), np.inf, np.float32)
    return _colour_distance(lab, lips, 50, where)


def _colour_distance(lab: np.ndarray, reference: np.ndarray, keep: float,
                     where: np.ndarray | None = None) -> np.ndarray:
    """(R, R) Mahalanobis distance of `lab` from the colours `reference` (N, 3), of which
    the `keep` percent nearest their median make the model (zero with too few); only at
    the pixels `where` (R, R) bool, when given (zero elsewhere)."""
    pixels = reference.reshape(-1, 3).astype(np.float64)
    if len(pixels) < 12:
        return np.zeros(lab.shape[:2], np.float32)
    if where is not None:
        distance = np.zeros(lab.shape[:2], np.float32)
        distance[where] = _colour_distance(lab[where][None], reference, keep)[0]
        return distance
    centre = np.median(pixels, axis=0)
    spread = np.abs(pixels - centre).sum(axis=1)
    pixels = pixels[spread <= np.percentile(spread, keep)]
    covariance = np.cov(pixels, rowvar=False) + np.diag([6.0, 2.0, 2.0])
    covariance[0] *= LIGHTNESS_SLACK
    covariance[:, 0] *= LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance).astype(np.float32)
    offset = lab.reshape(-1, 3).astype(np.float32) - pixels.mean(axis=0).astype(np.float32)
    squared = ((offset @ inverse) * offset).sum(axis=1)
    return np.sqrt(np.maximum(squared, 0.0)).reshape(lab.shape[:2])


def glasses_frames(canonical: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """Glasses frames in `canonical` (C, C, 3) uint8 RGB: a (C, C) float32 map in [0, 1] of
    thin lines around the eyes, and the evidence in [0, 1] that there are glasses at all.

    A line is where the luminance differs from its opening or closing by a small disc
    (a top-hat: rims, bridge and temples are thinner than the disc), by clearly more than
    the cheeks' own texture does. Eyes and brows are left out. Glasses are told by their
    bridge: a strong horizontal edge between the eyes, which a bare nose does not have."""
    size = canonical.shape[0]
    points = np.asarray(landmarks)[:, :2]
    regions = mesh_regions()
    eyes = [points[regions.right_eye], points[regions.left_eye]]
    centres = [eye.mean(axis=0) for eye in eyes]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    zone = lens_zones(points, size, outer=True)
    x, y, width, height = cv2.boundingRect(zone)
    box = (slice(y, y + height), slice(x, x + width))
    luminance = cv2.cvtColor(canonical, cv2.COLOR_RGB2GRAY).astype(np.float32)
    disc = max(3, round(0.12 * spacing) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc))
    band = luminance[box]
    line = np.maximum(band - cv2.morphologyEx(band, cv2.MORPH_OPEN, kernel),
                      cv2.morphologyEx(band, cv2.MORPH_CLOSE, kernel) - band)
    cheeks = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(CHEEKS)]).astype(np.int32))
    cv2.fillConvexPoly(cheeks, hull, 255)
    texture = _cheek_texture(luminance, cheeks > 0, kernel)
    keep = (zone[box] > 0) & ~_features(points, size, grow=disc // 2 + 1)[box]
    frames = np.zeros((size, size), np.float32)
    frames[box] = np.clip((line - LINE_NOISE * texture - LINE_FLOOR) / (texture + 4.0),
                          0.0, 1.0) * keep
    return frames, _bridge_evidence(luminance, points, centres, spacing)


def net_glasses_evidence(probabilities: np.ndarray, landmarks: np.ndarray) -> float:
    """Evidence in [0, 1] of glasses from the net's (R, R) `probabilities`: how much of the
    lenses and their frames it marks (it was taught the frames, and tends to take faint
    ones whole), around the eye where it marks less: glasses cover both eyes, while hair
    falling by one temple (Katie Hill, head turned) fills one side only. `landmarks` in its
    pixels."""
    size = probabilities.shape[0]
    zone = lens_zones(landmarks, size, outer=True) > 0
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    middle = (points[regions.right_eye, 0].mean() + points[regions.left_eye, 0].mean()) / 2.0
    columns = np.arange(size)[None, :]
    sides = [zone & (columns < middle), zone & (columns >= middle)]
    if not all(side.any() for side in sides):
        return 0.0
    share = min(float(probabilities[side].mean()) for side in sides)
    return float(np.clip((share - RING_LOW) / (RING_HIGH - RING_LOW), 0.0, 1.0))


def lens_zones(landmarks: np.ndarray, size: int, outer: bool = False) -> np.ndarray:
    """(size, size) uint8, 255 inside two ellipses around the eyes: the lenses, or with
    `outer` the lenses with their frames."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    tilt = float(np.degrees(np.arctan2(*(centres[1] - centres[0])[::-1])))
    axes = (0.62, 0.5) if outer else (0.42, 0.32)
    zone = np.zeros((size, size), np.uint8)
    for centre in centres:
        cv2.ellipse(zone, _point(centre), (round(axes[0] * spacing), round(axes[1] * spacing)),
                    tilt, 0, 360, 255, -1)
    return zone


def glasses_span(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) uint8, 255 over what a pair of glasses spans: both lenses with their
    frames and the bridge between them (the convex hull of the two)."""
    outer = lens_zones(landmarks, size, outer=True)
    points = cv2.findNonZero(outer)
    span = np.zeros((size, size), np.uint8)
    if points is not None:
        cv2.fillConvexPoly(span, cv2.convexHull(points), 255)
    return span


def _cheek_texture(luminance: np.ndarray, cheeks: np.ndarray, kernel: np.ndarray) -> float:
    """The 90th percentile of the top-hat response on bare cheek skin."""
    ys, xs = np.nonzero(cheeks)
    if len(ys) < 12:
        return 8.0
    patch = luminance[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    response = np.maximum(patch - cv2.morphologyEx(patch, cv2.MORPH_OPEN, kernel),
                          cv2.morphologyEx(patch, cv2.MORPH_CLOSE, kernel) - patch)
    return float(np.percentile(response[cheeks[ys.min():ys.max() + 1, xs.min():xs.max() + 1]],
                               90))


def _bridge_evidence(luminance: np.ndarray, points: np.ndarray, centres: list[np.ndarray],
                     spacing: float) -> float:
    inner = points[list(INNER_EYE_CORNERS)]
    x0, x1 = int(inner[0, 0] + 0.1 * spacing), int(inner[1, 0] - 0.1 * spacing)
    middle = (centres[0][1] + centres[1][1]) / 2.0
    y0, y1 = int(middle - 0.35 * spacing), int(middle + 0.1 * spacing)
    if x1 - x0 < 3 or y1 - y0 < 5 or y0 < 0 or x0 < 0:
        return 0.0
    bridge = luminance[y0:y1, x0:x1]
    rows = np.abs(cv2.Sobel(bridge, cv2.CV_32F, 0, 1, ksize=3)).mean(axis=1)
    ratio = float(rows.max() / (np.median(rows) + 1.0))
    return float(np.clip((ratio - BRIDGE_LOW) / (BRIDGE_HIGH - BRIDGE_LOW), 0.0, 1.0))


def _mouth(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: inside the outer lip line (lips, teeth, the open mouth)."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(points[mesh_regions().lips_outer]).astype(np.int32)], 255)
    return mask > 0


def _features(points: np.ndarray, size: int, grow: int) -> np.ndarray:
    """(size, size) bool: the eye openings and brows, grown by `grow` pixels."""
    regions = mesh_regions()
    mask = np.zeros((size, size), np.uint8)
    for loop in (regions.right_eye, regions.left_eye):
        cv2.fillPoly(mask, [np.round(points[loop]).astype(np.int32)], 255)
    for brow in (regions.right_eyebrow, regions.left_eyebrow):
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[brow]).astype(np.int32)), 255)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    return cv2.dilate(mask, kernel) > 0


def with_lens_highlights(composited: np.ndarray, image: np.ndarray,
                         face_landmarks: np.ndarray, alpha: np.ndarray, glasses: float
                         ) -> np.ndarray:
    """`composited` (S, S, 3) uint8 with the target's reflections on its glasses added
    back on top where the swapped face shows (`alpha`, see `lens_highlights`); unchanged
    without glasses."""
    if glasses < 0.5:
        return composited
    highlights = lens_highlights(image, face_landmarks) * alpha
    if not highlights.any():
        return composited
    return np.clip(composited + highlights[..., None], 0, 255).astype(np.uint8)


def lens_highlights(image: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float32, luminance in 0..255 units to add over the swapped face: the target's
    reflections on its glasses lenses, so they stay on top of the swapped eyes.

    A reflection is where the lens is clearly brighter than its surroundings (a high-pass
    of the luminance); the eye openings themselves are left out (whites and catch-lights
    are bright too). `image` (S, S, 3) uint8 RGB, the target crop."""
    size = image.shape[0]
    regions = mesh_regions()
    eyes = [np.asarray(face_landmarks)[loop, :2] for loop in (regions.right_eye,
                                                              regions.left_eye)]
    spacing = float(np.linalg.norm(eyes[1].mean(axis=0) - eyes[0].mean(axis=0)))
    lens = lens_zones(face_landmarks, size)
    # Only the box around the lenses is worked on: a full-crop blur costs far more.
    x, y, width, height = cv2.boundingRect(lens)
    box = (slice(y, y + height), slice(x, x + width))
    openings = np.zeros((size, size), np.uint8)
    for eye in eyes:
        cv2.fillPoly(openings, [np.round(eye).astype(np.int32)], 255)
    around_eyes = cv2.dilate(openings[box], np.ones((3, 3), np.uint8),
                             iterations=max(1, round(0.06 * spacing)))
    luminance = cv2.cvtColor(image[box], cv2.COLOR_RGB2GRAY).astype(np.float32)
    surround = cv2.GaussianBlur(luminance, (0, 0), max(1.0, spacing / 8.0))
    highlight = np.clip(luminance - surround - REFLECTION_THRESHOLD, 0.0, None)
    highlights = np.zeros((size, size), np.float32)
    highlights[box] = highlight * ((lens[box] > 0) & (around_eyes == 0))
    return highlights


def _point(point: np.ndarray) -> tuple[int, int]:
    return round(float(point[0])), round(float(point[1]))
