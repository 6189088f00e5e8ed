"""Where the target's expression lines go, and how much, for the mesh engine
(`mesh_expression` moves the pixels).

Regions of expression lines (cheeks, eye corners, between the brows, the nose, the
forehead) are polygons in the frontal template's units, drawn over the target's mesh so
they move with it; each carries the blendshapes that draw its lines. `region_weights`
turns a source's and a target's blendshapes into how far each region's lines fade or
deepen; `UsualExpression` keeps a target track's usual blendshapes (MediaPipe's
per-person bias); `line_weight_map` draws the weights as a per-pixel map.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from facedub.engines.mesh_topology import mesh_topology, mesh_vertices, template_anchors
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import blur_rows
from facedub.faces.regions import eye_distance

# Regions of expression lines, as polygons in the frontal template's units (x to the
# image's right, y down; the outer eye corners are at x = -0.70 and +0.70, the mouth
# corners at (+-0.40, 1.09): the cheeks take in the corners, where a smile dimples, and
# the whole nasolabial fold, from beside the nose wing (+-0.27..0.33, 0.60..0.71) down),
# each with the blendshapes that draw its lines. Sides are mirrored; MediaPipe's
# Left/Right blendshapes are both used for both sides, since a one-sided smile still
# folds the cheek of the other side a little.
_CHEEK = ((0.28, 0.45), (0.45, 0.20), (0.96, 0.30), (0.88, 1.00), (0.66, 1.55),
          (0.45, 1.55), (0.34, 1.22), (0.28, 1.05), (0.22, 0.90), (0.22, 0.78),
          (0.34, 0.72), (0.38, 0.62))
_EYE_CORNER = ((0.72, -0.18), (0.98, -0.26), (1.06, 0.05), (1.00, 0.40), (0.72, 0.26))
# Between the brows, and above their inner heads where a frown bunches the skin (the
# brows' top edge runs from (+-0.24, -0.38) to (+-0.68, -0.42)).
_BETWEEN_BROWS = ((-0.16, -0.08), (0.16, -0.08), (0.20, -0.40), (0.40, -0.47), (0.42, -0.68),
                  (-0.42, -0.68), (-0.40, -0.47), (-0.20, -0.40))
# The nose's root and bridge with its upper sides, from just below the brows' region down
# to above the tip's highlight (the inner eye corners at (+-0.27, 0.03), the tip at (0,
# 0.64)): where a sneer, and a frown's pull, bunch the skin into short lines across the
# root and down the sides (the grimace photo's "bunny lines").
_NOSE = ((-0.16, -0.08), (0.16, -0.08), (0.22, 0.08), (0.25, 0.30), (0.20, 0.45),
         (-0.20, 0.45), (-0.25, 0.30), (-0.22, 0.08))
# Beside it on each side, from the inner eye corner down and out to above the nose wing:
# where a grimace's squint and sneer crease the skin diagonally (the grimace photo's lines
# from its inner eye corners down its nose's sides). Lifted with the nose, as far as the
# nose itself is wrinkled (`LineRegion.wrinkled_where`): an older face's lines here at
# rest are its own.
_NOSE_SIDE = ((0.22, 0.06), (0.34, 0.08), (0.48, 0.30), (0.46, 0.46), (0.30, 0.48),
              (0.25, 0.30))
# The upper nasolabial fold on each side, from beside the nose wing (+-0.27..0.33,
# 0.60..0.71) down and out to beside the mouth corner (+-0.40, 1.09): where a snarl's
# raised upper lip and wrinkled nose bunch the cheek into a fold (the grimace photo's, from
# its nose wings down). Lifted as far as the nose's middle is wrinkled and the source's
# upper lip is raised (`LineRegion.lifted_if`): an older face's folds at rest, and a
# smile's, are not a snarl's.
_SNARL_FOLD = ((0.24, 0.52), (0.42, 0.50), (0.60, 0.80), (0.62, 1.12), (0.50, 1.20),
               (0.42, 1.00), (0.32, 0.78))
# Below the eyes, from beside the nose to below the outer corners: skin an older face lines
# at rest and a frown or sneer bunches little (`WRINKLE_REFERENCE`).
_UNDER_EYE = ((0.30, 0.13), (0.70, 0.15), (0.66, 0.30), (0.30, 0.32))
_FOREHEAD = ((-0.85, -0.47), (-0.25, -0.55), (0.25, -0.55), (0.85, -0.47), (0.75, -0.98),
             (0.0, -1.08), (-0.75, -0.98))


def _mirrored(polygon: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    return tuple((-x, y) for x, y in polygon)


def _both(*names: str) -> tuple[str, ...]:
    return tuple(f"{name}{side}" for name in names for side in ("Left", "Right"))


@dataclass(frozen=True)
class LineRegion:
    name: str
    polygons: tuple[tuple[tuple[float, float], ...], ...]
    blendshapes: tuple[str, ...]
    broad: bool = False  # its lines include broad shading (S / 8), not only creases
    # The target's blendshapes without which the source's creases here are lifted whatever
    # the source's blendshapes say: MediaPipe reads no frown on some frowning photos (the
    # shouting photo's browDown 0.01 under deep furrows).
    lifted_unless: tuple[str, ...] = ()
    # `lifted_unless`'s lift counts only as far as the source face is clearly wrinkled
    # across its skin there (`WRINKLED`, `mesh_expression.SourceWrinkles`): MediaPipe reads
    # no sneer on the grimace photo (noseSneer and browDown 0.00 under a frown and deep
    # bunny lines), and a lift on every face would move every face's nose toward the
    # target's and take older faces' own lines at rest, which are who they are.
    only_wrinkled: bool = False
    # The polygons over which `only_wrinkled` measures how wrinkled the face is (empty: the
    # region's own): the nose's middle, not its sides, whose creases older faces share.
    wrinkled_where: tuple[tuple[tuple[float, float], ...], ...] = ()
    # The source's darker lines here fade as far as the target shows the region's
    # expression clearly more than the source, too (`RAISED_BEYOND`), where the source
    # shows some of it itself (`SOURCE_RAISED`); as `fade` does the other way round, and
    # the target's usual does not gate it. Raised brows are what fold a forehead: where the
    # source's brows are up, its forehead lines are that expression's, and where the target
    # raises its brows well beyond them with a smooth forehead, they are not the target's
    # expression (the shouting photo, browInnerUp 0.24, onto d10, 0.56-0.99: its
    # horizontal furrows under d10's brows). A source whose brows are at rest keeps its
    # forehead lines: they are its face's, and a raise would only deepen them. The lift
    # goes no lighter than the target's skin there.
    faded_under_target: bool = False
    # Where its lines fade, the source's lit ridges between its creases come down too (to
    # its broad lightness, not into the target's lines), and its long level furrows are
    # lifted at full size (`mesh_expression._lift_lines`): a forehead's.
    evened: bool = False
    # Where its lines fade, the source's lit ridges between its creases come down too (as
    # `evened`'s do), but no furrow is lifted at full size: a broad smile's crow's feet fan
    # out from the eye, none long and level. Faded alone, their dark creases went and the
    # skin lit between them stayed, pale wavy scratches at the corners of a still eye
    # (Biden's smiling photo onto d18; BENCHMARKS.md, thirty-second round). Only as far as
    # the source shows one of these blendshapes fully (`FULLY_SHOWN`), since its ridges are
    # the broad smile's: a slight smile's are part of who it is (empty: nowhere); and only
    # as far as the target shows none of them itself (`TARGET_SHOWS`).
    ridged_by: tuple[str, ...] = ()
    # The smile's own regions (the folds, the cheeks' raise, the mouth corners' shading; the
    # eye corners' crow's feet): on a track's opening frames their `deepen` is judged
    # against the usual of the frames ahead where that is lower (`UsualExpression.opening`),
    # so a clip that opens mid-smile takes the target's smile lines there (occlusion-mic
    # over four job ids: smile 72 -> 75 of 96 with the cheeks, 76 with the eye corners too,
    # its mouth 85 -> 92). The other regions keep the track's own usual: taken from the
    # frames ahead for every region, the brows' and forehead's lines moved too and three
    # pairs read nearer the target (BENCHMARKS.md, thirty-fifth round).
    smile: bool = False
    # `lifted_unless`'s lift counts only as far as the source shows one of these (`SNARLED`):
    # a snarl's folds where its upper lip is raised. MediaPipe reads the grimace photo's
    # raised lip (mouthUpperUp 0.18) but no sneer, no frown and no smile, so no blendshape
    # rule of the cheeks fades its folds; the older faces' folds at rest read 0.00 here.
    lifted_if: tuple[str, ...] = ()


LINE_REGIONS = (
    LineRegion("cheeks", (_CHEEK, _mirrored(_CHEEK)),
               (*_both("mouthSmile", "cheekSquint", "mouthDimple", "mouthFrown",
                       "mouthStretch"), "jawOpen"), broad=True, smile=True),
    LineRegion("eye corners", (_EYE_CORNER, _mirrored(_EYE_CORNER)),
               _both("eyeSquint", "cheekSquint", "mouthSmile"), ridged_by=_both("mouthSmile"),
               smile=True),
    LineRegion("between brows", (_BETWEEN_BROWS,), (*_both("browDown"), "browInnerUp"),
               lifted_unless=_both("browDown")),
    LineRegion("nose", (_NOSE, _NOSE_SIDE, _mirrored(_NOSE_SIDE)), _both("noseSneer"),
               lifted_unless=_both("noseSneer"), only_wrinkled=True, wrinkled_where=(_NOSE,)),
    LineRegion("snarl folds", (_SNARL_FOLD, _mirrored(_SNARL_FOLD)), (),
               lifted_unless=_both("mouthSmile", "mouthUpperUp", "noseSneer"),
               only_wrinkled=True, wrinkled_where=(_NOSE,), lifted_if=_both("mouthUpperUp")),
    LineRegion("forehead", (_FOREHEAD,), ("browInnerUp", *_both("browOuterUp")),
               faded_under_target=True, evened=True),
)
# Where a face's own texture is read to judge an `only_wrinkled` region against: an old
# face is lined all over (the older woman's under-eye skin, Rowan Atkinson's forehead), a
# grimace bunches its lines on the nose (`mesh_expression.wrinkled_shares`). Regions of
# LINE_REGIONS by name, and one drawn for this alone.
WRINKLE_REFERENCE = (
    *(region for region in LINE_REGIONS if region.name in ("forehead", "cheeks", "eye corners")),
    LineRegion("under eyes", (_UNDER_EYE, _mirrored(_UNDER_EYE)), ()),
)
# A region's lines move as its blendshapes differ: not below UNCHANGED, wholly from
# FULL_CHANGE on (a broad smile, 0.97 onto 0.0, moves them wholly).
UNCHANGED = 0.2
FULL_CHANGE = 0.7
# `LineRegion.faded_under_target`: the target's excess over the source that fades the
# source's lines there, not below the first value, wholly from the second. Wider apart than
# UNCHANGED: a slight raise left an older woman's own forehead lines fainter (the older
# target's browOuterUp 0.34 over the photo's 0.02 on 4 of 40 frames; its distance to the
# source +0.002 to +0.008 on them), and MediaPipe reads some brows at rest as raised (d10's
# first 40 frames: browInnerUp median 0.93).
RAISED_BEYOND = (0.35, 0.6)
# ... and the source's own largest value there that lets it (not below the first, wholly
# from the second): a photo at rest (Paul Rudd's, 0.00) keeps its forehead lines under
# Katie Hill's raised brows (0.4-0.57 on readme-photo's frames 29-37; faded there, the
# mouth reading of frame 30 crossed the tolerance and its distance to the source rose
# 0.010).
SOURCE_RAISED = (0.1, 0.2)
# The source's lines fade only for expressions it shows clearly: not below the first
# value of its own blendshape, wholly from the second. A slight expression's lines are part
# of who it is: the border photo's slight smile (0.33) faded the cheeks and eye corners by
# a quarter, the cheeks' whole band both ways, on every frame the target did not smile,
# and face recognition read the target.
SHOWN_BY_SOURCE = (0.3, 0.5)
# `LineRegion.ridged_by`: the source's own value from which its lit ridges come down (not
# below the first, wholly from the second). Biden's broad smile (mouthSmile 0.97) wholly;
# the border photo's slight one (0.33) not at all (its ridges brought down there, the
# target was nearer the source on 2 of 80 frames fewer, BENCHMARKS.md, thirty-second round),
# nor d18's talking mouth as a video source (up to about 0.65).
FULLY_SHOWN = (0.7, 0.9)
# ... and the target's own value from which they stay (not below the first, wholly from the
# second): where the target smiles a little itself, the landmarker reads its smile from the
# eye corners' lit skin too, and the source's ridges stand for it there (the same photo onto
# Obama, mouthSmile 0.10-0.24 on frames 0-26: with them partly down there, his smile read
# 0.02-0.04 further from the target's on frames 16-21, agreeing on 150 of 160 frames over
# four job ids against 157, BENCHMARKS.md, thirty-third round). A still mouth (d18's from
# frame 8 on) keeps them down.
TARGET_SHOWS = (0.02, 0.08)
# A target shows a frown or a sneer (see `LineRegion.lifted_unless`) from this much of
# the region's browDown or noseSneer above its usual on (not below the first, wholly from
# the second).
SHOWN = (0.1, 0.3)
# `LineRegion.only_wrinkled`: the lift counts as far as the face is wrinkled across its
# skin there (the mean depth of its creases, `mesh_expression.wrinkles`, at 128 px) AND
# by this much more than over its own WRINKLE_REFERENCE skin (`WRINKLED_BEYOND`); each
# not below the first value, wholly from the second, the lesser of the two counting.
# As swapped (40 frames): the grimace photo's nose onto Obama 0.0171 and more, 0.0049
# beyond; the older woman's onto hers up to 0.0139, and 0.0055 beyond (so beyond alone
# does not tell them apart); Rowan Atkinson's (his moles) up to 0.0150 but -0.0027
# beyond (so the depth alone barely does). BENCHMARKS.md, forty-fourth round. A source
# in glasses (the curly-haired man's rims and bridge over his nose) reads as wrinkled on
# both: shut by `mesh_expression.GLASSES_BRIDGE` instead.
WRINKLED = (0.0145, 0.0165)
WRINKLED_BEYOND = (0.003, 0.0045)
# `LineRegion.lifted_if`: the source's raised upper lip (mouthUpperUp, the larger side) from
# which its folds are a snarl's (not below the first value, wholly from the second): the
# grimace photo 0.18 / 0.12; every older face and neutral photo of the pairs 0.00-0.01 (Rowan
# Atkinson, the older woman, Bob Dylan, Paul Rudd, Kit Harington, Rose Leslie, Angelina
# Jolie), the downcast woman's slight smile 0.05; the smiles that raise it more (Biden 0.56,
# the ball photo 0.77, the shouting photo 0.19) have smooth noses, and the nose's gate
# (`only_wrinkled`, 0 on each) shuts them. A face needs both cues for its folds to go.
SNARLED = (0.08, 0.14)
USUAL_QUANTILE = 25  # a target's usual blendshape value: this percentile of its track ...
USUAL_FRAMES = 250  # ... over its last this many frames
USUAL_SETTLE = 30  # frames (1 s) over which a track's own frames take over from those ahead
# `UsualExpression.opening`: a blendshape's usual from the frames ahead counts as far as the
# track's own usual so far stands above it by this much (not below the first value, wholly
# from the second): an opening held well beyond the person's usual (occlusion-mic's smile,
# 0.65-0.75 above the frames ahead on 0-9), not a talking face's usual that rises as it
# learns a frequent smile (Katie Hill's, up to 0.31 above on headturn-woman's first 30
# frames: her cheeks took more of her lines on 1-28 without this).
OPENING_BEYOND = (0.4, 0.6)


@dataclass(frozen=True)
class LineWeights:
    """Per region name, 0..1: how far the source's lines darker than the target's are
    lifted (`fade`: the source shows the region's expression more than the target; on
    the forehead either way round, see `LineRegion.faded_under_target`) and
    how far the target's darker lines are taken (`deepen`: the target shows it more);
    `lift`: how far the source's whole band (S / 8: furrows and the bunched skin between
    them) darker than the target's is lifted, in regions with `LineRegion.lifted_unless`
    whose expression the target does not show; `ridges`: how far the source's lit ridges
    between its creases come down with them, in regions with `LineRegion.ridged_by`
    (`fade` times how fully the source shows that expression)."""

    fade: dict[str, float]
    deepen: dict[str, float]
    lift: dict[str, float] = field(default_factory=dict)
    ridges: dict[str, float] = field(default_factory=dict)


def region_weights(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray,
                   target_usual: np.ndarray | None = None,
                   smile_usual: np.ndarray | None = None) -> LineWeights:
    """`LineWeights` from (52,) blendshape vectors: per region the largest signed
    difference of its blendshapes, ramped from UNCHANGED to FULL_CHANGE (for `fade`,
    times how clearly the source shows it, `SHOWN_BY_SOURCE`; on a region with
    `LineRegion.faded_under_target`, at least `_raised_beyond`). The target's excess counts
    only as far as it is also above `target_usual` (the track's usual values, see
    `UsualExpression`; None: not known), in the `LineRegion.smile` regions above
    `smile_usual` instead where that is given (`UsualExpression.opening`)."""
    fade, deepen, lift, ridges = {}, {}, {}, {}
    for region in LINE_REGIONS:
        keys = [BLENDSHAPE_NAMES.index(name) for name in region.blendshapes]
        source, target = source_blendshapes[keys], target_blendshapes[keys]
        excess = target - source
        usual = smile_usual if region.smile and smile_usual is not None else target_usual
        if usual is not None:
            excess = np.minimum(excess, target - usual[keys])
        low, high = SHOWN_BY_SOURCE
        clearly = np.clip((source - low) / (high - low), 0.0, 1.0)
        # A region drawn by no blendshape of its own (`lifted_if`'s) neither fades nor deepens.
        fade[region.name] = float((_ramps(source - target) * clearly).max(initial=0.0))
        if region.faded_under_target:
            fade[region.name] = max(fade[region.name], _raised_beyond(source, target))
        deepen[region.name] = _ramp(float(excess.max(initial=0.0)))
        if region.lifted_unless:
            shows = [BLENDSHAPE_NAMES.index(name) for name in region.lifted_unless]
            shown = target_blendshapes[shows] - (0.0 if target_usual is None
                                                 else target_usual[shows])
            low, high = SHOWN
            lift[region.name] = 1.0 - float(np.clip((shown.max() - low) / (high - low),
                                                    0.0, 1.0))
            if region.lifted_if:
                raised = [BLENDSHAPE_NAMES.index(name) for name in region.lifted_if]
                low, high = SNARLED
                lift[region.name] *= float(np.clip(
                    (source_blendshapes[raised].max() - low) / (high - low), 0.0, 1.0))
        if region.ridged_by:
            ridges[region.name] = fade[region.name] * _ridges_kept_down(
                source_blendshapes, target_blendshapes, region.ridged_by)
    return LineWeights(fade, deepen, lift, ridges)


def _ridges_kept_down(source_blendshapes: np.ndarray, target_blendshapes: np.ndarray,
                      names: tuple[str, ...]) -> float:
    """0..1, `LineRegion.ridged_by`'s share of the fade: how fully the source shows the
    largest of these blendshapes (`FULLY_SHOWN`) times how far the target shows none of
    them (`TARGET_SHOWS`)."""
    keys = [BLENDSHAPE_NAMES.index(name) for name in names]
    low, high = FULLY_SHOWN
    fully = np.clip((float(source_blendshapes[keys].max()) - low) / (high - low), 0.0, 1.0)
    low, high = TARGET_SHOWS
    shown = np.clip((float(target_blendshapes[keys].max()) - low) / (high - low), 0.0, 1.0)
    return float(fully * (1.0 - shown))


def _raised_beyond(source: np.ndarray, target: np.ndarray) -> float:
    """`LineRegion.faded_under_target`'s fade from a region's source and target
    blendshape values: how clearly the target shows more (`RAISED_BEYOND`) times how far
    the source shows some itself (`SOURCE_RAISED`)."""
    low, high = RAISED_BEYOND
    beyond = float(np.clip(((target - source).max() - low) / (high - low), 0.0, 1.0))
    low, high = SOURCE_RAISED
    return beyond * float(np.clip((source.max() - low) / (high - low), 0.0, 1.0))


def _ramp(difference: float) -> float:
    return float(_ramps(np.asarray(difference)))


def _ramps(differences: np.ndarray) -> np.ndarray:
    return np.clip((differences - UNCHANGED) / (FULL_CHANGE - UNCHANGED), 0.0, 1.0)


class UsualExpression:
    """Per target track, its usual blendshapes: the USUAL_QUANTILE percentile of its last
    USUAL_FRAMES frames (causal: the first frame is its own usual). Where the track's faces
    are known ahead (`expect`, a file's swap), `opening` gives the smile regions the usual of
    its first USUAL_FRAMES frames on its opening frames too."""

    def __init__(self) -> None:
        self._history: dict[int, deque[np.ndarray]] = {}
        self._ahead: dict[int, np.ndarray] = {}  # per track, the usual of its frames ahead
        self._latest: dict[int, np.ndarray] = {}  # per track, `update`'s last usual

    def expect(self, track: int, blendshapes: Sequence[np.ndarray]) -> None:
        """The track's faces' blendshapes (52,) in frame order, known before it is swapped."""
        opening = [np.asarray(values, dtype=np.float32) for values in blendshapes[:USUAL_FRAMES]]
        if opening:
            self._ahead[track] = np.percentile(np.stack(opening), USUAL_QUANTILE, axis=0)

    def update(self, track: int, blendshapes: np.ndarray) -> np.ndarray:
        history = self._history.setdefault(track, deque(maxlen=USUAL_FRAMES))
        history.append(np.asarray(blendshapes, dtype=np.float32))
        usual: np.ndarray = np.percentile(np.stack(history), USUAL_QUANTILE, axis=0)
        self._latest[track] = usual
        return usual

    def opening(self, track: int) -> np.ndarray | None:
        """The smile regions' usual on the track's latest frame (`region_weights`'
        `smile_usual`), None where it is `update`'s. Causal alone, a clip that opens
        mid-smile is its own usual: occlusion-mic's opening smile (0.6-0.78, Rudd's photo
        0.03) drew none of the target's smile lines on frames 0-9, and the face read less
        smiling. The frames ahead count only where the track's own usual so far is well
        above theirs (`OPENING_BEYOND`): a track that opens at rest and smiles later keeps
        its own usual. Over its first USUAL_SETTLE frames they give way by degrees to the
        track's own, and from then on every frame is as without them (a usual from the
        frames ahead held longer took more of talking faces' lines, readme-photo's Katie
        Hill; BENCHMARKS.md, thirty-fifth round)."""
        ahead, history = self._ahead.get(track), self._history.get(track)
        if ahead is None or history is None or len(history) >= USUAL_SETTLE:
            return None
        usual = self._latest[track]
        low, high = OPENING_BEYOND
        beyond = np.clip((usual - ahead - low) / (high - low), 0.0, 1.0)
        share = beyond * (1.0 - len(history) / USUAL_SETTLE)
        opening: np.ndarray = usual - share * (usual - ahead)
        return opening

    def forget(self, track: int) -> None:
        self._history.pop(track, None)
        self._ahead.pop(track, None)
        self._latest.pop(track, None)


def line_weight_map(face_landmarks: np.ndarray, size: int, weights: dict[str, float],
                    grow: float = 0.0) -> np.ndarray:
    """(size, size) float32: per pixel, the share of the target's expression lines; the
    regions follow the face's mesh (so a smile's raised cheek carries its region up).
    `grow` (eye distances): each region drawn that much wider before it is softened, so
    its whole share reaches that far past its outline rather than half of it."""
    return RegionMaps(face_landmarks, size)(weights, grow)


class RegionMaps:
    """`line_weight_map` of one face at one size for several weight sets: each region's
    polygons are placed on the mesh and drawn once (per `grow`), not once per map (the
    expression lines take up to seven maps of a face a frame)."""

    def __init__(self, face_landmarks: np.ndarray, size: int) -> None:
        self.vertices = mesh_vertices(face_landmarks)
        self.scale = eye_distance(face_landmarks)
        self.size = size
        self._drawn: dict[tuple[str, int], np.ndarray] = {}

    def __call__(self, weights: dict[str, float], grow: float = 0.0) -> np.ndarray:
        result = np.zeros((self.size, self.size), dtype=np.float32)
        radius = round(grow * self.scale)
        for region in LINE_REGIONS:
            weight = weights.get(region.name, 0.0)
            if weight <= 0.0:
                continue
            np.maximum(result, weight * self._region(region, radius) / 255.0, out=result)
        if not result.any():
            return result
        sigma = max(1.0, 0.08 * self.scale)
        return blur_rows(result, sigma)

    def region(self, region: LineRegion) -> np.ndarray:
        """(size, size) float32 in 0..1: the region drawn, not softened."""
        return self._region(region, 0) / 255.0

    def _region(self, region: LineRegion, radius: int) -> np.ndarray:
        """(size, size) float32 in 0..255: the region drawn, grown `radius` pixels."""
        key = (region.name, radius)
        if key not in self._drawn:
            drawn = np.zeros((self.size, self.size), dtype=np.uint8)
            for polygon in region.polygons:
                triangles, barycentric = template_anchors(polygon)
                corners = self.vertices[mesh_topology().triangles[triangles]]  # (N, 3, 2)
                points = np.einsum("nk,nkd->nd", barycentric, corners)
                cv2.fillPoly(drawn, [np.round(points * 16).astype(np.int32)], 255,
                             lineType=cv2.LINE_AA, shift=4)
            if radius > 0:
                kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
                cv2.dilate(drawn, kernel, dst=drawn)
            self._drawn[key] = drawn.astype(np.float32)
        return self._drawn[key]
