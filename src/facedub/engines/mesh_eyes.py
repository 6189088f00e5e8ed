"""The source's own eyes, looking where the target looks.

Keeping the target's own eyes (gaze and blinks stay true) kept much of its identity too:
on d18 onto d12 (glasses man), with the target's eyes kept the swap was nearer the source
in 42% of the frontal frames and none of those turned 15-30 degrees; with the source's
eyes, 78% and 4 of 4 (`benchmarks/quality.py`, 40 frames). The eyes' opening, lids and
iris are much of what a face is recognised by. So the source's eyes are shown, warped
over the target's (moved) eye outline like the rest of the face, and only the gaze is
made the target's: in each eye opening the source's iris is moved to where the target's
iris sits in its own eye (the sclera it leaves is filled from around it; the lids clip the
iris as they do in a real eye). The target's own eyes come back only where the source
cannot show them: when the target's eyes close beyond the source faces chosen, or theirs
beyond the target's, each from its own resting openness (a blink, a wink; a squinting
photo is its eye's shape; a target looking down with the iris between its lowered lids is
not closing them), eased so they fade in and out over a few frames. The source's
eyes are toned like the target's own in the same frame (`mesh_eyes_tone`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import feather, polygon_mask
from facedub.faces.regions import mesh_regions


@dataclass(frozen=True)
class _Eye:
    contour: np.ndarray  # eye opening outline
    corners: tuple[int, int]
    iris_centre: int
    iris_ring: tuple[int, int, int, int]
    upper_lid: tuple[int, int, int]  # the middle of the opening's upper edge
    lower_lid: tuple[int, int, int]  # and of its lower edge


def _eyes() -> tuple[_Eye, _Eye]:
    regions = mesh_regions()
    return (_Eye(regions.left_eye, (362, 263), 473, (474, 475, 476, 477), (386, 385, 387),
                 (374, 380, 373)),
            _Eye(regions.right_eye, (33, 133), 468, (469, 470, 471, 472), (159, 158, 160),
                 (145, 153, 144)))


EYES = _eyes()
BLINK_KEYS = ("eyeBlinkLeft", "eyeBlinkRight")
# The target's own eyes from this difference in blink between the target and the chosen
# source faces, fully from BLINK_FULL: a source's open eye stretched over a blinking lid
# (or its closed lid over an open eye) would show.
BLINK_FROM = 0.15
BLINK_FULL = 0.3
# And from this much more downward look in the source faces than in the target, fully from
# LOOK_DOWN_FULL: a source looking down has its upper lids lowered over the eye, which
# the landmarks' eye outline does not follow (a downcast photo's lids, stretched over the
# target's open eye, showed as brown blobs); a sideways look is the iris's alone.
LOOK_DOWN_KEYS = ("eyeLookDownLeft", "eyeLookDownRight")
LOOK_DOWN_FROM = 0.25
LOOK_DOWN_FULL = 0.45
# But not for a source face that reads looking down with its lids wide open (`open_glance`):
# its lids are not lowered, and keeping the target's eyes over it mixes two pairs of eyes.
# The grimace photo (expr-grimace) glances aside and down with its lids 0.82-0.84 of its
# iris's diameter apart (`lid_gaps`, the widest of the benchmark photos) and reads
# eyeLookDown 0.32-0.33: Obama's eyes were kept by 0.25-0.32 on every frame, his lash line a
# faint second lid line over the source's, read as a smaller smile (frames 19-23 0.10-0.15
# under his; BENCHMARKS.md, Expression, forty-seventh and forty-eighth rounds). Over the
# twelve benchmark photos (forty-eighth round) the other four that look down from
# GLANCE_DOWN_FROM read lids 0.58-0.70 apart (Rowan Atkinson's, Rose Leslie's, the ball
# photo's, the downcast photo's, whose outline does not follow its lowered lids); the two
# widest others, just under OPEN_LIDS_FROM (the shouting photo 0.75, Kit Harington's
# 0.74), look down 0.15 and 0.02. The margin is thin: the grimace photo mirrored reads
# 0.74 (the landmarker's own spread; forty-eighth round's second review). A source face
# counts so as far as its narrower lid gap is past OPEN_LIDS_FROM (wholly from
# OPEN_LIDS_FULL) and its smaller downward look past GLANCE_DOWN_FROM (wholly from
# GLANCE_DOWN_FULL).
OPEN_LIDS_FROM = 0.76
OPEN_LIDS_FULL = 0.8
GLANCE_DOWN_FROM = 0.2
GLANCE_DOWN_FULL = 0.25
# A target looking down with its eyes open is not blinking: MediaPipe reads its lowered
# upper lids as a blink (older-glasses, looking down through her glasses: eyeBlink
# 0.24-0.5 at eyeLookDown 0.35-0.41, the lids 0.27-0.46 of the iris's diameter apart), so
# its closing is taken away as far as both eyes look down (from LOOK_DOWN_OPEN_FROM, fully
# from LOOK_DOWN_OPEN_FULL) and both lid gaps show the iris (from OPEN_GAP_FROM, fully from
# OPEN_GAP_FULL, in iris diameters). A real blink reads eyeLookDown 0.45-0.66 too (d18's),
# but one eye's lids close to under 0.1 of the iris (0.22 on its first frame), as does a
# wink's; the eased share takes that first frame to 0.5 either way.
LOOK_DOWN_OPEN_FROM = 0.3
LOOK_DOWN_OPEN_FULL = 0.45
OPEN_GAP_FROM = 0.2
OPEN_GAP_FULL = 0.3
# And wholly where the source's eyes at rest are narrower than the target's usual by this
# much in blink: a squinting smile's eye (Biden's photo: 0.25-0.29 against Obama's 0.08)
# warped open over the target's wider opening shows its raised lower lid as white under
# an iris that looks up. Compared at rest, so it does not flicker with the target's eyes.
NARROWER_AT_REST = 0.12
# The target's eyes fade in over two frames and out over four, never pop
# (`track_share.EasedShare`): the two faces' eye colours differ.
EYES_FALL_PER_FRAME = 0.25
EYES_RISE_PER_FRAME = 0.5
# A face's resting blink value: this percentile over the source faces (a squinting photo
# rests at 0.3-0.5, which is its eye shape, not a blink; the target's is its usual
# expression, `UsualExpression`), capped at MAX_RESTING (a track that starts in a blink).
RESTING_QUANTILE = 50
MAX_RESTING = 0.5
# The target's kept eyes reach this share of the crop past the eye contour (lids and
# lashes stay the target's, so they meet the source's skin on the lid, not on the lash
# line), and this much more when the target blinks (the whole closed lid is its own).
EYE_MARGIN = 0.012
BLINK_MARGIN = 0.03
IRIS_GROW = 1.15  # the source's iris and its rim are taken a little beyond the landmarks
MIN_IRIS_MOVE = 0.5  # pixels
# In such an open-lidded glance (`open_glance`) the landmarker reads a moved iris short of
# its move along the corner line: the source's lids and white keep the shape of its own
# glance (expr-grimace, the target's eyes not mixed in: the read iris 0.035-0.046 eye widths
# short of Obama's, gaze error 0.090 against main's 0.0705). There the iris is moved
# IRIS_MOVE_ALONG times as far along the line (capped at one iris radius past the
# target's): read within 0.018-0.027, gaze error 0.076 (2x reads past it on one eye; 1.5x
# across costs the smile, 37 -> 34 of 40). Not in other faces: moved so in every cross
# pair it cost older-glasses' likeness (nearer the source 37 -> 36) and readme-photo's
# smile (40 -> 39; BENCHMARKS.md, forty-seventh round).
IRIS_MOVE_ALONG = 1.5
# A photo's eye warped into a small, narrow target opening shows its lid, lashes and iris
# and none of its white on the outer side (Rudd's 18 x 3-5 px on the smoker: a dark lid
# line where the target's eye shows white beside its iris; no tone opens it, BENCHMARKS.md
# thirty-fourth round). There the opening's outer side, from the target's iris to the
# outer corner, is laid out as the target's (`opened_whites`): where the target is lighter
# than the source's toned eye, the eye as light as the target's, and the target's own
# pixels where it shows white; the iris, the inner side and the lashes the target shows
# as dark stay the source's (its iris moved to the target's gaze, `looking_as_target`).
# The whole opening laid out so (the iris as dark as the target's, the inner side lifted
# too) read open but cost the smoker's likeness (15-30 degrees 58 -> 49 of 84 nearer the
# source over four job ids). Fully in an eye up to OPEN_WIDTH[0] crop pixels wide, not
# from OPEN_WIDTH[1]: a larger eye shows the source's own white (lighting's 27-30 px eyes
# are left as they were).
OPEN_WIDTH = (20.0, 26.0)
# The target's white: pixels of its opening from WHITE_FROM of the way from its DARKEST to
# its LIGHTEST percentile of L, fully from WHITE_FROM + WHITE_SOFT; an opening spanning
# less than MIN_SPAN L (a closed or flat eye) is not laid out.
DARKEST, LIGHTEST = 15.0, 95.0
WHITE_FROM, WHITE_SOFT = 0.3, 0.2
MIN_SPAN = 6.0
# Lighter: the target's L above the source's toned eye's by COVER_FROM, fully from
# COVER_FROM + COVER_SOFT (the lid and lashes covering the target's white).
COVER_FROM, COVER_SOFT = 2.0, 6.0
# The outer side begins OUTER_FROM iris radii past the target's iris centre (toward the
# outer corner), fully from OUTER_FROM + 1.
OUTER_FROM = 0.5


def iris_in_eye(landmarks: np.ndarray) -> np.ndarray:
    """(2, 3): per eye, the iris centre (u along the corner line, v across it) and radius,
    in eye widths from the middle of the corners."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    result = np.zeros((2, 3))
    for k, eye in enumerate(EYES):
        middle, along, across, width = _eye_frame(points, eye)
        offset = points[eye.iris_centre] - middle
        radius = np.linalg.norm(points[list(eye.iris_ring)] - points[eye.iris_centre],
                                axis=1).mean()
        result[k] = (offset @ along / width, offset @ across / width, radius / width)
    return result


def source_irises(landmarks: np.ndarray, blendshapes: np.ndarray | None) -> np.ndarray:
    """(2, 4): one source face's `iris_in_eye` (its (478, 2+) landmarks), each eye's row
    with its `open_glance` (its (52,) blendshapes) after, for `looking_as_target`; 0 for
    a face of a video source (`blendshapes` None): its faces are chosen frame by frame as
    the target looks, and d3's turned faces read lids 0.84-0.88 of the iris apart at
    eyeLookDown 0.18-0.28 (its frames 298-340), the webcam streamer's 0.75 at 0.33."""
    glance = 0.0 if blendshapes is None else open_glance(blendshapes, landmarks)
    return np.hstack([iris_in_eye(landmarks), np.full((2, 1), glance)])


def open_glance(blendshapes: np.ndarray, landmarks: np.ndarray) -> float:
    """0..1: how far a face (its (52,) blendshapes, its (478, 2+) landmarks) reads as looking
    down with its lids wide open: its narrower lid gap (`lid_gaps`) ramped from
    OPEN_LIDS_FROM to OPEN_LIDS_FULL, times both eyes' smaller downward look ramped from
    GLANCE_DOWN_FROM to GLANCE_DOWN_FULL."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in LOOK_DOWN_KEYS]
    down = float(np.asarray(blendshapes)[keys].min())
    gap = float(lid_gaps(landmarks).min())
    return float(np.clip((gap - OPEN_LIDS_FROM) / (OPEN_LIDS_FULL - OPEN_LIDS_FROM), 0.0, 1.0)
                 * np.clip((down - GLANCE_DOWN_FROM) / (GLANCE_DOWN_FULL - GLANCE_DOWN_FROM),
                           0.0, 1.0))


def lid_gaps(landmarks: np.ndarray) -> np.ndarray:
    """(2,): per eye, how far apart the middles of its lids are across the corner line, in
    diameters of its iris (an open eye 0.5-0.7, a closed one under 0.2)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    gaps = np.zeros(2)
    for k, eye in enumerate(EYES):
        _, _, across, _ = _eye_frame(points, eye)
        gap = abs(float((points[list(eye.lower_lid)].mean(axis=0)
                         - points[list(eye.upper_lid)].mean(axis=0)) @ across))
        radius = np.linalg.norm(points[list(eye.iris_ring)] - points[eye.iris_centre],
                                axis=1).mean()
        gaps[k] = gap / max(2.0 * float(radius), 1e-6)
    return gaps


def looking_down_open(blendshapes: np.ndarray, landmarks: np.ndarray) -> float:
    """0..1: how far a face (its (52,) blendshapes, its (478, 2+) landmarks) looks down
    with both eyes open, its blink read from lowered lids: the smaller of both eyes'
    downward look, ramped from LOOK_DOWN_OPEN_FROM to LOOK_DOWN_OPEN_FULL, times the
    smaller lid gap (`lid_gaps`), ramped from OPEN_GAP_FROM to OPEN_GAP_FULL."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in LOOK_DOWN_KEYS]
    down = float(np.asarray(blendshapes)[keys].min())
    gap = float(lid_gaps(landmarks).min())
    return float(np.clip((down - LOOK_DOWN_OPEN_FROM)
                         / (LOOK_DOWN_OPEN_FULL - LOOK_DOWN_OPEN_FROM), 0.0, 1.0)
                 * np.clip((gap - OPEN_GAP_FROM) / (OPEN_GAP_FULL - OPEN_GAP_FROM), 0.0, 1.0))


def resting_blink(blendshapes: np.ndarray) -> np.ndarray:
    """(52,): the RESTING_QUANTILE percentile of (N, 52) blendshape vectors, the blinks
    capped at MAX_RESTING (only the blinks are read)."""
    resting: np.ndarray = np.percentile(np.asarray(blendshapes), RESTING_QUANTILE, axis=0)
    return np.minimum(resting, MAX_RESTING)


def narrower_at_rest(source_rest: np.ndarray, target_rest: np.ndarray) -> bool:
    """Whether the source's eyes at rest are narrower than the target's by NARROWER_AT_REST:
    their resting blinks (the `BLINK_KEYS` values, (2,) each; the target's capped at
    MAX_RESTING)."""
    return float((np.asarray(source_rest) - np.asarray(target_rest)).max()) > NARROWER_AT_REST


def resting_blinks(source_resting: np.ndarray, target_resting: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The (2,) `BLINK_KEYS` values of two (52,) resting blendshape vectors (the source's,
    `resting_blink`; the target's usual expression), the target's capped at MAX_RESTING."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in BLINK_KEYS]
    return (np.asarray(source_resting)[keys],
            np.minimum(np.asarray(target_resting)[keys], MAX_RESTING))


def target_eyes_share(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray,
                      source_resting: np.ndarray | None = None,
                      target_resting: np.ndarray | None = None,
                      target_landmarks: np.ndarray | None = None,
                      source_glance: float = 0.0) -> float:
    """0..1: how much of the target's own eyes to keep, from two (52,) blendshape vectors
    (the chosen source faces', the target's): the larger blink difference of the two eyes,
    each blink taken as its closing beyond its face's resting value (`resting_blink`;
    default 0), the target's less as far as it looks down with its eyes open
    (`looking_down_open`, from `target_landmarks` (478, 2+) where given), ramped
    from BLINK_FROM to BLINK_FULL, or the source's larger downward look, ramped from
    LOOK_DOWN_FROM to LOOK_DOWN_FULL, less as far as the chosen source faces look down with
    their lids open (`source_glance`: their `open_glance`, blend-weighted); 1 where the
    source's eyes at rest are narrower than the target's by NARROWER_AT_REST."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in BLINK_KEYS]
    rest = np.zeros(len(keys))
    source_rest = rest if source_resting is None else np.asarray(source_resting)[keys]
    target_rest = rest if target_resting is None else np.minimum(
        np.asarray(target_resting)[keys], MAX_RESTING)
    # Only closing beyond the rest counts: an eye wider than its rest is its shape.
    closing = np.maximum(source_blendshapes[keys] - source_rest, 0.0)
    target_closing = np.maximum(target_blendshapes[keys] - target_rest, 0.0)
    if target_landmarks is not None:
        target_closing *= 1.0 - looking_down_open(target_blendshapes, target_landmarks)
    blink = float(np.abs(closing - target_closing).max())
    if narrower_at_rest(source_rest, target_rest):
        return 1.0
    keys = [BLENDSHAPE_NAMES.index(name) for name in LOOK_DOWN_KEYS]
    down = float((source_blendshapes[keys] - target_blendshapes[keys]).max())
    looks_down = (down - LOOK_DOWN_FROM) / (LOOK_DOWN_FULL - LOOK_DOWN_FROM)
    if source_glance > 0.0:  # else main's sum to the bit
        looks_down = float(np.clip(looks_down, 0.0, 1.0)) * (1.0 - source_glance)
    return float(np.clip(max((blink - BLINK_FROM) / (BLINK_FULL - BLINK_FROM), looks_down),
                         0.0, 1.0))


def kept_eyes(landmarks: np.ndarray, size: int, target_blendshapes: np.ndarray
              ) -> np.ndarray:
    """(S, S) float32: the eye openings of `landmarks` (478, 2+), grown by EYE_MARGIN
    (plus BLINK_MARGIN times how closed the target's eyes are) and feathered."""
    half = size // 2  # a soft mask: built at half size
    points = np.asarray(landmarks)[:, :2] * (half / size)
    eyes = np.maximum(polygon_mask(points[EYES[0].contour], half),
                      polygon_mask(points[EYES[1].contour], half))
    keys = [BLENDSHAPE_NAMES.index(name) for name in BLINK_KEYS]
    blink = float(np.clip(np.max(target_blendshapes[keys]), 0.0, 1.0))
    grow = round(half * (EYE_MARGIN + BLINK_MARGIN * blink))
    kept = np.clip(feather(eyes, erode=-max(1, grow), blur=max(2, half // 48)), 0.0, 1.0)
    # The feather's profile as it was looked at when the engine and the compositor both
    # applied it (1 - (1 - m)^2); only the share over time is now applied once.
    kept *= 2.0 - kept
    full: np.ndarray = cv2.resize(kept, (size, size),
                                  interpolation=cv2.INTER_LINEAR)
    return full


def iris_centres(landmarks: np.ndarray, iris: np.ndarray) -> np.ndarray:
    """(2, 2): per eye, the crop point (x, y) where an iris placed as `iris` (`iris_in_eye`)
    sits in the eyes of `landmarks` (478, 2+)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centres = np.zeros((2, 2))
    for k, eye in enumerate(EYES):
        middle, along, across, width = _eye_frame(points, eye)
        centres[k] = middle + (along * iris[k, 0] + across * iris[k, 1]) * width
    return centres


def read_as_target(source_iris: np.ndarray, target_iris: np.ndarray) -> np.ndarray:
    """(3+,): where one eye's source iris (a `source_irises` row; an `iris_in_eye` row is
    no glance) is placed so that the output's iris reads at the target's (`target_iris`):
    its move along the corner line lengthened by (IRIS_MOVE_ALONG - 1) times the face's
    open glance (capped at one iris radius), across as it is; the target's where the face
    is no glance."""
    glance = float(source_iris[3]) if len(source_iris) > 3 else 0.0
    if glance <= 0.0:
        return target_iris
    move = float(target_iris[0] - source_iris[0])
    beyond = float(np.clip((IRIS_MOVE_ALONG - 1.0) * glance * move,
                           -source_iris[2], source_iris[2]))
    placed = np.array(target_iris, dtype=np.float64)
    placed[0] += beyond
    return placed


def looking_as_target(image: np.ndarray, landmarks: np.ndarray, source_iris: np.ndarray,
                      target_iris: np.ndarray) -> np.ndarray:
    """`image` (S, S, 3) float32, one source face's eyes warped over the moved eye outlines
    of `landmarks` (478, 2+), with its iris moved to where the target's iris sits in its
    eye (further along the corner line as far as the source face is an open-lidded glance,
    `read_as_target`). `source_iris`: the source face's `iris_in_eye` or `source_irises`;
    `target_iris`: the target's `iris_in_eye` (its unmoved landmarks). Changed in place;
    returned."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    for k, eye in enumerate(EYES):
        middle, along, across, width = _eye_frame(points, eye)
        place = np.stack([along, across], axis=1) * width  # (u, v) -> crop offset

        def at(iris: np.ndarray, frame: np.ndarray = place, centre: np.ndarray = middle
               ) -> np.ndarray:
            return centre + frame @ iris[:2]

        start, end = at(source_iris[k]), at(read_as_target(source_iris[k], target_iris[k]))
        radius = IRIS_GROW * source_iris[k, 2] * width
        if np.linalg.norm(end - start) >= MIN_IRIS_MOVE and radius >= 1.0:
            _move_iris(image, points[eye.contour], start, end, radius)
    return image


def opened_whites(image: np.ndarray, landmarks: np.ndarray, target_image: np.ndarray,
                  target_landmarks: np.ndarray, target_in_frame: np.ndarray | None = None
                  ) -> np.ndarray:
    """Each small eye opening's outer side in `image` (S, S, 3) float32 (the source's toned
    eyes over the moved `landmarks` (478, 2+)) laid out as the target's (`target_image`
    (S, S, 3) uint8 over `target_landmarks`, its pixels `target_in_frame`): as light as
    the target's where that is lighter, the target's own white where it shows white
    (OPEN_WIDTH, WHITE_FROM, COVER_FROM, OUTER_FROM). Changed in place; returns (S, S)
    float32: the share of the target's pixels laid."""
    size = image.shape[0]
    laid = np.zeros((size, size), dtype=np.float32)
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    target_points = np.asarray(target_landmarks, dtype=np.float64)[:, :2]
    target_irises = iris_in_eye(target_points)
    irises = iris_centres(points, target_irises)  # where the source's irises were moved
    between = irises.mean(axis=0)
    for k, eye in enumerate(EYES):
        width = float(np.linalg.norm(target_points[eye.corners[0]]
                                     - target_points[eye.corners[1]]))
        small = float(np.interp(width, OPEN_WIDTH, (1.0, 0.0)))
        if small <= 0.0:
            continue
        corners = points[list(eye.corners)]
        outer = corners[int(np.argmax(np.linalg.norm(corners - between, axis=1)))]
        radius = float(target_irises[k, 2] * np.linalg.norm(corners[1] - corners[0]))
        layout = _eye_layout(image, points[eye.contour], target_image,
                             target_points[eye.contour], target_in_frame,
                             _OuterSide(irises[k], outer - irises[k], radius))
        if layout is None:
            continue
        box = layout.box
        white, lifted = layout.white * np.float32(small), layout.lifted * np.float32(small)
        lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(image[box]) / 255.0,
                                       cv2.COLOR_RGB2LAB)
        lab[..., 0] += lifted * (layout.target_lightness - lab[..., 0])
        # Only where the lightness moved: the round trip through Lab is not exact.
        image[box] = np.where(lifted[..., None] > 0.0,
                              np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0, 0.0, 255.0),
                              image[box])
        image[box] += white[..., None] * (layout.target - image[box])
        np.maximum(laid[box], white, out=laid[box])
    return laid


@dataclass(frozen=True)
class _EyeLayout:
    """One eye's outer side laid out as the target's (`opened_whites`), over `box` of the
    engine's crop: the target there (h, w, 3) float32 and its L (h, w); the share of the
    target's pixels laid (its white) and of its L given to the source's eye (h, w)
    float32."""

    box: tuple[slice, slice]
    target: np.ndarray
    target_lightness: np.ndarray
    white: np.ndarray
    lifted: np.ndarray


@dataclass(frozen=True)
class _OuterSide:
    """An eye's outer side: from its iris (`centre`, `radius` crop pixels: the target's
    gaze) toward its outer corner (`toward`, a crop offset)."""

    centre: np.ndarray
    toward: np.ndarray
    radius: float

    def share(self, box: tuple[slice, slice]) -> np.ndarray:
        """(h, w) float32 over `box` of the crop: 0 up to OUTER_FROM iris radii past the
        iris centre toward the outer corner, 1 from one radius further."""
        ys, xs = np.mgrid[box[0], box[1]].astype(np.float64)
        unit = self.toward / max(float(np.linalg.norm(self.toward)), 1e-6)
        along = (xs - self.centre[0]) * unit[0] + (ys - self.centre[1]) * unit[1]
        radius = max(self.radius, 1.0)
        side: np.ndarray = np.clip((along - OUTER_FROM * radius) / radius, 0.0,
                                   1.0).astype(np.float32)
        return side


def _to_target(contour: np.ndarray, target_contour: np.ndarray) -> np.ndarray:
    """(2, 3): the affine map, least squares, from an eye contour (N, 2) in the engine's
    crop to the same contour of the target's."""
    ones = np.hstack([contour, np.ones((len(contour), 1))])
    solution, *_ = np.linalg.lstsq(ones, target_contour, rcond=None)
    mapping: np.ndarray = solution.T
    return mapping


def _target_box(target: np.ndarray, contour: np.ndarray, target_contour: np.ndarray,
                box: tuple[slice, slice]) -> np.ndarray:
    """(h, w[, 3]) float32: `target` (S, S[, 3]) as it lies under `box` of the engine's crop
    once its eye contour is moved onto `contour`."""
    mapping = _to_target(contour, target_contour)
    mapping[:, 2] += mapping[:, :2] @ (box[1].start, box[0].start)
    shape = (box[1].stop - box[1].start, box[0].stop - box[0].start)
    warped: np.ndarray = cv2.warpAffine(np.asarray(target, dtype=np.float32), mapping, shape,
                                        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                        borderMode=cv2.BORDER_REPLICATE)
    return warped


def _lightness(pixels: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab[..., 0]


def _eye_layout(image: np.ndarray, contour: np.ndarray, target: np.ndarray,
                target_contour: np.ndarray, target_in_frame: np.ndarray | None,
                side: _OuterSide) -> _EyeLayout | None:
    """The `side` of one eye's opening `contour` of `image` laid out as the target's (its
    opening `target_contour` of `target`); None where the target's opening shows no white
    (or too little of it shows in the frame)."""
    size = image.shape[0]
    low = np.floor(contour.min(axis=0) - 2).astype(int).clip(0, size)
    high = np.ceil(contour.max(axis=0) + 3).astype(int).clip(0, size)
    if np.any(high - low < 4):
        return None
    box = (slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0])))
    opening = np.zeros((int(high[1] - low[1]), int(high[0] - low[0])), dtype=np.uint8)
    cv2.fillPoly(opening, [np.round(contour - low).astype(np.int32)], 255)
    inside = opening > 0
    # The lash line round the opening too: the source's lashes are kept only where the
    # target shows its own (as dark), not as a dark lid line over the target's light lid.
    reach = cv2.dilate(opening, np.ones((3, 3), np.uint8)) > 0
    if target_in_frame is not None:
        shown = _target_box(target_in_frame, contour, target_contour, box) > 0.5
        inside &= shown
        reach &= shown
    if int(inside.sum()) < 6:
        return None
    pixels = _target_box(target, contour, target_contour, box)
    target_l = _lightness(pixels)
    darkest, lightest = np.percentile(target_l[inside], (DARKEST, LIGHTEST))
    span = float(lightest - darkest)
    if span < MIN_SPAN:
        return None
    white = np.clip((target_l - darkest - WHITE_FROM * span) / (WHITE_SOFT * span), 0.0, 1.0)
    lighter = np.clip((target_l - _lightness(image[box]) - COVER_FROM) / COVER_SOFT, 0.0, 1.0)
    lifted = lighter * reach * side.share(box)
    return _EyeLayout(box, pixels, target_l, (white * lifted).astype(np.float32),
                      lifted.astype(np.float32))


def _move_iris(image: np.ndarray, contour: np.ndarray, start: np.ndarray, end: np.ndarray,
               radius: float) -> None:
    """Within the eye opening `contour`, move the disc of `radius` at `start` to `end`:
    the vacated sclera inpainted from around it, the moved iris clipped by the lids."""
    size = image.shape[0]
    reach = radius + float(np.linalg.norm(end - start)) + 3.0
    low = np.floor(np.minimum(contour.min(axis=0), np.minimum(start, end) - reach)).astype(int)
    high = np.ceil(np.maximum(contour.max(axis=0), np.maximum(start, end) + reach)).astype(int)
    x0, y0 = np.clip(low, 0, size)
    x1, y1 = np.clip(high + 1, 0, size)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    box = image[y0:y1, x0:x1]
    opening = np.zeros(box.shape[:2], dtype=np.uint8)
    cv2.fillPoly(opening, [np.round(contour - (x0, y0)).astype(np.int32)], 255)
    if not opening.any():
        return
    ys, xs = np.mgrid[0:box.shape[0], 0:box.shape[1]].astype(np.float32)
    origin = (x0, y0)

    def disc(centre: np.ndarray) -> np.ndarray:
        distance = np.hypot(xs - (centre[0] - origin[0]), ys - (centre[1] - origin[1]))
        soft: np.ndarray = np.clip(radius + 0.5 - distance, 0.0, 1.0)
        return soft

    # The old iris: inpainted with the sclera around it (inside the opening only).
    hole = ((disc(start) > 0.0) & (opening > 0)).astype(np.uint8) * 255
    pixels = np.clip(box + 0.5, 0, 255).astype(np.uint8)
    emptied = cv2.inpaint(pixels, hole, 3, cv2.INPAINT_TELEA).astype(np.float32)
    emptied = np.where(hole[..., None] > 0, emptied, box)
    shift = np.array([[1, 0, end[0] - start[0]], [0, 1, end[1] - start[1]]], dtype=np.float32)
    moved = cv2.warpAffine(box, shift, (box.shape[1], box.shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    lids = cv2.GaussianBlur(opening.astype(np.float32) / 255.0, (3, 3), 0)
    # Only what showed inside the opening moves with the iris: in an eye narrower than
    # the source's (warped onto the target's half-closed lids) the disc reached over the
    # lid, and its lashes moved with it as a dark block.
    carried = cv2.warpAffine(lids, shift, (box.shape[1], box.shape[0]), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    weight = (disc(end) * lids * carried)[..., None]
    box[...] = emptied + weight * (moved - emptied)


def _eye_frame(points: np.ndarray, eye: _Eye) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                        float]:
    """(middle of the corners, unit vector along the corner line, unit vector across it,
    corner distance)."""
    first, second = points[eye.corners[0]], points[eye.corners[1]]
    width = max(float(np.linalg.norm(second - first)), 1e-6)
    along = (second - first) / width
    return (first + second) / 2.0, along, np.array([-along[1], along[0]]), width
