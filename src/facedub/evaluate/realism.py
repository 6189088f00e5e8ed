"""Realism measures of a swapped face: what a viewer sees as "a mask".

Every function compares the swapped frame with the original target frame, both cut with
the target face's alignment (`FaceCrops`: (S, S, 3) uint8 RGB), inside regions built from
the target's landmarks (`RealismRegions`). Two kinds:

- Fidelity against the target (`fidelity`): face-region SSIM, PSNR and an edge error.
  Meaningful for a self-swap, where the target *is* the ideal output (a clip's first half
  swapped onto its second half, or a photo of a person onto a clip of the same person).
- Artifact measures, one per artifact class, each 0 for an untouched frame and rising
  with the artifact:
  `invented_colour` (chroma neither the target's face nor the source's skin uses),
  `blob_share` (dark or bright blobs on the skin the target does not have),
  `doubled_edges` (edges around the kept eye and mouth openings the target does not have,
  nor the source where the output shows the source's own eye: source_openings),
  `stubble` (dark fine texture in the beard zone the target does not have there:
  the source's stubble as dirt on a smooth chin, `stubble.dark_texture`),
  `texture_mismatch` (sharpness and grain of the face against its surroundings, relative
  to the target's as the output path writes it: marked and encoded, no swap),
  `tone_vs_neck` (the face's skin tone against the neck, relative to
  the target's as the output path writes it; kept occluders left out),
  `colour_flatness` (the skin's colour pattern flatter than the target's: her blush,
  rosy nose and warm shading averaged toward one beige, which reads greyer than her
  own skin round the face though the mean tone is hers),
  `foreign_bands` (long runs down the face's outer skin where the swap departs from the
  target's own colour there by more than her skin varies: the source's hair, its shadow
  or a held object lying inside the photo's outline, dragged onto the face as a band
  from temple to jaw).

Plain functions of numpy arrays, so other stages (the refiner's validation, the
expression work) can call them on any pair of crops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from facedub.evaluate.stubble import beard_region, dark_texture
from facedub.faces.masks import convex_hull_mask, face_mask, polygon_mask
from facedub.faces.regions import mesh_regions

NAN = float("nan")
CHROMA_BINS = 64  # a and b histogram bins over CHROMA_RANGE
CHROMA_RANGE = (-64.0, 64.0)
CHROMA_USED = 0.0005  # share of a region's pixels that makes a chroma bin "used"
CHROMA_SLACK = 2  # bins of tolerance around the used chroma (4 Lab units)
CHROMA_NEUTRAL = 6.0  # chroma below this is grey: no hue to invent
DARK_FOR_CHROMA = 20.0  # L below this: chroma is noise (deep shadow, pupils)
BLOB_CONTRAST = 7.0  # L units a blob stands out from its surroundings beyond the target
EDGE_STRENGTH = 10.0  # grey levels per pixel that make an edge
FLAT_GRADIENT = 4.0  # grey levels per pixel below which skin counts as flat (for grain)
NOSE_BOTTOM = (98, 97, 2, 326, 327, 294, 278, 4, 48, 64)  # nostrils and the nose tip
CHIN = 152
JAW_LEFT, JAW_RIGHT = 172, 397  # jaw points at mouth level: the neck lies between
# The colour pattern is read between these shares of the crop (Gaussian sigmas): the
# scales of a blush, a rosy nose, warm shading toward the jaw. Finer is a compressed
# clip's own chroma blocks and the encode's noise (and below what the compositor takes
# of the target's colour, `tone.CHROMA_DIVISOR`); coarser is the tone's mean.
COLOUR_FINE, COLOUR_COARSE = 1 / 64, 1 / 16
COLOUR_SPREAD_MIN = 0.3  # Lab units: a reference skin with less colour pattern is unread
# Foreign bands. The outer skin is the skin within FOREIGN_WIDTH of the crop inside the
# outline, temple to jaw, where the source's hair lies inside a photo's outline (at 0.18
# most of the skin, 88% on d18's frontal crop: all but the face's middle). The swap's
# change is read between FINE and COARSE: finer is the encode's noise, coarser is the
# source's broad shading and the tone (a whole cheek lit otherwise is `tone_vs_neck`'s);
# a band 5-20 px wide at 256 stays. A pixel departs where that change exceeds
# FOREIGN_FLOOR ΔE and the target's own Lab spread there (rms over FOREIGN_SPREAD of the
# crop): her jaw's shadow and beard edge vary as much.
# Only runs FOREIGN_RUN of the crop long count (51 px at 256; Rose Leslie's hair band
# ran 52-92 on the call): a blob is `blob_share`'s, and the swapped features' own edges
# (a nose flank, a fold) break into short pieces.
FOREIGN_WIDTH = 0.18
FOREIGN_FINE, FOREIGN_COARSE = 1 / 128, 1 / 16
FOREIGN_SPREAD = 1 / 64
FOREIGN_FLOOR = 6.0
FOREIGN_RUN = 0.2
FOREIGN_AREA = 0.001  # share of the crop a run covers at least


@dataclass(frozen=True)
class RealismRegions:
    """Bool (S, S) masks in the target face's aligned crop, all inside the frame.

    `face`: the face mask (forehead included), eroded a little; `skin`: the face without
    eyes, brows, lips and nostrils; `openings`: bands around the eye openings and the
    mouth, where a swap meets what the target keeps; `surround`: a ring just outside the
    face; `neck`: below the chin (may be empty when the crop or frame ends there);
    `beard`: below the nose, round the mouth (not the lips), the chin and jaw;
    `outer`: the skin within FOREIGN_WIDTH of the crop inside the face's outline.
    """

    face: np.ndarray
    skin: np.ndarray
    openings: np.ndarray
    surround: np.ndarray
    neck: np.ndarray
    beard: np.ndarray
    outer: np.ndarray


def realism_regions(face_landmarks: np.ndarray, size: int, valid: np.ndarray
                    ) -> RealismRegions:
    """Regions of a (size, size) crop from its face landmarks (478, 2+) in crop pixels;
    `valid` (S, S) bool marks crop pixels that lie inside the frame."""
    regions = mesh_regions()
    points = np.asarray(face_landmarks)[:, :2]
    unit = max(2, size // 64)
    whole = face_mask(points, size, forehead=True) > 0.5
    face = disc(whole, -unit) & valid
    features = np.zeros((size, size), dtype=bool)
    for loop in (regions.left_eye, regions.right_eye, regions.lips_outer):
        features |= polygon_mask(points[loop], size) > 0.5
    for group in (regions.left_eyebrow, regions.right_eyebrow, np.array(NOSE_BOTTOM)):
        features |= convex_hull_mask(points[group], (size, size))
    skin = face & ~disc(features, 2 * unit)
    kept = np.zeros((size, size), dtype=bool)
    for loop in (regions.left_eye, regions.right_eye, regions.lips_inner):
        kept |= polygon_mask(points[loop], size) > 0.5
    openings = disc(kept, 3 * unit) & ~disc(kept, 1) & valid
    surround = disc(whole, 4 * unit) & ~disc(whole, unit) & valid
    outer = skin & ~disc(whole, -round(FOREIGN_WIDTH * size))
    return RealismRegions(face, skin, openings, surround,
                          _neck(points, size, whole, unit) & valid,
                          beard_region(points, size, valid) & face, outer)


@dataclass(frozen=True)
class View:
    """What the measures read of one (S, S, 3) uint8 RGB crop, computed once per frame:
    luma (S, S) float32 0..255, CIELAB (S, S, 3) float32 (L 0..100), and the gradient
    magnitude of the luma smoothed at 1 px (S, S), grey levels per pixel."""

    rgb: np.ndarray
    grey: np.ndarray
    lab: np.ndarray
    edges: np.ndarray


def view(image: np.ndarray) -> View:
    grey = _grey(image)
    return View(image, grey, _lab(image), _gradient(cv2.GaussianBlur(grey, (0, 0), 1.0)))


def _as_view(image: np.ndarray | View) -> View:
    return image if isinstance(image, View) else view(image)


@dataclass(frozen=True)
class Fidelity:
    ssim: float  # 0..1, higher is better
    psnr: float  # dB
    edge_error: float  # mean |gradient difference| / mean target gradient, 0 is perfect


def fidelity(target: np.ndarray | View, swapped: np.ndarray | View, region: np.ndarray
             ) -> Fidelity:
    """SSIM (Wang et al. 2004, Gaussian window sigma 1.5, on luma) averaged over `region`,
    PSNR of RGB over `region`, and the relative error of the gradient magnitude there."""
    if not region.any():
        return Fidelity(NAN, NAN, NAN)
    target, swapped = _as_view(target), _as_view(swapped)
    grey_t, grey_s = target.grey, swapped.grey
    ssim_map = _ssim_map(grey_t, grey_s)
    error = (target.rgb.astype(np.float32) - swapped.rgb.astype(np.float32))[region]
    mse = float(np.mean(error ** 2))
    psnr = 99.0 if mse < 1e-10 else 10.0 * math.log10(255.0 ** 2 / mse)
    gradient_t, gradient_s = _gradient(grey_t), _gradient(grey_s)
    edge = float(np.abs(gradient_s - gradient_t)[region].mean()
                 / max(float(gradient_t[region].mean()), 1e-3))
    return Fidelity(float(ssim_map[region].mean()), psnr, edge)


def chroma_histogram(image: np.ndarray | View, region: np.ndarray) -> np.ndarray:
    """(CHROMA_BINS, CHROMA_BINS) float share of `region`'s lit pixels per (a, b) bin."""
    lab = _as_view(image).lab
    lit = region & (lab[..., 0] > DARK_FOR_CHROMA)
    counts = np.zeros((CHROMA_BINS, CHROMA_BINS), dtype=np.float64)
    if not lit.any():
        return counts
    a_bin, b_bin = _chroma_bins(lab[lit])
    np.add.at(counts, (a_bin, b_bin), 1.0)
    return counts / counts.sum()


def used_chroma(histogram: np.ndarray) -> np.ndarray:
    """(B, B) bool: chroma bins a region uses, with CHROMA_SLACK bins of tolerance."""
    used = (histogram >= CHROMA_USED).astype(np.uint8)
    kernel = np.ones((2 * CHROMA_SLACK + 1,) * 2, dtype=np.uint8)
    dilated: np.ndarray = cv2.dilate(used, kernel).astype(bool)
    return dilated


def invented_colour(target: np.ndarray | View, swapped: np.ndarray | View, region: np.ndarray,
                    source_used: np.ndarray | None = None) -> float:
    """Share of the swapped face's lit, coloured pixels whose chroma (a, b) neither the
    target's face nor the source's skin uses (`source_used` from `used_chroma`, or None to
    judge by the target alone). Magenta brows and orange blotches land here."""
    allowed = used_chroma(chroma_histogram(target, region))
    if source_used is not None:
        allowed |= source_used
    lab = _as_view(swapped).lab
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    judged = region & (lab[..., 0] > DARK_FOR_CHROMA)
    if not judged.any():
        return NAN
    coloured = judged & (chroma >= CHROMA_NEUTRAL)
    a_bin, b_bin = _chroma_bins(lab[coloured])
    invented = int(np.count_nonzero(~allowed[a_bin, b_bin]))
    return invented / int(np.count_nonzero(judged))


def blob_share(target: np.ndarray | View, swapped: np.ndarray | View, skin: np.ndarray
               ) -> float:
    """Share of the skin covered by dark or bright blobs (band-pass lightness beyond
    BLOB_CONTRAST) that the target does not have there: hair smears, nostril holes,
    carried-over shine. Blobs of about 1/60 to 1/8 of the crop are seen."""
    if not skin.any():
        return NAN
    target, swapped = _as_view(target), _as_view(swapped)
    band_t = _band_pass(target.lab[..., 0])
    band_s = _band_pass(swapped.lab[..., 0])
    extra = band_s - band_t
    dark = (band_s < -BLOB_CONTRAST) & (extra < -BLOB_CONTRAST)
    bright = (band_s > BLOB_CONTRAST) & (extra > BLOB_CONTRAST)
    return float(np.count_nonzero((dark | bright) & skin) / np.count_nonzero(skin))


def doubled_edges(target: np.ndarray | View, swapped: np.ndarray | View, openings: np.ndarray,
                  explained: np.ndarray | None = None) -> float:
    """Share of the bands around the eye and mouth openings where the swapped frame has an
    edge EDGE_STRENGTH stronger than the strongest target edge within 2 px: a second lid
    line or lash row above the kept eye, lips drawn twice. `explained` (S, S) float: edge
    magnitudes the output may also have (the source's own eyes where it shows them,
    `source_openings.source_edges`), judged the same way; None: the target alone."""
    if not openings.any():
        return NAN
    allowed = _as_view(target).edges
    if explained is not None:
        allowed = np.maximum(allowed, explained)
    nearby = cv2.dilate(allowed, np.ones((5, 5), dtype=np.uint8))
    extra = (_as_view(swapped).edges - nearby > EDGE_STRENGTH) & openings
    return float(np.count_nonzero(extra) / np.count_nonzero(openings))


@dataclass(frozen=True)
class Texture:
    sharpness: float  # |log2| of (face/surround sharpness) swapped over target's; 0 is equal
    grain: float  # the same for grain (noise in flat skin)


def texture_mismatch(target: np.ndarray | View, swapped: np.ndarray | View, face: np.ndarray,
                     surround: np.ndarray) -> Texture:
    """How much sharper or softer, and grainier or cleaner, the face is than its
    surroundings, compared with the target's own face and surroundings. Pass as `target`
    the target written the way `swapped` was (marked and encoded, no swap:
    `evaluate.output_path`), so that a perfect face scores 0."""
    if not face.any() or not surround.any():
        return Texture(NAN, NAN)

    def contrast(image: View) -> tuple[float, float]:
        sharp, grain, flat = _sharpness(image.grey), _grain(image.grey), image.edges
        return (_mean(sharp, face) / _mean(sharp, surround),
                _flat_mean(grain, flat, face) / _flat_mean(grain, flat, surround))

    (sharp_t, grain_t) = contrast(_as_view(target))
    (sharp_s, grain_s) = contrast(_as_view(swapped))
    return Texture(abs(math.log2(sharp_s / sharp_t)), abs(math.log2(grain_s / grain_t)))


def tone_vs_neck(reference: np.ndarray | View, swapped: np.ndarray | View, skin: np.ndarray,
                 neck: np.ndarray) -> float:
    """CIE76 ΔE of the face's tone change against the neck's: the mean over the face's
    `skin` of the per-pixel Lab change from `reference` to `swapped`, minus the mean over
    the `neck`. A face warmer, greyer or paler than its own neck than in the reference.
    NaN without enough neck.

    Per-pixel changes, so what the neck box holds (skin, a collar, a hand) cancels out
    but for its encode noise: on occlusion-mic the box holds the collar, the hand and the
    microphone, and the face-minus-neck means of two different frames measured those.
    Means, so a change on part of the skin counts by its share (a median was tried and
    read a paler lower half as 0). `measure_realism` leaves the beard zone out of `skin`
    (a goatee shaved away is the stubble measure's business, not the skin's tone)."""
    if np.count_nonzero(neck) < 50 or not skin.any():
        return NAN
    lab_r, lab_s = _as_view(reference).lab, _as_view(swapped).lab
    face_change = (lab_s[skin] - lab_r[skin]).mean(axis=0)
    neck_change = (lab_s[neck] - lab_r[neck]).mean(axis=0)
    return float(np.linalg.norm(face_change - neck_change))


def colour_flatness(reference: np.ndarray | View, swapped: np.ndarray | View,
                    skin: np.ndarray) -> float:
    """1 - the `skin`'s colour contrast in `swapped` over `reference`'s: the rms of a and b
    together, band-passed between COLOUR_FINE and COLOUR_COARSE of the crop. 0 for the
    reference itself, 0.2 for a skin whose colour pattern is 80% as strong, negative
    where the swap's colour varies more than hers. NaN without enough skin or a
    reference with no colour pattern (a greyscale frame).

    The README pair's face reads greyer and less pink than her own skin round it with its
    mean tone hers (tone vs neck 0.54 ΔE; a face greyed evenly, chroma times 0.8, reads 3
    there) and its smoothed chroma within 1 of hers per pixel: its colour pattern is
    0.82 of hers at these scales. Not all of the grey read: her own colour on the swap's
    lightness still reads grey (his shading and texture at her lit skin's colour;
    BENCHMARKS.md, twenty-ninth round)."""
    if np.count_nonzero(skin) < 50:
        return NAN
    spread_r = _colour_spread(_as_view(reference).lab, skin)
    if spread_r < COLOUR_SPREAD_MIN:
        return NAN
    return 1.0 - _colour_spread(_as_view(swapped).lab, skin) / spread_r


def foreign_bands(target: np.ndarray | View, swapped: np.ndarray | View, face: np.ndarray,
                  outer: np.ndarray) -> float:
    """Share of the `outer` skin covered by long runs where the swap's Lab change from
    `target`, between FOREIGN_FINE and FOREIGN_COARSE of the crop, exceeds FOREIGN_FLOOR
    and the target's own spread there (read over `face`). 0 for the target itself.

    Rose Leslie's photo onto the two-person video call: her red hair lies inside the
    photo's outline and comes out as a grey-brown band down the far cheek, 8-14 L darker
    than his cheek, which `blob_share` (its scale and contrast), `invented_colour` (the
    band's chroma is skin's) and `doubled_edges` (the eyes and mouth only) read as 3%."""
    if not outer.any():
        return NAN
    target, swapped = _as_view(target), _as_view(swapped)
    size = outer.shape[0]
    change = swapped.lab - target.lab
    band = (cv2.GaussianBlur(change, (0, 0), max(1.0, size * FOREIGN_FINE))
            - cv2.GaussianBlur(change, (0, 0), size * FOREIGN_COARSE))
    departure = np.linalg.norm(band, axis=-1)
    # The target's spread from her face alone: the background past the outline is not
    # hers, and its contrast with her cheek would hide any band beside it.
    inside = face.astype(np.float32)
    sigma = size * FOREIGN_SPREAD
    weight = cv2.GaussianBlur(inside, (0, 0), sigma)[..., None] + 1e-6
    mean = cv2.GaussianBlur(target.lab * inside[..., None], (0, 0), sigma) / weight
    square = cv2.GaussianBlur(target.lab ** 2 * inside[..., None], (0, 0), sigma) / weight
    spread = np.sqrt(np.maximum(square - mean ** 2, 0.0).sum(axis=-1))
    departs = outer & (departure > np.maximum(spread, FOREIGN_FLOOR))
    # Close gaps of a pixel or two so a band broken by the skin's texture reads whole.
    closing = max(1, size // 128)
    joined = disc(disc(departs, closing), -closing) & outer
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined.astype(np.uint8),
                                                                connectivity=8)
    long_runs = [i for i in range(1, count)
                 if max(stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT])
                 >= FOREIGN_RUN * size
                 and stats[i, cv2.CC_STAT_AREA] >= FOREIGN_AREA * size * size]
    runs = np.isin(labels, long_runs) & departs
    return float(np.count_nonzero(runs) / np.count_nonzero(outer))


def _colour_spread(lab: np.ndarray, skin: np.ndarray) -> float:
    size = lab.shape[0]
    colour = np.ascontiguousarray(lab[..., 1:])
    band = (cv2.GaussianBlur(colour, (0, 0), size * COLOUR_FINE)
            - cv2.GaussianBlur(colour, (0, 0), size * COLOUR_COARSE))[skin]
    return float(np.sqrt(band.var(axis=0).sum()))


def _neck(points: np.ndarray, size: int, whole: np.ndarray, unit: int) -> np.ndarray:
    chin_y = float(points[CHIN, 1])
    left, right = sorted((float(points[JAW_LEFT, 0]), float(points[JAW_RIGHT, 0])))
    inset = (right - left) * 0.2
    top, bottom = chin_y + 2 * unit, chin_y + size * 0.12
    neck = np.zeros((size, size), dtype=bool)
    rows = slice(max(0, round(top)), max(0, min(size, round(bottom))))
    columns = slice(max(0, round(left + inset)), max(0, min(size, round(right - inset))))
    neck[rows, columns] = True
    return neck & ~disc(whole, unit)


def _ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    covariance = blur(a * b) - mu_a * mu_b
    ssim: np.ndarray = ((2 * mu_a * mu_b + c1) * (2 * covariance + c2)
                        / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return ssim


def _band_pass(lightness: np.ndarray) -> np.ndarray:
    """Fine minus coarse blur of L; the coarse one at quarter size (it keeps no detail)."""
    size = lightness.shape[0]
    fine = cv2.GaussianBlur(lightness, (0, 0), max(1.0, size / 128))
    small = cv2.resize(lightness, (size // 4, size // 4), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(cv2.GaussianBlur(small, (0, 0), size / 64), (size, size),
                        interpolation=cv2.INTER_LINEAR)
    band: np.ndarray = fine - coarse
    return band


def _sharpness(grey: np.ndarray) -> np.ndarray:
    sharp: np.ndarray = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    return sharp


def _grain(grey: np.ndarray) -> np.ndarray:
    """|grey - its 3x3 median|: noise and film grain, little of the image's structure."""
    median = cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3).astype(np.float32)
    grain: np.ndarray = np.abs(grey - median)
    return grain


def _mean(values: np.ndarray, region: np.ndarray) -> float:
    return float(values[region].mean()) + 0.05


def _flat_mean(values: np.ndarray, edges: np.ndarray, region: np.ndarray) -> float:
    flat = region & (edges < FLAT_GRADIENT)
    return _mean(values, flat if np.count_nonzero(flat) >= 50 else region)


def _gradient(grey: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    magnitude: np.ndarray = np.hypot(gx, gy) / 4.0  # grey levels per pixel
    return magnitude


def _chroma_bins(lab_pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = CHROMA_RANGE
    scaled = (lab_pixels[:, 1:3] - low) / (high - low) * CHROMA_BINS
    bins = np.clip(scaled.astype(np.int64), 0, CHROMA_BINS - 1)
    return bins[:, 0], bins[:, 1]


def disc(mask: np.ndarray, radius: int) -> np.ndarray:
    """A bool mask grown (radius > 0) or shrunk (radius < 0) by a disc."""
    if radius == 0:
        return mask.astype(bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
    hard = mask.astype(np.uint8)
    changed = cv2.dilate(hard, kernel) if radius > 0 else cv2.erode(hard, kernel)
    result: np.ndarray = changed.astype(bool)
    return result


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


@dataclass(frozen=True)
class Realism:
    """Every realism measure of one frame (see the module docstring); NaN if unmeasured."""

    face_ssim: float
    face_psnr: float
    edge_error: float
    invented_colour: float
    blobs: float
    stubble: float
    doubled_edges: float
    sharpness_mismatch: float
    grain_mismatch: float
    tone_vs_neck: float
    colour_flatness: float
    foreign_bands: float


# Artifact measures (higher is worse), in the order the contact sheet shows them.
ARTIFACT_MEASURES = ("invented_colour", "blobs", "stubble", "doubled_edges", "sharpness_mismatch",
                     "grain_mismatch", "tone_vs_neck", "colour_flatness", "foreign_bands")


def measure_realism(target: np.ndarray | View, swapped: np.ndarray | View,
                    regions: RealismRegions, source_used: np.ndarray | None = None,
                    source_edges: np.ndarray | None = None,
                    written: np.ndarray | View | None = None,
                    occluded: np.ndarray | None = None) -> Realism:
    """All realism measures of one pair of (S, S, 3) uint8 RGB crops (or their views).
    `source_used`: see `invented_colour`; `source_edges`: `explained` of `doubled_edges`;
    `written`: the target's crop as the output path writes it with no swap (marked and
    encoded, `evaluate.output_path`), the zero of `texture_mismatch`, `tone_vs_neck` and
    `colour_flatness`; None: the target. `occluded` (S, S) float in [0, 1] or bool: what
    the swap keeps of the target in front of the face (hands, a microphone), left out of
    `tone_vs_neck`'s skin and neck, of `colour_flatness`'s skin and of `foreign_bands`'
    outer skin; None: nothing."""
    target, swapped = _as_view(target), _as_view(swapped)
    reference = target if written is None else _as_view(written)
    bare = np.ones_like(regions.skin) if occluded is None else np.asarray(occluded) < 0.5
    fit = fidelity(target, swapped, regions.face)
    bare_skin = regions.skin & ~regions.beard & bare
    texture = texture_mismatch(reference, swapped, regions.face, regions.surround)
    return Realism(
        face_ssim=fit.ssim, face_psnr=fit.psnr, edge_error=fit.edge_error,
        invented_colour=invented_colour(target, swapped, regions.face, source_used),
        blobs=blob_share(target, swapped, regions.skin),
        stubble=dark_texture(target.lab[..., 0], swapped.lab[..., 0], regions.beard),
        doubled_edges=doubled_edges(target, swapped, regions.openings, source_edges),
        sharpness_mismatch=texture.sharpness, grain_mismatch=texture.grain,
        tone_vs_neck=tone_vs_neck(reference, swapped, bare_skin, regions.neck & bare),
        colour_flatness=colour_flatness(reference, swapped, bare_skin),
        foreign_bands=foreign_bands(target, swapped, regions.face, regions.outer & bare))
