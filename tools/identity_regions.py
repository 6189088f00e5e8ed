"""Which region of a swapped face the identity margin rests on, measured on eval's own path.

    python tools/identity_trace.py regions [--regions A,B] [--donors A,B]
        [--sheet PNG FRAME,FRAME] [--video NAME=PATH ...] SOURCE TARGET_CLIP SWAPPED [FRAMES]

SOURCE, TARGET_CLIP and SWAPPED as `benchmarks/quality.py` used them (its `targets/`
clip, its `swapped.mp4`); FRAMES, e.g. `11-34` (default: all); `--regions`, `--donors`:
only these (names below, comma-separated); `--sheet`: those frames' aligned output crops
with the regions drawn (2x), under each the target's crop and the whole face from the
toned source (a person's face: write it outside the repository). `facedub eval` runs in
process, and on every described frame of FRAMES each region of the output face (below)
is replaced by the same region of a donor, and the frame described again exactly as eval
describes it: on the person path (nothing kept in front of the face) the whole swapped
frame on the swap's own landmarks against the source's and the target's person
descriptors; on the filled path (a kept occluder; `evaluate.occluded_identity`) the
aligned crop with the kept region filled, against the same frame's target crop and the
source's crops, filled alike. The landmarks stay the unchanged output's, so only the
region's pixels change what dlib reads.

Donors: `target`, the target's own pixels there (what the region costs: positive, the
output loses that much likeness to the source there); `source`, the source photo warped
over the landmark mesh onto the target's landmarks and toned to the output's mean and
spread in the region (the source person drawn there without the engine, in the photo's
expression and gaze; outside the mesh the output stays); `source raw`, the same untoned;
`blur`, the output blurred (sigma a 25th of the crop): the region with
its detail taken out; `--video NAME=PATH` (repeatable), a donor NAME: another swap of the
same target clip (a variant of the swap, the same frames), its pixels in the region (cut
as eval cuts the output's): what that variant's stage gives the region, on the output
as it is everywhere else (the region's pixels of a swap with the blend's mask or the
colour stage switched tell which stage holds them). Margin = d(source) - d(target),
negative: nearer the source; the table gives the mean change of the margin per yaw bin,
and how many frames would flip.

Regions, from the target's landmarks in the aligned crop (`region_masks`); `near` / `far`:
the side of the face that shows wider / narrower in the image; and their unions `both
eyes`, `eyes and brows`, `inner (brows to mouth)`, `rim (jaw line & chin & forehead)`,
`whole face`. Each frame's row is printed as it is done (a trace of 20 frames takes
minutes: 16 regions by 4 donors is 64 descriptors a frame).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# MediaPipe indices. Eyes and brows per person's side (left = image right).
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
BRIDGE = (168, 6, 197, 195, 5, 193, 417, 122, 351, 196, 419, 3, 248)
NOSE_TIP = (4, 1, 19, 94, 2, 98, 327, 64, 294, 48, 278, 115, 344, 220, 440, 45, 275,
            97, 326, 129, 358, 5)
UPPER_LIP_SKIN = (2, 97, 326, 98, 327, 165, 391, 92, 322, 186, 410, 61, 291, 164, 0, 37,
                  267, 39, 269, 40, 270, 185, 409)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39,
        40, 185)
CHIN = (84, 17, 314, 181, 405, 91, 321, 200, 199, 175, 152, 148, 377, 176, 400, 171, 396,
        32, 262, 208, 428, 140, 369)
MIDLINE = (168, 1, 152)
SIDES = (234, 454)  # the oval's widest points, person's right and left
DONORS = ("target", "source", "source raw", "blur")
COMBINED = ("both eyes", "eyes and brows", "inner (brows to mouth)",
            "rim (jaw line & chin & forehead)", "whole face")


@dataclass(frozen=True)
class FrameRow:
    """One described frame: eval's path, its margin, and per (region, donor) the margin
    with that region from that donor."""

    frame: int
    yaw: float
    path: str
    margin: float
    changed: dict[tuple[str, str], float]


def _hull(points: np.ndarray, indices: tuple[int, ...], size: int, grow: int = 0) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points[list(indices), :2]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask > 0


def region_masks(landmarks: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """(S, S) bool masks of the face's regions from the target's `landmarks` (478, 2+) in
    the aligned (S, S) crop, where the face stands upright."""
    from facedub.faces.masks import face_oval

    points = np.asarray(landmarks, np.float64)
    unit = size / 64  # about 4 px at 256
    rows, columns = np.mgrid[0:size, 0:size]
    oval_high = face_oval(points, size, forehead=True) > 0
    oval = face_oval(points, size, forehead=False) > 0
    right_near = abs(points[SIDES[0], 0] - points[168, 0]) > abs(points[SIDES[1], 0]
                                                                 - points[168, 0])
    eyes = {"right": _hull(points, RIGHT_EYE, size, round(unit)),
            "left": _hull(points, LEFT_EYE, size, round(unit))}
    brows = {"right": _hull(points, RIGHT_BROW, size, round(unit)),
             "left": _hull(points, LEFT_BROW, size, round(unit))}
    near, far = ("right", "left") if right_near else ("left", "right")
    mouth = _hull(points, LIPS, size, round(unit / 2))
    bridge = _hull(points, BRIDGE, size) & ~eyes["right"] & ~eyes["left"]
    tip = _hull(points, NOSE_TIP, size) & ~bridge
    upper_lip = _hull(points, UPPER_LIP_SKIN, size) & ~mouth & ~tip
    chin = _hull(points, CHIN, size, round(unit)) & ~mouth & oval
    brow_top = points[list(RIGHT_BROW + LEFT_BROW), 1].min()
    eye_line = points[list(RIGHT_EYE + LEFT_EYE), 1].mean()
    forehead = oval_high & (rows < brow_top) & ~brows["right"] & ~brows["left"]
    ring = round(2 * unit)
    kernel = np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)
    inner = cv2.erode(oval.astype(np.uint8), kernel) > 0
    jaw = oval & ~inner & (rows > eye_line)
    grown_high = cv2.dilate(oval_high.astype(np.uint8), kernel) > 0
    shrunk_high = cv2.erode(oval_high.astype(np.uint8), kernel) > 0
    outline = grown_high & ~oval_high & (rows > brow_top)
    hair_line = grown_high & ~shrunk_high & (rows < brow_top)
    features = (eyes["right"] | eyes["left"] | brows["right"] | brows["left"] | bridge | tip
                | upper_lip | mouth | chin | jaw)
    # The midline through the bridge, the nose tip and the chin splits the cheeks.
    top, bottom = points[MIDLINE[0], :2], points[MIDLINE[2], :2]
    side = ((columns - top[0]) * (bottom[1] - top[1])
            - (rows - top[1]) * (bottom[0] - top[0]))
    image_left = side < 0  # the person's right (y grows down the image)
    cheeks = oval & ~features & (rows > eye_line - unit)
    cheek = {"right": cheeks & image_left, "left": cheeks & ~image_left}
    single = {"near brow": brows[near], "far brow": brows[far], "near eye": eyes[near],
              "far eye": eyes[far], "nose bridge": bridge, "nose tip/wings": tip,
              "upper lip": upper_lip, "mouth": mouth, "chin": chin, "jaw line": jaw,
              "near cheek": cheek[near], "far cheek": cheek[far], "forehead": forehead,
              "outline (outside)": outline, "hair line": hair_line}
    inner = brows["right"] | brows["left"] | eyes["right"] | eyes["left"] | bridge | tip
    return {**single, "both eyes": eyes["right"] | eyes["left"],
            "eyes and brows": eyes["right"] | eyes["left"] | brows["right"] | brows["left"],
            "inner (brows to mouth)": inner | upper_lip | mouth,
            "rim (jaw line & chin & forehead)": jaw | chin | forehead,
            "whole face": oval_high}


def warped_source(photo: np.ndarray, photo_landmarks: np.ndarray, landmarks: np.ndarray,
                  size: int) -> tuple[np.ndarray, np.ndarray]:
    """The source `photo` warped over the landmark mesh onto `landmarks` (478, 3) in an
    (S, S) image: (S, S, 3) uint8 and its (S, S) bool coverage."""
    from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
    from facedub.engines.mesh_warp import rasterize, source_maps

    topology = mesh_topology()
    raster = rasterize(mesh_vertices(landmarks), mesh_depths(landmarks), size, topology,
                       scale=1.0)
    map_x, map_y = source_maps(raster, mesh_vertices(photo_landmarks), topology.triangles,
                               size)
    covered = (map_x >= 0) & (map_y >= 0)
    warped = cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.asarray(warped, np.uint8), covered


def toned(donor: np.ndarray, like: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`donor` with its Lab mean and spread in `mask` moved to those of `like` there."""
    if mask.sum() < 4:
        return donor
    a = cv2.cvtColor(donor, cv2.COLOR_RGB2LAB).astype(np.float32)
    b = cv2.cvtColor(like, cv2.COLOR_RGB2LAB).astype(np.float32)
    for channel in range(3):
        da, db = a[..., channel][mask], b[..., channel][mask]
        a[..., channel] = (a[..., channel] - da.mean()) * (db.std() / max(da.std(), 1.0)) \
            + db.mean()
    return np.asarray(cv2.cvtColor(np.clip(a, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB))


def pasted(base: np.ndarray, donor: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`donor` over `base` in `mask`, feathered by a pixel so no new hard edge is drawn."""
    weight = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0)[..., None]
    return np.asarray(np.clip(base * (1 - weight) + donor * weight + 0.5, 0, 255), np.uint8)


@dataclass
class _Frame:
    index: int = -1
    target: Any = None  # the target frame (H, W, 3)
    swapped: Any = None  # the swapped frame
    face_from_frame: Any = None
    swapped_landmarks: Any = None  # the swap's own landmarks, as eval described it


@dataclass(frozen=True)
class Sheet:
    """Frames whose region outlines are drawn over the output's crop, and the tiles."""

    frames: frozenset[int]
    tiles: list[np.ndarray]


def region_tile(crop: np.ndarray, masks: dict[str, np.ndarray]) -> np.ndarray:
    """The (S, S, 3) crop at twice its size with every region's outline drawn over it."""
    tile = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    singles = [mask for name, mask in masks.items() if name not in COMBINED]
    for index, mask in enumerate(singles):
        hue = np.uint8(index * 180 // len(singles))
        colour = cv2.cvtColor(np.array([[[hue, 255, 255]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0]
        big = cv2.resize(mask.astype(np.uint8), None, fx=2, fy=2,
                         interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(tile, contours, -1, tuple(int(c) for c in colour), 1)
    return tile


def video_frames(path: Path) -> list[np.ndarray]:
    """Every frame of the clip at `path` (RGB uint8), in order: a variant swap's output,
    a `--video` donor (a quality run's 40 frames)."""
    from facedub import media

    return [frame.image for frame in media.iter_frames(path)]


def video_donor(frames: list[np.ndarray], index: int, face_from_frame: np.ndarray | None,
                size: int) -> np.ndarray:
    """A `--video` donor's image for frame `index`: the variant's whole frame (the person
    path, pasted into the output frame), or, given the frame's `face_from_frame` (2x3),
    its (size, size) crop cut as eval cuts the output's (the filled path)."""
    from facedub.faces.geometry import warp_to_face

    frame = frames[index]
    return frame if face_from_frame is None else warp_to_face(frame, face_from_frame, size)


def traced(source: Path, target: Path, swapped: Path, wanted: set[int] | None,
           photo: np.ndarray, photo_landmarks: np.ndarray,
           sheet: Sheet | None = None, regions_used: tuple[str, ...] = (),
           donors_used: tuple[str, ...] = DONORS,
           videos: dict[str, list[np.ndarray]] | None = None) -> list[FrameRow]:
    """Run `facedub eval` in process and trace every described frame in `wanted` (the
    regions `regions_used`, all where empty, from `donors_used`); `sheet`: draw the
    regions of its frames, and the whole face from the toned source beside them;
    `videos`: donors by name, each a variant swap's frames (`video_frames`), the frame
    of the same index pasted in the region."""
    import importlib

    measure_module = importlib.import_module("facedub.evaluate.measure")
    run_module = importlib.import_module("facedub.evaluate.run")
    from facedub.evaluate.config import EvalConfig
    from facedub.evaluate.occluded_identity import filled, kept_region
    from facedub.faces.geometry import apply_affine
    from facedub.faces.identity import IdentityEncoder, distance

    now, people, rows = _Frame(), {}, []
    original_pairs, original_cut = measure_module.paired_frames, measure_module.cut_crops
    original_filled, original_measure = (measure_module.filled_descriptors,
                                         run_module.measure)

    class Recording(IdentityEncoder):
        def describe(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
            if image is now.swapped:
                now.swapped_landmarks = landmarks
            return super().describe(image, landmarks)

    def pairs(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for pair in original_pairs(*args, **kwargs):
            now.index, now.swapped_landmarks = pair.target.index, None
            yield pair

    def cut(target_image: np.ndarray, swapped_image: np.ndarray, face_from_frame: np.ndarray,
            *args: Any) -> Any:
        now.target, now.swapped, now.face_from_frame = target_image, swapped_image, \
            face_from_frame
        return original_cut(target_image, swapped_image, face_from_frame, *args)

    def measure(target_path: Path, swapped_path: Path, analysis: Any, gallery: Any,
                *args: Any, **kwargs: Any) -> Any:
        people["source"] = next(p.descriptor for p in gallery if p.role == "source")
        people["target"] = analysis.identity.descriptor
        people["yaw"] = {i: r.pose.yaw for i, r in analysis.faces.items()}
        return original_measure(target_path, swapped_path, analysis, gallery, *args, **kwargs)

    def filled_traced(encoder: Any, target_crop: np.ndarray, swapped_crop: np.ndarray,
                      landmarks: np.ndarray, occluded: np.ndarray, sources: Any) -> Any:
        result = original_filled(encoder, target_crop, swapped_crop, landmarks, occluded,
                                 sources)
        if wanted is None or now.index in wanted:
            rows.append(_trace_frame(encoder, result, target_crop, swapped_crop, landmarks,
                                     occluded))
        return result

    def _trace_frame(encoder: Any, result: Any, target_crop: np.ndarray,
                     swapped_crop: np.ndarray, landmarks: np.ndarray,
                     occluded: np.ndarray) -> FrameRow:
        size = target_crop.shape[0]
        masks = region_masks(landmarks, size)
        warped, covered = warped_source(photo, photo_landmarks, landmarks, size)
        sigma = size / 25
        if result is not None:  # the filled path, in the crop
            region, _ = kept_region(occluded, landmarks)

            def margin_of(crop: np.ndarray) -> float:
                ours = encoder.describe(filled(crop, region), landmarks)
                return distance(ours, result.source) - distance(ours, result.target)

            base_image, donors = swapped_crop, {"target": target_crop, "source": warped}
            for name, frames in (videos or {}).items():
                donors[name] = video_donor(frames, now.index, now.face_from_frame, size)
            path, base_margin = "filled", (distance(result.swapped, result.source)
                                           - distance(result.swapped, result.target))
            to_base: Callable[[np.ndarray], np.ndarray] = lambda m: m  # noqa: E731
        else:  # the person path, on the whole frame
            height, width = now.swapped.shape[:2]

            def to_base(mask: np.ndarray) -> np.ndarray:
                return np.asarray(cv2.warpAffine(
                    mask.astype(np.uint8) * 255, now.face_from_frame, (width, height),
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP) > 127)

            frame_landmarks = apply_affine(cv2.invertAffineTransform(now.face_from_frame),
                                           landmarks)
            frame_size = max(height, width)
            warped_frame, covered_frame = warped_source(photo, photo_landmarks,
                                                        frame_landmarks, frame_size)
            warped, covered = warped_frame[:height, :width], covered_frame[:height, :width]
            sigma *= float(np.sqrt(abs(np.linalg.det(now.face_from_frame[:, :2])))) ** -1

            def margin_of(image: np.ndarray) -> float:
                ours = encoder.describe(image, now.swapped_landmarks)
                return distance(ours, people["source"]) - distance(ours, people["target"])

            base_image, donors = now.swapped, {"target": now.target, "source": warped}
            for name, frames in (videos or {}).items():
                donors[name] = video_donor(frames, now.index, None, size)
            path = "person"
            base_margin = margin_of(base_image)
        if sheet is not None and now.index in sheet.frames:
            crop_warped, crop_covered = warped_source(photo, photo_landmarks, landmarks, size)
            whole = masks["whole face"] & crop_covered
            ideal = pasted(swapped_crop, toned(crop_warped, swapped_crop, whole), whole)
            sheet.tiles.append(np.vstack([region_tile(swapped_crop, masks), cv2.resize(
                np.hstack([target_crop, ideal]), None, fx=1, fy=1)]))
        blurred = cv2.GaussianBlur(base_image, (0, 0), sigma)
        changed: dict[tuple[str, str], float] = {}
        for name, crop_mask in masks.items():
            if regions_used and name not in regions_used:
                continue
            mask = to_base(crop_mask)
            for donor in donors_used:
                if donor == "blur":
                    image = pasted(base_image, blurred, mask)
                elif donor.startswith("source"):
                    inside = mask & covered
                    if inside.sum() < 0.5 * mask.sum():
                        continue  # mostly off the mesh (outline, hair line)
                    donor_image = donors["source"] if donor == "source raw" else toned(
                        donors["source"], base_image, inside)
                    image = pasted(base_image, donor_image, inside)
                else:
                    image = pasted(base_image, donors[donor], mask)
                changed[(name, donor)] = margin_of(image) - base_margin
        row = FrameRow(now.index, people["yaw"].get(now.index, float("nan")), path,
                       base_margin, changed)
        # Each frame as it is done: a trace of many frames takes minutes.
        print(f"frame {row.frame} {row.path} {row.margin:+.3f} " + " ".join(
            f"{region}/{donor}={change:+.3f}" for (region, donor), change in changed.items()),
              flush=True)
        return row

    measure_module.paired_frames = pairs
    measure_module.cut_crops = cut
    measure_module.filled_descriptors = filled_traced
    run_module.measure = measure
    original_encoder = run_module.IdentityEncoder
    run_module.IdentityEncoder = Recording  # type: ignore[misc]
    try:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            run_module.evaluate(source, target, swapped, Path(folder) / "report",
                                EvalConfig(max_frames=40))
    finally:
        measure_module.paired_frames, measure_module.cut_crops = original_pairs, original_cut
        measure_module.filled_descriptors, run_module.measure = original_filled, \
            original_measure
        run_module.IdentityEncoder = original_encoder  # type: ignore[misc]
    return rows


def _bin(yaw: float) -> str:
    turn = abs(yaw)
    return "<15" if turn < 15 else "15-30" if turn < 30 else "30-45" if turn < 45 else "45+"


def report(rows: list[FrameRow]) -> None:
    """Per frame the base margin; per region and donor the mean change per bin and the
    frames it flips to the source (base missed) or to the target (base held)."""
    for row in rows:
        print(f"frame {row.frame:3d} yaw {row.yaw:+6.1f} {row.path:6s} margin "
              f"{row.margin:+.3f}")
    groups: dict[str, list[FrameRow]] = defaultdict(list)
    for row in rows:
        groups[_bin(row.yaw)].append(row)
    names = list(dict.fromkeys(key for row in rows for key in row.changed))
    for donor in dict.fromkeys(d for _, d in names):
        print(f"\ndonor {donor}: mean margin change (frames flipped to the source / to "
              "the target)")
        print("region".ljust(18) + "".join(f"{b} ({len(g)})".rjust(24) for b, g in
                                           sorted(groups.items())))
        for region in dict.fromkeys(name for name, d in names if d == donor):
            cells = []
            for _, group in sorted(groups.items()):
                moves = [(r.margin, r.changed[(region, donor)]) for r in group
                         if (region, donor) in r.changed]
                if not moves:
                    cells.append("-".rjust(24))
                    continue
                gained = sum(m > 0 and m + c < 0 for m, c in moves)
                lost = sum(m < 0 and m + c > 0 for m, c in moves)
                cells.append(f"{np.mean([c for _, c in moves]):+.3f} ({gained}/{lost})"
                             .rjust(24))
            print(region.ljust(18) + "".join(cells))


@dataclass(frozen=True)
class Options:
    """The command line: the three clips, the frames wanted (None: all), the regions and
    donors used (empty regions: all), the sheet's path and frames, the `--video` donors'
    clips by name (in the order given)."""

    source: Path
    target: Path
    swapped: Path
    wanted: set[int] | None
    regions: tuple[str, ...]
    donors: tuple[str, ...]
    sheet_path: Path | None
    sheet_frames: frozenset[int]
    videos: dict[str, Path]


def options(argv: list[str]) -> Options:
    """`main`'s arguments (the module docstring's); each `--video NAME=PATH` adds a donor
    NAME, used unless `--donors` names others."""
    sheet_path, sheet_frames = None, frozenset[int]()
    if "--sheet" in argv:  # --sheet PATH FRAME,FRAME: the regions drawn on those frames
        at = argv.index("--sheet")
        sheet_path = Path(argv[at + 1])
        sheet_frames = frozenset(int(f) for f in argv[at + 2].split(","))
        argv = argv[:at] + argv[at + 3:]
    videos: dict[str, Path] = {}
    while "--video" in argv:  # --video NAME=PATH: a variant swap's frames as a donor
        at = argv.index("--video")
        name, _, video_path = argv[at + 1].partition("=")
        videos[name] = Path(video_path)
        argv = argv[:at] + argv[at + 2:]
    regions_used: tuple[str, ...] = ()
    donors_used = DONORS + tuple(videos)
    for flag in ("--regions", "--donors"):  # comma-separated names
        if flag in argv:
            at = argv.index(flag)
            names = tuple(argv[at + 1].split(","))
            argv = argv[:at] + argv[at + 2:]
            if flag == "--regions":
                regions_used = names
            else:
                donors_used = names
    source, target, swapped, *rest = argv
    wanted = None
    if rest:
        first, _, last = rest[0].partition("-")
        wanted = set(range(int(first), int(last or first) + 1))
    return Options(Path(source), Path(target), Path(swapped), wanted, regions_used,
                   donors_used, sheet_path, sheet_frames, videos)


def main(argv: list[str]) -> None:
    from facedub import media
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    given = options(argv)
    videos = {name: video_frames(path) for name, path in given.videos.items()}
    sheet = None if given.sheet_path is None else Sheet(given.sheet_frames, [])
    photo = media.read_photo(given.source)
    with FaceAnalyser(max_faces=1, video=False, model_path=resolve_landmarker_model()) as analyser:
        photo_landmarks = analyser.analyse(photo)[0].landmarks
    report(traced(given.source, given.target, given.swapped, given.wanted, photo,
                  np.asarray(photo_landmarks), sheet, given.regions, given.donors, videos))
    if sheet is not None and sheet.tiles and given.sheet_path is not None:
        # A person's face: write it outside the repository and never commit it.
        cv2.imwrite(str(given.sheet_path), cv2.cvtColor(np.hstack(sheet.tiles),
                                                        cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main(sys.argv[1:])
