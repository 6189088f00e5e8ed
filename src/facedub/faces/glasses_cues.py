"""Glasses cues read on a face's crop (the compositor's occlusion mask adds them to
OccluderNet's guess in the face's canonical crop, see facedub.composite.occlusion; the
mesh engine reads them on a source face, so that a source's glasses are not taken for
a wrinkled nose: facedub.engines.mesh_expression):

- `glasses_frames`: thin dark or bright lines around the eyes, and how sure it is that
  the face wears glasses at all (a frame's bridge across the nose);
- `faint_glasses_evidence`: faint frames, from three weak cues at once;
- `cheek_lightness`: how each cheek is lit, so a track's judgement can leave out faces lit
  unlike the rest of it (see facedub.composite.glasses_tracks).

The target's reflections on its lenses are facedub.composite.occlusion_cues; the objects
in front of the face facedub.composite.occlusion_objects.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.faces.masks import box_meet, box_within
from facedub.faces.regions import mesh_regions

CHEEKS = (205, 425, 50, 280, 187, 411)
INNER_EYE_CORNERS = (133, 362)
# Glasses: a line this much above the cheeks' own texture is a frame (clear plastic rims
# are faint; the lines only count once the face is known to wear glasses); a bridge whose
# strongest row of vertical gradient is BRIDGE_LOW..BRIDGE_HIGH times its median row, or
# a net that marks RING_LOW..RING_HIGH of the zone of lenses and frames, is unsure..sure
# evidence of glasses.
LINE_NOISE, LINE_FLOOR = 0.7, 1.5
BRIDGE_LOW, BRIDGE_HIGH = 4.0, 7.0
RING_LOW, RING_HIGH = 0.15, 0.35
# Faint glasses (d12's clear plastic frames in its first 24 frames, where the cues above
# read 0): no cue is enough alone, but a net marking a little of the zone, a weak bridge
# and lines along a ring around each eye, all three in the same face, are (each ramps
# from its low to its high; bare faces reach one or two of them, not all three).
FAINT_NET, FAINT_BRIDGE, FAINT_RING = (0.06, 0.10), (2.0, 3.5), (0.2, 0.4)
# Below a lens its rim is the lowest part of a pair of glasses: a short mark further out
# than a frame line (with the line between it and the eye) is the face's own, a nose wing's
# crease or a mole (d9: 6-15 px marks at 0.33-0.51 eye spacings below the eye, 5-9 px under
# the rim's lower arc beside the nose, in every one of its first 40 frames; its rims'
# fragments, 1-8 px gaps apart, have nothing but the lens between them and the eye). A mark
# counts when its centroid lies STRAY_BELOW eye spacings below its eye's centre (below the
# lens: `lens_zones`' half-height), its box's diagonal is under STRAY_LENGTH eye spacings
# (d9's marks: up to 0.28), it reaches STRAY_PEAK somewhere (a fainter one barely shows),
# and lines of the map above STRAY_LINE lie STRAY_GAP to STRAY_REACH eye spacings from its
# centroid towards the eye's centre (d9: 0.08-0.13 at the 10th-90th percentiles). Nearer
# than STRAY_GAP it may be the rim's own other edge: d12's clear plastic rims show both
# edges, and faint bits below them. Without the gap and the peak 122 marks of its 182
# faces went (0.06 eye spacings from a line at the median, peaks 0.13), and in a swap its
# held rims moved once one had gone (frame 24's, 0.33 at the cheek under the left lens,
# took the left rim's search six frames later another way); with them, 16. d9's first 40
# faces lose 110 marks, their summed peaks 93.7 of the 96.0 that went without the two.
STRAY_BELOW, STRAY_LENGTH, STRAY_GAP, STRAY_REACH = 0.32, 0.35, 0.06, 0.2
STRAY_LINE, STRAY_PEAK = 0.3, 0.5
# A mark on the ring that the compositor fits to the lines (composite.glasses_rims'
# `fit_rims`, fitted here to the lines before any went) is that rim's lower arc, kept: a
# pixel of it within STRAY_RING eye spacings of the ring. On d12 after its first 40 frames
# clear rims' lower arcs (faces 60 and 143: at a lens's bottom, by the nose) broke into
# bits with a fainter edge between them and the eye; 8 of the 16 marks that went were
# 0.0-1.7 px from the ring (4 of them moved the rims fitted, faces 60, 63, 143, 145), the
# other 8 4.6-8.4 px; d9's 110 creases and mole 3.9-8.7 px (spacings 57-65 px). Fitting
# the rings costs about 2 ms a look where a mark is to go (d9: every face).
STRAY_RING = 0.04
# The rings `fit_rims` tries (composite.glasses_rims, a layer above, takes them from here):
# centre offsets, half-widths and ratios in eye spacings, samples along a ring, and the
# spread of a line.
RING_OFFSETS_X = (-0.08, -0.04, 0.0, 0.04, 0.08)
RING_OFFSETS_Y = (-0.04, 0.0, 0.04, 0.08, 0.12)
RING_HALF_WIDTHS = (0.30, 0.34, 0.38, 0.42, 0.46, 0.50, 0.54)
RING_RATIOS = (0.7, 0.8, 0.9, 1.0, 1.1)
RING_SAMPLES, RING_SPREAD = 48, 0.025
# Each cheek's skin for `cheek_lightness`: mesh points around the face's right cheek, then
# its left.
CHEEK_PATCHES = ((205, 50, 187, 123, 117), (425, 280, 411, 352, 346))


def half_pixels(fine_landmarks: np.ndarray) -> np.ndarray:
    """(N, 2) landmarks of the fine (256 px) canonical crop in the pixels of the net's
    output (64 px), where every cue but the glasses frames is judged: half pixel u covers
    fine pixels 4u to 4u + 3, so its centre is fine 4u + 1.5."""
    return (np.asarray(fine_landmarks)[:, :2] - 1.5) / 4.0


def glasses_frames(canonical: np.ndarray, landmarks: np.ndarray, bridge: bool = True
                   ) -> tuple[np.ndarray, float]:
    """Glasses frames in `canonical` (C, C, 3) uint8 RGB: a (C, C) float32 map in [0, 1] of
    thin lines around the eyes, and the evidence in [0, 1] that there are glasses at all
    (with `bridge` False, not looked for: 0.0).

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
    gray = cv2.cvtColor(canonical, cv2.COLOR_RGB2GRAY)
    disc = max(3, round(0.12 * spacing) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc))
    line = _top_hat(gray[box], kernel)
    cheeks = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(CHEEKS)]).astype(np.int32))
    cv2.fillConvexPoly(cheeks, hull, 255)
    texture = _cheek_texture(gray, cheeks, kernel)
    keep = (zone[box] > 0) & ~eyes_and_brows(points, size, grow=disc // 2 + 1)[box]
    frames = np.zeros((size, size), np.float32)
    frames[box] = _without_marks_below_rims(
        np.clip((line - LINE_NOISE * texture - LINE_FLOOR) / (texture + 4.0), 0.0, 1.0) * keep,
        [centre - (x, y) for centre in centres], spacing)
    if not bridge:
        return frames, 0.0
    ratio = _bridge_ratio(gray.astype(np.float32), points, centres, spacing)
    return frames, float(np.clip((ratio - BRIDGE_LOW) / (BRIDGE_HIGH - BRIDGE_LOW), 0.0, 1.0))


def _without_marks_below_rims(lines: np.ndarray, centres: list[np.ndarray], spacing: float
                              ) -> np.ndarray:
    """`lines` (H, W) float32 in [0, 1] (a box of `glasses_frames`' map) less the short marks
    below the lenses that lie further out than a frame line (see STRAY_BELOW): the face's own.
    `centres` the eyes' centres in the box's pixels. In place; returned."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        (lines > 0).astype(np.uint8), connectivity=8)
    if count < 3:
        return lines
    # The eye of each mark: the one nearer in x.
    eye_centres = np.array(centres)
    eyes = eye_centres[np.argmin(np.abs(centroids[:, None, 0] - eye_centres[None, :, 0]), axis=1)]
    short = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) < (
        STRAY_LENGTH * spacing)
    low = centroids[:, 1] > eyes[:, 1] + STRAY_BELOW * spacing
    strong = lines > STRAY_LINE
    seen = np.bincount(labels[lines > STRAY_PEAK], minlength=count) > 0
    marks = np.flatnonzero(short & low & seen)
    marks = marks[marks > 0]  # label 0 is the background
    if not marks.size:
        return lines
    # Every mark's samples from its centroid towards its eye, (M, S, 2) x and y; each
    # sample's 2x2 neighbourhood read, so that a thin diagonal line is not stepped over.
    towards = eyes[marks] - centroids[marks]
    towards /= np.maximum(np.linalg.norm(towards, axis=1, keepdims=True), 1e-6)
    steps = np.arange(STRAY_GAP * spacing, STRAY_REACH * spacing, 0.5)
    corners = np.floor(centroids[marks, None, :] + steps[None, :, None] * towards[:, None, :]
                       ).astype(np.int64)
    height, width = lines.shape
    columns = np.clip(corners[..., 0:1] + (0, 1, 0, 1), 0, width - 1)
    rows = np.clip(corners[..., 1:2] + (0, 0, 1, 1), 0, height - 1)
    met = labels[rows, columns]
    outside = (strong[rows, columns] & (met != marks[:, None, None])).any(axis=(1, 2))
    if outside.any():
        outside[outside] = ~_on_rings(labels, marks[outside], lines, eye_centres, spacing)
    if outside.any():
        kept = np.ones(count, np.float32)
        kept[marks[outside]] = 0.0
        lines *= kept[labels]
    return lines


def _on_rings(labels: np.ndarray, marks: np.ndarray, lines: np.ndarray,
              centres: np.ndarray, spacing: float) -> np.ndarray:
    """(M,) bool: whether each of `marks` (labels in `labels`) has a pixel within STRAY_RING
    eye spacings of the rings fitted to `lines` (`_fitted_rings`)."""
    angles = np.linspace(0.0, 2.0 * np.pi, 360, endpoint=False)
    ring_points = np.concatenate([
        np.stack([x + half_width * np.cos(angles), y + half_height * np.sin(angles)], axis=1)
        for x, y, half_width, half_height in _fitted_rings(lines, centres, spacing)])
    near = np.zeros(len(marks), bool)
    for index, mark in enumerate(marks):
        rows, columns = np.nonzero(labels == mark)
        pixels = np.stack([columns, rows], axis=1).astype(np.float64)
        distances = np.linalg.norm(pixels[:, None, :] - ring_points[None], axis=2)
        near[index] = distances.min() <= STRAY_RING * spacing
    return near


def _fitted_rings(lines: np.ndarray, centres: np.ndarray, spacing: float) -> np.ndarray:
    """(2, 4) the ring around each of `centres` (x, y in the pixels of `lines`, a box of
    `glasses_frames`' map that holds all its lines) that runs along most of the lines:
    composite.glasses_rims' `fit_rims` (the same rings tried, the same count of samples
    on or a pixel or two beside a line), in the box's pixels."""
    spread = max(1, round(RING_SPREAD * spacing))
    margin = spread + 1  # the lines' spread beyond the box, which `fit_rims` sees
    height, width = lines.shape
    near = np.zeros((height + 2 * margin, width + 2 * margin), np.uint8)
    near[margin:-margin, margin:-margin] = lines > 0.2
    near = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spread + 1,) * 2))
    grid = np.array(np.meshgrid(RING_OFFSETS_X, RING_OFFSETS_Y, RING_HALF_WIDTHS, RING_RATIOS,
                                indexing="ij")).reshape(4, -1).T
    candidates = grid.copy()
    candidates[:, 3] = grid[:, 2] * grid[:, 3]
    candidates *= spacing
    angles = np.linspace(0.0, 2.0 * np.pi, RING_SAMPLES, endpoint=False)
    rings = np.zeros((2, 4))
    for eye, centre in enumerate(centres):
        tried = candidates + np.array([centre[0], centre[1], 0.0, 0.0])
        xs = np.round(tried[:, :1] + tried[:, 2:3] * np.cos(angles)).astype(np.intp) + margin
        ys = np.round(tried[:, 1:2] + tried[:, 3:4] * np.sin(angles)).astype(np.intp) + margin
        inside = (xs >= 0) & (xs < near.shape[1]) & (ys >= 0) & (ys < near.shape[0])
        hits = np.where(inside, near[np.clip(ys, 0, near.shape[0] - 1),
                                     np.clip(xs, 0, near.shape[1] - 1)], 0)
        rings[eye] = tried[int(np.argmax(hits.sum(axis=1)))]
    return rings


def faint_glasses_evidence(canonical: np.ndarray, landmarks: np.ndarray, net_share: float,
                           ring_cover: float) -> float:
    """Evidence in [0, 1] of faint glasses on the face of the fine `canonical` crop: the
    weakest of the net's share (`net_glasses_share`), the bridge's ratio and the rims'
    `ring_cover` (glasses_rims), each ramped over its FAINT_* range."""
    points = np.asarray(landmarks)[:, :2]
    regions = mesh_regions()
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    luminance = cv2.cvtColor(canonical, cv2.COLOR_RGB2GRAY).astype(np.float32)
    ratio = _bridge_ratio(luminance, points, centres, spacing)
    cues = [(net_share, FAINT_NET), (ratio, FAINT_BRIDGE), (ring_cover, FAINT_RING)]
    return float(min(np.clip((value - low) / (high - low), 0.0, 1.0)
                     for value, (low, high) in cues))


def cheek_lightness(canonical: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """The mean CIELAB lightness (0-255) of the face's right and left cheek in the fine
    `canonical` crop (C, C, 3) uint8 RGB; `landmarks` in its pixels."""
    lightness = cv2.cvtColor(canonical, cv2.COLOR_RGB2LAB)[..., 0]
    points = np.asarray(landmarks)[:, :2]
    means = []
    for patch in CHEEK_PATCHES:
        mask = np.zeros(lightness.shape, np.uint8)
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[list(patch)]).astype(np.int32)), 1)
        means.append(float(cv2.mean(lightness, mask)[0]) if mask.any() else 0.0)
    return means[0], means[1]


def net_glasses_evidence(probabilities: np.ndarray, landmarks: np.ndarray) -> float:
    """Evidence in [0, 1] of glasses from the net's (R, R) `probabilities` (see
    `net_glasses_share`), ramped from RING_LOW to RING_HIGH."""
    share = net_glasses_share(probabilities, landmarks)
    return float(np.clip((share - RING_LOW) / (RING_HIGH - RING_LOW), 0.0, 1.0))


def net_glasses_share(probabilities: np.ndarray, landmarks: np.ndarray) -> float:
    """The share in [0, 1] of the net's (R, R) `probabilities`: how much of the
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
    return min(float(probabilities[side].mean()) for side in sides)


def lens_zones(landmarks: np.ndarray, size: int, outer: bool = False) -> np.ndarray:
    """(size, size) uint8, 255 inside two ellipses around the eyes: the lenses, or with
    `outer` the lenses with their frames."""
    return _lens_zones_in(landmarks, size, outer, (slice(0, size), slice(0, size)))


def _lens_zones_in(landmarks: np.ndarray, size: int, outer: bool,
                   box: tuple[slice, slice]) -> np.ndarray:
    """`lens_zones` of a (size, size) crop in its `box` (rows, columns) alone: the
    ellipses drawn about their whole-pixel centres less the box's corner (the same
    pixels)."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    tilt = float(np.degrees(np.arctan2(*(centres[1] - centres[0])[::-1])))
    axes = (0.62, 0.5) if outer else (0.42, 0.32)
    rows, columns = box
    zone = np.zeros((rows.stop - rows.start, columns.stop - columns.start), np.uint8)
    for centre in centres:
        x, y = _point(centre)
        cv2.ellipse(zone, (x - columns.start, y - rows.start),
                    (round(axes[0] * spacing), round(axes[1] * spacing)), tilt, 0, 360, 255, -1)
    return zone


def glasses_span(landmarks: np.ndarray, size: int,
                 box: tuple[slice, slice] | None = None) -> np.ndarray:
    """(size, size) uint8, 255 over what a pair of glasses spans: both lenses with their
    frames and the bridge between them (the convex hull of the two); with `box` (rows,
    columns) only that part of it (the same pixels: no full-size canvas is made, at
    512 px a few tenths of a millisecond)."""
    if box is None:
        box = (slice(0, size), slice(0, size))
    span = np.zeros((box[0].stop - box[0].start, box[1].stop - box[1].start), np.uint8)
    # The zones are drawn whole (as far as the crop goes), wherever the box is: the hull
    # is theirs, not that of the part of them inside the box.
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    reach = 2 + round(0.62 * float(np.linalg.norm(points[regions.left_eye].mean(axis=0)
                                                  - points[regions.right_eye].mean(axis=0))))
    eyes = np.concatenate([points[regions.right_eye], points[regions.left_eye]])
    low = np.clip(np.floor(eyes.min(axis=0)).astype(int) - reach, 0, size)
    high = np.clip(np.ceil(eyes.max(axis=0)).astype(int) + reach + 1, 0, size)
    if (high <= low).any():
        return span
    around = (slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0])))
    zone = _lens_zones_in(landmarks, size, True, around)
    x, y, width, height = cv2.boundingRect(zone)
    if width:
        # The hull of the zones is the hull of each row's first and last pixel: a tenth
        # of the points of all of them, which made this 2 ms at 512 px. Drawn where the
        # zones are (it lies inside their box), then the part inside `box` taken.
        band = zone[y:y + height, x:x + width] > 0
        rows = np.flatnonzero(band.any(axis=1))
        band = band[rows]
        left = band.argmax(axis=1) + x
        right = x + width - 1 - band[:, ::-1].argmax(axis=1)
        rows += y
        # Each row's first then last pixel, written into one array (the points of two
        # stacks concatenated, without their copies).
        ends = np.empty((2, len(rows), 2), np.int32)
        ends[0, :, 0], ends[1, :, 0] = left, right
        ends[:, :, 1] = rows
        zone[:] = 0
        cv2.fillConvexPoly(zone, cv2.convexHull(ends.reshape(-1, 2)), 255)
        shared = box_meet(box, around)
        if shared is not None:
            span[box_within(shared, box)] = zone[box_within(shared, around)]
    return span


def _top_hat(gray: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """float32: how far each pixel of `gray` (uint8) lies above its opening or below its
    closing by `kernel`. Opened and closed as uint8: the same values as of the float32
    luminance (its values are whole), at a fraction of the cost (0.5 ms a frame)."""
    luminance = gray.astype(np.float32)
    opened = cv2.morphologyEx(gray, cv2.MORPH_OPEN, kernel).astype(np.float32)
    closed = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel).astype(np.float32)
    return np.maximum(luminance - opened, closed - luminance)


def _cheek_texture(gray: np.ndarray, cheeks: np.ndarray, kernel: np.ndarray) -> float:
    """The 90th percentile of the top-hat response on bare cheek skin (`cheeks`, uint8
    non-zero there; `gray` the uint8 luminance)."""
    if cv2.countNonZero(cheeks) < 12:
        return 8.0
    x, y, width, height = cv2.boundingRect(cheeks)
    box = (slice(y, y + height), slice(x, x + width))
    response = _top_hat(gray[box], kernel)
    return float(order_percentile(response[cheeks[box] > 0], 90))


def _bridge_ratio(luminance: np.ndarray, points: np.ndarray, centres: list[np.ndarray],
                  spacing: float) -> float:
    """The bridge's strongest row of vertical gradient over its median row (0: no room)."""
    inner = points[list(INNER_EYE_CORNERS)]
    x0, x1 = int(inner[0, 0] + 0.1 * spacing), int(inner[1, 0] - 0.1 * spacing)
    middle = (centres[0][1] + centres[1][1]) / 2.0
    y0, y1 = int(middle - 0.35 * spacing), int(middle + 0.1 * spacing)
    if x1 - x0 < 3 or y1 - y0 < 5 or y0 < 0 or x0 < 0:
        return 0.0
    bridge = luminance[y0:y1, x0:x1]
    rows = np.abs(cv2.Sobel(bridge, cv2.CV_32F, 0, 1, ksize=3)).mean(axis=1)
    return float(rows.max() / (order_median(rows) + 1.0))


def eyes_and_brows(points: np.ndarray, size: int, grow: int) -> np.ndarray:
    """(size, size) bool: the eye openings and brows, grown by `grow` pixels."""
    regions = mesh_regions()
    mask = np.zeros((size, size), np.uint8)
    for loop in (regions.right_eye, regions.left_eye):
        cv2.fillPoly(mask, [np.round(points[loop]).astype(np.int32)], 255)
    for brow in (regions.right_eyebrow, regions.left_eyebrow):
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[brow]).astype(np.int32)), 255)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    # Dilated in their box grown by `grow` alone: beyond it the dilation is 0 (the same
    # pixels, a fraction of the work on the fine crop).
    grown = np.zeros((size, size), bool)
    x, y, width, height = cv2.boundingRect(mask)
    if width:
        rows = slice(max(0, y - grow), min(size, y + height + grow))
        columns = slice(max(0, x - grow), min(size, x + width + grow))
        grown[rows, columns] = cv2.dilate(mask[rows, columns], kernel) > 0
    return grown


def order_median(values: np.ndarray) -> np.floating:
    """`np.median` of the non-empty, finite 1-D float `values`, to the bit (a scalar of
    their dtype): its partition and the mean of the middle one or two, without the
    general function's argument handling, which at the cues' sizes (tens to thousands of
    values, several times a frame) cost several times the partition itself."""
    count = values.size
    middle = count // 2
    if count % 2:
        return np.partition(values, middle)[middle]  # type: ignore[no-any-return]
    part = np.partition(values, [middle - 1, middle])
    return (part[middle - 1] + part[middle]) / 2  # type: ignore[no-any-return]


def order_percentile(values: np.ndarray, percent: float) -> np.floating:
    """`np.percentile(values, percent)` (its default, linear interpolation) of the
    non-empty, finite 1-D float `values`, to the bit: the two order statistics about its
    virtual index, interpolated as NumPy's `_lerp` does (from the nearer one)."""
    return order_quantile(values, percent / 100)


def order_quantile(values: np.ndarray, fraction: float) -> np.floating:
    """`np.quantile(values, fraction)` (its default, linear interpolation) of the
    non-empty, finite 1-D float `values`, to the bit (see `order_percentile`, which is
    this of `percent / 100`, as NumPy's own is): about a tenth of the general
    function's cost at the eyes' rings' sizes (2 against 20 us)."""
    count = values.size
    virtual = (count - 1) * fraction
    lower = int(np.floor(virtual))
    upper = lower + 1
    if virtual >= count - 1:
        lower = upper = count - 1
    part = np.partition(values, [lower, upper] if upper != lower else lower)
    below, above = part[lower], part[upper]
    share = virtual - lower
    step = above - below
    if share >= 0.5:
        return above - step * (1 - share)  # type: ignore[no-any-return]
    return below + step * share  # type: ignore[no-any-return]


def _point(point: np.ndarray) -> tuple[int, int]:
    return round(float(point[0])), round(float(point[1]))
