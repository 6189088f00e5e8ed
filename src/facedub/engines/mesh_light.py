"""The source's light taken off its skin, before its texture is warped onto a target.

`composite.tone.carry_detail` keeps the source's detail finer than the crop / 16 and
takes everything coarser from the target. A source photo's *hard* light has sharp edges,
so it passes as detail: the shouting photo's half-face shadow (a sharp edge down the
nose, the cheek beyond it dark), a side-lit nose's dark flank, a webcam's one-sided
under-eye and cheek shading. On the target it reads as a mask, and the landmarker reads
the jaw from it.

Skin is nearly symmetric in albedo; light is not. So each source crop is compared with
its own mirror image, warped over the landmark mesh (each triangle from its mirror
triangle), in log linear luminance: where one side is broadly darker than the same place
on the other side, both sides go half way toward each other in linear light: each
becomes about the mean of the two (with the light from one side, a point's and its
mirror point's shading sum to about twice the frontal light's). Half way in log luminance
(their geometric mean, what this did before the fourteenth round) is far darker than
that where one side is in deep shadow: the shouting photo's nose flanks (35 and 74 L)
both came out about 8 L darker than the cheeks beside them, a dark band down the side of
the nose and over the eye socket on the swapped face. Each pixel is scaled, so the
changed skin keeps its own detail at its own contrast; the shadow's colour cast is met
likewise (the mixed light's colour is mostly the lit side's). The move still takes more
lightness (CIELAB L) off the lit side than it gives the shadowed one (in log luminance
the shouting photo came back 4 L darker, and the compositor, which adds the source's
detail in L units, then carried less of its skin's lightness: its face against the neck
1.29 -> 1.53 dE); so the whole lift is offset until the clean skin's mean lightness is
what it was. What is compared and moved:
- only a difference shared by much of the skin around (SHARE_FROM): a pore, mole, crease
  or stubble is the person's own (and a median takes them out of the comparison first);
- on clean skin only: not the eyes, brows or lips (gaze, misregistered edges), not hair
  or the image's outside, not the outline (the mirror point lands on the background),
  not triangles either side turns away; those take their own difference held within
  the range of the skin's near them (else its mean), each half of the face on its own
  (the difference changes sign at the midline);
- smoothed along the source's own edges by a guided filter, at the working size and once
  more at full size, so a hard shadow's edge leaves neither a dark nor a pale line; at
  a shadow's edge, its structure finer than that (a cast shadow's thin dark rim) is
  taken off the shadowed side all the way (`_edge_structure`), not near the eyes,
  mouth and nostrils (a lid's crease, a nostril's opening are shape: `_edge_allowed`).
Lifting the darker side all the way to the lit side's light instead (as "shadows only
darken" suggests) removed a cast shadow off the midline more cleanly, but a nose lit from
one side came out with a flat bright or dark stripe beside its ridge (the mirror is a
pixel or two off there), and the webcam pair's face tone against its neck went from 0.8
to 1.5 ΔE. Computed once per source crop (about 40 ms at 512 px).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from facedub.engines.mesh_topology import (
    FACE_POINTS,
    MeshTopology,
    mesh_depths,
    mesh_topology,
    mesh_vertices,
    vertex_mirror,
)
from facedub.engines.mesh_warp import (
    TargetRaster,
    rasterize,
    source_maps,
    triangle_visibility,
    upsample,
)
from facedub.engines.recent import Recent
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions

WORK_SIZE = 256  # the lift is found at this size (the crop itself when smaller)
SHADOW_FROM = 0.1  # a pixel is in shadow from this much darker (log luminance) ...
SHADOW_SOFT = 0.1  # ... fully this much more
SHARE_SCALE = 1 / 24  # a shadow: more than SHARE_FROM of the skin this far around (sigma)
SHARE_FROM = 0.25
EDGE_RADIUS = 1 / 64  # the guided filter's window, a share of the crop
EDGE_EPS = 0.01  # its regularisation (log luminance squared): pores stay out of the lift
FINE_RADIUS = 1 / 256  # at a shadow's edge, the window of a finer one, where the smooth
EDGE_FROM = 0.6  # difference changes by this much within the coarse window (log
EDGE_FULL = 1.0  # luminance), and fully from this much
SNAP_RADIUS = 1 / 128  # at full size, the window that snaps the lift's edge ...
SNAP_EPS = 0.003  # ... and its regularisation (the lift there is smooth: no texture)
NEAR_SCALE = 1 / 64  # features take the difference of the skin this far around them ...
FILL_SCALE = 1 / 20  # ... or, where too little skin is that near, this far (sigma)
RANGE_SCALE = 1 / 32  # brows and sockets: their own difference, within the range of the
# skin's this far around (a radius)
TINT_SCALE = 1 / 24  # a shadow's colour: averaged this far around (sigma) ...
TINT_FULL = 0.6  # ... and met fully where the light differs by this much (log luminance)
MAX_LIFT = 1.5  # at most this much in log luminance (a factor of 4.5) either way
SHARE_MOVED = 0.5  # each side goes this share of the way to its mirror side's light
OUTLINE_MARGIN = 1 / 24  # the lift fades out over this share of the crop to the outline
LINEAR_STEPS = 8192  # levels of the table back from linear light to sRGB
VISIBLE = 0.5  # mirror triangles shown less than this (turned away) are not compared
FEATURE_GROW = 1 / 96  # eyes, brows, lips, nostrils: grown by this share of the crop
EDGE_KEEP_OFF = 1 / 32  # eyes and mouth: no edge structure this near them (a share)
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 4, 48, 64)  # the nostrils and the nose tip

_LUMINANCE = np.array([[0.2126, 0.7152, 0.0722]], np.float32)  # linear RGB -> Y
_CODES = np.arange(256, dtype=np.float64) / 255.0
_SRGB_TO_LINEAR = np.where(_CODES <= 0.04045, _CODES / 12.92,
                           ((_CODES + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LEVELS = np.linspace(0.0, 1.0, LINEAR_STEPS + 1)
_LINEAR_TO_SRGB = np.round(255.0 * np.where(
    _LEVELS <= 0.0031308, _LEVELS * 12.92, 1.055 * _LEVELS ** (1 / 2.4) - 0.055)).astype(np.uint8)


def without_light(crop: np.ndarray, face_landmarks: np.ndarray, clean: np.ndarray,
                  topology: MeshTopology) -> np.ndarray:
    """(S, S, 3) uint8 RGB: `crop` with its one-sided light met half way by its mirror
    side's. `face_landmarks` (478, 3) in crop pixels; `clean` (S, S) in [0, 1], the
    source's clean skin and features (`mesh_clean.clean_weights`)."""
    size = crop.shape[0]
    small = min(size, WORK_SIZE)
    linear = _linear(cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA))
    # Stubble, pores and freckles are not light: a median takes them out and keeps a hard
    # shadow's edge.
    unfiltered = _log_luminance(linear)
    luminance = cv2.medianBlur(unfiltered, 5)
    landmarks = np.asarray(face_landmarks, dtype=np.float64) * (small / size)
    vertices = mesh_vertices(landmarks)
    raster = rasterize(vertices, mesh_depths(landmarks), small, topology)
    maps = source_maps(raster, vertices, topology.mirror, small)
    mirrored = cv2.remap(luminance, *maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inner = _inner_face(raster, small)
    weight = _compared(raster, vertices, topology, maps, clean, landmarks, small) * inner
    right = _right_half(raster, topology, small)
    # At a shadow's edge the difference is also taken as the pixels are: the median
    # narrows a thin dark line there (the shouting photo's nose shadow by her inner eye).
    sharp = cv2.remap(unfiltered, *maps, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE) - unfiltered
    lift, shadowed = _lift(mirrored - luminance, luminance, weight, right, sharp=sharp,
                           unfiltered=unfiltered, own=_sockets(landmarks, small),
                           edges=_edge_allowed(landmarks, small))
    # At full size, the lift's edge snapped to the shadow's once more (the working-size
    # luminance and warp are a pixel or two softer than a hard shadow's edge).
    linear_full = _linear(crop)
    lift_full = cv2.resize((lift * inner).astype(np.float32), (size, size),
                           interpolation=cv2.INTER_LINEAR)
    snapped = np.clip(cv2.ximgproc.guidedFilter(
        _log_luminance(linear_full), lift_full, max(1, round(size * SNAP_RADIUS)), SNAP_EPS),
        -MAX_LIFT, MAX_LIFT)
    # A shadow has a colour of its own too (a bluer fill light): met as well, the mirror
    # side's colour against its lightness, on average over the shadow around.
    tint = _shadow_tint(linear, maps, weight * shadowed, right, small)
    # Met in linear light as the luminance is: the mixed colour is mostly the brighter
    # side's, so a shadow takes most of its lit mirror's colour and the lit side keeps
    # most of its own (the mirror's share of the two sides' light, from the lift).
    share = np.clip(1.0 - (1.0 - SHARE_MOVED) * np.exp(-snapped), 0.0, 1.0)
    moved = share * np.clip(np.abs(snapped) / (SHARE_MOVED * TINT_FULL), 0.0, 1.0)
    weight_full = cv2.resize(weight * inner, (size, size), interpolation=cv2.INTER_LINEAR)
    inner_full = cv2.resize(inner, (size, size), interpolation=cv2.INTER_LINEAR)
    snapped = snapped - inner_full * _offset(linear_full, snapped, weight_full)
    planes = [linear_full[..., k] * np.exp(snapped + moved * cv2.resize(
        tint[k], (size, size), interpolation=cv2.INTER_LINEAR)) for k in range(3)]
    return _srgb(cv2.merge(planes))


def _offset(linear: np.ndarray, lift: np.ndarray, weight: np.ndarray) -> float:
    """The log luminance taken off the whole lift so that the skin's mean lightness
    (CIELAB L, which goes with the cube root of luminance) where `weight` is stays as it
    was: the lift moves light between the sides and leaves the face as light as before."""
    cube_root = np.cbrt(cv2.transform(linear, _LUMINANCE))
    before = float(np.sum(weight * cube_root))
    if before <= 1e-6:
        return 0.0
    after = float(np.sum(weight * cube_root * np.exp(lift / 3.0)))
    return 3.0 * float(np.log(after / before))


def _compared(raster: TargetRaster, vertices: np.ndarray, topology: MeshTopology,
              maps: tuple[np.ndarray, np.ndarray], clean: np.ndarray,
              landmarks: np.ndarray, small: int) -> np.ndarray:
    """(s, s) float32 in [0, 1]: where a pixel and its mirror point are compared: clean
    skin on both sides, in triangles both sides show, off the features."""
    clean_small = cv2.resize(clean, (small, small), interpolation=cv2.INTER_AREA)
    shown = triangle_visibility(vertices, topology.template_vertices, topology.mirror)
    direct = triangle_visibility(vertices, topology.template_vertices, topology.triangles)
    trusted = np.minimum(shown, direct)[raster.triangle] >= VISIBLE
    weight: np.ndarray = (upsample(trusted.astype(np.float32), raster, small) * clean_small
                          * cv2.remap(clean_small, *maps, cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_CONSTANT))
    return weight * (1.0 - _features(landmarks, small))


def _lift(darker: np.ndarray, luminance: np.ndarray, weight: np.ndarray,
          right: np.ndarray, *, sharp: np.ndarray, unfiltered: np.ndarray,
          own: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, s) float32 each: the change of log luminance (half way to the mirror point's
    light in linear light, by the smoothed difference beyond a knee, where it is shared by
    the skin around; at a shadow's edge on its shadowed side, all the way by the finer
    structure of the `sharp` difference, that of the `unfiltered` log luminance, where
    `edges` allows) and where a shadow (or its lit mirror) was found, in [0, 1]. The lit
    side loses at most half its light (log 0.5); the shadowed side gains up to MAX_LIFT.
    `own`: where a pixel left out of the comparison may keep its own difference
    (`_filled`). All (s, s) float32, the weights in [0, 1]."""
    small = darker.shape[0]
    # Over the features and the skin not compared: the difference of the skin around them.
    darker = _filled(darker, weight, right, small, own)
    # Smoothed along the source's own edges: a hard shadow's edge stays as sharp as it is,
    # the skin's texture inside it is averaged away (eps is above its variance).
    radius = max(1, round(small * EDGE_RADIUS))
    smooth = cv2.ximgproc.guidedFilter(luminance, darker.astype(np.float32), radius, EDGE_EPS)
    shadowed = np.clip((np.abs(smooth) - SHADOW_FROM) / SHADOW_SOFT, 0.0, 1.0)
    # A shadow covers much of the skin around it; a dark pore, mole or crease does not.
    share = _per_half(shadowed, weight, right, small * SHARE_SCALE)
    # Beyond a knee that is continuous, so a gentle one-sided light leaves no contour
    # where it crosses SHADOW_FROM.
    knee = np.sign(smooth) * np.sqrt(np.maximum(smooth * smooth - SHADOW_FROM**2, 0.0))
    # Both sides meet half way, in linear light (the two shadings sum to about twice the
    # frontal light's; half way in log luminance, their geometric mean, left a deep
    # shadow's flank 8-10 L darker than its cheek). (All the way, the darker side up to
    # the lit one, left flat stripes beside a side-lit nose's ridge, where the mirror is a
    # pixel or two off.)
    meet = np.log1p(SHARE_MOVED * np.expm1(np.minimum(knee, 4.0)))  # 4: past MAX_LIFT
    # At a shadow's edge its finer structure (what the smoothing misses) is taken off the
    # shadowed side all the way: it is the shadow's, not the lit side's light.
    sharp = _filled(sharp, weight, right, small, own).astype(np.float32)
    meet += (smooth > 0) * shadowed * edges * _edge_structure(smooth, sharp, unfiltered,
                                                               radius)
    lift = np.clip(meet, -MAX_LIFT, MAX_LIFT) * np.clip(
        (share - SHARE_FROM) / SHARE_FROM, 0.0, 1.0)
    return lift, shadowed


def _edge_structure(smooth: np.ndarray, darker: np.ndarray, luminance: np.ndarray,
                    radius: int) -> np.ndarray:
    """(s, s) float32: the difference `darker` smoothed only over FINE_RADIUS of the crop
    less `smooth` (it smoothed over `radius`), where the smooth one changes by EDGE_FROM
    or more within `radius` (fully by EDGE_FULL): at a shadow's edge; 0 elsewhere.

    A cast shadow's edge has structure finer than the smoothing: the shouting photo's
    nose shadow over her inner socket is a dark line 3-5 px wide at 256 px (27 L against
    58 on the lit side), a paler strip beside it (44 L), then the socket (28 L). Smoothed
    over, the line was lifted too little and the strip too much; and met half way, half
    of that structure stayed: a vertical edge beside her inner eye corner on the swapped
    face. Inside a shadow and on lit skin this is 0 (a pore, mole or crease is not
    light)."""
    small = smooth.shape[0]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    change = cv2.dilate(smooth, kernel) - cv2.erode(smooth, kernel)
    edge = np.clip((change - EDGE_FROM) / (EDGE_FULL - EDGE_FROM), 0.0, 1.0)
    fine = cv2.ximgproc.guidedFilter(luminance, darker, max(1, round(small * FINE_RADIUS)),
                                     EDGE_EPS)
    structure: np.ndarray = edge * (fine - smooth)
    return structure


def _shadow_tint(linear: np.ndarray, maps: tuple[np.ndarray, np.ndarray],
                 weight: np.ndarray, right: np.ndarray, size: int) -> list[np.ndarray]:
    """Per RGB channel, (s, s) float32: the log ratio of the mirror side's colour to this
    side's, each against its own luminance, averaged where `weight` (the shadow) is."""
    logs = np.log(linear + 1e-3)
    relative = logs - _log_luminance(linear)[..., None]
    mirrored = cv2.remap(relative, maps[0], maps[1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    difference = mirrored - relative
    return [_per_half(np.ascontiguousarray(difference[..., k]), weight, right,
                      size * TINT_SCALE) for k in range(3)]


def _filled(image: np.ndarray, weight: np.ndarray, right: np.ndarray, size: int,
            own: np.ndarray) -> np.ndarray:
    """`image` where `weight` trusts it; elsewhere, as far as `own` (s, s) in [0, 1]
    allows, its own value held within the range of the trusted values near it (within
    RANGE_SCALE of the crop), else (and where none is that near) the trusted values' mean
    near it (within NEAR_SCALE of the crop where there are enough of them, else within
    FILL_SCALE); each half of the face on its own."""
    near = _per_half(image, weight, right, size * NEAR_SCALE)
    enough = np.clip(_per_half(weight, np.ones_like(weight), right, size * NEAR_SCALE)
                     / 0.2, 0.0, 1.0)
    far = _per_half(image, weight, right, size * FILL_SCALE)
    fill = far + enough * (near - far)
    # The features are left out of the comparison (their edges misregister, gaze differs),
    # but the sockets between brow and lid, grown into the brows' and eyes' outlines, are
    # skin whose difference is light. The mean of the skin around them (the forehead
    # above, half lit) left the shouting photo's shadowed socket 0.3-0.5 log luminance
    # short of its mirror's light, a dark box over it, and lifted her left eye, lit, by
    # 1.0 as if in the nose's shadow (a glowing lid). Their own difference, held within
    # the range of the skin's around, lets no misregistered edge's spike through.
    low, high = _near_range(image, weight, right, max(1, round(size * RANGE_SCALE)))
    # Only there: an open mouth's teeth and tongue are not light (a grimace's teeth came
    # out lighter on one side), nor a beard's patches, left out as unclean (Kit
    # Harington's moustache and chin moved, and his smile read differently).
    ranged = fill + own * (np.where(low <= high, np.clip(image, low, high), fill) - fill)
    filled: np.ndarray = ranged + weight * (image - ranged)
    return filled


def _near_range(image: np.ndarray, weight: np.ndarray, right: np.ndarray, radius: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), (s, s) float32 each: the least and greatest of `image` where `weight`
    trusts it (over one half) within `radius` pixels, on the same half of the face; low
    above high where none is."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    low = np.full(image.shape, np.inf, np.float32)
    high = np.full(image.shape, -np.inf, np.float32)
    for half in (right > 0.5, right <= 0.5):
        trusted = half & (weight > 0.5)
        half_low = cv2.erode(np.where(trusted, image, np.inf).astype(np.float32), kernel)
        half_high = cv2.dilate(np.where(trusted, image, -np.inf).astype(np.float32), kernel)
        low = np.where(half, half_low, low)
        high = np.where(half, half_high, high)
    return low, high


def _per_half(image: np.ndarray, weight: np.ndarray, right: np.ndarray, sigma: float
              ) -> np.ndarray:
    """`image` blurred where `weight` trusts it, each half of the face on its own."""
    blurred: np.ndarray = (right * _masked_blur(image, weight * right, sigma) + (1.0 - right)
                           * _masked_blur(image, weight * (1.0 - right), sigma))
    return blurred


def _inner_face(raster: TargetRaster, size: int) -> np.ndarray:
    """(s, s) float32: 1 inside the mesh more than OUTLINE_MARGIN of the crop from its
    outline, falling to 0 at it."""
    inside = (upsample(np.ones(len(raster.triangle), np.float32), raster, size) > 0.5)
    margin = max(1, round(size * OUTLINE_MARGIN))
    distance = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    inner: np.ndarray = np.clip(distance / margin, 0.0, 1.0).astype(np.float32)
    return inner


def _right_half(raster: TargetRaster, topology: MeshTopology, size: int) -> np.ndarray:
    """(s, s) float32: 1 on the triangles right of the face's midline, 0 left of it."""
    template = topology.template_vertices
    middle = float(template[:, 0].mean())  # the template is symmetric
    centres = template[topology.triangles, 0].mean(axis=1)
    side = (centres > middle).astype(np.float32)
    return upsample(side[raster.triangle], raster, size)


def _edge_allowed(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32 in [0, 1]: where a shadow's edge may lose its finer structure
    (`_edge_structure`): not on the nostrils, nor (grown by EDGE_KEEP_OFF) the eyes and
    mouth. Their dark lines are shape, not a cast shadow's rim: the eye's lash line and
    lid crease, the fold beside the mouth's corner. Lifted all the way on the shouting
    photo's shadowed side they came out up to 21 L lighter (an orange-red line along her
    left upper lid crease on the swapped face, a grey cast on the lid)."""
    regions = mesh_regions()
    eyes = _grown_hulls(points, size, [regions.left_eye, regions.right_eye],
                        (FEATURE_GROW, EDGE_KEEP_OFF))
    mouth = _grown_hulls(points, size, [regions.lips_outer], (EDGE_KEEP_OFF, EDGE_KEEP_OFF))
    allowed: np.ndarray = (1.0 - eyes) * (1.0 - mouth) * (1.0 - _nostrils(points, size))
    return allowed


def _nostrils(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: the nostrils and the nose tip, grown. Their dark openings are
    shape, and their mirror is a pixel or two off: the shadow edges' structure at full
    strength lightened Dylan's and Jolie's nearer nostril by up to 70 levels."""
    return _grown_hulls(points, size, [np.array(NOSTRILS)])


def _sockets(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: the eyes and brows, grown, and the sockets between them."""
    regions = mesh_regions()
    sides = [np.concatenate([eye, brow]) for eye, brow in (
        (regions.left_eye, regions.left_eyebrow), (regions.right_eye, regions.right_eyebrow))]
    return _grown_hulls(points, size, sides)


def _features(points: np.ndarray, size: int) -> np.ndarray:
    """(s, s) float32: eyes, brows and lips, grown: not compared with the mirror (gaze,
    misregistered edges, an open mouth's inside are not light)."""
    regions = mesh_regions()
    return _grown_hulls(points, size, [regions.left_eye, regions.right_eye,
                                       regions.left_eyebrow, regions.right_eyebrow,
                                       regions.lips_outer])


def _grown_hulls(points: np.ndarray, size: int, groups: Sequence[np.ndarray],
                 share: tuple[float, float] = (FEATURE_GROW, FEATURE_GROW)) -> np.ndarray:
    """(s, s) float32: the convex hull of each group of `points`, grown by `share` of
    the crop (across, up and down)."""
    hulls = np.zeros((size, size), dtype=np.float32)
    for group in groups:
        hull = cv2.convexHull(np.round(points[group, :2]).astype(np.int32))
        hulls = np.maximum(hulls, polygon_mask(hull[:, 0, :], size))
    across, down = (max(1, round(size * grow)) for grow in share)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * across + 1, 2 * down + 1))
    grown: np.ndarray = cv2.dilate(hulls, kernel)
    return grown


def _masked_blur(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """`image` averaged where `weight` is, Gaussian `sigma` pixels; wide blurs at half
    size (they are smooth; a third of the function's time went to them at full size)."""
    size = image.shape[0]
    if sigma >= 4.0 and size >= 64:
        half = size // 2
        blurred_half = _masked_blur(
            cv2.resize(image, (half, half), interpolation=cv2.INTER_AREA),
            cv2.resize(weight, (half, half), interpolation=cv2.INTER_AREA), sigma / 2)
        upsampled: np.ndarray = cv2.resize(blurred_half, (size, size),
                                           interpolation=cv2.INTER_LINEAR)
        return upsampled
    numerator = cv2.GaussianBlur(image * weight, (0, 0), sigma)
    denominator = cv2.GaussianBlur(weight, (0, 0), sigma)
    blurred: np.ndarray = numerator / np.maximum(denominator, 1e-4)
    return blurred


def _log_luminance(linear: np.ndarray) -> np.ndarray:
    luminance: np.ndarray = np.log(cv2.transform(linear, _LUMINANCE) + 1e-3)
    return luminance


def _linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB to float32 linear light (a table: the power took 12 ms at 512 px).
    OpenCV's table look-up gives NumPy's indexing's values at a fraction of its time
    (a source face's first use reads two crops through it; BENCHMARKS.md, Refiner,
    sixteenth round)."""
    linear: np.ndarray = cv2.LUT(np.ascontiguousarray(rgb), _SRGB_TO_LINEAR)
    return linear


def _srgb(linear: np.ndarray) -> np.ndarray:
    """float32 linear light to uint8 sRGB, through a table of LINEAR_STEPS levels (under a
    code value apart even in the darks). The index is clip(linear * steps + 0.5, 0, steps)
    truncated, its float32 steps taken in place on one temporary, and read by `np.take`
    (the same values as the three temporaries and fancy indexing it replaced)."""
    steps = len(_LINEAR_TO_SRGB) - 1
    scaled = linear * steps
    scaled += 0.5
    np.clip(scaled, 0, steps, out=scaled)
    rgb: np.ndarray = np.take(_LINEAR_TO_SRGB, scaled.astype(np.int32))
    return rgb


# What share of a source's one-sided light the target shows too. The lift above evens
# the source's light for any target; where the target is lit the same way (a split clip,
# a photo of the same session) that took off light the target has, and the compositor
# (which takes only the target's light coarser than crop / 16) did not give its sharper
# part back. Compared at the mesh's skin vertices, each against its mirror vertex.
ASYMMETRY_SIZE = 128  # the crops are compared at this size ...
ASYMMETRY_BLUR = 1 / 40  # ... blurred by this share of it (light, not pores)
ASYMMETRY_MIDLINE = 0.15  # vertices this near the midline (a share of the half width) ...
ASYMMETRY_OUTLINE = 0.2  # ... or this near the face's outline are skipped
SYMMETRIC = 0.02  # root mean square log luminance difference below which a face is evenly lit
SHARED_FOLLOW = 0.3  # share of a new frame in a track's shared light
IN_FRAME = 0.99  # blurred in-frame share below which a vertex is too near the frame's edge
SHOWN_ENOUGH = 0.5  # share of the vertex pairs the frame must show to compare the light


def light_asymmetry(image: np.ndarray, face_landmarks: np.ndarray,
                    in_frame: np.ndarray | None = None) -> np.ndarray:
    """(P,) float32: the blurred log luminance at the face's skin vertices right of its
    midline minus at their mirror vertices; NaN for pairs with either vertex near or past
    the frame's edge (`in_frame` (S, S) bool; the crop's fill there is no light).
    `image` (S, S, 3) uint8 RGB, `face_landmarks` (478, 3) in its pixels."""
    size = image.shape[0]
    blur = ASYMMETRY_SIZE * ASYMMETRY_BLUR
    small = cv2.resize(image, (ASYMMETRY_SIZE, ASYMMETRY_SIZE), interpolation=cv2.INTER_AREA)
    luminance = cv2.GaussianBlur(_log_luminance(_linear(small)), (0, 0), blur)
    right, mirror = _compared_vertices()
    points = mesh_vertices(np.asarray(face_landmarks) * (ASYMMETRY_SIZE / size))
    columns = np.clip(np.round(points[:, 0]).astype(np.int64), 0, ASYMMETRY_SIZE - 1)
    rows = np.clip(np.round(points[:, 1]).astype(np.int64), 0, ASYMMETRY_SIZE - 1)
    values = luminance[rows, columns]
    if in_frame is not None and not in_frame.all():
        inside = cv2.GaussianBlur(cv2.resize(in_frame.astype(np.float32),
                                             (ASYMMETRY_SIZE, ASYMMETRY_SIZE),
                                             interpolation=cv2.INTER_AREA), (0, 0), blur)
        values = np.where(inside[rows, columns] > IN_FRAME, values, np.nan)
    difference: np.ndarray = values[right] - values[mirror]
    return difference


def shared_light(target: np.ndarray, source: np.ndarray) -> float:
    """In [0, 1]: how much of the source's one-sided light (`light_asymmetry`) the
    target's shows, by least squares over the pairs the target shows (not NaN); 0 for an
    evenly lit source, and where the frame cuts off most of the target's pairs."""
    shown = np.isfinite(target)
    if shown.sum() < SHOWN_ENOUGH * len(target):
        return 0.0
    target, source = target[shown], source[shown]
    energy = float(source @ source)
    if energy < SYMMETRIC**2 * len(source):
        return 0.0
    return float(np.clip(float(target @ source) / energy, 0.0, 1.0))


def asymmetry_length() -> int:
    """The length of every `light_asymmetry`: the skin vertex pairs compared."""
    return len(_compared_vertices()[0])


@functools.cache
def _compared_vertices() -> tuple[np.ndarray, np.ndarray]:
    """(right vertices, their mirror vertices): skin off the features, the midline and
    the outline (where a mirror point lands on hair or the background)."""
    topology = mesh_topology()
    vertices = topology.template_vertices
    mirror = vertex_mirror(vertices)
    regions = mesh_regions()
    features = np.concatenate([regions.left_eye, regions.right_eye, regions.left_eyebrow,
                               regions.right_eyebrow, regions.lips_outer, regions.nose])
    skin = np.zeros(len(vertices), dtype=bool)
    skin[:FACE_POINTS] = True  # not the forehead points above the oval
    skin[features] = False
    oval = vertices[regions.face_oval]
    half_width = float(np.ptp(vertices[:, 0])) / 2
    to_oval = np.linalg.norm(vertices[:, None, :] - oval[None, :, :], axis=2).min(axis=1)
    skin &= to_oval > ASYMMETRY_OUTLINE * half_width
    skin &= skin[mirror]
    middle = float(np.median(vertices[:, 0]))
    right = skin & (vertices[:, 0] - middle > ASYMMETRY_MIDLINE * half_width)
    indices = np.flatnonzero(right)
    return indices, mirror[indices]


class SourceLight:
    """Per source face (by index) its crop with its own light and that light's
    `light_asymmetry`, cached; per target track the `shared_light` of the blended source
    faces, eased (SHARED_FOLLOW of each new frame) so the light given back does not
    flicker. `load(index)`: a source crop (S, S, 3) uint8 RGB, cached by the caller (the
    engine decodes each crop once for its lifted and unlifted uses); `landmarks`: each
    source face's (478, 3) in its crop's pixels. `asymmetry(index)`: the face's
    `light_asymmetry`, where the caller keeps it (the mesh engine on disk, so a later swap
    decodes no crop for it); None: computed from `load`."""

    def __init__(self, load: Callable[[int], np.ndarray], landmarks: Sequence[np.ndarray],
                 capacity: int, asymmetry: Callable[[int], np.ndarray] | None = None) -> None:
        self._load = load
        self._landmarks = landmarks
        self._given = asymmetry
        self._asymmetries: Recent[np.ndarray] = Recent(4 * capacity)
        self._by_track: dict[int, float] = {}

    def unlifted(self, index: int) -> np.ndarray:
        return self._load(index)

    def _asymmetry(self, index: int) -> np.ndarray:
        if self._given is not None:
            return self._given(index)
        return self._asymmetries.get(index, lambda: light_asymmetry(self.unlifted(index),
                                                                    self._landmarks[index]))

    def shared(self, track: int, image: np.ndarray, face_landmarks: np.ndarray,
               blend: dict[int, float], in_frame: np.ndarray | None = None) -> float:
        """In [0, 1]: how much of the blended source faces' (`blend`: weights by index)
        one-sided light the target face (`image`, its `face_landmarks`, the crop's pixels
        `in_frame`) shows too."""
        source = np.zeros(len(_compared_vertices()[0]), dtype=np.float32)
        for index, weight in blend.items():
            source += np.float32(weight) * self._asymmetry(index)
        wanted = shared_light(light_asymmetry(image, face_landmarks, in_frame), source)
        previous = self._by_track.get(track, wanted)
        eased = previous + SHARED_FOLLOW * (wanted - previous)
        self._by_track[track] = eased
        return eased

    def forget(self, track: int) -> None:
        self._by_track.pop(track, None)
