"""The source person's face shape on the target: so that identity survives head turns.

Warping the source's texture over the *target's* landmark mesh keeps the target's face
shape (where its eyes, brows, nose and mouth sit and how large they are), and under head
turns shape is most of what makes a face someone's. Here the inner features are moved
toward the source person's own 3D shape:

1. Every face's 3D landmarks are made pose-free by the similarity (Umeyama, 3D) that best
   maps the frontal template's frame points onto them: the nose and the face oval above
   the eyes, which move neither with expression nor with the features being reshaped.
2. The source's shape is the median pose-free shape of its faces; the target's is a
   running mean over its track, about two seconds long (so the target's expression of the
   moment, even one held for a second, is not mistaken for its shape).
3. Per feature (each eye, each brow, the nose) the target feature is moved and scaled so
   that its centre and size become the source's; the feature's own current outline (a
   blink) is kept; for two people an eye the source has clearly lower is lowered the
   whole way (`_feature_move`). The mouth is left to the target: its shape is mostly
   expression.
   A brow's height over its eye is partly expression (browDown, browInnerUp and
   browOuterUp are read from it): from a single photo a brow is not lowered toward its
   eye beyond the eye's own move (a shouting photo's held brows made every frame of a
   woman with raised brows frown). See `PHOTO_FACES` for why only lowering, only photos.
   Nor, from a video source that holds its brows raised in nearly all its faces, raised
   away from it (`HELD_RAISE`): such a clip shows no resting brow height.
   Other points follow smoothly (Gaussian interpolation), and the face oval stays where
   it is: the result stays inside the compositor's mask.

All landmark arrays are (478, 3) in crop pixels (z in the same units); template units
have the eye centres 1 apart.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facedub.faces.geometry import umeyama
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import upper_oval_mask
from facedub.faces.regions import MOUTH_CORNERS, NOSE_TIP, mesh_regions
from facedub.faces.template import face_template

FOLLOW_SIGMA = 0.22  # template units: how far other points follow a moved feature
OVAL_RAMP = 0.3  # template units from the face oval over which moves fade to zero
SCALE_LIMITS = (0.8, 1.25)  # a feature's size changes at most this much
# Share of each new frame in the target's running mean shape (after the first frames,
# which are averaged equally): about two seconds. At 0.08 (half a second) a held
# expression became the target's "shape" and was undone: d3's surprised frames had
# their raised brows and widened eyes moved back toward the source's resting ones.
TARGET_RATE = 0.02
MAX_MOVE = 0.12  # template units: the largest move of a feature's centre
# Differences this small are landmark noise and expression, not identity: the same man in
# a photo and in a clip of another day differed by 0.004-0.03 units and 1-4% in size per
# feature (11% for a smiling mouth), two different men by 0.03-0.13 and 3-17%. Only what
# lies beyond is moved, so a self-swap is left nearly alone.
DEAD_SHIFT = 0.02
DEAD_SCALE = 0.05  # in log(size ratio)
# Beyond those dead zones, by this much or more in some feature, the two faces differ in
# shape: another person (0.04-0.18 on the shared cross pairs, at most 0.015 on the
# self-swap pairs); once so, until it falls below DIFFERS_OFF. A track starts as another
# person: judged the same until its mean passed DIFFERS_ON, d18 under the streamer's
# webcam (0.027 in its first frames, 0.03 from the sixth) showed d18's blue eyes for seven
# frames, then the streamer's brown; a self-swap taken for another person at first shows
# its own eyes, only their gaze moved.
DIFFERS_ON = 0.03
DIFFERS_OFF = 0.02
# Faces whose mean identity descriptors (dlib, over the source's faces and the target
# clip) lie this far apart or more are two people, and are moved to the source's shape
# (and given its relief) whatever their landmarks say: over the shared set, the same
# person lies 0.11-0.27 apart within one footage (split halves, a frame as a photo, other
# lengths) and up to 0.39 across footage (Obama and Biden in a group photo against their
# own clip and portrait 0.38 and 0.39, clip 14's frame onto clip 13 0.30-0.36), two people
# 0.53-1.0 (231 pairs of people; Rudd and d18 0.59), so the line sits half way between
# 0.39 and 0.53.
# Landmarks alone took Paul Rudd's photo for d18 in all 40 frames (expr-neutral) and for
# Elon Musk's small turned GIF face in 23-35 of 35 (occlusion-smoke-hand): nothing moved.
# `differs` then says so too, and the engine shows the source's eyes: their streaks in the
# eleventh round were the studio's strip lights mirrored in Rudd's irises
# (`mesh_catchlights`, twelfth round).
OTHER_PERSON = 0.46
# Where they do not differ, nothing is moved: what lies beyond the dead zones there is
# still noise and held expression (d3's split: her features moved by up to 0.6 px at 256,
# median over frames, toward her own first half's). The move fades in and out by this share
# a frame, so a track that changes its verdict does not pop.
SAME_FADE_PER_FRAME = 0.1
# A source of fewer faces than this is a photo (or a few): its brows show one held
# expression, not the person's usual height over the eyes, which a video's median gives.
# Lowering only: keeping the target's brow height in every case halved the expression
# error but left the output far less like the source (a brow's height over its eye counts
# for identity: border-photo's raised-brow photo 73% nearer the source to 45%, the
# headturn-man video 33% to 5%; BENCHMARKS.md, Expression, 2026-12-02).
PHOTO_FACES = 10
# And the other way: a video source that holds its brows raised in nearly all its faces
# (its least raised RESTING_SHARE of faces still raise a brow by HELD_RAISE or more, the
# strongest of `BROW_RAISE_KEYS`) shows no resting brow height at all, only its
# expression: from it a brow is not raised away from its eye beyond the eye's own move.
# d10's expressive clip reads browInnerUp / browOuterUp 0.96 at the median, 0.78 at its
# least raised tenth; her median brows raised the older woman's the whole MAX_MOVE (0.12)
# and read less like d10, not more (older-glasses 68% of frames nearer the source; with
# the brows not raised 95%, half raised 90%; placed by d10's least raised quarter, 0.04
# lower, 75%). Every other source in the shared set rests: its least raised tenth at 0.17
# or less. A photo is one held expression and keeps its raised brows (`PHOTO_FACES`).
BROW_RAISE_KEYS = ("browInnerUp", "browOuterUpLeft", "browOuterUpRight")
HELD_RAISE = 0.6
RESTING_SHARE = 0.1


@dataclass(frozen=True)
class _Feature:
    points: np.ndarray  # landmark indices that move with the feature
    anchors: np.ndarray  # the subset whose centre and spread define position and size
    # A brow: the index (in `_features()`) of the eye below it (see `PHOTO_FACES`).
    eye: int | None = None
    # An eye: for two people lowered whole where the source's sits clearly lower (see
    # `_feature_move`'s `whole_height`).
    height_whole: bool = False


def _features() -> tuple[_Feature, ...]:
    regions = mesh_regions()
    eye_corners = {"left": np.array([362, 263]), "right": np.array([33, 133])}
    # Not the mouth: its width and height are mostly expression (a smiling source photo
    # widened the target's mouth into a grimace on the skin-tones pair).
    return (
        _Feature(regions.left_eye, eye_corners["left"], height_whole=True),
        _Feature(regions.right_eye, eye_corners["right"], height_whole=True),
        _Feature(regions.left_eyebrow, regions.left_eyebrow, eye=0),
        _Feature(regions.right_eyebrow, regions.right_eyebrow, eye=1),
        _Feature(regions.nose, regions.nose),
    )


@functools.cache
def _frame_points() -> np.ndarray:
    regions = mesh_regions()
    return np.unique(np.concatenate([regions.nose, regions.face_oval[upper_oval_mask()]]))


def pose_free(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pose-free shape (478, 3) in template units, 4x4 template-to-crop similarity)."""
    frame = _frame_points()
    points = np.asarray(landmarks, dtype=np.float64)
    transform = umeyama(face_template()[frame], points[frame])
    inverse = np.linalg.inv(transform)
    free = points @ inverse[:3, :3].T + inverse[:3, 3]
    return free, transform


class FaceShape:
    """Moves target landmarks toward the source's shape; keeps a running mean shape per
    target track. `strength` 0 leaves landmarks as they are, 1 moves fully."""

    def __init__(self, source_landmarks: Sequence[np.ndarray], strength: float = 1.0,
                 source_blendshapes: np.ndarray | Sequence[np.ndarray] | None = None) -> None:
        """`source_blendshapes`: each source face's (52,) blendshapes (see HELD_RAISE);
        None: the brows are raised as far as the source's median shape says."""
        shapes = [pose_free(landmarks)[0] for landmarks in source_landmarks]
        self._source = np.median(np.stack(shapes), axis=0)
        self._photo = len(shapes) < PHOTO_FACES
        self._held_raise = not self._photo and holds_brows_raised(source_blendshapes)
        self._strength = strength
        self._features = _features()
        # Each feature's centre and spread in the source's shape: the same every frame.
        self._source_features = [_centre_and_spread(self._source[feature.anchors])
                                 for feature in self._features]
        template = face_template()
        self._fade = _oval_fade(template)
        self._follow = _follow_weights(template, self._features)
        self._target_mean: dict[int, tuple[np.ndarray, int]] = {}
        self._differs: dict[int, bool] = {}
        self._shares: dict[int, float] = {}  # per track: how much of the move is made
        self._other: dict[int, bool] = {}  # per track: known to be two people (`moved`)

    def differs(self, track: int) -> bool:
        """Whether the track's face, as of its last `moved`, is another person's: known
        so (`other`) or differing in shape from the source's beyond landmark noise; True
        without a shape move."""
        return (self._strength <= 0 or self._other.get(track, False)
                or self._differs.get(track, True))

    def share(self, track: int) -> float:
        """How much of the move toward the source's shape the track's last `moved` made
        (the strength times the eased verdict that the faces differ): 0 for a self-swap."""
        return self._strength * self._shares.get(track, 1.0)

    def forget(self, track: int) -> None:
        for per_track in (self._target_mean, self._differs, self._shares, self._other):
            per_track.pop(track, None)

    def moved(self, track: int, landmarks: np.ndarray, other: bool = False) -> np.ndarray:
        """The target's landmarks (478, 3) with its features moved to the source's shape.
        `other`: the two faces are known to be two people (`other_person`), so they are
        moved however close their shapes, and `differs` says so (the engine then shows the
        source's eyes: Rudd's photo onto d18 is the same shape in 40 of 40 frames)."""
        if self._strength <= 0:
            return landmarks
        self._other[track] = other
        free, transform = pose_free(landmarks)
        mean, count = self._target_mean.get(track, (free, 0))
        count += 1
        mean = mean + max(TARGET_RATE, 1.0 / count) * (free - mean)
        self._target_mean[track] = (mean, count)
        moves = np.zeros((len(self._features), len(free), 3))
        shifts = np.zeros((len(self._features), 3))
        beyond = 0.0
        for k, feature in enumerate(self._features):  # the eyes come before the brows
            source = self._source_features[k]
            moves[k], shifts[k], excess = _feature_move(
                feature, free, mean, source, whole_height=other and feature.height_whole)
            beyond = max(beyond, excess)
            eye_down = None if feature.eye is None else float(shifts[feature.eye, 1])
            if eye_down is not None and (
                    (self._photo and shifts[k, 1] > eye_down)  # lowered (image y grows down)
                    or (self._held_raise and shifts[k, 1] < eye_down)):  # raised
                # Toward or away from its eye beyond the eye's move: the source's expression.
                moves[k], shifts[k], _ = _feature_move(feature, free, mean, source, eye_down)
        differs = beyond >= (DIFFERS_OFF if self._differs.get(track, True) else DIFFERS_ON)
        self._differs[track] = differs
        share = self._eased_share(track, 1.0 if differs or other else 0.0)
        if share <= 0.0:
            return landmarks
        # Each point moves as the features near it do; the oval stays.
        displacement = np.einsum("kp,kpd->pd", self._follow, moves)
        displacement *= (self._fade * self._strength * share)[:, None]
        offset = displacement @ transform[:3, :3].T
        return (np.asarray(landmarks, dtype=np.float64) + offset).astype(np.float32)

    def _eased_share(self, track: int, wanted: float) -> float:
        """The share of the move made on this frame of `track`: its first frame's verdict
        at once, then toward `wanted` by SAME_FADE_PER_FRAME a frame."""
        share = self._shares.get(track, wanted)
        share += float(np.clip(wanted - share, -SAME_FADE_PER_FRAME, SAME_FADE_PER_FRAME))
        self._shares[track] = share
        return share


def holds_brows_raised(blendshapes: np.ndarray | Sequence[np.ndarray] | None) -> bool:
    """Whether a video source's faces' (N, 52) `blendshapes` hold a brow raised in nearly
    all of them: the RESTING_SHARE quantile of the strongest of BROW_RAISE_KEYS at
    HELD_RAISE or more. False where unknown."""
    if blendshapes is None or len(blendshapes) == 0:
        return False
    keys = [BLENDSHAPE_NAMES.index(name) for name in BROW_RAISE_KEYS]
    raised = np.asarray(blendshapes, dtype=np.float64)[:, keys].max(axis=1)
    return float(np.quantile(raised, RESTING_SHARE)) >= HELD_RAISE


def other_person(source: np.ndarray | None, target: np.ndarray | None) -> bool:
    """Whether two mean identity descriptors (128,) are of two people (OTHER_PERSON); False
    where either is unknown (the landmarks then decide)."""
    if source is None or target is None:
        return False
    return bool(np.linalg.norm(np.asarray(source, np.float64) - np.asarray(target, np.float64))
                >= OTHER_PERSON)


def _feature_move(feature: _Feature, free: np.ndarray, mean: np.ndarray,
                  source: tuple[np.ndarray, float], vertical: float | None = None,
                  whole_height: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """((478, 3) displacement, in template units, that gives the feature the source's
    centre and size, defined for every point (points far away are weighted out later);
    the centre's shift (3,); how far the two differ beyond the dead zones, template units
    or log size). `source`: the feature's centre (3,) and spread in the source's shape
    (`_centre_and_spread`). `vertical`: the centre's vertical shift, given (a brow's
    eye's) instead of the source's. `whole_height` (an eye of two people): where the
    source's eye sits lower, the centre is lowered by the whole difference from twice
    DEAD_SHIFT on, not at all inside DEAD_SHIFT, continuously between, and never less
    than the dead zone gives. The eyes' height is much of a likeness: border-photo's
    photo has its eyes 0.05-0.06 lower than d3's, the dead zone took 0.02 off, and d3's
    winking, grimacing frames read as d3 (84% of the frontal frames nearer the photo,
    92% so). Its cost is what the landmarker reads of the expression: it reads a smile
    from the mouth's corners against the eyes, and eyes raised whole read less smile
    (hair-forehead's smiling streamer under Kit Harington's eyes, 0.03-0.04 higher:
    smile agreement 92% -> 80%), so raised eyes keep the dead zone; made whole inside
    the dead zone too, a sub-pixel move of headturn-woman's eyes flipped two of her smile
    frames at their tolerance (BENCHMARKS.md, Realism, twenty-eighth round)."""
    centre_mean, spread_mean = _centre_and_spread(mean[feature.anchors])
    centre_source, spread_source = source
    log_scale = float(np.log(max(spread_source, 1e-6) / max(spread_mean, 1e-6)))
    excess = abs(log_scale) - DEAD_SCALE
    log_scale = float(np.sign(log_scale)) * max(excess, 0.0)
    scale = float(np.clip(np.exp(log_scale), *SCALE_LIMITS))
    shift = centre_source - centre_mean
    lower = float(shift[1])  # how much lower the source's centre sits (image y grows down)
    # Whole from twice the dead zone on, none inside it, continuous between.
    lowered = min(max(2.0 * (lower - DEAD_SHIFT), 0.0), lower, MAX_MOVE)
    if vertical is not None:
        shift[1] = 0.0
    length = float(np.linalg.norm(shift[:2]))
    wanted = min(max(length - DEAD_SHIFT, 0.0), MAX_MOVE)
    shift *= wanted / max(length, 1e-9)
    if vertical is not None:
        shift[1] = vertical
    elif whole_height and lower > 0.0:  # a raised eye keeps the dead zone
        shift[1] = max(float(shift[1]), lowered)
    centre_now = free[feature.anchors].mean(axis=0)
    return (free - centre_now) * (scale - 1.0) + shift, shift, max(excess, length - DEAD_SHIFT)


def _centre_and_spread(anchors: np.ndarray) -> tuple[np.ndarray, float]:
    """A feature's anchor points' (n, 3) centre (3,) and `_spread`."""
    return anchors.mean(axis=0), _spread(anchors)


def _spread(points: np.ndarray) -> float:
    return float(np.sqrt(((points[:, :2] - points[:, :2].mean(axis=0)) ** 2).sum(axis=1).mean()))


def _follow_weights(template: np.ndarray, features: Sequence[_Feature]) -> np.ndarray:
    """(K, 478): how much each point follows each feature; a feature's own points follow it
    alone, others by Gaussian distance to its nearest point, normalised where features
    overlap."""
    points = template[:, :2]
    weights = np.zeros((len(features), len(points)))
    for k, feature in enumerate(features):
        distance = np.linalg.norm(points[:, None, :] - points[None, feature.points, :2],
                                  axis=2).min(axis=1)
        weights[k] = np.exp(-0.5 * (distance / FOLLOW_SIGMA) ** 2)
    for feature in features:
        weights[:, feature.points] = 0.0
    for k, feature in enumerate(features):
        weights[k, feature.points] = 1.0
    total = weights.sum(axis=0)
    crowded = total > 1.0
    weights[:, crowded] /= total[crowded]
    return weights


def _oval_fade(template: np.ndarray) -> np.ndarray:
    """(478,) 0 on the face oval, rising to 1 at OVAL_RAMP inside it."""
    oval = template[mesh_regions().face_oval, :2]
    distance = np.linalg.norm(template[:, None, :2] - oval[None, :, :], axis=2).min(axis=1)
    fade: np.ndarray = np.clip(distance / OVAL_RAMP, 0.0, 1.0)
    return fade


# The mouth's height is scaled by this share of its width's change where the read-back
# widens it (`resized_mouth`, `mesh_mouth_read`).
MOUTH_HEIGHT_SHARE = 0.5
# Narrowed for the eyes the landmarker reads nearer together (`narrowed_mouth`), the mouth's
# height is scaled by this share of its width's change: the landmarker reads every length
# below the eyes in its own, shorter eye distance, the lips' opening (jawOpen) as much as
# the width, so the whole mouth is drawn in those units. At half, over four job ids, the
# shouting pair's smile agreed on 524 of 600 frames and its mouth on 576; at 1, 531 and 585
# (mean smile error 0.042 -> 0.040), its likeness to the source as it was. At 2, 538 and 583,
# but the face read further from the source at every id (+0.002). In the twelfth round,
# before the mouth read-back, as much in height read more smile than half did, and in width
# alone more open (BENCHMARKS.md, Expression, twelfth and thirty-second rounds).
OPENING_SHARE = 1.0
# And its place (`narrowed_mouth`): the lips' centre drawn as far below the nose's tip as
# the narrowing's ratio of the target's. Left at the target's, the shouting pair's mouth read
# more open than d10's on nearly every frame (jawOpen up to +0.22; across the 0.25 line on
# frame 5 at four job ids, 23 at three): the landmarker reads the lips 5-7% further
# below the nose in its shorter eye distance, as it reads their width. So placed, over four
# ids its mouth agreed on 160 of 160 frames (153) and jawOpen's error fell 0.096 -> 0.065;
# the smile 156 -> 154 (a higher mouth reads more smile: 14-29 nearer hers, 30-33 over).
# Pivoted on the eyes' line instead (twice as far up) it read more closed than hers where
# she talks and the smile 144 (BENCHMARKS.md, Expression, fifty-fifth round). The corners go
# up with the lips: held where they were (the lips' middle alone placed) the mouth bent down
# and her smile agreed on 28 of 40 frames at her own id (40), a fifth held 38, frame 5's
# mouth lost. Placed, Jolie's lower lip sits 1.5 px higher over d9's (256 px crop), which the
# doubled-edge measure counts (threequarter-glasses +0.004); no second line shows, and the
# place is that pair's likeness (33 -> 35 of 40 nearer her at id 101; fifty-sixth round).


def narrowed_mouth(landmarks: np.ndarray, ratio: float) -> np.ndarray:
    """The landmarks (478, 3), crop pixels, with the mouth narrowed to `ratio` (< 1) of its
    width, its height by OPENING_SHARE of that and its centre's drop below the nose's tip
    to `ratio` of it (`resized_mouth`). `ratio` 1 or more: the landmarks as they are (see
    `mesh_eye_read`: the mouth keeps its size and place against the eyes as the
    landmarker reads them, never widened)."""
    return (landmarks if ratio >= 1.0
            else resized_mouth(landmarks, ratio, OPENING_SHARE, drop_ratio=ratio))


def resized_mouth(landmarks: np.ndarray, ratio: float,
                  height_share: float = MOUTH_HEIGHT_SHARE,
                  drop_ratio: float = 1.0) -> np.ndarray:
    """The landmarks (478, 3), crop pixels, with the mouth's width scaled by `ratio` about
    the lips' centre (and its height by `height_share` of that change) and the lips'
    centre's drop below the nose's tip scaled by `drop_ratio`, in the face's pose-free
    frame; the points around follow by their distance to the lips, the other features and
    the oval stay. `ratio` and `drop_ratio` 1: the landmarks as they are."""
    if ratio == 1.0 and drop_ratio == 1.0:
        return landmarks
    free, transform = pose_free(landmarks)
    centre = free[_lips(), :2].mean(axis=0)
    move = np.zeros_like(free)
    move[:, :2] = (free[:, :2] - centre) * (ratio - 1.0) * np.array([1.0, height_share])
    move[:, 1] += (centre[1] - free[NOSE_TIP, 1]) * (drop_ratio - 1.0)
    move *= _mouth_weights()[:, None]
    offset = move @ transform[:3, :3].T
    return (np.asarray(landmarks, dtype=np.float64) + offset).astype(np.float32)


@functools.cache
def _lips() -> np.ndarray:
    regions = mesh_regions()
    return np.unique(np.concatenate([regions.lips_outer, regions.lips_inner]))


@functools.cache
def _mouth_weights() -> np.ndarray:
    """(478,): how much each point follows the mouth: the lips wholly, others by Gaussian
    distance to the nearest lip point, fading to 0 at the oval; not the other features'
    own points."""
    template = face_template()
    lips = _lips()
    points = template[:, :2]
    distance = np.linalg.norm(points[:, None, :] - points[None, lips, :], axis=2).min(axis=1)
    weights: np.ndarray = np.exp(-0.5 * (distance / FOLLOW_SIGMA) ** 2)
    for feature in _features():
        weights[feature.points] = 0.0
    weights[lips] = 1.0
    weights *= _oval_fade(template)
    weights.flags.writeable = False
    return weights


# The corners' reach (template units, eye centres 1 apart) in `lifted_corners`: the lip
# line bends up toward each corner as in a smile, the lips' centre (about 0.45 from a
# corner) stays (weight e^-7).
CORNER_SIGMA = 0.12


def lifted_corners(landmarks: np.ndarray, lift: float) -> np.ndarray:
    """The landmarks (478, 3), crop pixels, with the mouth's corners raised by `lift` eye
    distances (negative: lowered) in the face's pose-free frame; the points near either
    corner follow by a Gaussian of CORNER_SIGMA, the other features' points and the oval
    stay. `lift` 0: the landmarks as they are (see `mesh_mouth_read`)."""
    if lift == 0.0:
        return landmarks
    free, transform = pose_free(landmarks)
    move = np.zeros_like(free)
    move[:, 1] = -lift * _corner_weights()  # image y grows down
    offset = move @ transform[:3, :3].T
    return (np.asarray(landmarks, dtype=np.float64) + offset).astype(np.float32)


@functools.cache
def _corner_weights() -> np.ndarray:
    """(478,): how much each point follows the mouth's corners (1 at a corner)."""
    template = face_template()
    points = template[:, :2]
    distance = np.min([np.linalg.norm(points - points[corner], axis=1)
                       for corner in MOUTH_CORNERS], axis=0)
    weights: np.ndarray = np.exp(-0.5 * (distance / CORNER_SIGMA) ** 2)
    for feature in _features():
        weights[feature.points] = 0.0
    weights *= _oval_fade(template)
    weights.flags.writeable = False
    return weights
