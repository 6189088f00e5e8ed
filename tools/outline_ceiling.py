"""What the face OUTLINE is worth to the identity margin: warp a swap's output frames so the
target's face oval takes the source's shape, then measure the warped clip with `facedub eval`
(see BENCHMARKS.md, Realism, "The outline's ceiling", fortieth round).

    python tools/outline_ceiling.py [--mode normal|oval|all|none] [--gain G]
        SOURCE SWAPPED OUT.mp4

SOURCE: the swap's source (photo or clip); SWAPPED: its output (a quality run's
`swapped.mp4`); OUT.mp4: the warped output, written losslessly (`--mode none` writes the
frames unwarped: the control, which the same encoding leaves within 0.02 of the quality
run's margins). Then, as `benchmarks/quality.py` measures:

    facedub eval --source SOURCE --target TRIMMED_TARGET --swapped OUT.mp4 -o REPORT \
        --gallery ../shared/data/faces --max-frames 40

Per frame the output's landmarks are found again, the face made pose-free as
`engines.mesh_shape` makes it (the 3D similarity on the nose and upper oval), and each
oval point given the source's pose-free position in this pose (`outline_moves`):
- `oval`: the whole 3D difference, projected; on a face turned 30-45 degrees the far side's
  points cross the nose and mouth (the field folds: `folds`);
- `normal` (default): only the part along the outline's 2D normal (in or out), and inward
  at most FOLD_ROOM of the way to the nearest inner feature point: no folds;
- `all`: `oval`, and each eye, brow and the nose moved and scaled to the source's centre and
  size (mesh_shape's move without its dead zones, caps or fades).
The eyes, brows, nose and lips stay (anchored at zero), and so does everything from
RING_SCALES[-1] times the oval's size from its centre outward; between, a thin-plate
spline (`thin_plate`), faded to zero by FADE_END. Writes a person's face: keep it outside
the repository and delete it when done.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

# The zero ring: the oval scaled about its centre by these factors stays where it is.
RING_SCALES = (1.6, 2.2)
# The field fades from 1 to 0 between these multiples of the oval's largest radius.
FADE_START, FADE_END = 1.8, 2.4
FOLD_ROOM = 0.35  # `normal`: an inward move's largest share of the way to an inner point
GRID_STEP = 4  # pixels between the spline's evaluations (the field is smooth)
MODES = ("normal", "oval", "all", "none")


def thin_plate(points: np.ndarray, values: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The thin-plate spline through `points` (n, 2) taking `values` (n, 2) there (exactly,
    up to a 1e-6 regulariser), with its affine part; returns f((m, 2)) -> (m, 2)."""
    points = np.asarray(points, np.float64)
    count = len(points)

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        squared = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.where(squared > 0, squared * np.log(np.maximum(squared, 1e-12)) / 2, 0.0)

    affine = np.hstack([np.ones((count, 1)), points])
    system = np.zeros((count + 3, count + 3))
    system[:count, :count] = kernel(points, points) + 1e-6 * np.eye(count)
    system[:count, count:], system[count:, :count] = affine, affine.T
    right = np.zeros((count + 3, 2))
    right[:count] = values
    weights = np.linalg.lstsq(system, right, rcond=None)[0]

    def spline(at: np.ndarray) -> np.ndarray:
        at = np.asarray(at, np.float64)
        return np.asarray(kernel(at, points) @ weights[:count]
                          + np.hstack([np.ones((len(at), 1)), at]) @ weights[count:])

    return spline


def displacement_field(size: tuple[int, int], oval: np.ndarray, anchors: np.ndarray,
                       moves: np.ndarray) -> np.ndarray:
    """(H, W, 2) float32: where each output pixel's content comes from, as an offset
    (the pixel at q shows the input at q - field(q)). `oval` (k, 2): the face outline in
    frame pixels; `anchors` (n, 2), `moves` (n, 2): destinations and their moves."""
    height, width = size
    centre = oval.mean(axis=0)
    ring = np.concatenate([centre + (oval - centre) * scale for scale in RING_SCALES])
    spline = thin_plate(np.concatenate([anchors, ring]),
                        np.concatenate([moves, np.zeros_like(ring)]))
    rows, cols = np.mgrid[0:height:GRID_STEP, 0:width:GRID_STEP]
    grid = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(np.float64)
    field = spline(grid).reshape((*rows.shape, 2))
    radius = np.linalg.norm(oval - centre, axis=1).max()
    reach = np.linalg.norm(grid - centre, axis=1).reshape(rows.shape) / radius
    field *= np.clip((FADE_END - reach) / (FADE_END - FADE_START), 0.0, 1.0)[..., None]
    return np.asarray(cv2.resize(field.astype(np.float32), (width, height),
                                 interpolation=cv2.INTER_LINEAR))


def folds(field: np.ndarray) -> float:
    """The smallest Jacobian determinant of the map q -> q - field(q): below 0, the warp
    folds the picture over itself."""
    d_x_dx, d_x_dy = np.gradient(field[..., 0], axis=1), np.gradient(field[..., 0], axis=0)
    d_y_dx, d_y_dy = np.gradient(field[..., 1], axis=1), np.gradient(field[..., 1], axis=0)
    return float(((1 - d_x_dx) * (1 - d_y_dy) - d_x_dy * d_y_dx).min())


def warped(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3) uint8 resampled through `field` (`displacement_field`)."""
    rows, cols = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float32)
    return np.asarray(cv2.remap(image, cols - field[..., 0], rows - field[..., 1],
                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))


def normal_moves(oval: np.ndarray, moves: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """`moves` (k, 2) of the closed outline `oval` (k, 2) kept only along its outward 2D
    normal, an inward one at most FOLD_ROOM of the way to the nearest `inner` (m, 2) point."""
    tangent = np.roll(oval, -1, axis=0) - np.roll(oval, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    normal *= np.sign(((oval - oval.mean(axis=0)) * normal).sum(axis=1))[:, None]
    room = np.linalg.norm(oval[:, None, :] - inner[None, :, :], axis=2).min(axis=1)
    along = np.maximum((moves * normal).sum(axis=1), -FOLD_ROOM * room)
    return np.asarray(along[:, None] * normal)


def outline_moves(landmarks: np.ndarray, source_shape: np.ndarray, mode: str,
                  gain: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(destinations (n, 2), moves (n, 2)) in frame pixels for the face of `landmarks`
    (478, 3) frame pixels, toward `source_shape` (478, 3), pose-free template units
    (`mesh_shape.pose_free`); `gain` scales every move."""
    from facedub.engines.mesh_shape import _features, pose_free
    from facedub.faces.regions import mesh_regions

    regions = mesh_regions()
    oval = regions.face_oval
    free, transform = pose_free(landmarks)
    move_free = np.zeros_like(free)
    if mode != "none":
        move_free[oval] = source_shape[oval] - free[oval]
    kept = [regions.lips_outer, regions.lips_inner]
    for feature in _features():
        if mode == "all":
            now, wanted = free[feature.anchors].mean(axis=0), source_shape[feature.anchors]
            scale = _spread(wanted) / max(_spread(free[feature.anchors]), 1e-9)
            move_free[feature.points] = ((free[feature.points] - now) * (scale - 1.0)
                                         + wanted.mean(axis=0) - now)
        kept.append(feature.points)
    moves = (move_free * gain) @ transform[:3, :3].T
    inner = np.unique(np.concatenate(kept))
    points = np.asarray(landmarks, np.float64)
    if mode == "normal":
        moves[oval, :2] = normal_moves(points[oval, :2], moves[oval, :2], points[inner, :2])
    used = np.unique(np.concatenate([oval, inner]))
    return points[used, :2] + moves[used, :2], moves[used, :2]


def _spread(points: np.ndarray) -> float:
    return float(np.sqrt(((points[:, :2] - points[:, :2].mean(axis=0)) ** 2).sum(1).mean()))


def source_shape(source: Path, analyse: Callable[[Sequence[np.ndarray], bool],
                                                 list[np.ndarray | None]]) -> np.ndarray:
    """The source's median pose-free shape (478, 3): a photo, or every third frame of a clip
    (at most 80)."""
    from facedub import media
    from facedub.engines.mesh_shape import pose_free

    if media.is_photo_path(source):
        found = analyse([media.read_photo(source)], False)
    else:
        found = analyse([frame.image for index, frame in enumerate(media.iter_frames(source))
                         if index % 3 == 0][:80], True)
    return np.asarray(np.median([pose_free(points)[0] for points in found
                                 if points is not None], axis=0))


def landmarks_of(images: Sequence[np.ndarray], video: bool) -> list[np.ndarray | None]:
    """The largest face's landmarks (478, 3) in each image, None where none."""
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

    found: list[np.ndarray | None] = []
    with FaceAnalyser(max_faces=1, video=video, model_path=resolve_landmarker_model()) as faces:
        for index, image in enumerate(images):
            seen = faces.analyse(image, index / 25.0)
            found.append(seen[0].landmarks.astype(np.float64) if seen else None)
    return found


def main(argv: list[str]) -> None:
    import av

    from facedub import media
    from facedub.faces.regions import mesh_regions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="normal")
    parser.add_argument("--gain", type=float, default=1.0)
    parser.add_argument("source", type=Path)
    parser.add_argument("swapped", type=Path)
    parser.add_argument("out", type=Path)
    given = parser.parse_args(argv)
    frames = list(media.iter_frames(given.swapped))
    shape = source_shape(given.source, landmarks_of)
    found = landmarks_of([frame.image for frame in frames], True)
    with av.open(str(given.swapped)) as container:
        rate = container.streams.video[0].average_rate or Fraction(25)
    height, width = frames[0].image.shape[:2]
    oval = mesh_regions().face_oval
    with media.VideoWriter(given.out, width, height, Fraction(rate), crf=0) as writer:
        for frame, points in zip(frames, found, strict=True):
            image = frame.image
            if points is not None and given.mode != "none":
                anchors, moves = outline_moves(points, shape, given.mode, given.gain)
                field = displacement_field((height, width), points[oval, :2], anchors, moves)
                image = warped(image, field)
                face_width = float(np.ptp(points[oval, 0]))
                largest = float(np.linalg.norm(moves, axis=1).max())
                print(f"frame {frame.index}: largest move {largest:.1f} px "
                      f"({100 * largest / face_width:.1f}% of the face's width), "
                      f"smallest Jacobian {folds(field):+.2f}", flush=True)
            writer.write(image, frame.time)


if __name__ == "__main__":
    main(sys.argv[1:])
