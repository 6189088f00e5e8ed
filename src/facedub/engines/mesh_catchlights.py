"""The source's catchlights taken out of its irises.

A catchlight is the light source mirrored in the cornea: it belongs to the light of the
scene the eye was filmed in, not to the eye. A studio portrait's strip lights show as tall
white bars either side of the pupil (Paul Rudd's photo: two bars, each about a quarter of
the iris wide, the full height of the opening). Warped onto a target face 40 px wide and
toned like the target's eyes, they read as dark and light vertical stripes through the
eye, a visible artifact (BENCHMARKS.md, eleventh and twelfth rounds). So before the
source's eyes are used, whatever in its iris is much lighter than the iris itself is
filled from the iris around it; the target's own catchlights are then laid back over the
moved iris where the target's eye shows them (`target_catchlights`), so the eye keeps the
frame's light. They are placed about each eye's pupil as the image shows it (`_pupil`),
not the landmarks' iris centre: a photo's pupil may sit 3-4 px from that (the shouting
photo on d10, 456 px), and d10's ring light, laid about the landmark, crossed the iris
above the pupil as a second iris ring (BENCHMARKS.md, nineteenth and twentieth rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.engines.mesh_eyes import EYES

# Share of the iris radius read as iris: its rim next to the whites is left out, so the
# whites are never taken for a catchlight.
IRIS_CORE = 0.85
# L units above the iris's median from which a pixel may be a catchlight (Rudd's bars
# 20-45, d18's dot 30). On its own it took far more: an iris half pupil and half lighter
# iris, or the white and lower lid's rim the disc takes in, reach it too (half of
# Obama's, Dylan's or d10's iris disc; twelfth round review), hence SPOT_BY.
LIGHTER_BY = 18.0
# A catchlight is a small spot or bar, narrower than SPOT_WIDTH of the iris radius (Rudd's
# bars 2-3 px, d18's dot 3 px, of a 6-px radius at 256 px; twice that in the 512-px source
# crops): it stands SPOT_BY L above what a morphological opening that wide leaves of it,
# while a lit half of the iris or the whites at its rim are broad and stay.
SPOT_WIDTH = 0.8
SPOT_BY = 12.0
# Lit spots over more of the disc than this are the eye's own light parts (a light,
# speckled iris), not a reflection: none is taken then.
MAX_SHARE = 0.35
MIN_IRIS_PIXELS = 12  # an iris smaller than this is left as it is
GROW = 1  # pixels: a catchlight's soft rim is taken with it
# The pupil is looked for within PUPIL_REACH of the iris radius of the landmarks' iris
# centre (the shouting photo's sat 0.3 radius below it) as a disc PUPIL_SIZE of the
# radius darker than the iris round it, from PUPIL_SIZE * SURROUND_FROM to
# PUPIL_SIZE * SURROUND_TO, in each of four quarters but one (a lid may cover the
# pupil's top); the darkest point alone was the lash line above the photo's iris. Found
# where that darkness is PUPIL_BY L or more; else the landmarks' centre stays (an iris
# as dark as its pupil).
PUPIL_REACH = 0.4
PUPIL_SIZE = 0.2
SURROUND_FROM = 1.4
SURROUND_TO = 2.6
PUPIL_BY = 12.0


@dataclass(frozen=True)
class Catchlight:
    """One eye's catchlight in the target crop: its `pixels` (h, w, 3) float32 RGB and
    soft `mask` (h, w) float32 0..1, in a box whose top-left corner lies `offset` (x, y)
    pixels from the iris centre of the target's landmarks, and `from_pupil` (x, y) pixels
    from its pupil's centre (`_pupil`; None where its pupil does not show)."""

    pixels: np.ndarray
    mask: np.ndarray
    offset: tuple[int, int]
    from_pupil: tuple[int, int] | None = None


def _iris(landmarks: np.ndarray, eye_index: int) -> tuple[np.ndarray, float]:
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    eye = EYES[eye_index]
    centre = points[eye.iris_centre]
    radius = float(np.linalg.norm(points[list(eye.iris_ring)] - centre, axis=1).mean())
    return centre, radius


def _lightness(pixels: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                       cv2.COLOR_RGB2LAB)
    lightness: np.ndarray = lab[..., 0]
    return lightness


def _found(image: np.ndarray, landmarks: np.ndarray, eye_index: int
           ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
    """(box, catchlight mask uint8 0/255 in it, L less the iris's median in it) for one
    eye of `image` (S, S, 3) RGB, or None where its iris shows too little."""
    size = image.shape[0]
    centre, radius = _iris(landmarks, eye_index)
    reach = int(np.ceil(radius)) + GROW + 2
    x0, y0 = np.clip(np.floor(centre).astype(int) - reach, 0, size)
    x1, y1 = np.clip(np.floor(centre).astype(int) + reach + 1, 0, size)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    box = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
    opening = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    contour = np.asarray(landmarks)[EYES[eye_index].contour, :2] - (x0, y0)
    cv2.fillPoly(opening, [np.round(contour).astype(np.int32)], 255)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    disc = (np.hypot(xs - centre[0], ys - centre[1]) <= IRIS_CORE * radius) & (opening > 0)
    if disc.sum() < MIN_IRIS_PIXELS:
        return None
    lightness = _lightness(image[box])
    lift = lightness - float(np.median(lightness[disc]))
    width = max(3, 2 * round(SPOT_WIDTH * radius / 2) + 1)  # odd, so centred
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    spot = lightness - cv2.morphologyEx(lightness, cv2.MORPH_OPEN, kernel)
    light = (disc & (lift > LIGHTER_BY) & (spot > SPOT_BY)).astype(np.uint8) * 255
    if np.count_nonzero(light) > MAX_SHARE * np.count_nonzero(disc):
        light[:] = 0
    if GROW:
        light = cv2.dilate(light, np.ones((2 * GROW + 1,) * 2, np.uint8)) & opening
    return box, light, lift.astype(np.float32)


def _quarters(radius: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Averaging kernels: a disc of `radius` pixels, and the four quarters (above, below,
    left, right) of the ring round it from SURROUND_FROM to SURROUND_TO times that."""
    reach = int(np.ceil(SURROUND_TO * radius))
    ys, xs = np.mgrid[-reach:reach + 1, -reach:reach + 1].astype(np.float64)
    distance = np.hypot(xs, ys)
    ring = (distance >= SURROUND_FROM * radius) & (distance <= SURROUND_TO * radius)
    sides = [ys < -np.abs(xs), ys > np.abs(xs), xs < -np.abs(ys), xs > np.abs(ys)]
    disc = (distance <= radius).astype(np.float32)
    kernels = [(ring & side).astype(np.float32) for side in sides]
    return disc / disc.sum(), [kernel / max(kernel.sum(), 1.0) for kernel in kernels]


def _pupil(image: np.ndarray, landmarks: np.ndarray, eye_index: int, centre: np.ndarray
           ) -> np.ndarray | None:
    """(x, y) float64: the centre of the pupil of one eye of `image` (S, S, 3) RGB without
    catchlights, looked for about `centre` (x, y) with `landmarks` (478, 2+) giving the
    opening and the iris's size; None where no pupil shows."""
    size = image.shape[0]
    _, radius = _iris(landmarks, eye_index)
    pupil = max(PUPIL_SIZE * radius, 1.0)
    disc, quarters = _quarters(pupil)
    reach = int(np.ceil(PUPIL_REACH * radius)) + disc.shape[0] // 2 + 1
    x0, y0 = np.clip(np.floor(centre).astype(int) - reach, 0, size)
    x1, y1 = np.clip(np.floor(centre).astype(int) + reach + 1, 0, size)
    if x1 - x0 < disc.shape[1] or y1 - y0 < disc.shape[0]:
        return None
    opening = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    contour = np.asarray(landmarks)[EYES[eye_index].contour, :2] - (x0, y0)
    cv2.fillPoly(opening, [np.round(contour).astype(np.int32)], 255)
    lightness = _lightness(image[y0:y1, x0:x1]).astype(np.float32)
    inner = cv2.filter2D(lightness, -1, disc, borderType=cv2.BORDER_REPLICATE)
    darker = np.sort(np.stack([cv2.filter2D(lightness, -1, quarter,
                                            borderType=cv2.BORDER_REPLICATE) - inner
                               for quarter in quarters]), axis=0)[1]  # all quarters but one
    ys, xs = np.mgrid[y0:y1, x0:x1]
    search = (np.hypot(xs - centre[0], ys - centre[1]) <= PUPIL_REACH * radius) & (opening > 0)
    if not search.any():
        return None
    score = np.where(search, darker, -np.inf)
    row, column = np.unravel_index(np.argmax(score), score.shape)
    best = float(score[row, column])
    if best < PUPIL_BY:
        return None
    # To a fraction of a pixel (the score's top round its peak), so the laid catchlight
    # does not jump a pixel between frames with the grain.
    near = np.hypot(xs - xs[row, column], ys - ys[row, column]) <= 1.5
    weight = np.where(near & search, np.maximum(score - 0.7 * best, 0.0), 0.0)
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def without_catchlights(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`crop` (S, S, 3) uint8 RGB with the catchlights in both irises of `landmarks`
    (478, 2+, its pixels) filled from the iris around them (a copy)."""
    result = crop.copy()
    for eye_index in range(len(EYES)):
        found = _found(crop, landmarks, eye_index)
        if found is None or not found[1].any():
            continue
        box, light, _ = found
        result[box] = cv2.inpaint(np.ascontiguousarray(result[box]), light, 3,
                                  cv2.INPAINT_TELEA)
    return result


def _offset(box: tuple[slice, slice], centre: np.ndarray) -> tuple[int, int]:
    """(x, y) pixels from `centre` (x, y) to the top-left corner of `box` (rows, columns)."""
    return (int(box[1].start) - round(float(centre[0])),
            int(box[0].start) - round(float(centre[1])))


def target_catchlights(target: np.ndarray, landmarks: np.ndarray) -> list[Catchlight | None]:
    """Per eye, the catchlight of the target crop `target` (S, S, 3) uint8 RGB whose
    landmarks are `landmarks` (478, 2+), placed about its iris centre and about its pupil
    (found with the catchlight filled, which would pull the darkest point off it); None
    where it shows none."""
    lights: list[Catchlight | None] = []
    for eye_index in range(len(EYES)):
        found = _found(target, landmarks, eye_index)
        if found is None or not found[1].any():
            lights.append(None)
            continue
        box, light, _ = found
        clean = target.copy()
        clean[box] = cv2.inpaint(np.ascontiguousarray(target[box]), light, 3, cv2.INPAINT_TELEA)
        centre = _iris(landmarks, eye_index)[0]
        pupil = _pupil(clean, landmarks, eye_index, centre)
        offset = _offset(box, centre)
        soft = cv2.GaussianBlur(light.astype(np.float32) / 255.0, (3, 3), 0)
        lights.append(Catchlight(target[box].astype(np.float32), soft, offset,
                                 None if pupil is None else _offset(box, pupil)))
    return lights


def with_catchlights(image: np.ndarray, landmarks: np.ndarray, centres: np.ndarray,
                     lights: list[Catchlight | None]) -> np.ndarray:
    """Lay each eye's target catchlight over `image` (S, S, 3) float32 RGB, in place,
    about its pupil where both the target's eye and this one show theirs (`_pupil`, looked
    for about the iris centres `centres` (2, 2) (x, y) where the image shows its irises),
    else about those centres, inside the eye openings of `landmarks` (478, 2+)
    (a lid never carries one). Returns where it laid them, (S, S) float32 in [0, 1]: the
    target's pixels there, not the source's (`mesh_eyes_tone.source_share`)."""
    size = image.shape[0]
    laid = np.zeros(image.shape[:2], dtype=np.float32)
    for eye_index, light in enumerate(lights):
        if light is None:
            continue
        height, width = light.mask.shape
        # About the pupils where both eyes show theirs, else about the iris centres, as
        # the landmarks give them: one of each put the pattern off by the other eye's
        # pupil's distance from its landmarks (d18's dot on the streamer's dark irises).
        centre = np.asarray(centres[eye_index], np.float64)
        about, offset = centre, light.offset
        if light.from_pupil is not None:
            pupil = _pupil(image, landmarks, eye_index, centre)
            if pupil is not None:
                about, offset = pupil, light.from_pupil
        x0 = round(float(about[0])) + offset[0]
        y0 = round(float(about[1])) + offset[1]
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + width, size), min(y0 + height, size)
        if cx1 - cx0 < 1 or cy1 - cy0 < 1:
            continue
        opening = np.zeros((cy1 - cy0, cx1 - cx0), dtype=np.uint8)
        contour = np.asarray(landmarks)[EYES[eye_index].contour, :2] - (cx0, cy0)
        cv2.fillPoly(opening, [np.round(contour).astype(np.int32)], 255)
        inner = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
        weight = (light.mask[inner] * (opening > 0))[..., None]
        box = image[cy0:cy1, cx0:cx1]
        box += weight * (light.pixels[inner] - box)
        laid[cy0:cy1, cx0:cx1] = np.maximum(laid[cy0:cy1, cx0:cx1], weight[..., 0])
    return laid
