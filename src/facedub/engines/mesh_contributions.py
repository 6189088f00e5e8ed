"""One source face's share of the mesh engine's blended texture, made from explicit inputs
so that a frame's few source faces can be made on two threads and summed afterwards.

A video source blends about five faces a frame (`MeshEngine._choose_sources`); each one's
warp, iris move and mirror fill (`source_contribution`) reads only that face and the
frame's raster, and was 70-80% of the engine thread's time, the thread that bounds a
video source's swap (BENCHMARKS.md, refiner section, eleventh and thirteenth rounds).
Made apart, the shares are added in the blend's order with the same float32 operations as
when each face was added as it was made (`Contribution.add_to`): the same sums to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from facedub.engines.mesh_eyes import looking_as_target
from facedub.engines.mesh_mirror import (
    far_wing_own_share,
    levelled_mirror,
    no_darker_than_clean_direct,
    nose_wing_triangles,
)
from facedub.engines.mesh_tiles import row_tiles
from facedub.engines.mesh_topology import mesh_topology, signed_areas
from facedub.engines.mesh_warp import (
    SourceSampling,
    TargetRaster,
    clamped_maps,
    coarse_smooth_triangles,
    source_maps,
    split_rgba,
)
from facedub.faces.masks import bounds_or_empty, three_channels

MIRROR_BELOW = 0.5  # triangle visibility below which the mirrored side helps out ...
MIRROR_PREFERENCE = 2.0  # ... with this much more trust than its visibility alone
MIRROR_MIN_AREA = 0.004  # share of the crop below which the mirror is not worth warping
MIRROR_STANDS_IN = 0.1  # the mirror's used weight from which the nose-wing crease rule is full
FACE_WORKERS = 2  # threads making a frame's source faces (the machine's two cores)


@dataclass(frozen=True)
class SourceFace:
    """One blended source face as the engine's caches hold it: its blend `weight`, its
    cleaned RGBA `crop` (`SourceFaces.clean_crop`), how each triangle is sampled from
    itself (`direct`) and from its mirror image (`mirror`), whether its other side is
    clean where this one is not (`mirror_cleans`), its mesh `vertices`, its `iris`
    (`iris_in_eye`), its crop as on disk where the light is given back (`unlifted`,
    with the `shared` share of it), else None, and whether its faceset is a photo's
    (`photo`: its `meta.source_kind`, not its blend weight, which is 1 for a video's face
    too where it is blended alone)."""

    weight: float
    crop: np.ndarray
    direct: SourceSampling
    mirror: SourceSampling
    mirror_cleans: bool
    vertices: np.ndarray
    iris: np.ndarray
    unlifted: np.ndarray | None = None
    shared: float = 0.0
    photo: bool = False


@dataclass(frozen=True)
class TargetFrame:
    """What every source face of a frame is warped onto: the target's `raster` at crop
    side `size`, where its mesh covers (`inside`), and the `gaze` to move the irises to
    ((the moved landmarks, the target's `iris_in_eye`), None: left as they look)."""

    raster: TargetRaster
    size: int
    inside: np.ndarray
    gaze: tuple[np.ndarray, np.ndarray] | None
    # `mesh_reach` of the raster: the same for every face of the frame, so found once
    # where the frame is made, not on each face's thread (0.06 ms a face at 440 px).
    reach: tuple[slice, slice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reach", mesh_reach(self.raster, self.size))


@dataclass(frozen=True)
class MirrorShare:
    """The mirror fill of one source face inside `box`: its texture times its trust
    (`weighted`), the `trust`, and its clean share times the face's blend weight
    (`used_weight`)."""

    box: tuple[slice, slice]
    weighted: np.ndarray
    trust: np.ndarray
    used_weight: np.ndarray


@dataclass(frozen=True)
class Contribution:
    """One source face's share of the blend: its direct remap maps (the mouth interior is
    warped through them too), its texture times its trust (`weighted`), the `trust`, its
    clean weight times its blend weight (`clean_weight`) and its mirror fill, if any."""

    maps: tuple[np.ndarray, np.ndarray]
    weighted: np.ndarray
    trust: np.ndarray
    clean_weight: np.ndarray
    mirror: MirrorShare | None

    def add_to(self, total: np.ndarray, weight_sum: np.ndarray, coverage: np.ndarray) -> None:
        """Added to the (S, S, 3) weighted texture, (S, S) weight and (S, S) clean coverage
        being summed, in place; the mirror's coverage counts only what is not yet covered
        (so the order of the faces is the blend's, as it always was)."""
        total += self.weighted
        weight_sum += self.trust
        coverage += self.clean_weight
        self.add_mirror_to(total, weight_sum, coverage)

    def add_mirror_to(self, total: np.ndarray, weight_sum: np.ndarray, coverage: np.ndarray
                      ) -> None:
        """The mirror fill's part of `add_to` alone."""
        if self.mirror is None:
            return
        box = self.mirror.box
        total[box] += self.mirror.weighted
        weight_sum[box] += self.mirror.trust
        # used_weight * (1 - clip(coverage, 0, 1)) in the clip's fresh array, the same
        # operations (a product's value does not depend on its order): two box-sized
        # temporaries fewer a face (0.11 -> 0.06 ms on a 336 x 328 box).
        covered = coverage[box]
        uncovered = covered.clip(0, 1)
        np.subtract(1.0, uncovered, out=uncovered)
        uncovered *= self.mirror.used_weight
        covered += uncovered


def source_contribution(face: SourceFace, frame: TargetFrame) -> Contribution:
    """One source face's warped texture, trusted per pixel by how well the source shows
    each triangle and how clean its pixels are. Where the source turns a triangle away or
    shows no clean skin there (hair, outside the photo), its mirror image on the other side
    of the face fills in; the weights are smoothed so that no triangle edge shows where
    direct and mirrored texture meet. The iris moved to the target's gaze
    (mesh_eyes.looking_as_target) where `frame.gaze` says; the source's one-sided light
    given back as far as `face.shared` (mesh_light.SourceLight)."""
    raster, size, weight = frame.raster, frame.size, face.weight
    crop, direct, mirror = face.crop, face.direct, face.mirror
    smooth = size / 48.0
    maps = source_maps(raster, face.vertices, direct.triangles, size, corners=direct.corners)
    texture, cleanness = split_rgba(warped(crop, maps, frame.reach))
    if face.unlifted is not None:
        moved_towards(texture, warped(face.unlifted, maps, frame.reach), face.shared)
    if frame.gaze is not None:
        texture = looking_as_target(texture, frame.gaze[0], face.iris, frame.gaze[1])
    # The products below are taken in place, into one of their fresh factors (a product's
    # value does not depend on its order): the same values, four (S, S) and two (S, S, 3)
    # arrays fewer a face.
    trust = cleanness + np.float32(1e-3)
    trust *= coarse_smooth_triangles(per_triangle_trust(direct, weight), raster, size, smooth)
    weighted = three_channels(trust)
    weighted *= texture
    direct_share = Contribution(maps, weighted, trust, weight * cleanness, None)
    direct_clean = cleanness
    turned_away = turned_away_share(direct.visibility, mirror.visibility)
    need = coarse_smooth_triangles(turned_away, raster, size, smooth)
    if face.mirror_cleans:
        unclean = np.subtract(np.float32(1.0), cleanness)
        unclean *= frame.inside
        np.maximum(need, unclean, out=need)
    if np.count_nonzero(need > 0.2) < MIRROR_MIN_AREA * size * size:
        return direct_share
    box = bounds_or_empty(need > 0.05)
    # The mirror only where it is needed (the forehead under hair, the far side of a
    # turned face): remapping a box instead of the whole crop.
    map_x, map_y = clamped_maps(*source_maps(raster, face.vertices, mirror.triangles, size,
                                             box, mirror.corners), crop.shape)
    mirrored, cleanness = split_rgba(cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR,
                                               borderMode=cv2.BORDER_REPLICATE))
    used = np.multiply(cleanness, need[box], out=cleanness)
    mirror_trust = used + np.float32(1e-3)
    # Enlarged on the box alone (`coarse_smooth_triangles`' box): the same values there.
    mirror_trust *= coarse_smooth_triangles(per_triangle_trust(mirror, weight), raster, size,
                                            smooth, box)
    # The near side's shade left behind: no darker than the source's own face nearby.
    levelled = levelled_mirror(mirrored, mirror_trust, texture[box], trust[box], size)
    # The far nose wing's clean skin keeps its own light: no second outline drawn on it,
    # where the mirror stands in (its clean share of the need, full from MIRROR_STANDS_IN);
    # where it is only the 1e-3 floor of trust the texture is left to the bit (a frontal
    # source's swap unchanged).
    wing_triangles = nose_wing_triangles(direct.triangles, mirror.triangles)
    wings = coarse_smooth_triangles(wing_triangles, raster, size, smooth, box)
    wings *= np.minimum(used * np.float32(1.0 / MIRROR_STANDS_IN), np.float32(1.0))
    # Where the source shows its far wing itself (foreshortened), the direct warp there, not
    # its near wing mirrored (`far_wing_own_share`); only for a photo source: where a video
    # source blends a few faces the others show their own far wings, and there the rule
    # brought no likeness (lighting, headturn-woman and self-split-headturn 40, 40 and 7 of
    # 40 nearer the source, unchanged) but a little more grain and tone mismatch, and
    # self-split-headturn's expression error 0.0086 -> 0.0094; and where a video's face is
    # blended alone (`--neighbours 1`, a one-face faceset) its share jumps between
    # neighbouring faces (d3 headturn's > 0 on 79 of 177 frames, 1.0, 0.97, 0, 0.25 on
    # frames 140-146): its far wing would flicker between the direct warp and the mirror
    # (BENCHMARKS.md, forty-eighth round).
    own_wing = far_wing_own_share(direct.visibility, turned_away, wing_triangles,
                                  template_areas(direct.triangles)) if face.photo else 0.0
    levelled = no_darker_than_clean_direct(levelled, texture[box], direct_clean[box], wings,
                                           size, own_wing)
    mirror_trust *= np.float32(MIRROR_PREFERENCE)
    levelled *= three_channels(mirror_trust)
    return Contribution(maps, direct_share.weighted, trust, direct_share.clean_weight,
                        MirrorShare(box, levelled, mirror_trust, weight * used))


def turned_away_share(direct_visibility: np.ndarray, mirror_visibility: np.ndarray
                      ) -> np.ndarray:
    """(T,) in [0, 1]: where the source turns a triangle away (its visibility under
    MIRROR_BELOW) and shows its mirror image clearly better, the share the mirror fill
    takes there."""
    return np.clip(1.0 - direct_visibility / MIRROR_BELOW, 0.0, 1.0) * np.clip(
        (mirror_visibility - direct_visibility) / 0.3, 0.0, 1.0)


def per_triangle_trust(sampling: SourceSampling, weight: float) -> np.ndarray:
    """(T,) float64: `weight * (visibility + 1e-3)` of each triangle the face is sampled
    from, worked out per triangle and then gathered per raster pixel: the same values as
    the gathered visibility's sum and product pixel by pixel (each pixel's value is its
    triangle's, the same operations on it), on about 900 triangles instead of about
    20,000 pixels at 440 px."""
    trust: np.ndarray = weight * (sampling.visibility + 1e-3)
    return trust


def template_areas(triangles: np.ndarray) -> np.ndarray:
    """(T,) float64: each of `triangles`' (T, 3) area on the frontal template (what a
    triangle's visibility is relative to; `mesh_warp.triangle_visibility`)."""
    areas: np.ndarray = np.abs(signed_areas(mesh_topology().template_vertices, triangles))
    return areas


def mesh_reach(raster: TargetRaster, size: int) -> tuple[slice, slice]:
    """The box of the (size, size) crop whose pixels the linear enlargement of the
    `raster`'s covered pixels reaches (`mesh_warp.source_maps`), two raster pixels more
    on every side (no rounding risk): outside it every map is -1, uncovered."""
    if raster.bounds is None:
        return slice(0, 0), slice(0, 0)
    first_row, last_row, first_column, last_column = raster.bounds  # found with the raster

    def crop_range(first: int, last: int) -> slice:
        return slice(max(0, int(np.floor((first - 2) / raster.scale)) - 1),
                     min(size, int(np.ceil((last + 3) / raster.scale)) + 1))
    return crop_range(first_row, last_row), crop_range(first_column, last_column)


def warped(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray],
           reach: tuple[slice, slice]) -> np.ndarray:
    """`cv2.remap` of `image` (H, W, C) uint8, C at most 4, through `maps` (S, S) clamped
    into it (`mesh_warp.clamped_maps`), bilinear, the border replicated: the same values,
    the remap only inside `reach` (`mesh_reach`). Outside it both maps are -1, clamped to
    the image's first pixel, which is what every pixel there reads: OpenCV's constant
    border puts it there (the mesh reaches about 60% of the crop's area; 0.27 against
    0.38 ms at 440 px: a fill by NumPy of the 4-byte pixel took 0.5)."""
    size = maps[0].shape[0]
    rows, columns = reach
    if rows.stop <= rows.start or columns.stop <= columns.start:  # no mesh drawn
        return np.tile(image[0, 0], (size, size, 1))
    map_x, map_y = clamped_maps(maps[0][reach], maps[1][reach], image.shape)
    remapped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    out: np.ndarray = cv2.copyMakeBorder(remapped, rows.start, size - rows.stop, columns.start,
                                         size - columns.stop, cv2.BORDER_CONSTANT,
                                         value=image[0, 0].tolist())
    return out


def summed(made: Sequence[Contribution], size: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (S, S, 3) weighted texture, (S, S) weight and (S, S) clean coverage of a frame's
    contributions `made`, added in their order (`Contribution.add_to`): the same sums, the
    first face's own arrays taken as the start (zero plus a value is that value): three
    zeroed arrays and a face's additions fewer a frame. The contributions' arrays are
    summed into, in place."""
    if not made:
        return (np.zeros((size, size, 3), dtype=np.float32),
                np.zeros((size, size), dtype=np.float32),
                np.zeros((size, size), dtype=np.float32))
    first = made[0]
    total, weight_sum, coverage = first.weighted, first.trust, first.clean_weight
    first.add_mirror_to(total, weight_sum, coverage)
    for contribution in made[1:]:
        contribution.add_to(total, weight_sum, coverage)
    return total, weight_sum, coverage


def contributions(faces: Sequence[SourceFace], frame: TargetFrame,
                  workers: ThreadPoolExecutor | None) -> list[Contribution]:
    """Each face's `source_contribution`, in the faces' order: on `workers` where there
    are several faces (OpenCV and NumPy let go of the interpreter for the arrays' work),
    else on this thread."""
    if workers is None or len(faces) < 2:
        return [source_contribution(face, frame) for face in faces]
    return list(workers.map(source_contribution, faces, [frame] * len(faces)))


def moved_towards(image: np.ndarray, other: np.ndarray, share: float) -> None:
    """In place: `image += float32(share) * (other - image)`, (S, S, 3) float32 `image`,
    `other` (S, S, 3) float32 (overwritten on the way) or uint8 (cast a band at a time:
    the same cast), the same operations in the same order (the same values). A band of
    rows at a time (mesh_tiles): the warped uint8 crop's float copy is a band in the L2,
    not a crop-sized cast first (0.52-0.63 -> 0.34-0.42 ms a source face at 440 px, on
    recorded calls; BENCHMARKS.md, thirty-ninth round)."""
    for rows in row_tiles(len(image), image[0].nbytes):
        difference = other[rows] if other.dtype == np.float32 else other[rows].astype(
            np.float32)
        np.subtract(difference, image[rows], out=difference)
        difference *= np.float32(share)
        image[rows] += difference
