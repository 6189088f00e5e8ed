"""Named landmark regions of MediaPipe's 478-point face mesh, as index arrays.

The regions are read from MediaPipe's own connection lists and ordered into closed loops,
so they stay right if the mesh ever changes. Built once by `mesh_regions()`; callers keep
the returned value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facedub.faces.mediapipe_offline import FaceLandmarksConnections as _Mesh

RIGHT_IRIS_CENTER = 468  # the person's right eye, on the image's left
LEFT_IRIS_CENTER = 473
NOSE_TIP = 1
# The face's midline between the eyes, and its outline at the temples (the person's right,
# left): how wide each half of the face shows (`face_halves`).
MIDLINE = 168
TEMPLES = (127, 356)
# The mouth's corners, and each lip's outline from corner to corner along its outer edge and
# back along the lip line.
MOUTH_CORNERS = (61, 291)
UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
             308, 415, 310, 311, 312, 13, 82, 81, 80, 191, 78)
LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
             308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)
# Where stubble and beards grow, as a closed loop: the jaw from one side to the other,
# then back along the lower cheeks, beside the nostrils and under the nose.
BEARD_ZONE = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397,
              288, 361, 411, 425, 426, 327, 2, 98, 206, 205, 187)


@dataclass(frozen=True)
class MeshRegions:
    """Index arrays into the 478 landmarks. Loops are ordered around their contour.

    "left" and "right" are the person's own sides (their left eye is on the image's right).
    """

    face_oval: np.ndarray
    lips_outer: np.ndarray
    lips_inner: np.ndarray
    left_eye: np.ndarray
    right_eye: np.ndarray
    left_eyebrow: np.ndarray
    right_eyebrow: np.ndarray
    nose: np.ndarray
    rigid: np.ndarray  # eyes, brows and nose: what moves with the skull, not the jaw

    def __post_init__(self) -> None:
        for array in vars(self).values():
            array.flags.writeable = False  # cached and shared: read only


@functools.cache
def mesh_regions() -> MeshRegions:
    lips = _pairs(_Mesh.FACE_LANDMARKS_LIPS)
    outer_lips, inner_lips = _split_loops(lips)
    left_eye = _loop(_pairs(_Mesh.FACE_LANDMARKS_LEFT_EYE))
    right_eye = _loop(_pairs(_Mesh.FACE_LANDMARKS_RIGHT_EYE))
    left_brow = _unique(_pairs(_Mesh.FACE_LANDMARKS_LEFT_EYEBROW))
    right_brow = _unique(_pairs(_Mesh.FACE_LANDMARKS_RIGHT_EYEBROW))
    nose = _unique(_pairs(_Mesh.FACE_LANDMARKS_NOSE))
    rigid = np.unique(np.concatenate([left_eye, right_eye, left_brow, right_brow, nose]))
    return MeshRegions(
        face_oval=_loop(_pairs(_Mesh.FACE_LANDMARKS_FACE_OVAL)),
        lips_outer=outer_lips,
        lips_inner=inner_lips,
        left_eye=left_eye,
        right_eye=right_eye,
        left_eyebrow=left_brow,
        right_eyebrow=right_brow,
        nose=nose,
        rigid=rigid,
    )


def face_halves(landmarks: np.ndarray) -> tuple[float, float]:
    """(right, left): how wide each half of the face shows in the image (the person's
    right, on the image's left, then the left), from the midline to each temple, in the
    pixels of `landmarks` (478, 2+); a turned face's far half is the narrower."""
    middle = float(landmarks[MIDLINE, 0])
    return (middle - float(landmarks[TEMPLES[0], 0]),
            float(landmarks[TEMPLES[1], 0]) - middle)


def eye_distance(landmarks: np.ndarray) -> float:
    """The distance of the eye outlines' centres of landmarks (478, 2+), in their pixels:
    not the irises, which a glance aside moves (d10's irises read 4% further apart looking
    hard aside)."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    return float(np.linalg.norm(points[regions.left_eye].mean(axis=0)
                                - points[regions.right_eye].mean(axis=0)))


def _pairs(connections: Sequence[object]) -> list[tuple[int, int]]:
    return [(int(c.start), int(c.end)) for c in connections]  # type: ignore[attr-defined]


def _unique(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.unique(np.array(pairs, dtype=np.int64).ravel())


def _loop(pairs: list[tuple[int, int]]) -> np.ndarray:
    """Order the vertices of one closed polygon given its edges."""
    neighbours: dict[int, list[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    start = min(neighbours)
    order = [start]
    previous, current = -1, start
    while True:
        following = [n for n in neighbours[current] if n != previous]
        if not following or following[0] == start:
            break
        previous, current = current, following[0]
        order.append(current)
    return np.array(order, dtype=np.int64)


def _split_loops(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Split the lip edges into their two closed loops; the outer one is the longer."""
    remaining = list(pairs)
    loops = []
    while remaining:
        component = _component(remaining)
        loops.append(_loop(component))
        remaining = [pair for pair in remaining if pair not in component]
    loops.sort(key=len, reverse=True)
    return loops[0], loops[1]


def _component(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    seen = {pairs[0][0]}
    changed = True
    while changed:
        changed = False
        for a, b in pairs:
            if (a in seen) != (b in seen):
                seen.update((a, b))
                changed = True
    return [pair for pair in pairs if pair[0] in seen]
