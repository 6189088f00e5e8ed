"""Choosing source faces for a target face: how far each is in head pose, and the blend of
the nearest eased over a track's frames. Shared by the whole face's choice (`MeshEngine`)
and the lips' (`mesh_source_mouth.SourceMouths`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ROLL_SHARE = 0.4  # roll is mostly undone by the alignment
DROPPED = 0.02  # weights below this share of the blend are dropped


def pose_distances(poses: np.ndarray, pose: np.ndarray, degrees_per_unit: float
                   ) -> np.ndarray:
    """(N,) how far the source faces' `poses` (N, 3) yaw, pitch, roll in degrees are from
    `pose` (3,), in units of `degrees_per_unit`."""
    distance = np.abs(poses - pose) / degrees_per_unit
    distance[:, 2] *= ROLL_SHARE
    result: np.ndarray = np.linalg.norm(distance, axis=1)
    return result


def eased_nearest(distance: np.ndarray, previous: dict[int, float], neighbours: int,
                  follow: float) -> dict[int, float]:
    """Blend weights of the `neighbours` faces of least `distance` (N,), by inverse
    distance, mixed with the track's `previous` blend (`follow` of the new one a frame),
    the strongest kept (a few more than `neighbours`) and those under DROPPED left out."""
    count = min(neighbours, len(distance))
    nearest = np.argpartition(distance, count - 1)[:count]
    fresh = 1.0 / (distance[nearest] + 0.05)
    fresh /= fresh.sum()
    blend = {int(i): follow * float(w) for i, w in zip(nearest, fresh, strict=True)}
    for index, weight in previous.items():
        blend[index] = blend.get(index, 0.0) + (1.0 - follow) * weight
    kept = dict(sorted(blend.items(), key=lambda item: -item[1])[:count + 2])
    norm = sum(kept.values())
    return {index: weight / norm for index, weight in kept.items() if weight / norm > DROPPED}


def first_uses(poses: np.ndarray, expressions: np.ndarray,
               targets: Sequence[tuple[int, np.ndarray, np.ndarray]], degrees_per_unit: float,
               expression_weight: float, neighbours: int, follow: float) -> list[int]:
    """The source faces (rows of `poses` (N, 3) and `expressions` (N, K)) that the mesh
    engine's choice blends for `targets`, each once, in the order it first blends them:
    the choice replayed over the target's faces in frame order, each (track, pose (3,) yaw,
    pitch and roll, expression (K,) its blendshapes the choice compares), a track's eased
    blend dropped after its last face as `MeshEngine.end_track` drops it. What a first
    swap from a video source can make ahead (`SourceFaces.make_in_background`)."""
    last = {track: position for position, (track, _pose, _expression) in enumerate(targets)}
    blends: dict[int, dict[int, float]] = {}
    order: dict[int, None] = {}  # insertion-ordered set
    for position, (track, pose, expression) in enumerate(targets):
        distance = (pose_distances(poses, pose, degrees_per_unit)
                    + expression_weight * np.linalg.norm(expressions - expression, axis=1))
        blend = eased_nearest(distance, blends.get(track, {}), neighbours, follow)
        blends[track] = blend
        if last[track] == position:
            del blends[track]
        order.update(dict.fromkeys(blend))
    return list(order)
