"""The mirrored side's texture at the face's own brightness.

Where a source turns a triangle away, the mesh engine fills it from its mirror image on
the other side of the face (`MeshEngine._add_source`). That image carries the light of
the place it was taken from: a turned head's near cheek falls into shade at its outer
edge (the turn, the hair beside it), and mirrored, that shade lands inside the far cheek
of a frontal target, which its own light shows bright (hair-forehead: a grey band from
the temple to the jaw, L 30-50 between a far cheek at 80-87; BENCHMARKS.md, fifteenth
round). The mirror is there for the source's skin and detail, not for that shade: its
broad lightness is lifted to what the source's own visible texture shows nearby, never
lowered (lowered too, the far side came out greyer than the frame's light: thirteenth
round).

Only the broad lightness is lifted. The shaded skin's fine texture (stubble, pores, the
photo's noise) comes back at the contrast the directly shown skin nearby has, within the
lift's own factor either way: scaled with the light, the shade's stubble and noise came
out 1.8x as strong as the skin beside them, a mottled far cheek at 2x (hair-forehead;
BENCHMARKS.md, sixteenth round).
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.engines.mesh_topology import mirrored_triangles
from facedub.faces.masks import grown_bounds, three_channels

# Of the crop: the mirrored shade's own shape (a band a sixteenth of the crop wide; pores
# and stubble are finer) against the source's face around it (wide enough to reach over
# that band to the skin the source shows directly on either side).
MIRROR_SHADE_SIGMA = 1.0 / 64.0
DIRECT_LEVEL_SIGMA = 1.0 / 16.0
MIRROR_MAX_GAIN = 2.0  # a mirrored pixel at most this much brighter (near-black hair stays)
# A level is fully known where its blurred trust is at least this share of the box's
# largest, less and less below it.
KNOWN_SHARE = 0.05
LEVEL_SIGMA_PIXELS = 4.0  # the levels are blurred at a size where their sigma is this
# Shrunk rows are padded to a multiple of this many floats (`_area_shrunk`): OpenCV's
# widest vector of float32 (AVX-512) and so a multiple of each narrower one.
LANES = 16
# The fine texture's contrast may come down towards the direct skin's by at most the
# gain to this power (0: never below the mirror's own).
DETAIL_DOWN = 1.0
# `no_darker_than_clean_direct`. The share of the direct texture the mirror fill may not go
# under (M's oracle, forty-fourth round: 0.97 took threequarter-glasses' crescent away).
FLOOR_SHARE = 0.97
# Of the crop: the local level a crease is read at (1.7 px at 440: a stubble hair or pore
# averages away, the crescent, 4-8 px wide, does not).
CREASE_SIGMA = 1.0 / 256.0
# The direct warp's clean weight from which it counts as the source's skin (full at one):
# below it the mirror replaces hair or what lies outside the photo.
CLEAN_DIRECT_FROM = 0.9
# Grey levels of luma: a deficit up to the first is a crease (the crescent's reached 70 at
# 440 px); beyond the second it is other matter (a light wall or hair in the direct warp
# past the turned cheek: M's oracle lifted such places by up to 207), fading between.
SKIN_DEFICIT_NEAR = 80.0
SKIN_DEFICIT_FAR = 120.0
# A pixel comes up by at most this many times the crease's depth at its local level.
CREASE_REACH = 2.0
# A wing gate whose largest value is under this leaves the mirror fill as it is, and its
# work (three blurs over the wings' reach) is skipped: the gate lifts a pixel by at most
# twice its value times the floor's height, under half a grey level here. Where no nose
# wing is turned away the gate is only the far tail of the need's smoothing: 5e-12 to
# 1.4e-4 on the mirrored faces of the first 12 frames of four pairs, headturn-man,
# readme-photo, film-headturn and occlusion-smoke-hand, which lifted the fill by at most
# 0.006 levels; a wing turned away (hair-forehead, threequarter-glasses) reads 0.57-0.72.
# All 26 pairs' swapped frames (40, own ids) stay identical to main's (BENCHMARKS.md,
# forty-sixth round).
WING_GATE_NEGLIGIBLE = 1e-3
# `far_wing_own_share`. A nose-wing triangle the source turns away past this (the mirror's
# need) is of its far wing. The far wing's shown share (its triangles' direct visibility,
# weighted by their frontal areas) from which the direct warp takes the mirror's place,
# full at the second: Angelina Jolie's photo (18 degrees) shows 0.295 of her far wing, and
# the mirror's whole near wing there held threequarter-glasses nearer d9 than her; Kit
# Harington's (22 degrees) 0.184, whose mirrored wing is part of his likeness
# (hair-forehead); the grimacing man's 0.212, the downcast photo's 0.143 (BENCHMARKS.md,
# forty-seventh and forty-eighth rounds). The ramp is narrower than the landmarker's own
# spread: Kit Harington's photo mirrored reads 0.255, Jolie's 0.75 of the full share
# (forty-eighth round's second review), so a photo near the ramp may take it or not.
TURNED_WING_FROM = 0.05
OWN_WING_FROM = 0.24
OWN_WING_FULL = 0.28
# The far wing's mean need of the mirror (`turned_away`, by frontal area) from which the
# rule applies, full at the second: the shouting photo (6 degrees) shows 0.417 of its far
# wing and the mirror only tops it up (0.141); with the direct warp there its 2 frames of 40
# nearer the source went to 0 (mouth agreement 0.95 -> 0.925). Jolie's is 0.410, Kit's
# 0.631 (BENCHMARKS.md, forty-eighth round).
MIRRORED_WING_FROM = 0.2
MIRRORED_WING_FULL = 0.3
# The nose wing and the skin round its rim, one side's landmarks (the person's left; the
# other side's are their mirror images): where the near wing's side-lit crease, mirrored,
# drew a second outline. Over the whole far side the rule also lifted the far socket's
# and cheek's mirrored shade that their foreshortened direct warp lacks, a lit patch under
# Kit Harington's far eye at 1x, and took smile agreement from 0.95 to 0.85
# (hair-forehead; BENCHMARKS.md, forty-fifth round).
NOSE_WING_LANDMARKS = (278, 279, 294, 327, 358, 331, 439, 455, 460, 305, 289, 392, 326, 328,
                       290, 250, 462, 370, 344, 360, 363, 440, 457, 438, 420, 429, 437, 309,
                       459)


def levelled_mirror(mirrored: np.ndarray, mirror_trust: np.ndarray, direct: np.ndarray,
                    direct_trust: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) float32: `mirrored` (H, W, 3) float32 RGB 0..255, a box of the mirrored
    texture warped onto the target crop (of side `size` px), brightened where its broad
    lightness is below the directly warped texture's around it. `direct` (H, W, 3) the
    same box of the direct texture, `mirror_trust` and `direct_trust` (H, W) float32 how
    far each is trusted per pixel (visibility times clean weight): each level is the
    weighted mean (the mirror's at MIRROR_SHADE_SIGMA by its trust, the direct texture's
    at DIRECT_LEVEL_SIGMA by its trust squared, so that the skin the source shows well
    sets it and hair or turned-away slivers that pass as clean count little). The gain is
    at most MIRROR_MAX_GAIN, and fades to one where either level rests on little trust
    against the box's best (`_known`): no step where the direct skin runs out,
    whatever the source's blend weight.

    The gain lifts the mirror's broad lightness only: its luma finer than the mirror's
    level (the fine texture) is scaled instead by the direct skin's fine contrast over the
    mirror's there (each the trust-weighted rms of its fine luma at DIRECT_LEVEL_SIGMA, the
    direct one's by its trust squared), held between the gain to the power -DETAIL_DOWN
    and the gain itself, so that where nothing is lifted the mirror is left as it is. The
    fine texture's colour stays the mirror's (scaled with the gain, as the broad colour)."""
    mirror_sigma = max(1.0, size * MIRROR_SHADE_SIGMA)
    direct_sigma = max(1.0, size * DIRECT_LEVEL_SIGMA)
    shape = mirror_trust.shape
    mirror_luma, direct_luma = _luma(mirrored), _luma(direct)
    direct_weights = np.square(direct_trust).astype(np.float32, copy=False)
    direct_mass = direct_luma * direct_weights  # the direct luma's weighted sum, both scales
    # The levels at the mirror's scale: the mirror's, and the direct texture's own there
    # (what is finer is each one's fine texture).
    sums, shrink = _shrunk_blurs((mirror_luma * mirror_trust, mirror_trust, direct_mass,
                                  direct_weights), mirror_sigma)
    mirror_level, mirror_known, direct_near = _enlarged(
        (_ratio(sums[0], sums[1]), _known(sums[1]), _ratio(sums[2], sums[3])), shape, shrink)
    # The lumas are not read again: their fine parts in their place (the same values).
    mirror_fine = np.subtract(mirror_luma, mirror_level, out=mirror_luma)
    direct_fine = np.subtract(direct_luma, direct_near, out=direct_luma)
    # At the direct skin's scale: its level, and its fine contrast over the mirror's.
    sums, shrink = _shrunk_blurs((direct_mass, direct_weights,
                                  _squared_times(direct_fine, direct_weights),
                                  _squared_times(mirror_fine, mirror_trust), mirror_trust),
                                 direct_sigma)
    direct_power = _ratio(sums[2], sums[1])
    mirror_power = np.maximum(_ratio(sums[3], sums[4]), 1e-6)
    direct_level, direct_known, contrast = _enlarged(
        (_ratio(sums[0], sums[1]), _known(sums[1]), np.sqrt(direct_power / mirror_power)), shape,
        shrink)
    # From here on in place, the same operations in the same order as
    # clip(direct_level / maximum(mirror_level, 1), 1, MIRROR_MAX_GAIN) - 1 for the lift,
    # 1 + lift * mirror_known * direct_known for the gain, (scale - gain) * mirror_fine
    # for the fine part: the same values, five (H, W) temporaries fewer.
    gain = np.maximum(mirror_level, np.float32(1.0))
    np.divide(direct_level, gain, out=gain)
    np.clip(gain, 1.0, MIRROR_MAX_GAIN, out=gain)
    gain -= np.float32(1.0)
    gain *= mirror_known
    gain *= direct_known
    gain += np.float32(1.0)
    scale = _between(contrast, gain)
    # gain * (level + fine), the fine part's gain replaced by `scale`; in place, the same
    # operations in the same order (two (H, W, 3) temporaries fewer).
    fine = np.subtract(scale, gain, out=scale)
    fine *= mirror_fine
    # The gain's three channels take the product (a product's value does not depend on its
    # order): one (H, W, 3) array fewer.
    levelled = three_channels(gain)
    levelled *= mirrored
    levelled += three_channels(fine)
    result: np.ndarray = np.clip(levelled, 0.0, 255.0, out=levelled)
    return result


def nose_wing_triangles(direct: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """(T,) float64, 1 for the triangles of either nose wing (`NOSE_WING_LANDMARKS`):
    those whose corners (`direct`, (T, 3)) or whose mirror image's corners (`mirror`)
    are all wing landmarks, else 0."""
    wing = np.zeros(max(int(direct.max()), int(mirror.max())) + 1, dtype=bool)
    wing[list(NOSE_WING_LANDMARKS)] = True
    either = wing[direct].all(axis=1) | wing[mirror].all(axis=1)
    return either.astype(np.float64)


def no_darker_than_clean_direct(levelled: np.ndarray, direct: np.ndarray,
                                direct_clean: np.ndarray, wings: np.ndarray, size: int,
                                own_wing: float = 0.0) -> np.ndarray:
    """In place: `levelled` (H, W, 3) float32, the mirror fill (`levelled_mirror`), with
    the near side's creases taken out where the direct warp (`direct`, the same box) is
    clean source skin (`direct_clean`, its clean weight, over CLEAN_DIRECT_FROM): there
    the source shows the triangle, only foreshortened, in its own light, and the mirror
    may lighten it but not draw a second outline over it (Angelina Jolie's far nose wing,
    threequarter-glasses: the near wing's side-lit crease came out round it as a dark
    crescent; BENCHMARKS.md, forty-fourth and forty-fifth rounds). Only on the nose wings
    (`wings`, (H, W) in [0, 1], full from a half): elsewhere the mirror's creases are the
    far side's modelling the foreshortened direct warp lacks (`NOSE_WING_LANDMARKS`).

    A crease is the mirror's darkness under FLOOR_SHARE of the direct texture, both at
    their local level (CREASE_SIGMA), less its broad part (at MIRROR_SHADE_SIGMA, the
    mirror's own level: the far side's modelling, kept). Each pixel comes up to the floor
    less that broad part, by at most CREASE_REACH times the crease's depth there: a
    crease comes up whole with nothing spread beside it, pores and stubble (which the
    local level averages away) keep most of their contrast. A deficit over
    SKIN_DEFICIT_NEAR counts less and less (none from SKIN_DEFICIT_FAR).

    Then, by `own_wing` (in [0, 1], `far_wing_own_share`: how far the source shows its far
    wing itself) and the same gate, the fill becomes the direct warp: the source's own far
    wing, foreshortened, not its near wing mirrored, which drew a whole wing at the
    target's far-wing landmarks (forty-seventh and forty-eighth rounds). Not within the
    crease level's blur of a difference over SKIN_DEFICIT_NEAR either way (none from
    SKIN_DEFICIT_FAR): other matter in one or the other, left to the mirror. Wings under
    WING_GATE_NEGLIGIBLE everywhere (no wing turned away) leave `levelled` as it is,
    unworked."""
    if float(wings.max(initial=0.0)) < WING_GATE_NEGLIGIBLE:
        return levelled
    gate = _ramp(wings, 0.0, 0.5)
    gate *= _ramp(direct_clean, CLEAN_DIRECT_FROM, 1.0)
    fine_sigma = max(1.0, size * CREASE_SIGMA)
    broad_sigma = max(1.0, size * MIRROR_SHADE_SIGMA)
    # Worked out only round the wings, as far as the two blurs reach (their kernels'
    # radii): the same values there, a fifth of the box's pixels on threequarter-glasses.
    reach = grown_bounds(gate > 0.0, _blur_radius(fine_sigma) + _blur_radius(broad_sigma))
    if reach is None:
        return levelled
    part = levelled[reach]
    allowed = _blurred(direct[reach], fine_sigma)
    allowed *= np.float32(FLOOR_SHARE)
    deficit = allowed - _blurred(part, fine_sigma)
    darker = _luma(deficit)
    # Only what is narrower than the mirror's own level (a crease, a wing's rim): a
    # broader shade of the mirror is the far side's modelling, kept.
    broad = _blurred(deficit, broad_sigma)
    np.maximum(broad, 0.0, out=broad)
    allowed -= broad
    deficit -= broad
    np.maximum(deficit, 0.0, out=deficit)
    # Each pixel up to the allowed floor, by at most CREASE_REACH times the crease's
    # local depth: a crease comes up whole, with nothing spread beside it; pores and
    # stubble, which the local level averages away, keep most of their contrast.
    allowed -= part
    np.maximum(allowed, 0.0, out=allowed)
    deficit *= np.float32(CREASE_REACH)
    np.minimum(allowed, deficit, out=deficit)
    # `near` is the gate's own box, changed in place: the wing's gate kept for the direct
    # warp below where the source shows its own far wing.
    wing = gate[reach].copy() if own_wing > 0.0 else None
    near = gate[reach]
    near *= _ramp(darker, SKIN_DEFICIT_FAR, SKIN_DEFICIT_NEAR)
    deficit *= three_channels(near)
    part += deficit
    if wing is not None:
        # The source's own far wing, the direct warp, where it is that clean skin: not
        # where the two differ by more than skin does (other matter, left to the mirror),
        # as far as the level's blur reaches from it (a light wall's edge pixels came in
        # whole at its blurred difference).
        skin = _ramp(np.abs(darker), SKIN_DEFICIT_FAR, SKIN_DEFICIT_NEAR)
        side = 2 * _blur_radius(fine_sigma) + 1
        wing *= cv2.erode(skin, np.ones((side, side), np.uint8))
        wing *= np.float32(own_wing)
        part += three_channels(wing) * (direct[reach] - part)
    return levelled


def far_wing_own_share(direct_visibility: np.ndarray, turned_away: np.ndarray,
                       wing: np.ndarray, template_areas: np.ndarray) -> float:
    """In [0, 1]: how far a source's far nose wing is its own to show (the direct warp) rather
    than its near wing mirrored. The far wing is the nose-wing triangles (`wing`, (T,) 0/1)
    the source turns away (`turned_away` (T,) over TURNED_WING_FROM); its shown share is
    their mean direct visibility (`direct_visibility`, (T,) in [0, 1]) weighted by their
    frontal areas (`template_areas`, (T,)), ramped from OWN_WING_FROM to OWN_WING_FULL;
    times how far the mirror stands in for it (their mean `turned_away` by the same weights,
    ramped from MIRRORED_WING_FROM to MIRRORED_WING_FULL: a nearly frontal source's wing,
    which the mirror only tops up, is left as it was). 0 where no wing is turned away."""
    far = (wing > 0.0) & (turned_away > TURNED_WING_FROM)
    areas = template_areas[far]
    total = float(areas.sum())
    if total <= 0.0:
        return 0.0
    shown = float(np.dot(direct_visibility[far], areas)) / total
    turned = float(np.dot(turned_away[far], areas)) / total
    return float(np.clip((shown - OWN_WING_FROM) / (OWN_WING_FULL - OWN_WING_FROM), 0.0, 1.0)
                 * np.clip((turned - MIRRORED_WING_FROM)
                           / (MIRRORED_WING_FULL - MIRRORED_WING_FROM), 0.0, 1.0))


def _blur_radius(sigma: float) -> int:
    """The radius of OpenCV's Gaussian kernel for a float image at `sigma` (its size
    round(8 sigma + 1), made odd)."""
    return (round(sigma * 8.0 + 1.0) | 1) // 2


def _ramp(values: np.ndarray, zero: float, one: float) -> np.ndarray:
    """(H, W) float32: `values` (float32) mapped linearly from 0 at `zero` to 1 at `one`,
    held within [0, 1] (by maximum and minimum, the values of NumPy's clip, which took
    several times as long)."""
    ramp = np.subtract(values, np.float32(zero), dtype=np.float32)
    ramp /= np.float32(one - zero)
    np.maximum(ramp, np.float32(0.0), out=ramp)
    bounded: np.ndarray = np.minimum(ramp, np.float32(1.0), out=ramp)
    return bounded


def _blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, 3) float32 `image` Gaussian-blurred by `sigma`, a fresh float32 array."""
    blurred: np.ndarray = np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.float32)
    return blurred


def _between(contrast: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """`np.clip(contrast, gain**-DETAIL_DOWN, gain)` (H, W) float32, the same values: the
    floor into a fresh array, raised to `contrast` and lowered to `gain` in place (clip's
    min(max(x, floor), ceiling)). NumPy's clip between two arrays, and its power of -1,
    took 0.5 and 0.16 ms on a 336 x 328 box against 0.03 for the three ufuncs; for
    DETAIL_DOWN 1 the floor is the reciprocal, the same float32 as the power for every
    gain in [1, MIRROR_MAX_GAIN] (checked for all 2^23 + 1 of them)."""
    floor = np.reciprocal(gain) if DETAIL_DOWN == 1.0 else gain**-DETAIL_DOWN
    np.maximum(contrast, floor, out=floor)
    bounded: np.ndarray = np.minimum(floor, gain, out=floor)
    return bounded


def _squared_times(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`values**2 * weights` (H, W) float32, the square's array reused for the product."""
    product = np.square(values)
    product *= weights
    return product


def _luma(image: np.ndarray) -> np.ndarray:
    # OpenCV reads a box of a larger image in place (its rows need not follow each other);
    # only the channels must be adjacent and float32.
    contiguous_rows = image.dtype == np.float32 and image.strides[1:] == (12, 4)
    luma: np.ndarray = cv2.cvtColor(image if contiguous_rows
                                    else np.ascontiguousarray(image, dtype=np.float32),
                                    cv2.COLOR_RGB2GRAY)
    return luma


def _shrunk_blurs(planes: tuple[np.ndarray, ...], sigma: float
                  ) -> tuple[list[np.ndarray], int]:
    """Each (H, W) float32 plane Gaussian-blurred at `sigma`, at a size where sigma is
    about LEVEL_SIGMA_PIXELS pixels (returned at that size, float32, with the whole
    factor it was shrunk by: `_area_shrunk`, `_enlarged`): a level carries no detail, and
    the wide blur at full size cost more than the rest of the mirror fill (BENCHMARKS.md,
    fifteenth round)."""
    height, width = planes[0].shape
    shrink = max(1, min(round(sigma / LEVEL_SIGMA_PIXELS), height, width))
    return [cv2.GaussianBlur(plane, (0, 0), sigma / shrink)
            for plane in _area_shrunk(planes, shrink)], shrink


def _area_shrunk(planes: tuple[np.ndarray, ...], shrink: int) -> list[np.ndarray]:
    """(H, W) float32 planes shrunk `shrink` times (a whole factor) by area averaging,
    each pixel the mean of a block of shrink x shrink (the planes' last row and column
    repeated to fill the last blocks: ceil(H / shrink) x ceil(W / shrink) out). A whole
    factor takes OpenCV's block-averaging path: at the non-integer factors sigma /
    LEVEL_SIGMA_PIXELS (1.72 and 6.9 at 440 px) its general path took 0.78 and 0.37 ms for
    four planes of a 336 x 328 box, against 0.06 and 0.16 (twenty-first round).

    The values are those of the planes shrunk four at a time as the channels of one image
    (as they were until the twenty-third round), each plane now alone: no merge into four
    channels and no channels taken apart again (0.29 against 0.19 ms for four planes at
    a factor of 2, 0.39 against 0.27 at 7). OpenCV sums a block in the same order for
    one channel as for four, but at a factor of 2 its vector loop covers a row of four
    channels to the end, and one channel's only to its last whole vector (the rest summed
    in another order): a plane of a four-channel group is padded on the right to a width
    whose shrunk row is a whole number of any vector width (LANES) and cut back. A
    group of two or three still goes as the channels of one image (those sum in the
    other order throughout); the engine shrinks four and five planes."""
    height, width = planes[0].shape
    bottom, right = -height % shrink, -width % shrink
    columns = (width + right) // shrink
    scale = 1.0 / shrink
    shrunk: list[np.ndarray] = []
    for start in range(0, len(planes), 4):
        group = [plane.astype(np.float32, copy=False) for plane in planes[start:start + 4]]
        if len(group) in (2, 3):
            image = cv2.merge(group)
            if bottom or right:
                image = cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            shrunk.extend(cv2.extractChannel(small, channel) for channel in range(len(group)))
            continue
        # As four channels at a factor of 2: every shrunk row a whole number of vectors.
        wide = right + (-columns % LANES) * shrink if len(group) == 4 and shrink == 2 else right
        for plane in group:
            padded = (cv2.copyMakeBorder(plane, 0, bottom, 0, wide, cv2.BORDER_REPLICATE)
                      if bottom or wide else plane)
            small = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            shrunk.append(small if small.shape[1] == columns
                          else np.ascontiguousarray(small[:, :columns]))
    return shrunk


def _enlarged(planes: tuple[np.ndarray, ...], shape: tuple[int, ...], shrink: int
              ) -> list[np.ndarray]:
    """(h, w) float32 planes, shrunk `shrink` times by `_area_shrunk` from (H, W) =
    `shape`, enlarged back (bilinear): each small pixel at its block's centre (enlarged
    `shrink` times, then cut to `shape`)."""
    enlarged = []
    for plane in planes:
        full = cv2.resize(plane, (plane.shape[1] * shrink, plane.shape[0] * shrink),
                          interpolation=cv2.INTER_LINEAR)
        enlarged.append(full[:shape[0], :shape[1]])
    return enlarged


def _ratio(total: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """A weighted mean from its blurred sums: total / mass, 0 where no mass."""
    mean = np.zeros_like(total)
    np.divide(total, mass, out=mean, where=mass > 0.0)
    return mean


def _known(mass: np.ndarray) -> np.ndarray:
    """How far a weighted mean is known: its blurred trust against KNOWN_SHARE of its
    largest value in the box, rising smoothly to 1 (scale-free: a source blended at a
    tenth of the weight knows its level as far)."""
    floor = KNOWN_SHARE * max(float(mass.max()), 1e-12)
    # Clipped in its fresh quotient, and no copy where that is float32 already (a float32
    # plane over a Python float is): the same values.
    quotient = mass / floor
    known: np.ndarray = np.clip(quotient, 0.0, 1.0, out=quotient).astype(np.float32, copy=False)
    return known


# The skin below and beside each eye (its lower lid, the outer corner and the socket down to
# the cheekbone), one side's landmarks: a turned photo shows the far one edge-on, a
# stretched dark sliver, and its mirror image is the near socket's own shade (BENCHMARKS.md,
# sixteenth and thirtieth rounds). The other side's are their mirror images.
SOCKET_LANDMARKS = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 130, 25, 110, 24, 23, 22,
                    26, 112, 243, 226, 31, 228, 229, 230, 231, 232, 233, 244, 35, 111, 117,
                    118, 119, 120, 121, 128, 245, 113, 225, 143, 247)
# A triangle the source shows this much worse than its mirror image is seen too obliquely
# for either to hold its socket's shading (full at twice the margin past it).
OBLIQUE_MARGIN = 0.15
# Only a source turned past the frontal bin (the evaluation's <15 degrees), fully from 20:
# a photo turned less, or tipped down (border-photo: 12 degrees of yaw, 19 of pitch), has
# sockets the mesh reads as a little oblique too, and the target's skin there cost it one to
# two frames of likeness at each of four job ids and brought her the target's crow's feet
# and under-eye bags (BENCHMARKS.md, thirtieth round). Kit Harington's photo: 22 degrees.
TURNED_FROM_DEGREES = 15.0
TURNED_FULL_DEGREES = 20.0
TARGET_TONE_SIGMA = 1.0 / 10.0  # of the crop: the skin round the socket its tone is read from
SMUDGE_DARKER = 12.0  # grey levels of luma: the engine's socket darker than the target's
SMUDGE_SIGMA = 1.0 / 64.0  # of the crop
TARGET_SOCKET_FEATHER = 1.0 / 48.0  # of the crop: the fill's edge, grown out and blurred


def socket_triangles(triangles: np.ndarray, template_vertices: np.ndarray,
                     eye_openings: np.ndarray) -> np.ndarray:
    """(T,) bool: the mesh's triangles wholly in either eye's lower socket
    (`SOCKET_LANDMARKS` and their mirror images), the eye openings out."""
    return mirrored_triangles(triangles, template_vertices, eye_openings, SOCKET_LANDMARKS)


def oblique_share(direct_visibility: np.ndarray, mirror_visibility: np.ndarray,
                  sockets: np.ndarray, yaw_degrees: float) -> np.ndarray:
    """(T,) in [0, 1]: how far each socket triangle is seen too obliquely by a source
    turned `yaw_degrees` (its mirror image shows it clearly better: the far socket of a
    turned photo); 0 off the sockets, where both sides are seen alike (a frontal photo)
    and for a source turned less than `TURNED_FROM_DEGREES`."""
    turned = np.clip((abs(yaw_degrees) - TURNED_FROM_DEGREES)
                     / (TURNED_FULL_DEGREES - TURNED_FROM_DEGREES), 0.0, 1.0)
    worse = mirror_visibility - direct_visibility - OBLIQUE_MARGIN
    return (np.clip(worse / OBLIQUE_MARGIN, 0.0, 1.0) * sockets * turned).astype(np.float32)


def with_target_sockets(image: np.ndarray, target: np.ndarray, share: np.ndarray,
                        shown: np.ndarray, size: int) -> None:
    """In place: `image` (S, S, 3) float32, the engine's face, takes the target's own skin
    (`target`, (S, S, 3) aligned with it) by `share` (S, S), toned to the engine's face: each
    channel times the ratio of the two faces' broad levels round it (sigma a tenth of the
    crop, over `shown` where the share is low). The target's texture and its socket's
    shading against its cheek, at the source's skin colour and brightness; the compositor
    colours it with the rest."""
    if float(share.max()) <= 0.01:
        return
    sigma = TARGET_TONE_SIGMA * size
    box = sockets_reach(share, size)
    around = three_channels((shown[box] * (1.0 - share[box])).astype(np.float32))
    toned = target[box].astype(np.float32) * np.clip(
        _broad(image[box] * around, sigma) / np.maximum(
            _broad(target[box].astype(np.float32) * around, sigma), 1.0), 0.25, 4.0)
    image[box] += three_channels(share[box] * smudged(image[box], toned, size)) * (
        toned - image[box])


def smudged(face: np.ndarray, toned: np.ndarray, size: int) -> np.ndarray:
    """(H, W) float32 in [0, 1]: where the engine's face (H, W, 3) is darker than the toned
    target (the same broad level, the target's own shading) by `SMUDGE_DARKER` or more,
    full at twice that, on a sixty-fourth of the crop: the far socket's smudge. A socket
    the source shows a little obliquely but drew well keeps the source's (border-photo's
    downcast photo: it lost one to two frames of likeness with the fill everywhere the
    visibility asked for it; BENCHMARKS.md, thirtieth round)."""
    darker = cv2.GaussianBlur(_luma(toned) - _luma(face), (0, 0), size * SMUDGE_SIGMA)
    return np.clip(darker / SMUDGE_DARKER - 1.0, 0.0, 1.0)


def _broad(image: np.ndarray, sigma: float) -> np.ndarray:
    """`image` (H, W, 3) float32 blurred by `sigma`, the blur taken at a quarter of the
    size (a tenth of the crop's sigma is smooth there): a sixteenth of the work."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // 4), max(1, height // 4)),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4.0), (width, height),
                      interpolation=cv2.INTER_LINEAR)


def sockets_reach(share: np.ndarray, size: int) -> tuple[slice, slice]:
    """The box `with_target_sockets` reads and changes: where `share` is over 0.01, with
    the skin its tone is read from round it (three of its sigmas)."""
    return grown_bounds(share > 0.01, int(3 * TARGET_TONE_SIGMA * size)) or (slice(0, 0),
                                                                               slice(0, 0))


def feathered_out(share: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32 in [0, 1]: `share` grown by `TARGET_SOCKET_FEATHER` of the crop and
    blurred by as much: full inside the triangles it covers (blurred alone, the few small
    triangles of a socket came out at 0.4 of their share), fading outside them."""
    radius = max(1, round(TARGET_SOCKET_FEATHER * size))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    out = np.zeros(share.shape, dtype=np.float32)
    # Only round the sockets (the blur's reach past the grown share is under 1e-4 of it).
    box = grown_bounds(share > 0, 6 * radius)
    if box is None:
        return out
    grown = cv2.dilate(share[box].astype(np.float32), kernel, borderType=cv2.BORDER_CONSTANT,
                       borderValue=0.0)
    out[box] = np.clip(cv2.GaussianBlur(grown, (0, 0), radius, borderType=cv2.BORDER_CONSTANT),
                       0.0, 1.0)
    return out
