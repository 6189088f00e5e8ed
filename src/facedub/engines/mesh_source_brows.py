"""A photo's brows' inner heads out of the shade its expression casts on them.

Biden's smiling portrait reads browDown 0.87-0.89: his broad smile squints, his brows sit
0.08 eye distances lower over his eyes than at rest (the two-people photo, browDown
0.64-0.69) and their inner heads lie in the squint's shade. Warped onto d18's resting
face, his pale grey brows' middles and dark inner heads (L* 30 at the inner head where
d18's own is 43) read as a frown on every frame: browDown 0.11-0.15 over d18's. Drawing
his brows higher (his brow points moved toward his eyes before the warp) hardly moved the
evaluation's reading and looked the same; the output's inner heads raised to the
lightness of its brows' middles read d18's browDown (within 0.02).

So on a photo whose browDown reads beyond any resting face's (BROW_REST), each brow's
inner head is lifted in the source crop to at least the median lightness of the same
brow's middle, only lighter, before the warp. The brows' middles and outer ends, their
hair's colour and the skin round them stay as they are. No other photo in the shared set
reads over BROW_REST (Paul Rudd's neutral studio portrait 0.60, Kit Harington 0.47-0.52,
the others 0.40 or less), and a video source's faces show its rest among them.

A target frame takes the lift only as far as its own inner heads are lighter against its
skin than the photo's (`heads_against_skin`, `lift_share`): on Obama's heavy dark brows
(0.41-0.56 against Biden's 0.60) the photo's shaded heads are what his own look like, and
the whole lift read his browDown 0.15-0.18 under his own (main's within 0.02). Obama's
browDown (0.43-0.75 in video mode) and d18's (0.52-0.68) overlap, so it cannot tell them
apart. The share is eased per track (`BROW_SHARE_STEP`), so a reading's jitter does not
flicker the heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import convex_hull_mask

# The highest browDown a resting face reads in the shared set: Biden in the two-people
# photo 0.64-0.69, Paul Rudd's studio portrait 0.60, d18 0.16-0.31.
BROW_REST = 0.7
# Each brow's inner head (upper and lower edge's two innermost points) and its middle.
_INNER_HEADS = ((107, 66, 65, 55), (336, 296, 295, 285))
_MIDDLES = ((66, 105, 52, 65), (296, 334, 282, 295))
HEAD_GROW = 0.04  # eye distances the inner head's hull is grown by (its hairs past it)
HEAD_SOFT = 0.015  # eye distances: the lift's edge softened over this
# A target frame's own inner heads' shade against its skin (`heads_against_skin`) against
# the photo's own: the whole lift where they are at least as light as the photo's, none
# from LIFT_RAMP darker. In the engine's crops d18's read 0.61-0.69 against Biden's
# 0.60 (his frown there: the whole lift); Obama's heavy dark brows 0.41-0.56, his own as
# shaded as the photo's (the whole lift read 0.15 under his browDown): none.
LIFT_RAMP = 0.02
BROW_SHARE_STEP = 0.1  # the most a track's share moves a frame (`EasedShare`)
# Skin the inner heads are read against: the forehead and the cheeks (discs of this radius
# in eye distances), away from the brows and the squint's shade.
_SKIN = (151, 50, 280)
SKIN_RADIUS = 0.08


@dataclass(frozen=True)
class BrowLift:
    """A crop's inner heads' lift (`inner_heads_lifted`): its (H, W, 3) int16 RGB `delta`
    over the crop's rows `top` on and columns `left` on, and the crop's own
    `heads_against_skin` (`shade`)."""

    top: int
    left: int
    delta: np.ndarray
    shade: float


def brows_held_down(blendshapes: np.ndarray) -> bool:
    """Whether a photo's (52,) `blendshapes` read its brows further down than a face at
    rest reads them (its expression's, not its person's)."""
    down = np.mean([blendshapes[BLENDSHAPE_NAMES.index(name)]
                    for name in ("browDownLeft", "browDownRight")])
    return float(down) > BROW_REST


def heads_against_skin(rgb: np.ndarray, landmarks: np.ndarray) -> float:
    """The brows' inner heads' median lightness (CIELAB L, both brows' mean) over the
    skin's (the forehead's and cheeks' discs' median) in the (S, S, 3) uint8 `rgb` face,
    `landmarks` (478, 2+) in its pixels: low where the inner heads are dark, shaded or
    heavy."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    radius = max(1, round(SKIN_RADIUS * float(np.linalg.norm(points[263] - points[33]))))
    used = points[[index for head in _INNER_HEADS for index in head] + list(_SKIN)]
    top, left = np.maximum(np.floor(used.min(axis=0)).astype(int)[::-1] - radius, 0)
    bottom, right = np.ceil(used.max(axis=0)).astype(int)[::-1] + radius + 1
    # The box round the heads and the skin's discs only: the whole crop's conversion
    # would cost a frame more.
    lightness = cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right, :3]),
                             cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    shifted = points - (left, top)
    skin = float(np.median([_median_in(lightness, _disc(lightness.shape, shifted[index], radius))
                            for index in _SKIN]))
    heads = np.mean([_median_in(lightness, _hull(lightness.shape, shifted[list(head)], 0) > 0.5)
                     for head in _INNER_HEADS])
    return float(heads) / max(skin, 1.0)


def lift_share(lift: BrowLift, target_shade: float) -> float:
    """How much of the photo's `lift` a target frame takes (0..1) by its own inner heads'
    `heads_against_skin` (`target_shade`): the whole where they are at least as light as
    the photo's own, none from LIFT_RAMP darker (heavy dark brows: the photo's shade is
    what the target's own look like)."""
    return float(np.clip((target_shade - lift.shade) / LIFT_RAMP + 1.0, 0.0, 1.0))


def brow_lift(crop: np.ndarray, photo: np.ndarray, landmarks: np.ndarray) -> BrowLift | None:
    """The (S, S, 3+) uint8 `crop`'s `inner_heads_lifted` as a `BrowLift` (its RGB only),
    with the (S, S, 3) `photo` crop's own `heads_against_skin` (before any lift of its
    light: the engine's lifted shadows read Biden's 0.68, not the photo's 0.60), None
    where it lightens nothing."""
    rgb = np.ascontiguousarray(crop[..., :3])
    delta = inner_heads_lifted(rgb, landmarks).astype(np.int16) - rgb
    rows, cols = np.nonzero(np.any(delta != 0, axis=2))
    if not len(rows):
        return None
    top, left = int(rows.min()), int(cols.min())
    return BrowLift(top, left, delta[top:rows.max() + 1, left:cols.max() + 1].copy(),
                    heads_against_skin(photo, landmarks))


def with_lift(crop: np.ndarray, lift: BrowLift, share: float) -> np.ndarray:
    """A copy of the (S, S, 3+) uint8 `crop` with `share` (0..1) of `lift` added to its RGB;
    `crop` itself where the share is 0."""
    if share <= 0.0:
        return crop
    height, width = lift.delta.shape[:2]
    lifted = crop.copy()
    box = lifted[lift.top:lift.top + height, lift.left:lift.left + width, :3]
    box[...] = np.clip(box + np.rint(share * lift.delta), 0, 255).astype(np.uint8)
    return lifted


def inner_heads_lifted(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 RGB `crop` with each brow's inner head lightened (CIELAB L, only
    up) to at least its brow's middle's median lightness; `landmarks` (478, 2+) in crop
    pixels."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eye_distance = float(np.linalg.norm(points[263] - points[33]))
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[..., 0].copy()
    lifted = lightness.copy()
    grow = max(1, round(HEAD_GROW * eye_distance))
    for head, middle in zip(_INNER_HEADS, _MIDDLES, strict=True):
        middle_mask = _hull(crop.shape, points[list(middle)], 0) > 0.5
        if not middle_mask.any():
            continue
        level = float(np.median(lightness[middle_mask]))
        weight = cv2.GaussianBlur(_hull(crop.shape, points[list(head)], grow), (0, 0),
                                  max(0.5, HEAD_SOFT * eye_distance))
        lifted += weight * np.maximum(level - lifted, 0.0)
    lab[..., 0] = lifted
    moved = cv2.cvtColor(np.clip(np.rint(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    # Elsewhere the crop's own pixels (a round trip through 8-bit CIELAB moves them).
    return np.where((lifted > lightness)[..., None], moved, crop)


def _median_in(values: np.ndarray, mask: np.ndarray) -> float:
    return float(np.median(values[mask])) if mask.any() else float(np.median(values))


def _disc(shape: tuple[int, ...], centre: np.ndarray, radius: int) -> np.ndarray:
    drawn = np.zeros(shape[:2], dtype=np.uint8)
    cv2.circle(drawn, (round(centre[0]), round(centre[1])), radius, 255, -1)
    return drawn > 0


def _hull(shape: tuple[int, ...], points: np.ndarray, grow: int) -> np.ndarray:
    drawn = convex_hull_mask(points, (shape[0], shape[1])).astype(np.uint8) * np.uint8(255)
    grown = drawn if not grow else cv2.dilate(
        drawn, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return np.asarray(grown, dtype=np.float32) / 255.0
