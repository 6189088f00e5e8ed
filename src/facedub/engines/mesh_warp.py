"""Piecewise-affine warping of a source face's texture onto a target face's mesh.

The target mesh is rasterised once per frame (which triangle covers each pixel, nearest
triangle wins where the face overlaps itself, as the nose does a cheek when the head
turns); every source face then only needs one affine per triangle and one `cv2.remap`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from facedub.engines.mesh_topology import MeshTopology, signed_areas
from facedub.faces.geometry import umeyama

MIN_TRIANGLE_AREA = 0.05  # square pixels; thinner triangles are edge-on and not drawn
# Raster pixels squared: the blur of an area shrink by 2 and a linear enlargement
# (`coarse_smooth_upsample`), taken off the sigma asked for.
SHRINK_VARIANCE = 1.0
# Raster pixels: a drawn triangle narrower than this (twice its area over its longest edge)
# is a sliver, edge-on. cv2.fillConvexPoly gives a triangle every pixel its edges touch, so
# a near sliver takes pixels whose centres lie up to 0.7 px outside it, and their weights,
# extrapolated across its width, sample the source far away (self-split-webcam's frame 39:
# -24.6, the source's nostril 45 source px off, a dark speck; BENCHMARKS.md, twenty-seventh
# round). Those pixels go to the triangle beneath.
SLIVER_WIDTH = 0.5


@dataclass(frozen=True)
class TargetRaster:
    """Which triangle covers each pixel of the target crop, at `scale` of its size.

    `pixels` (P,) flat indices of covered pixels of the (size, size) raster; `triangle` (P,)
    the triangle covering each; `barycentric` (P, 3) float32 weights of its corners.
    """

    size: int
    scale: float  # raster pixels per crop pixel
    pixels: np.ndarray
    triangle: np.ndarray
    barycentric: np.ndarray
    # The covered pixels' first and last row and column (None: none covered), found once
    # with the raster: a box reaching past them all needs no selection of its pixels
    # (`_near_box`).
    bounds: tuple[int, int, int, int] | None = field(init=False, repr=False, compare=False)
    # The barycentric weights as (3, P), each corner's weights a contiguous row: every map
    # made on the raster (about a dozen a frame of a video source: each face's direct and
    # mirror maps, the reshaped target, the mouth interiors) multiplies them, and a column
    # of the (P, 3) array is a strided read (0.23 -> 0.19 ms a map pair at 440 px with the
    # corners below; the same values: a copy).
    weight_rows: np.ndarray = field(init=False, repr=False, compare=False)
    # (size * size,) intp: the triangle covering each raster pixel, -1 where none does.
    # A face's per-triangle values (its trusts, where it needs the mirror) become a raster
    # plane by one gather through it (`triangle_plane`), not a gather per covered pixel, a
    # zeroed plane and a scatter into it: the same values, three times a source face and
    # frame.
    triangle_image: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds", _covered_bounds(self.pixels, self.size))
        object.__setattr__(self, "weight_rows", np.ascontiguousarray(self.barycentric.T))
        image = np.full(self.size * self.size, -1, dtype=np.intp)
        image[self.pixels] = self.triangle
        object.__setattr__(self, "triangle_image", image)


def _covered_bounds(pixels: np.ndarray, size: int) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) of the sorted flat `pixels` of a
    (size, size) raster; None for none."""
    if len(pixels) == 0:
        return None
    first_row, last_row = (int(pixel) // size for pixel in pixels[[0, -1]])
    columns = pixels % size
    return first_row, last_row, int(columns.min()), int(columns.max())


def rasterize(vertices: np.ndarray, depths: np.ndarray, size: int, topology: MeshTopology,
              scale: float = 0.5) -> TargetRaster:
    """Rasterise the target mesh, far triangles first so near ones overwrite them.

    The warp is continuous across triangle edges, so it is computed at `scale` of the crop
    and its coordinate maps upsampled: a quarter of the work at half size.
    """
    raster_size = max(8, round(size * scale))
    points = vertices * (raster_size / size)
    triangles = topology.triangles
    areas = signed_areas(points, triangles)
    drawn = areas * topology.winding > MIN_TRIANGLE_AREA * scale**2
    order = np.flatnonzero(drawn)
    order = order[np.argsort(-depths[triangles[order]].mean(axis=1))]
    corners = np.round(points[triangles] * 16).astype(np.int32)  # 4 fractional bits
    flat = _filled(raster_size, corners, order).ravel()
    pixels = np.flatnonzero(flat)
    # As NumPy's own index type: every per-pixel gather through it (the maps' corners,
    # each face's visibilities) is then a plain take, not a cast of the indices first
    # (int32 indices into a strided column took 37 against 11 us at 20,000 pixels).
    covering = (flat[pixels] - 1).astype(np.intp)
    # The maps are later resized to the crop with pixel centres aligned: raster pixel i
    # stands for raster coordinate i + (1 - raster_size / size) / 2, not i (half a pixel
    # off at scale 0.5, which shifted every warped face).
    centre_offset = 0.5 * (1.0 - raster_size / size)
    weights = _barycentric(points, triangles, covering, pixels, raster_size, centre_offset)
    # A sliver's pixels whose centre lies outside it (SLIVER_WIDTH): the triangle the raster
    # shows there without the slivers, where there is one.
    sliver = _slivers(points, triangles, areas)
    stray = _stray(sliver, covering, weights)
    if stray.size:
        # Drawn again without the slivers: only the triangles whose box (a pixel wider:
        # fillConvexPoly's edge pixels) holds a stray pixel, the same ones last over it.
        ys, xs = np.divmod(pixels[stray], raster_size)
        candidates = order[~sliver[order]]
        candidates = candidates[_holding(points[triangles[candidates]], xs, ys)]
        beneath = _filled(raster_size, corners, candidates)
        under = beneath.ravel()[pixels[stray]] - 1
        moved = stray[under >= 0]
        covering[moved] = under[under >= 0]
        weights[moved] = _barycentric(points, triangles, covering[moved], pixels[moved],
                                      raster_size, centre_offset)
    return TargetRaster(raster_size, raster_size / size, pixels, covering, weights)


def _filled(raster_size: int, corners: np.ndarray, order: np.ndarray) -> np.ndarray:
    """(raster_size, raster_size) int32: 1 + the index of the triangle drawn last over each
    pixel, `order` drawn in turn (`corners` (T, 3, 2) with 4 fractional bits); 0: none."""
    index_image = np.zeros((raster_size, raster_size), dtype=np.int32)
    # Polygons and values prepared outside the loop: it runs for every drawn triangle.
    for polygon, value in zip(corners[order], (order + 1).tolist(), strict=True):
        cv2.fillConvexPoly(index_image, polygon, value, cv2.LINE_8, 4)  # 4 fractional bits
    return index_image


def _stray(sliver: np.ndarray, covering: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sorted indices of the covered pixels a sliver (`sliver` (T,) bool, `_slivers`) took
    whose centre lies outside it (a barycentric weight in `weights` (P, 3) below 0). The
    weights are read only on the slivers' own pixels (a few dozen of about 20,000), and
    their least as two elementwise minima: NumPy's `min(axis=1)` over all rows of three
    was a quarter of the raster's time (0.6 of 2.5 ms a frame at 440 px)."""
    on_sliver = np.flatnonzero(sliver[covering])
    held = weights[on_sliver]
    least = np.minimum(np.minimum(held[:, 0], held[:, 1]), held[:, 2])
    stray: np.ndarray = on_sliver[least < 0.0]
    return stray


def _holding(corners: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(C,) bool: which triangles (`corners` (C, 3, 2) in raster pixels) hold one of the
    pixels `xs`, `ys` in their box a pixel wider (fillConvexPoly's edge pixels). Only the
    triangles whose box meets the pixels' own box are tested pixel by pixel: the same
    answer, without a (C, pixels) test for all of them."""
    low = corners.min(axis=1) - 1.0
    high = corners.max(axis=1) + 1.0
    holds = ((low[:, 0] <= xs.max()) & (high[:, 0] >= xs.min())
             & (low[:, 1] <= ys.max()) & (high[:, 1] >= ys.min()))
    near = np.flatnonzero(holds)
    low, high = low[near], high[near]
    holds[near] = ((xs[None, :] >= low[:, :1]) & (xs[None, :] <= high[:, :1])
                   & (ys[None, :] >= low[:, 1:]) & (ys[None, :] <= high[:, 1:])).any(axis=1)
    return holds


def _slivers(points: np.ndarray, triangles: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """(T,) bool: triangles narrower than SLIVER_WIDTH (twice the area over the longest
    edge) in `points`' pixels; `areas` their signed areas there (`signed_areas`)."""
    a, b, c = (points[triangles[:, k]] for k in range(3))
    longest = np.max([np.hypot(*(q - p).T) for p, q in ((a, b), (b, c), (c, a))], axis=0)
    return 2.0 * np.abs(areas) < SLIVER_WIDTH * longest


def _barycentric(points: np.ndarray, triangles: np.ndarray, covering: np.ndarray,
                 pixels: np.ndarray, size: int, offset: float = 0.0) -> np.ndarray:
    """(P, 3) barycentric weights of pixel centres (each at its index + `offset`) in their
    covering triangle."""
    determinant, adjugate = _corner_adjugates(points, triangles)
    singular = np.abs(determinant) < 1e-9
    # The inverses of the corner matrices, rows of [x y 1] -> weights, from their
    # adjugates: a third less time than LAPACK's inverse and determinant of ~900 3x3
    # matrices, equal to them in float32 on every frame checked (rounded from float64).
    inverse = adjugate / np.where(singular, 1.0, determinant)[:, None, None]
    inverse[singular] = np.eye(3)  # never drawn, never looked up
    # Each entry's (T,) column contiguous, so the per-pixel gathers below read a plain
    # array (the same values: a gather is a copy).
    columns = np.ascontiguousarray(inverse.astype(np.float32).transpose(1, 2, 0))  # (3, 3, T)
    ys, xs = np.divmod(pixels, size)
    # Each weight as x * a + y * b + c in float32, the inverse's entries gathered per pixel
    # one (T,) column at a time: the values of the einsum over the gathered (P, 3, 3)
    # matrices with the homogeneous 1 (its products in the same order), at two thirds of
    # its time (twenty-second round).
    x, y = (np.asarray(coordinate + offset, dtype=np.float32) for coordinate in (xs, ys))
    weights = np.empty((len(pixels), 3), dtype=np.float32)
    for j in range(3):
        weights[:, j] = (x * columns[0, j][covering] + y * columns[1, j][covering]
                         + columns[2, j][covering])
    return weights


def _corner_adjugates(points: np.ndarray, triangles: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(T,) determinants and (T, 3, 3) adjugates of each triangle's corner matrix, rows
    [x_k, y_k, 1] (so inverse = adjugate / determinant)."""
    (x0, y0), (x1, y1), (x2, y2) = (points[triangles[:, k]].T for k in range(3))
    columns = [(y1 - y2, x2 - x1, x1 * y2 - x2 * y1),  # cofactors of row 0 ...
               (y2 - y0, x0 - x2, x2 * y0 - x0 * y2),  # ... row 1 ...
               (y0 - y1, x1 - x0, x0 * y1 - x1 * y0)]  # ... row 2: the adjugate's columns
    determinant = x0 * columns[0][0] + y0 * columns[0][1] + columns[0][2]
    adjugate = np.stack([np.stack(column, axis=1) for column in columns], axis=2)
    return determinant, adjugate


def triangle_corners(source_vertices: np.ndarray, source_triangles: np.ndarray) -> np.ndarray:
    """(2, 3, T) float32: each triangle's corners in the source, x then y, each corner's
    coordinate a contiguous (T,) row (`source_maps` gathers them per pixel through the
    raster's intp `triangle` without a cast or a strided read: 0.2 ms a map pair less at
    440 px; the same values, a gather is a copy). The same for every frame a source face
    is blended in: `SourceFaces` makes it once a face (0.02 ms a map)."""
    corners: np.ndarray = np.ascontiguousarray(
        source_vertices.astype(np.float32)[source_triangles].transpose(2, 1, 0))
    return corners


def source_maps(raster: TargetRaster, source_vertices: np.ndarray, source_triangles: np.ndarray,
                size: int, box: tuple[slice, slice] | None = None,
                corners: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(size, size) float32 maps for cv2.remap into the source crop; uncovered pixels
    point outside it (-1). With `box` (rows, columns of the crop) only that part of them,
    the same values: only the raster pixels its upsampling reads are computed. `corners`:
    `triangle_corners(source_vertices, source_triangles)` where already made."""
    pixels, triangle, weight_rows = raster.pixels, raster.triangle, raster.weight_rows
    near = None if box is None else _near_box(pixels, raster, size, box)
    if near is not None:
        pixels, triangle, weight_rows = pixels[near], triangle[near], weight_rows[:, near]
    # Corners per triangle first, then per pixel, one (T,) coordinate of one corner at a
    # time, summed by hand in the einsum's order (the same values: the (P, 3, 2) gather
    # and the einsum over it were twice the time; twenty-second round).
    if corners is None:
        corners = triangle_corners(source_vertices, source_triangles)
    weights = [weight_rows[k] for k in range(3)]
    # Each map on its own plane: OpenCV enlarges one plane with its vector code, and
    # scatters and remap read contiguous rows (0.7 against 0.2 ms a map at 440 px; the
    # values differ in float32's last bits).
    maps = []
    for axis in range(2):  # x, then y
        # np.take: the same gather as indexing, without indexing's dispatch (8 against
        # 11 us for 20,000 pixels).
        values = (weights[0] * np.take(corners[axis, 0], triangle)
                  + weights[1] * np.take(corners[axis, 1], triangle)
                  + weights[2] * np.take(corners[axis, 2], triangle))
        small = np.full(raster.size * raster.size, -1.0, dtype=np.float32)
        small[pixels] = values
        plane = small.reshape(raster.size, raster.size)
        maps.append(cv2.resize(plane, (size, size), interpolation=cv2.INTER_LINEAR)
                    if box is None else enlarged_box(plane, size, box))
    return maps[0], maps[1]


def enlarged_box(plane: np.ndarray, size: int, box: tuple[slice, slice]) -> np.ndarray:
    """`cv2.resize(plane, (size, size), interpolation=cv2.INTER_LINEAR)[box]`, the same
    values: where `size` is twice the (n, n) `plane`'s side, only the block of `plane`
    round the box is enlarged (a scale of exactly 2 either way, so every output pixel
    takes the same two rows and columns with the same weights, 0.25 and 0.75; the block
    reaches two plane pixels past the box, so none of its output near the box is at the
    block's own border). The mirror's maps of a box of about half the crop: 0.04 against
    0.01 ms a plane at 440 px."""
    side = plane.shape[0]
    if size != 2 * side or plane.shape[1] != side:
        whole: np.ndarray = cv2.resize(plane, (size, size), interpolation=cv2.INTER_LINEAR)
        return whole[box]
    (row_start, row_stop, _), (column_start, column_stop, _) = (part.indices(size)
                                                                for part in box)
    if row_stop <= row_start or column_stop <= column_start:
        return np.empty((max(0, row_stop - row_start), max(0, column_stop - column_start)),
                        dtype=plane.dtype)
    first_row, last_row = _block(row_start, row_stop, side)
    first_column, last_column = _block(column_start, column_stop, side)
    block = cv2.resize(plane[first_row:last_row, first_column:last_column],
                       (2 * (last_column - first_column), 2 * (last_row - first_row)),
                       interpolation=cv2.INTER_LINEAR)
    enlarged: np.ndarray = block[row_start - 2 * first_row:row_stop - 2 * first_row,
                                 column_start - 2 * first_column:column_stop - 2 * first_column]
    return enlarged


def _block(start: int, stop: int, side: int) -> tuple[int, int]:
    """The plane's rows (or columns) [first, last) whose enlargement by 2 gives the output
    rows [start, stop) as the whole plane's does: the two each output row reads, and two
    more on either side (the plane's own ends where the box meets them)."""
    return max(0, start // 2 - 2), min(side, (stop + 1) // 2 + 2)


def _near_box(pixels: np.ndarray, raster: TargetRaster, size: int,
              box: tuple[slice, slice]) -> np.ndarray | None:
    """Which of the raster's covered `pixels` the linear upsampling to `size` reads for
    the crop pixels inside `box` (a raster pixel more on every side: no rounding risk);
    None where that is all of them (the box's raster rows and columns hold the raster's
    `bounds`): the mirror's box of a video source's face held every covered pixel in all
    200 faces measured, and selecting them all took half the maps' time (0.51 against
    0.25 ms a face at 440 px)."""
    (row_low, row_high), (column_low, column_high) = (
        _read_range(part, raster, size) for part in box)
    bounds = raster.bounds
    if bounds is not None and (row_low <= bounds[0] and bounds[1] < row_high
                               and column_low <= bounds[2] and bounds[3] < column_high):
        return None
    rows, columns = np.divmod(pixels, raster.size)
    near = np.ones(len(pixels), dtype=bool)
    for coordinate, (low, high) in ((rows, (row_low, row_high)),
                                    (columns, (column_low, column_high))):
        near &= (coordinate >= low) & (coordinate < high)
    return near


def _read_range(part: slice, raster: TargetRaster, size: int) -> tuple[int, int]:
    """The raster rows (or columns) [low, high) the upsampling to `size` reads for the
    crop's rows (or columns) `part`, a raster pixel more on either side."""
    start, stop, _ = part.indices(size)
    return (int(np.floor(start * raster.scale)) - 2, int(np.ceil(stop * raster.scale)) + 2)


def upsample(values: np.ndarray, raster: TargetRaster, size: int) -> np.ndarray:
    """Per-covered-pixel values (P,) as a (size, size) float32 image, 0 where uncovered."""
    small = np.zeros(raster.size * raster.size, dtype=np.float32)
    small[raster.pixels] = values
    return cv2.resize(small.reshape(raster.size, raster.size), (size, size),
                      interpolation=cv2.INTER_LINEAR)


def triangle_visibility(source_vertices: np.ndarray, template_vertices: np.ndarray,
                        triangles: np.ndarray) -> np.ndarray:
    """(T,) how well the source shows each triangle, 0 (hidden or edge-on) to 1 (as seen
    frontally): its area relative to the frontal template fitted to the same face."""
    fit = umeyama(template_vertices, source_vertices)
    frontal = template_vertices @ fit[:2, :2].T
    reference = signed_areas(frontal, triangles)
    ratio = signed_areas(source_vertices, triangles) / np.where(
        np.abs(reference) > 1e-9, reference, 1e-9)
    return np.clip(ratio, 0.0, 1.0)


@dataclass(frozen=True)
class SourceSampling:
    """Which source triangle feeds each target triangle, and how good that texture is;
    `corners`, where made with it, `triangle_corners` of those triangles on the face's
    own vertices (the maps read them every frame the face is blended in)."""

    triangles: np.ndarray  # (T, 3): the triangle itself, or its mirror image
    visibility: np.ndarray  # (T,) in [0, 1]
    corners: np.ndarray | None = None


def plan_sampling(source_vertices: np.ndarray, topology: MeshTopology,
                  threshold: float = 0.35) -> SourceSampling:
    """Sample each triangle from the source, except where the source turns it away and
    shows the other side much better: there the mirror image fills it, rather than a
    stretched sliver."""
    direct = triangle_visibility(source_vertices, topology.template_vertices,
                                 topology.triangles)
    mirrored = triangle_visibility(source_vertices, topology.template_vertices,
                                   topology.mirror)
    use_mirror = (direct < threshold) & (mirrored > 2.0 * direct + 0.1)
    return SourceSampling(
        triangles=np.where(use_mirror[:, None], topology.mirror, topology.triangles),
        visibility=np.where(use_mirror, mirrored, direct))


def split_rgba(rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, S, 3) float32 colour and (S, S) float32 fourth channel in [0, 1] of an RGBA
    uint8 image (a cleaned source crop warped: its colour and its clean weight)."""
    # OpenCV's channel copies, then contiguous casts: NumPy's casts of the interleaved
    # channels took three times as long (and a split into four planes and a merge of
    # three, twice as long as taking the colour and the fourth channel directly).
    # Scaled in its fresh cast (the same product): a crop-sized temporary fewer.
    cleanness: np.ndarray = cv2.extractChannel(rgba, 3).astype(np.float32)
    cleanness *= 1.0 / 255.0
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB).astype(np.float32), cleanness


def clamped_maps(map_x: np.ndarray, map_y: np.ndarray, shape: tuple[int, ...]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Remap maps clamped into an image of `shape`, for BORDER_REPLICATE: past an edge it
    reads the edge's own pixels, so the clamped maps read the same values, and OpenCV's
    remap takes its vector path only where a pixel's neighbours are all inside (the -1
    outside the mesh, a third of the crop, ran per pixel: 1.3 against 0.5 ms a remap)."""
    height, width = shape[:2]
    return np.clip(map_x, 0.0, width - 1.0), np.clip(map_y, 0.0, height - 1.0)


def smooth_upsample(values: np.ndarray, raster: TargetRaster, size: int, sigma: float
                     ) -> np.ndarray:
    """Per-covered-pixel values (P,) as a (size, size) float32 image, Gaussian-smoothed
    (`sigma` in crop pixels) at the raster's resolution, 0 where uncovered."""
    small = np.zeros(raster.size * raster.size, dtype=np.float32)
    small[raster.pixels] = values
    blurred = cv2.GaussianBlur(small.reshape(raster.size, raster.size), (0, 0),
                               max(0.5, sigma * raster.scale))
    resized: np.ndarray = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
    return resized


def triangle_plane(values: np.ndarray, raster: TargetRaster) -> np.ndarray:
    """(raster.size, raster.size) float32: per-triangle `values` (T,) at each raster pixel
    its triangle covers, 0 where none does: the plane `upsample` makes of
    `values[raster.triangle]` (each value cast to float32 once per triangle instead of once
    per pixel: the same cast), by one gather through `TargetRaster.triangle_image` (its -1
    reads the zero appended to the values)."""
    table = np.zeros(len(values) + 1, dtype=np.float32)
    table[:-1] = values
    plane: np.ndarray = np.take(table, raster.triangle_image).reshape(raster.size, raster.size)
    return plane


def coarse_smooth_triangles(values: np.ndarray, raster: TargetRaster, size: int, sigma: float,
                            box: tuple[slice, slice] | None = None) -> np.ndarray:
    """`coarse_smooth_upsample(values[raster.triangle], raster, size, sigma)` of
    per-triangle `values` (T,), the same float32 values; with `box` (rows, columns of the
    crop) only that part of it, enlarged alone (`enlarged_box`: the same values there)."""
    return _coarse_smoothed(triangle_plane(values, raster), raster, size, sigma, box)


def coarse_smooth_upsample(values: np.ndarray, raster: TargetRaster, size: int, sigma: float
                           ) -> np.ndarray:
    """`smooth_upsample` with the blur at half the raster's size (a quarter of the crop's):
    the raster area-shrunk by 2 (padded by an uncovered row and column where odd), blurred
    there at the sigma left once the shrink and the enlargement's own blur are taken off
    (about one square raster pixel of variance, as `masks._gaussian` takes it), enlarged.
    For weights smooth on the scale of `sigma` (the mesh engine's trust, at crop / 48):
    0.16 against 0.84 ms at 440 px, within 0.009 of `smooth_upsample` on random per-triangle
    values in [0, 1] (BENCHMARKS.md, twenty-third round)."""
    small = np.zeros(raster.size * raster.size, dtype=np.float32)
    small[raster.pixels] = values
    return _coarse_smoothed(small.reshape(raster.size, raster.size), raster, size, sigma)


def _coarse_smoothed(plane: np.ndarray, raster: TargetRaster, size: int, sigma: float,
                     box: tuple[slice, slice] | None = None) -> np.ndarray:
    """`coarse_smooth_upsample` of the raster `plane` (its values where covered, else 0);
    only `box` of it where given (`enlarged_box`)."""
    odd = raster.size % 2
    even = (cv2.copyMakeBorder(plane, 0, 1, 0, 1, cv2.BORDER_CONSTANT, value=0.0) if odd
            else plane)
    half = cv2.resize(even, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    raster_sigma = max(0.5, sigma * raster.scale)
    blurred = cv2.GaussianBlur(half, (0, 0),
                               np.sqrt(max(raster_sigma**2 - SHRINK_VARIANCE, 0.25)) / 2.0)
    if odd:  # back to the raster's own pixels first, then to the crop
        enlarged = cv2.resize(blurred, (raster.size + 1, raster.size + 1),
                              interpolation=cv2.INTER_LINEAR)
        blurred = np.ascontiguousarray(enlarged[:raster.size, :raster.size])
    if box is not None:
        return enlarged_box(blurred, size, box)
    resized: np.ndarray = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
    return resized
