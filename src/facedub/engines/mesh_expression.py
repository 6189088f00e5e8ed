"""The target's expression, not the source's, for the mesh engine.

The mesh warp moves the source's texture onto the target's landmarks, so the *shape* of
the face follows the target; but the texture keeps what the source's expression painted
into it. Two things leak when the source smiles or shouts and the target does not:

- the mouth interior: MediaPipe's inner lip loop runs over the teeth of a broad smile
  (the upper teeth show above it), so the lip triangles carry teeth between closed lips.
  `mouth_interior` finds the source's whole interior (the inner loop, plus the teeth- and
  cavity-coloured pixels joined to it inside the outer lips); the engine warps it with
  the texture and shows the target's own pixels there.
- expression lines: smile folds, raised cheeks, crow's feet, frown and forehead lines.
  They live in a middle band of spatial frequencies, between pores and the face's broad
  shading. `follow_target_lines` moves that band toward the target's, region by region,
  only in the direction the expressions differ: where the source shows a region's
  expression more than the target (a smile onto a still face), the source's band is
  lifted where it is darker than the target's (its folds fade); where the target shows
  it more than the source *and* more than it usually does (a squint onto a neutral
  photo), the target's darker band is taken (its creases come). Taking the target's band
  whole in every region that differed put so much of the target's face onto a source
  photo of another expression that face recognition read the target (border-photo:
  nearer the source 95% without the lines, 0% with them); MediaPipe's blendshapes carry
  a per-person bias too (d3's eyeSquint rests at 0.55), hence "more than it usually
  does" (`UsualExpression`; the regions and their weights are in
  `mesh_expression_regions`). The source keeps its pores and colour, and the compositor's
  relighting carries the target's broad shading (raised cheeks) below the band. Between
  the brows the source's own furrows are lifted unless the target frowns, whatever the
  source's blendshapes say: MediaPipe reads no frown on some frowning photos. So are
  its nose's lines unless the target sneers, where the source is clearly wrinkled
  across its nose (`SourceWrinkles`: the grimace photo's bunny lines read no sneer). On the
  forehead the source's lines fade the other way round too, where the target raises its
  brows well beyond a source whose brows are up at all (the shouting photo's furrows under
  d10's raised brows; `LineRegion.faded_under_target`); where the forehead's lines fade,
  the lit ridges between them come down too and its long, thin furrows are lifted at full
  size (`LineRegion.evened`: the half-size band saw only part of the photo's), and so
  is the skin just above the brows, off the source's own brows (`brow_margin`). Where a
  source crease is lifted, its sharp core (finer than the band, a pixel or two wide) goes
  with it, no deeper than the target's own at that place; a borrowed fold otherwise stayed
  as a thin dark line.

All images are (S, S, 3) uint8 RGB crops; masks (S, S) float32 in [0, 1].
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace

import cv2
import numpy as np

from facedub.engines.mesh_expression_regions import (
    LINE_REGIONS,
    WRINKLE_REFERENCE,
    WRINKLED,
    WRINKLED_BEYOND,
    LineWeights,
    RegionMaps,
)
from facedub.faces.glasses_cues import faint_glasses_evidence, glasses_frames, lens_zones
from facedub.faces.masks import grown_bounds
from facedub.faces.regions import eye_distance, mesh_regions

FINE_SIGMA = 1.0  # pixels at a 256 px crop: detail finer than this (pores) stays the source's
# Creases (crow's feet, frown and forehead lines) are thin: their band reaches only to a
# Gaussian of S / 32. Only the cheeks' fold and raised-cheek shading is broad (S / 8);
# lifting the whole S / 8 band on every region flattened the source's own relief there.
CREASE_WIDTH = 1 / 32
FURROW_WIDTH = 1 / 16  # the band of a frown's furrows and the bunched skin between them
BAND_LIMIT = 0.25  # largest log-lightness step of the target's band (clips glasses rims)
GAIN_LIMIT = 0.5  # largest log-lightness change of the bands, and of a thin core's lift
THIN_LINE = 0.12  # log-lightness contrast of thin lines in the target that are not skin
LOG_OFFSET = 3.0  # added to the lightness (0..100) before its log: noise in the dark stays small
SOURCE_THIN_LINE = 0.25  # the same in the warped source: its hair strands, not its creases
# A thin line of the source counts as a strand (left alone) where its colour is off the
# skin's: Lab chroma this far from the skin's median; a deep crease is skin, only darker
# (the shouting photo's folds: median 10, strands 25).
OFF_SKIN_CHROMA = (15.0, 25.0)
# How far past a broad region's outline (eye distances) its fading creases are still
# lifted wholly: about 1.5 times `line_weight_map`'s softening (0.08), so a fold that
# runs along the outline goes whole. The shouting photo's nasolabial fold starts right
# beside the nose wing, where the cheeks' outline runs; its whole-band share was
# 0.4-0.7 there, which left a thin dark curve from the nose wing down.
FOLD_REACH = 0.12
# A crease's sharp core, finer than the bands see, is lifted where the band lifts the
# crease by CORE_LIFT or more (less: that share of it), up to CORE_WIDTH of the crop wide.
CORE_LIFT = 0.08
CORE_WIDTH = 1 / 64
# `wrinkles`: the least length of a counted crease (of the crop), and its directions
# (degrees from the level, the image's y down): across the face, not down it.
WRINKLE_LENGTH = 1 / 20
WRINKLE_ANGLES = (-45.0, -22.5, 0.0, 22.5, 45.0)
# ... measured on the face resized to this many pixels whatever the crop: at a 96 px work
# crop (a small target face) every face's nose read as deep as the grimace's at 128 (Paul
# Rudd's 0.036-0.045), the measure's kernels being whole pixels.
WRINKLE_SIZE = 128
# `wrinkled_shares`: the bridge's cue of `faint_glasses_evidence` (its row of strongest
# vertical gradient over the median row, ramped 2.0..3.5) over which a face counts as
# wearing glasses: the glasses photo's crop 0.69 (ratio 3.04), every other photo source
# of the pairs and the grimace 0 (ratios 1.35-1.75); from 0.4 (ratio 2.6) the lift is off.
GLASSES_BRIDGE = (0.0, 0.4)
# ... and the mean of `glasses_frames`' lines over the lenses' zones off the nose's region:
# the glasses photo's 0.066; lines painted across a swapped smooth nose 0.049 (a bridge
# cue of 1.0: `test_a_face_lined_all_over_keeps_its_nose_lines`). A weak cue alone (Biden,
# no glasses: 0.071, his bridge's 0); it only keeps painted bunny lines from a bridge.
GLASSES_RIMS = (0.05, 0.06)
LINE_LENGTH = 1 / 48  # half the least length of a forehead's furrow (`_lift_lines`)
# ... along these slopes (a furrow bends down toward the temples; level alone left the
# shouting photo's outer furrows on d10's forehead).
LINE_SLOPES = (-0.3, 0.0, 0.3)
# Just above the brows the forehead's weight softens off (its polygon starts above them),
# and there the source's lit brow ridge and the fold above it stayed: faint short lines
# above d10's brows once the compositor had carried them. Where the forehead is evened, so
# is the skin above the brows, up to BROW_MARGIN eye distances above their hulls; not the
# source's brows themselves, as they lie (bushier than the target's hull: the shouting
# photo's rose above d10's): pixels joined to a hull that are BROW_DARK or more below the
# skin's broad lightness (log lightness; a brow 0.3 and more, the photo's furrows 0.03-0.08).
BROW_MARGIN = 0.3
BROW_DARK = 0.12
# Per uint8 luma (YCrCb's Y): the log lightness of `_log_lightness`, worked out as the
# per-pixel float32 arithmetic did it (the same values: checked for all 256 levels at every
# offset of NumPy's vector loops). Looked up, a half-size crop's took a quarter of the time
# of converting, scaling and taking the log of each pixel (0.13 against 0.52 ms); not in
# `_lifted_luma`, whose luma is a channel's strided view (0.35 against 0.24 ms there).
_LOG_LIGHTNESS = np.log(np.arange(256, dtype=np.float32) * (100.0 / 255.0) + LOG_OFFSET)


def target_expression_lines(face: np.ndarray, target: np.ndarray,
                            face_landmarks: np.ndarray, weights: LineWeights,
                            in_frame: np.ndarray | None = None) -> np.ndarray:
    """`follow_target_lines` for a face whose target has `face_landmarks` (478, 2+) in the
    crop's pixels and `region_weights` `weights`; the lines are found at half size (the
    band is several pixels wide) and applied at full size. `in_frame` (S, S) bool: the
    target's pixels inside the frame (None: all); the bands are measured on those alone,
    not on the black fill beyond an edge that cuts the face. `weights.lift` must already be
    gated by the source faces' wrinkles, read on their own crops (`SourceWrinkles`, or
    `gated_lift` of `wrinkled_shares`); read on the swapped face, the glasses photo's rims
    took the gate (BENCHMARKS.md, forty-fourth round)."""
    size = face.shape[0]
    work = max(64, size // 2)
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2] * (work / size)
    broad = {region.name for region in LINE_REGIONS if region.broad}
    maps = RegionMaps(points, work)  # each region drawn once for all the maps below

    def weight_map(region_weights: dict[str, float], broadly: bool, grow: float = 0.0
                   ) -> np.ndarray:
        return maps({name: weight for name, weight in region_weights.items()
                     if (name in broad) == broadly}, grow)

    # The broad regions take the target's whole band where the source's expression is
    # stronger, and its darker whole band where the target's is (an open mouth's shading).
    fade, shading = weight_map(weights.fade, False), weight_map(weights.fade, True)
    # Where a region's whole crease band goes (`LineRegion.evened`): its lit ridges too.
    evened = {region.name for region in LINE_REGIONS if region.evened}
    evened_weights = {name: weight for name, weight in weights.fade.items() if name in evened}
    even = maps(evened_weights)
    # Where only a region's lit ridges come down with its creases (`LineRegion.ridged_by`).
    ridges = maps(weights.ridges)
    # Around them, where the whole band's share softens off, the source's darker creases
    # are lifted for the rest (only lifted, and only to the target's: the nose wing's own
    # groove stays as deep as the target's is).
    if (shading > 1e-3).any():
        fade = np.maximum(fade, weight_map(weights.fade, True, FOLD_REACH) - shading)
    deepen, shadow = weight_map(weights.deepen, False), weight_map(weights.deepen, True)
    # The furrows lifted unless the target frowns (or sneers): on the nose (and a snarl's
    # folds) only where the source is wrinkled across it, not every face's own nose
    # (`SourceWrinkles`, gated by the caller).
    lift = maps(weights.lift)
    if not (_largest(fade, deepen, shading, shadow, lift) > 1e-3).any():
        return face
    skin = skin_mask(points, work)
    margin = brows = None
    if (even > 1e-3).any():
        margin, brows = brow_margin(points, work)
        margin *= max(evened_weights.values())
    if in_frame is not None and not in_frame.all():  # work pixels wholly inside it
        inside = cv2.resize(in_frame.astype(np.float32), (work, work),
                            interpolation=cv2.INTER_AREA) > 0.999
        skin *= inside
        if margin is not None:
            margin *= inside
    ridges *= skin  # not the eyes' lit whites beside the eye corners' region
    return follow_target_lines(face, target, fade, skin, deepen, shading, shadow, lift, even,
                               margin, brows, ridges)


def gated_lift(lift: dict[str, float], shares: Mapping[str, float]) -> dict[str, float]:
    """`lift` with each `LineRegion.only_wrinkled` region's weight times its share in
    `shares` (`wrinkled_shares`)."""
    weighed = dict(lift)
    for region in LINE_REGIONS:
        if region.only_wrinkled and region.name in weighed:
            weighed[region.name] *= shares.get(region.name, 0.0)
    return weighed


def wrinkled_shares(face: np.ndarray, face_landmarks: np.ndarray) -> dict[str, float]:
    """Per `LineRegion.only_wrinkled` region, in [0, 1], how clearly `face` (S, S, 3) uint8
    RGB with `face_landmarks` (478, 2+) in its pixels is wrinkled across there, in itself
    (`wrinkles`, ramped by WRINKLED) and beyond its own texture elsewhere (the mean of
    `wrinkles` over WRINKLE_REFERENCE, ramped by WRINKLED_BEYOND), the lesser; measured at
    WRINKLE_SIZE. The engine reads it on each source face's own crop, once
    (`SourceWrinkles`): on the swapped face the glasses photo's rims, bridge and the target
    pixels kept around them read as a wrinkled nose (1.0: its glasses half erased), on its
    own crop 0."""
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2] * (WRINKLE_SIZE / face.shape[0])
    maps = RegionMaps(points, WRINKLE_SIZE)
    skin = skin_mask(points, WRINKLE_SIZE)
    lines = crease_lines(_log_lightness(_resized(face, WRINKLE_SIZE)))
    elsewhere = float(np.mean([wrinkles(lines, maps.region(region) * skin)
                               for region in WRINKLE_REFERENCE]))
    # Glasses over the nose: their bridge and inner rims read as its creases (the glasses
    # photo's own crop: 0.0212, beyond the rest of its face 0.0030, the least of
    # WRINKLED_BEYOND), so the lift is off as far as a bridge line joins two lens rims:
    # the bridge's cue of `faint_glasses_evidence` (its other cues held open) ramped by
    # GLASSES_BRIDGE, the lesser with the rims' (`glasses_frames`' lines over the lenses'
    # zones, ramped by GLASSES_RIMS). Lines painted across a nose (bunny lines) make a
    # bridge of their own, but no rims.
    glasses = _ramp(faint_glasses_evidence(face, face_landmarks, 1.0, 1.0), GLASSES_BRIDGE)
    if glasses > 0.0:
        frames = glasses_frames(face, face_landmarks, bridge=False)[0]
        lenses = lens_zones(np.asarray(face_landmarks)[:, :2], face.shape[0], outer=True) > 0
        # ... off the gated regions themselves, where the creases it weighs lie.
        drawn = RegionMaps(np.asarray(face_landmarks, dtype=np.float64)[:, :2], face.shape[0])
        for region in LINE_REGIONS:
            if region.only_wrinkled:
                lenses &= drawn.region(region) == 0.0
        glasses = min(glasses, _ramp(float(frames[lenses].mean()), GLASSES_RIMS))
    shares = {}
    for region in LINE_REGIONS:
        if not region.only_wrinkled:
            continue
        measured = (region if not region.wrinkled_where else
                    replace(region, name=f"{region.name} (measured)",
                            polygons=region.wrinkled_where))
        found = wrinkles(lines, maps.region(measured) * skin)
        shares[region.name] = min(_ramp(found, WRINKLED),
                                  _ramp(found - elsewhere, WRINKLED_BEYOND)) * (1.0 - glasses)
    return shares


class SourceWrinkles:
    """`wrinkled_shares` of each source face, read on its own crop once for the engine's
    life (it depends on the source face alone: measured on every swapped face every frame it
    took 1.3 ms a face), and blended by the frame's choice of faces."""

    def __init__(self, crop_and_landmarks: Callable[[int], tuple[np.ndarray, np.ndarray]]
                 ) -> None:
        self._crop_and_landmarks = crop_and_landmarks
        self._shares: dict[int, dict[str, float]] = {}

    def __call__(self, blend: Mapping[int, float], weights: LineWeights) -> LineWeights:
        """`weights` with its lift gated (`gated_lift`) by the `blend` (source index: weight)
        of its faces' shares, a weighted mean (the blend's weights may sum to less than 1
        where `eased_nearest` dropped a fading face); not read where no `only_wrinkled`
        region is lifted."""
        if not any(region.only_wrinkled and weights.lift.get(region.name, 0.0) > 0.0
                   for region in LINE_REGIONS):
            return weights
        for index in blend:
            if index not in self._shares:
                self._shares[index] = wrinkled_shares(*self._crop_and_landmarks(index))
        names = {name for index in blend for name in self._shares[index]}
        total = sum(blend.values()) or 1.0
        return replace(weights, lift=gated_lift(
            weights.lift, {name: sum(weight * self._shares[index][name]
                                     for index, weight in blend.items()) / total
                           for name in names}))


def _ramp(value: float, bounds: tuple[float, float]) -> float:
    """0 up to bounds[0], 1 from bounds[1], linear between."""
    low, high = bounds
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def crease_lines(log_lightness: np.ndarray) -> np.ndarray:
    """(W, W) float32: a face's log lightness (W, W) as creased across it: each pixel's
    depth below the skin either side of it across a line up to CREASE_WIDTH of the crop
    wide (a grey closing's black-hat, on the fine blur), as deep along a run of
    WRINKLE_LENGTH in one of the WRINKLE_ANGLES: lines, not a nose's pores and moles
    (Rowan Atkinson's), and lines across the face, as a sneer's and a frown's bunch the
    nose, not the edges of its sides that run down it."""
    size = log_lightness.shape[0]
    fine = _fine_blur(log_lightness)
    radius = max(1, round(CREASE_WIDTH * size / 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    depth = cv2.morphologyEx(fine, cv2.MORPH_CLOSE, kernel) - fine
    runs = _wrinkle_runs(max(2, round(WRINKLE_LENGTH * size / 2)))
    lines: np.ndarray = np.maximum.reduce(
        [cv2.morphologyEx(depth, cv2.MORPH_OPEN, run) for run in runs])
    return lines


def wrinkles(lines: np.ndarray, where: np.ndarray) -> float:
    """How wrinkled across a face is over `where` (W, W, in 0..1; its pixels over one half
    count): the mean of its `crease_lines` (W, W) there (see WRINKLED for what faces
    read). 0.0 where `where` covers nothing."""
    wanted = where > 0.5
    if not wanted.any():
        return 0.0
    return float(lines[wanted].mean())


@functools.cache
def _wrinkle_runs(reach: int) -> tuple[np.ndarray, ...]:
    """`wrinkles`' structuring elements: one-pixel lines `reach` either side of the middle
    at each of WRINKLE_ANGLES (made once per reach, read only)."""
    runs = []
    steps = np.arange(-reach, reach + 1)
    for angle in np.deg2rad(WRINKLE_ANGLES):
        run = np.zeros((2 * reach + 1,) * 2, dtype=np.uint8)
        run[np.round(steps * np.sin(angle)).astype(int) + reach,
            np.round(steps * np.cos(angle)).astype(int) + reach] = 1
        run.flags.writeable = False
        runs.append(run)
    return tuple(runs)


def brow_margin(face_landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(size, size) float32 each: the skin above the brows (their hulls drawn upward
    BROW_MARGIN eye distances, a tenth of one inside the face oval, softened, not on the
    hulls); and the brows' hulls (in {0, 1})."""
    regions = mesh_regions()
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    hulls = np.zeros((size, size), dtype=np.uint8)
    for brow in (regions.left_eyebrow, regions.right_eyebrow):
        cv2.fillConvexPoly(hulls, cv2.convexHull(np.round(points[brow]).astype(np.int32)), 255)
    unit = eye_distance(points)
    rise, inset = max(2, round(BROW_MARGIN * unit)), max(1, round(0.1 * unit))
    sigma = max(1.0, 0.04 * unit)
    margin = np.zeros((size, size), dtype=np.float32)
    # Worked out on the box the margin and its blur reach (twice the kernel's radius past
    # the hulls and the rise: the same values as on the whole crop, a fraction the work).
    rows, columns = np.flatnonzero(hulls.any(axis=1)), np.flatnonzero(hulls.any(axis=0))
    if rows.size == 0:
        return margin, hulls.astype(np.float32)
    pad = 2 * (int(4 * sigma) + 2)
    box = (slice(max(0, rows[0] - rise - pad), min(size, rows[-1] + 1 + pad)),
           slice(max(0, columns[0] - pad), min(size, columns[-1] + 1 + pad)))
    # Drawn upward only (the kernel's anchor on its top row): not onto the eyelids.
    above = cv2.dilate(hulls[box], np.ones((rise + 1, 1), dtype=np.uint8), anchor=(0, 0))
    # Off the oval's edge: the band there is measured against the skin on one side only,
    # and an evened strip along it showed as a lit stripe by a temple.
    oval = np.zeros_like(hulls)
    cv2.fillPoly(oval, [np.round(points[regions.face_oval]).astype(np.int32)], 255)
    inner = cv2.erode(oval[box],
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
    off_hulls = hulls[box] == 0
    drawn = ((above > 0) & (inner > 0) & off_hulls).astype(np.float32)
    margin[box] = cv2.GaussianBlur(drawn, (0, 0), sigma) * off_hulls
    return margin, hulls.astype(np.float32) / 255.0


def skin_mask(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 in {0, 1}: the face oval less the eyes, brows and lips (grown a
    little), where the broad lightness the band is measured against is taken."""
    regions = mesh_regions()
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    skin = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(skin, [np.round(points[regions.face_oval]).astype(np.int32)], 255)
    features = np.zeros_like(skin)
    for loop in (regions.left_eye, regions.right_eye, regions.left_eyebrow,
                 regions.right_eyebrow, regions.lips_outer):
        cv2.fillPoly(features, [np.round(points[loop]).astype(np.int32)], 255)
    grow = max(1, round(0.02 * size))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    # Grown on the features' box and `grow` past it (OpenCV's dilation reads no further;
    # beyond it nothing is grown): the whole crop's pixels, a part of the work.
    box = grown_bounds(features > 0, grow)
    if box is not None:
        skin[box][cv2.dilate(features[box], kernel) > 0] = 0
    return skin.astype(np.float32) / 255.0


def follow_target_lines(face: np.ndarray, target: np.ndarray, fade: np.ndarray,
                        skin: np.ndarray | None = None, deepen: np.ndarray | None = None,
                        shading: np.ndarray | None = None, shadow: np.ndarray | None = None,
                        lift: np.ndarray | None = None, even: np.ndarray | None = None,
                        margin: np.ndarray | None = None, brows: np.ndarray | None = None,
                        ridges: np.ndarray | None = None) -> np.ndarray:
    """The face with its crease band (S / 32) moved toward the target's: lifted where it
    is darker than the target's as far as `fade` says, darkened where the target's is
    darker as far as `deepen` says; and its whole expression band (S / 8, creases and
    broad shading) replaced by the target's as far as `shading` says, darkened to it as
    far as `shadow` says; and as far as `lift` says its furrows (S / 16) lifted to the
    target's band; and as far as `even` says its crease band both lifted and brought
    down to its broad lightness (or the target's lit band), its long thin furrows lifted
    at full size as far as they are deeper than the target's there (None: nowhere); and
    so as far as `margin` says above the brows' hulls `brows` (see `brow_margin`), off
    the face's own brows there (`_own_brows`); and as far as `ridges` says its crease
    band's lit ridges alone brought down as `even` brings them (None: nowhere).

    `face`, `target` (S, S, 3) uint8 RGB; the weights (W, W) with W <= S:
    the change is worked out at W and applied at S; `skin` (W, W) the face's skin (see `skin_mask`),
    or None for the whole crop. Only lightness changes (YCrCb's Y, multiplied), so
    the face keeps its own colour and a lifted crease does not turn orange. Thin foreign
    lines are left alone: in the target any (glasses rims, hair), in the face those whose
    colour is off the skin's (hair strands; not its creases). Returns uint8 RGB.
    """
    deepen = np.zeros_like(fade) if deepen is None else deepen
    shading = np.zeros_like(fade) if shading is None else shading
    shadow = np.zeros_like(fade) if shadow is None else shadow
    lift = np.zeros_like(fade) if lift is None else lift
    even = np.zeros_like(fade) if even is None else even
    ridges = np.zeros_like(fade) if ridges is None else ridges
    anywhere = _largest(fade, deepen, shading, shadow, lift, even, ridges)
    if not (anywhere > 1e-3).any():
        return face
    size, work = face.shape[0], fade.shape[0]
    face_small = _resized(face, work)
    face_log = _log_lightness(face_small)
    target_log = _log_lightness(_resized(target, work))
    # Every band and both thin-line masks start from the same fine blur of each image, the
    # bands of one width share the skin's blur, and each image's broad lightness at a
    # width (and the target's band) is made once and read again for the ceiling below.
    face_fine, target_fine = _fine_blur(face_log), _fine_blur(target_log)
    shares: dict[float, SkinShare] = {}
    face_wide, target_wide = _Wide(face_log, skin, shares), _Wide(target_log, skin, shares)
    target_bands: dict[float, np.ndarray] = {}

    def face_band(width: float) -> np.ndarray:
        return face_fine - face_wide(width)

    def target_band(width: float) -> np.ndarray:
        if width not in target_bands:
            target_bands[width] = np.clip(target_fine - target_wide(width),
                                          -BAND_LIMIT, BAND_LIMIT)
        return target_bands[width]

    crease_band = face_band(CREASE_WIDTH)
    above_brows = own_brows = None
    if margin is not None and brows is not None and (margin > 1e-3).any():
        # Only on the hulls and above them: a brow's dark component can run on along the
        # hairline, where the source's strands are left as they were.
        own_brows = _own_brows(crease_band, brows) * ((margin > 0) | (brows > 0.5))
        above_brows = margin * (1.0 - own_brows)
        even = np.maximum(even, above_brows)
    # The face's thin dark lines off its skin's colour are its hair's: left alone, and the
    # skin beside them. Its brows are such lines too: where they are known (`own_brows`)
    # they alone are left, not the skin a few pixels above them.
    # Both thin-line masks are read only on the rows some weight reaches (elsewhere the
    # change is zero whatever they say): worked out on those rows and as far as they read.
    read = _weighted_rows(anywhere, margin)
    strands = _foreign(face_log, SOURCE_THIN_LINE, face_fine,
                       None if own_brows is None else own_brows > 0.5, read)
    if skin is not None and skin.any() and (strands * anywhere > 0.01).any():
        strands *= _off_skin(face_small, skin, read)
    creases = target_band(CREASE_WIDTH) - crease_band
    widths = [CREASE_WIDTH]
    change = np.maximum(fade, even) * np.maximum(creases, 0.0)
    darker = deepen * np.minimum(creases, 0.0)
    ridged = np.maximum(even, ridges)
    if (ridged > 1e-3).any():
        # The source's lit ridges between its furrows come down to its broad lightness,
        # or to the target's own lit band: not into the target's darker lines, which are
        # `deepen`'s to take (an older target's lines at rest onto a smooth source are
        # not the expression).
        lit = np.maximum(target_band(CREASE_WIDTH), 0.0) - crease_band
        darker = np.minimum(darker, ridged * np.minimum(lit, 0.0))
    change += darker
    # How far each pixel lies on a source crease being lifted (its band darker than the
    # target's, in a region whose lines fade): there its sharp core goes too (`_lift_cores`).
    on_crease = _largest(fade, shading, even) * np.maximum(creases, 0.0)
    if (np.maximum(shading, shadow) > 1e-3).any():
        whole = target_band(1 / 8) - face_band(1 / 8)
        widths.append(1 / 8)
        change += shading * whole + shadow * np.minimum(whole, 0.0)
    if (lift > 1e-3).any():
        # Only the face's own furrows, no deeper than they are (a target's light skin next
        # to its hair lifted the source's plain skin into a patch), and on the skin: the
        # brows' inner heads are dark too, and lifting them cost the source its identity.
        # A furrow's depth is below the band's zero or below the skin beside it, whichever
        # is more (`_furrow_closing`): a frown's furrows flank a lit ridge, which lifts the
        # band's broad level, so below zero they were a pixel's width and 0.02 deep where
        # the skin beside them stood 0.09-0.13 higher (the shouting photo onto d10). Only
        # lifted: the lit ridge between them is left as it is (brought down ungated, any lit
        # strip came down, the nose root's highlight 4-6 levels darker on Biden, Rowan
        # Atkinson and the shouting photo; gated to lie between two long furrows, it moved
        # nothing on those real faces, the shouting photo's included).
        widths.append(FURROW_WIDTH)
        furrow_band = face_band(FURROW_WIDTH)  # read twice: made once (the same values)
        furrows = np.maximum(-np.minimum(furrow_band, 0.0),
                             _furrow_closing(face_fine, lift != 0.0))
        lighter = target_band(FURROW_WIDTH) - furrow_band
        on_skin = 1.0 if skin is None else cv2.GaussianBlur(skin, (0, 0), 0.01 * work)
        furrow_lift = lift * on_skin * np.clip(lighter, 0.0, furrows)
        change += furrow_lift
        on_crease = np.maximum(on_crease, furrow_lift)
    # Not the target's thin lines where the forehead is evened: its lift takes nothing of
    # the target's darker band, and the grown mask of d10's brow tails had cut the lift
    # over her outer forehead, where the photo's furrows stayed.
    kept = (np.maximum(1.0 - _foreign(target_log, THIN_LINE, target_fine, rows=read), even)
            * (1.0 - strands))
    if own_brows is not None:
        kept *= 1.0 - own_brows
    change = np.clip(change * kept, -GAIN_LIMIT, GAIN_LIMIT)
    cores = np.clip(on_crease * kept / CORE_LIFT, 0.0, 1.0)
    lines: np.ndarray = even * kept
    # A lit ridge's sharp crest, finer than the band, comes down as far as the band
    # brings the ridges down (`_lower_crests`).
    crests = ridges * kept
    if skin is not None:
        # On the skin alone: the lips' dark corners are no crease (lifting them, where the
        # target's lips are kept a pixel off the target's, moved the landmarker's corners).
        cores *= skin
        lines *= skin
        crests *= skin
    if above_brows is not None:
        # The skin mask leaves the brows' grown margin out; above them the long lines are
        # lifted off the face's own brows (a fold along a brow's arch, a few pixels above it).
        lines = np.maximum(lines, above_brows * kept)
    # The band is measured on log(Y% + LOG_OFFSET), so that is what the change adds to.
    ycc = cv2.cvtColor(face, cv2.COLOR_RGB2YCrCb)
    # Only inside the box where anything changes (the regions' weights reach a part of the
    # crop): outside it a zero change gives every Y back as it was (all 256 levels
    # checked), so working there cost about an eighth of this function for nothing (3 of
    # 26 ms on the README pair, BENCHMARKS).
    radius = _core_radius(size)
    reach = max(2 * radius + 1, _line_reach(size))  # how far past the change it reads
    rows = _upsized_rows(size, work, reach, change, cores, lines, crests)
    if rows is None:
        return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    # The lightest the face may become: its broad lightness plus the target's band, at
    # each width used (on the band's rows alone: per pixel, the same values).
    band = slice(rows[0], rows[1])
    ceiling = _largest(*(target_band(width)[band] + face_log[band]
                         - (face_log[band] - face_wide(width)[band]) for width in widths))
    change, cores, lines, crests, ceiling = (
        _upsized(image, size, rows) for image
        in (change[band], cores[band], lines[band], crests[band], ceiling))
    in_band = _changed_box(change, _largest(cores, lines, crests), reach)
    if in_band is not None:
        band_rows = range(change.shape[0])[in_band[0]]
        box = (slice(rows[2] + band_rows.start, rows[2] + band_rows.stop), in_band[1])
        luma = ycc[box][..., 0]  # a view: written in place
        luma[...] = _lifted_luma(luma, change[in_band], cores[in_band], ceiling[in_band],
                                 target[box], radius, lines[in_band], crests[in_band])
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _upsized_rows(size: int, work: int, margin: int, *weights: np.ndarray
                  ) -> tuple[int, int, int] | None:
    """The rows of the (W, W) `weights` (W = `work`) worth scaling up to (S, S) (S =
    `size`): (first, past the last, the first's row at S) of a band of whole rows that,
    scaled up alone, gives the whole crop's values on every row where a weight is not
    zero at S, and `margin` rows more either side (`_changed_box` reads no further); None
    where every weight is zero. At S = 2 W a band's rows map to the same places and
    weights as the crop's (cv2's INTER_LINEAR: row y reads rows y / 2 - 0.25 either
    side, its row arithmetic as wide as the crop's), and only its first and last rows
    scaled up differ (clamped at the band's edge): about half of the crop's rows scaled up,
    as much of the work, the same values. Other sizes: all rows."""
    nonzero = np.flatnonzero(np.logical_or.reduce([weight != 0.0 for weight in weights]
                                                  ).any(axis=1))
    if nonzero.size == 0:
        return None
    if size != 2 * work:
        return 0, work, 0
    # Rows at S where a weight is not zero: 2 first - 1 to 2 last + 2; the margin beyond
    # them, and a row more either side for the clamped edge of the band.
    first = max(0, int(nonzero[0]) - margin // 2 - 3)
    last = min(work, int(nonzero[-1]) + margin // 2 + 4)
    return first, last, 2 * first


def _upsized(part: np.ndarray, size: int, rows: tuple[int, int, int]) -> np.ndarray:
    """A band of whole rows (`_upsized_rows`' `rows`) of a (W, W) float32 image scaled up
    to S columns (S = `size`): (H, S), its first row the crop's `rows[2]`."""
    work = part.shape[1]
    if work == size:
        return part
    height = size if rows[1] - rows[0] == work else 2 * (rows[1] - rows[0])
    if not part.any():  # no lines to lift or cores on most frames: nothing to scale up
        return np.zeros((height, size), dtype=part.dtype)
    return cv2.resize(part, (size, height), interpolation=cv2.INTER_LINEAR)


def _own_brows(band: np.ndarray, hulls: np.ndarray) -> np.ndarray:
    """(W, W) float32 in [0, 1]: the face's own brows, from its crease `band` (W, W): its
    pixels BROW_DARK below the broad lightness that are joined to the brows' `hulls` (W, W),
    or lie on them; grown a pixel and softened."""
    dark = ((band < -BROW_DARK) | (hulls > 0.5)).astype(np.uint8)
    count, labels = cv2.connectedComponents(dark)
    joined = np.zeros(count, dtype=np.uint8)  # per component: 1 where it meets a hull
    joined[labels[hulls > 0.5]] = 1
    joined[0] = 0
    brows = joined[labels]
    grown = cv2.dilate(brows, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return np.maximum(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 1.0), brows)


def _furrow_closing(log_lightness: np.ndarray, wanted: np.ndarray | None = None
                    ) -> np.ndarray:
    """(W, W) float32: how far each pixel of a finely blurred log lightness lies below
    the skin either side of it (a grey closing's black-hat), across a line up to
    FURROW_WIDTH of the crop wide: a frown's furrows. `wanted` (W, W) bool: the pixels
    that are read (None: all); the others are not meant to be (0 off the box). The
    closing is worked out on the box it reads around those pixels (twice the kernel's
    radius past them; its max and min are exact, and its border adds nothing): the same
    values on them, at a fraction of the work (`lift` reaches between the brows alone)."""
    radius = max(1, round(FURROW_WIDTH * log_lightness.shape[0] / 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    if wanted is None:
        part: tuple[slice, slice] = (slice(None), slice(None))
    else:
        rows, columns = np.flatnonzero(wanted.any(axis=1)), np.flatnonzero(wanted.any(axis=0))
        if rows.size == 0:
            return np.zeros_like(log_lightness)
        reach, (height, width) = 2 * radius, log_lightness.shape
        part = (slice(max(0, rows[0] - reach), min(height, rows[-1] + reach + 1)),
                slice(max(0, columns[0] - reach), min(width, columns[-1] + reach + 1)))
    closing = np.zeros_like(log_lightness)
    image = log_lightness[part]
    closing[part] = cv2.morphologyEx(image, cv2.MORPH_CLOSE, kernel) - image
    return closing


def _changed_box(change: np.ndarray, cores: np.ndarray, margin: int
                 ) -> tuple[slice, slice] | None:
    """The rows and columns where `change` or `cores` (S, S) is not zero, `margin` pixels
    wider on every side (within the crop); None where nothing changes."""
    changed = (change != 0.0) | (cores != 0.0)
    rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if rows.size == 0:
        return None
    size = change.shape[0]
    return (slice(max(0, rows[0] - margin), min(size, rows[-1] + margin + 1)),
            slice(max(0, columns[0] - margin), min(change.shape[1], columns[-1] + margin + 1)))


def _lifted_luma(y: np.ndarray, change: np.ndarray, cores: np.ndarray, ceiling: np.ndarray,
                 target: np.ndarray, radius: int, lines: np.ndarray | None = None,
                 crests: np.ndarray | None = None) -> np.ndarray:
    """uint8 Y (YCrCb's) of a part of the face with the log-lightness `change` applied,
    lifts limited by `ceiling` and the thin cores lifted (`_lift_cores`, `radius`), all
    arrays of that part; `target` the target crop's same part."""
    luma = y.astype(np.float32) * (100.0 / 255.0) + LOG_OFFSET
    # A lift goes no further than a pixel lies below that ceiling, at full size: the fine
    # blur (and the scaling up) spread a thin fold's darkness onto the plain skin beside
    # it, and lifting that lit a stripe either side (+10 levels beside a fold 2 px wide,
    # +40 beside a very dark one), up to which `_lift_cores` then filled the core.
    log_luma = np.log(luma)
    room = np.maximum(ceiling - log_luma, 0.0)
    change = np.where(change > 0.0, np.minimum(change, room), change)
    # A core's lift comes on top (the shouting photo's fold core needs more than
    # GAIN_LIMIT in all: limited to it, the thin curve from the nose wing stayed); it
    # fills the core no higher than the lifted skin around it.
    change += _lift_cores(log_luma + change, target, cores, radius)
    if lines is not None:
        change += _lift_lines(log_luma + change, target, lines)
    if crests is not None:
        change -= _lower_crests(log_luma + change, target, crests, radius)
    lifted = (luma * np.exp(change) - LOG_OFFSET) * (255.0 / 100.0)
    return np.clip(lifted + 0.5, 0, 255).astype(np.uint8)


def _core_radius(size: int) -> int:
    """The radius of `_lift_cores`' closing in an (S, S) crop: half of CORE_WIDTH."""
    return max(1, round(CORE_WIDTH * size / 2))


def _lift_cores(face_log: np.ndarray, target: np.ndarray, cores: np.ndarray, radius: int
                ) -> np.ndarray:
    """(H, W) float32: the log-lightness lift of the thin dark cores (narrower than
    CORE_WIDTH, `radius` from `_core_radius`) of `face_log` (H, W) where `cores` (H, W)
    says a crease is lifted, as far as they are darker than the target's (an (H, W, 3)
    uint8 RGB crop) there. The bands start above FINE_SIGMA at half size, so a fold one or
    two pixels wide kept half its depth as a thin dark line (the shouting photo's fold from
    the nose wing down)."""
    return _thin_excess(face_log, target, cores, radius, dark=True)


def _lower_crests(face_log: np.ndarray, target: np.ndarray, crests: np.ndarray, radius: int
                  ) -> np.ndarray:
    """(H, W) float32: how far the thin lit crests (narrower than CORE_WIDTH) of `face_log`
    (H, W) come down where `crests` (H, W) says, as far as they stand above the target's
    (an (H, W, 3) uint8 RGB crop) there: `_lift_cores` the other way up. The band starts
    above FINE_SIGMA at half size, so the lit skin between a broad smile's crow's feet,
    a pixel or two wide, kept half its height brought down by the band alone."""
    return _thin_excess(face_log, target, crests, radius, dark=False)


def _thin_excess(face_log: np.ndarray, target: np.ndarray, where: np.ndarray, radius: int,
                 dark: bool) -> np.ndarray:
    """(H, W) float32: `where` (H, W) times how far the thin features of `face_log` (H, W)
    narrower than 2 * `radius` + 1 (dark cores: a grey closing's black-hat; else lit
    crests: an opening's white-hat) exceed the target's (an (H, W, 3) uint8 RGB crop),
    up to GAIN_LIMIT. A part of the crop gives the whole's values wherever it reaches
    2 * `radius` past `where` (the closing or opening reads that far)."""
    excess = np.zeros_like(face_log)
    rows = np.flatnonzero((where > 1e-3).any(axis=1))
    if rows.size == 0:
        return excess
    size = face_log.shape[0]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    top, bottom = max(0, rows[0] - radius), min(size, rows[-1] + radius + 1)

    def thin(image: np.ndarray) -> np.ndarray:
        if dark:
            return cv2.morphologyEx(image, cv2.MORPH_CLOSE, kernel) - image
        return image - cv2.morphologyEx(image, cv2.MORPH_OPEN, kernel)

    own = thin(face_log[top:bottom])
    targets = thin(_log_lightness(target[top:bottom]))
    excess[top:bottom] = where[top:bottom] * np.clip(own - targets, 0.0, GAIN_LIMIT)
    return excess


def _line_reach(size: int) -> int:
    """How far `_lift_lines` reads across (its lines' least length) in an (S, S) crop."""
    return max(2, round(LINE_LENGTH * size))


def _lift_lines(face_log: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(H, W) float32: the log-lightness lift of the thin, long, level dark lines of
    `face_log` (H, W) as far as `weight` (H, W) says and as far as they are deeper than the
    target's (an (H, W, 3) uint8 RGB crop) at that place: a forehead's furrows."""
    lift = np.zeros_like(face_log)
    weighted = weight > 1e-3
    rows = np.flatnonzero(weighted.any(axis=1))
    if rows.size == 0:
        return lift
    size = face_log.shape[1]
    across, reach = max(1, round(CORE_WIDTH * size / 2)), _line_reach(size)
    top, bottom = max(0, rows[0] - across), min(face_log.shape[0], rows[-1] + across + 1)
    # The columns the weight reaches and as far as the openings read either side (twice
    # the runs' reach): the same values there as on the whole rows, at less cost.
    columns = np.flatnonzero(weighted.any(axis=0))
    left, right = max(0, columns[0] - 2 * reach), min(size, columns[-1] + 2 * reach + 1)
    part = (slice(top, bottom), slice(left, right))
    upright = np.ones((2 * across + 1, 1), dtype=np.uint8)
    runs = _runs(reach)

    def level_lines(image: np.ndarray) -> np.ndarray:
        # Below the skin above and below it (an upright closing's black-hat), and as deep
        # along a run across (an opening along a line, level or sloped as a furrow bends
        # down at the temples): a pore is no line.
        dark = cv2.morphologyEx(image, cv2.MORPH_CLOSE, upright) - image
        opened: np.ndarray = np.maximum.reduce([cv2.morphologyEx(dark, cv2.MORPH_OPEN, run)
                                                for run in runs])
        return opened

    own = level_lines(face_log[part])
    targets = level_lines(_log_lightness(target[part]))
    lift[part] = weight[part] * np.clip(own - targets, 0.0, GAIN_LIMIT)
    return lift


@functools.cache
def _runs(reach: int) -> tuple[np.ndarray, ...]:
    """`_lift_lines`' structuring elements: one-pixel lines `reach` either side of the
    middle, at the slopes of LINE_SLOPES (made once per reach, read only)."""
    runs = []
    for slope in LINE_SLOPES:
        rise = round(abs(slope) * reach)
        run = np.zeros((2 * rise + 1, 2 * reach + 1), dtype=np.uint8)
        columns = np.arange(-reach, reach + 1)
        run[np.round(slope * columns).astype(int) + rise, columns + reach] = 1
        run.flags.writeable = False
        runs.append(run)
    return tuple(runs)


def expression_band(image: np.ndarray, skin: np.ndarray | None = None, width: float = 1 / 8
                    ) -> np.ndarray:
    """(S, S) float32: the band of an (S, S, 3) uint8 RGB crop where expression lines
    live: log lightness (see `_log_lightness`) between a Gaussian of FINE_SIGMA (pixels at
    256 px) and one of S * `width`: S / 8 by default, a little wider than the compositor's
    relighting (S / 14, which carries most of the target's shading below), so a raised
    cheek's broad shading is the target's too; CREASE_WIDTH for creases alone.
    With `skin` (S, S) the broad lightness is the skin's own (normalised blur): dark hair
    or background around a face does not lift the whole face's band."""
    return _band(_log_lightness(image), skin, width)


def foreign_lines(image: np.ndarray, contrast: float = THIN_LINE) -> np.ndarray:
    """(S, S) float32 in [0, 1]: thin lines above `contrast` (log lightness) in an
    (S, S, 3) uint8 RGB crop, grown and softened: glasses rims, hair strands, the edges of
    a hand. Few wrinkles are that sharp and that dark; there the face is left as the warp
    made it, rather than show a ghost of the target's glasses or lift a strand of the
    source's hair."""
    return _foreign(_log_lightness(image), contrast)


def _log_lightness(image: np.ndarray) -> np.ndarray:
    """(S, S) float32 log of the luma (YCrCb's Y, as 0..100) plus LOG_OFFSET of a uint8
    RGB image: the lightness `follow_target_lines` changes."""
    # The Y plane taken out and looked up by OpenCV: the table's values, at half NumPy's
    # cost of indexing with the strided plane.
    luma = cv2.extractChannel(cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb), 0)
    lightness: np.ndarray = cv2.LUT(luma, _LOG_LIGHTNESS)
    return lightness


def _largest(*images: np.ndarray) -> np.ndarray:
    """`np.maximum.reduce` of same-shaped float arrays (a new array), the same values:
    pairwise into one fresh array, not through a stacked copy of them all."""
    largest = np.maximum(images[0], images[1]) if len(images) > 1 else images[0].copy()
    for image in images[2:]:
        np.maximum(largest, image, out=largest)
    return largest


def _fine_blur(log_lightness: np.ndarray) -> np.ndarray:
    """The Gaussian of FINE_SIGMA (pixels at 256 px) below which detail is left alone."""
    return cv2.GaussianBlur(log_lightness, (0, 0), FINE_SIGMA * log_lightness.shape[0] / 256.0)


def _band(log_lightness: np.ndarray, skin: np.ndarray | None = None, width: float = 1 / 8,
          fine: np.ndarray | None = None, shares: dict[float, SkinShare] | None = None
          ) -> np.ndarray:
    """`expression_band`; `fine`: `_fine_blur(log_lightness)` if already made; `shares`:
    the skin's wide blur per width (`SkinShare`), filled as they are made (one `skin`
    throughout)."""
    fine = _fine_blur(log_lightness) if fine is None else fine
    return fine - _Wide(log_lightness, skin, shares)(width)


# The skin's wide blur at one width, as `_Wide` reads it: floored at 1e-3 (the divisor)
# and where it is over 0.05 (where the normalised blur is taken).
SkinShare = tuple[np.ndarray, np.ndarray]


class _Wide:
    """The broad lightness `_band` subtracts from a log-lightness image, per width: its
    `_wide_blur`, or where the skin reaches (`skin` given) the skin's own normalised blur.
    Each width is made once, and the quarter-size copies of the image (and of it times
    the skin) are shared by all widths. `shares`: as in `_band`."""

    def __init__(self, log_lightness: np.ndarray, skin: np.ndarray | None,
                 shares: dict[float, SkinShare] | None = None) -> None:
        self.image = log_lightness
        self.skin = skin if skin is not None and skin.any() else None
        self.shares = {} if shares is None else shares
        self._reduced: dict[str, np.ndarray] = {}
        self._by_width: dict[float, np.ndarray] = {}

    def __call__(self, width: float) -> np.ndarray:
        if width in self._by_width:
            return self._by_width[width]
        sigma = self.image.shape[0] * width
        wide = _wide_blur(self.image, sigma, self._quarter("image"))
        if self.skin is not None:
            # Normalised convolution over the skin; outside it (where no weight reaches)
            # the plain blur. The skin's share (its floored divisor and where it reaches)
            # is made once per width for both images; the quotient in its fresh blur and
            # copied into the fresh plain one: np.where's values, two arrays fewer.
            share = self.shares.get(width)
            if share is None:
                blurred = _wide_blur(self.skin, sigma)
                share = self.shares[width] = (np.maximum(blurred, 1e-3), blurred > 0.05)
            on_skin = _wide_blur(self.image, sigma, self._quarter("on_skin"))
            np.divide(on_skin, share[0], out=on_skin)
            np.copyto(wide, on_skin, where=share[1])
        self._by_width[width] = wide
        return wide

    def _quarter(self, which: str) -> np.ndarray:
        if which not in self._reduced:
            image = self.image if which == "image" else self.image * self.skin
            self._reduced[which] = _reduced(image)
        return self._reduced[which]


def _foreign(log_lightness: np.ndarray, contrast: float, fine: np.ndarray | None = None,
             besides: np.ndarray | None = None, rows: tuple[int, int] | None = None
             ) -> np.ndarray:
    """`foreign_lines` of a log lightness (`fine`: its `_fine_blur` if made), not counting
    the lines on `besides` (bool, the same size) if given. `rows` (first, past the last):
    the rows that are read (None: all; the others are not meant to be, 0 off the rows it
    reads), worked out on whole rows as far past them as its blurs and growing read: the
    same values on them (a row band blurs as the whole crop does, `blur_rows`)."""
    unit = log_lightness.shape[0] / 256.0
    fine = _fine_blur(log_lightness) if fine is None else fine
    grow = max(1, round(6 * unit))
    band = slice(None)
    if rows is not None:
        reach = _blur_radius(3.0 * unit) + grow + _blur_radius(4.0 * unit)
        band = slice(max(0, rows[0] - reach), min(log_lightness.shape[0], rows[1] + reach))
    thin = fine[band] - cv2.GaussianBlur(log_lightness[band], (0, 0), 3.0 * unit)
    lines = (np.abs(thin) > contrast).astype(np.uint8) * 255
    if besides is not None:
        lines[besides[band]] = 0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    grown = cv2.dilate(lines, kernel).astype(np.float32) / 255.0
    if rows is None:
        return cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    found = np.zeros_like(log_lightness)
    found[band] = cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    return found


def _blur_radius(sigma: float) -> int:
    """How far cv2.GaussianBlur of a float32 image reads at `sigma` (its kernel's size
    from the sigma: 8 sigma + 1, odd)."""
    return (round(sigma * 8 + 1) | 1) // 2


def _weighted_rows(*weights: np.ndarray | None) -> tuple[int, int] | None:
    """(first, past the last) of the rows where any of the (W, W) `weights` given is not
    zero; None where none is."""
    given = [weight != 0.0 for weight in weights if weight is not None]
    nonzero = np.flatnonzero(np.logical_or.reduce(given).any(axis=1))
    return None if nonzero.size == 0 else (int(nonzero[0]), int(nonzero[-1]) + 1)


def _off_skin(image: np.ndarray, skin: np.ndarray, rows: tuple[int, int] | None = None
              ) -> np.ndarray:
    """(S, S) float32 in [0, 1]: how far each pixel's colour is off the skin's (its Lab
    chroma from the median over `skin`), grown and softened like `_foreign`; outside the
    skin mask, 1. `rows`: as `_foreign`'s (the median is the whole skin's all the same)."""
    # The chroma alone (its L unused), cast to float32 where it is read, and the median
    # each channel's over the same skin pixels, picked by index (the boolean pick of all
    # three channels of every skin pixel before the fifth was taken, and the median of its
    # strided columns, were a third of this function; twenty-second round).
    on_skin = skin > 0.5
    picked = np.flatnonzero(on_skin)[::5]  # every fifth skin pixel: enough
    # Only the picked pixels and the band's rows converted (OpenCV's 8-bit Lab is a
    # pixel's own, the same bytes as the whole crop's conversion there): the whole crop's
    # was a fifth of this function, and the band is often a part of its rows.
    # (np.take along the pixels: a third of indexing's time for 3-byte pixels)
    pixels = cv2.cvtColor(np.take(image.reshape(-1, 3), picked, axis=0)[None], cv2.COLOR_RGB2LAB)[0]
    median = [_median_of_bytes(pixels[:, channel]) for channel in (1, 2)]
    unit = image.shape[0] / 256.0
    grow = max(1, round(6 * unit))
    band = slice(None)
    if rows is not None:
        reach = grow + _blur_radius(4.0 * unit)
        band = slice(max(0, rows[0] - reach), min(image.shape[0], rows[1] + reach))
    lab = cv2.cvtColor(image[band], cv2.COLOR_RGB2LAB)
    chroma = [lab[..., channel].astype(np.float32) for channel in (1, 2)]
    distance = np.hypot(chroma[0] - median[0], chroma[1] - median[1])
    low, high = OFF_SKIN_CHROMA
    off = np.where(on_skin[band], np.clip((distance - low) / (high - low), 0.0, 1.0), 1.0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    grown = cv2.dilate(off.astype(np.float32), kernel)
    if rows is None:
        return cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    found = np.zeros(skin.shape, dtype=np.float32)
    found[band] = cv2.GaussianBlur(grown, (0, 0), 4.0 * unit)
    return found


def _median_of_bytes(values: np.ndarray) -> np.float32:
    """`np.median(values.astype(np.float32))` of uint8 `values` (1-D, not empty), the same
    float32: the middle value (or the mean of the middle two, exact in float32) read off
    their counts instead of a partition of their float copy."""
    order = np.cumsum(np.bincount(values, minlength=256))
    middle = values.size // 2
    high = int(np.searchsorted(order, middle, side="right"))
    if values.size % 2:
        return np.float32(high)
    low = int(np.searchsorted(order, middle - 1, side="right"))
    return np.float32((low + high) / 2)


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size:
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def _wide_blur(image: np.ndarray, sigma: float, reduced: np.ndarray | None = None
               ) -> np.ndarray:
    """A Gaussian blur this wide, computed at a quarter of the size (nothing fine is left
    to lose, and it costs a sixteenth). `reduced`: `_reduced(image)` if already made."""
    size = image.shape[0]
    reduced = _reduced(image) if reduced is None else reduced
    blurred = cv2.GaussianBlur(reduced, (0, 0), sigma * reduced.shape[0] / size)
    return cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)


def _reduced(image: np.ndarray) -> np.ndarray:
    """`image` at the quarter size `_wide_blur` works at."""
    small = max(8, image.shape[0] // 4)
    return cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
