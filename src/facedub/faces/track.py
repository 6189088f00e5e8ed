"""Linking faces across frames into tracks, and tracks into persons.

Tracks follow box overlap from frame to frame, never across a scene cut, and split when
the identity descriptor says the face under the box changed. Persons are tracks grouped
by the mean of their descriptors (average linkage), numbered by screen time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facedub.faces.identity import distance
from facedub.types import Box

TRACK_MIN_OVERLAP = 0.3  # intersection over union between consecutive boxes
TRACK_MAX_GAP = 5  # frames a track may miss its face and still continue
PERSON_MAX_DISTANCE = 0.55  # below dlib's 0.6: two different people merged is worse


@dataclass(frozen=True)
class Detection:
    """What tracking needs of one face: where it is and, on sampled frames, who."""

    frame: int
    box: Box
    descriptor: np.ndarray | None


@dataclass(frozen=True)
class FrameDetections:
    frame: int
    scene_cut: bool
    faces: tuple[Detection, ...]


@dataclass(frozen=True)
class Tracking:
    """`track_of[i][j]` and `person_of_track[t]`; persons are numbered by face count."""

    track_of: tuple[tuple[int, ...], ...]
    person_of_track: tuple[int, ...]
    person_descriptors: tuple[np.ndarray | None, ...]  # None: never described


def box_iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def needs_descriptor(box: Box, previous_boxes: Sequence[Box]) -> bool:
    """A face that overlaps no face of the previous frame may be someone new."""
    return all(box_iou(box, other) < TRACK_MIN_OVERLAP for other in previous_boxes)


@dataclass
class _Track:
    box: Box
    last_frame: int
    descriptors: list[np.ndarray]
    faces: int = 0
    frames: set[int] = field(default_factory=set)

    def mean_descriptor(self) -> np.ndarray | None:
        return np.mean(self.descriptors, axis=0) if self.descriptors else None


def track_faces(frames: Sequence[FrameDetections]) -> Tracking:
    tracks: list[_Track] = []
    active: list[int] = []
    track_of: list[tuple[int, ...]] = []
    for frame in frames:
        if frame.scene_cut:
            active = []
        active = [t for t in active if frame.frame - tracks[t].last_frame <= TRACK_MAX_GAP]
        assigned = _match(frame.faces, active, tracks)
        ids = []
        for index, face in enumerate(frame.faces):
            track_id = assigned.get(index)
            if track_id is None:
                track_id = len(tracks)
                tracks.append(_Track(face.box, frame.frame, []))
                active.append(track_id)
            track = tracks[track_id]
            track.box, track.last_frame = face.box, frame.frame
            track.faces += 1
            track.frames.add(frame.frame)
            if face.descriptor is not None:
                track.descriptors.append(face.descriptor)
            ids.append(track_id)
        track_of.append(tuple(ids))
    person_of_track, descriptors = _group_persons(tracks)
    return Tracking(tuple(track_of), person_of_track, descriptors)


def _match(faces: Sequence[Detection], active: list[int], tracks: list[_Track]) -> dict[int, int]:
    """Greedy matching by overlap; a known-different identity vetoes a match."""
    pairs = []
    for index, face in enumerate(faces):
        for track_id in active:
            overlap = box_iou(face.box, tracks[track_id].box)
            if overlap >= TRACK_MIN_OVERLAP:
                pairs.append((overlap, index, track_id))
    assigned: dict[int, int] = {}
    used: set[int] = set()
    for _, index, track_id in sorted(pairs, reverse=True):
        if index in assigned or track_id in used:
            continue
        known = tracks[track_id].mean_descriptor()
        descriptor = faces[index].descriptor
        if known is not None and descriptor is not None and distance(known, descriptor) > 0.6:
            continue
        assigned[index] = track_id
        used.add(track_id)
    return assigned


def _group_persons(
        tracks: list[_Track]) -> tuple[tuple[int, ...], tuple[np.ndarray | None, ...]]:
    """Average-linkage clustering of track descriptors; returns person per track. Tracks
    seen in the same frame are different people, whatever their descriptors say (small
    faces of relatives can look alike to dlib)."""
    clusters: list[list[int]] = []
    orphans: list[int] = []
    for track_id, track in enumerate(tracks):
        (clusters.append([track_id]) if track.descriptors else orphans.append(track_id))
    while len(clusters) > 1:
        best = (PERSON_MAX_DISTANCE, -1, -1)
        frames = [set().union(*(tracks[t].frames for t in members)) for members in clusters]
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                if frames[a] & frames[b]:
                    continue
                d = _linkage(clusters[a], clusters[b], tracks)
                if d < best[0]:
                    best = (d, a, b)
        if best[1] < 0:
            break
        clusters[best[1]].extend(clusters.pop(best[2]))
    # A track that never got a descriptor stays a person of its own.
    clusters.extend([orphan] for orphan in orphans)
    clusters.sort(key=lambda members: -sum(tracks[t].faces for t in members))
    person_of_track = [0] * len(tracks)
    descriptors: list[np.ndarray | None] = []
    for person, members in enumerate(clusters):
        for track_id in members:
            person_of_track[track_id] = person
        collected = [d for t in members for d in tracks[t].descriptors]
        descriptors.append(np.mean(collected, axis=0).astype(np.float32) if collected else None)
    return tuple(person_of_track), tuple(descriptors)


def _linkage(a: list[int], b: list[int], tracks: list[_Track]) -> float:
    distances = []
    for ta in a:
        mean_a = tracks[ta].mean_descriptor()
        for tb in b:
            mean_b = tracks[tb].mean_descriptor()
            if mean_a is not None and mean_b is not None:
                distances.append(distance(mean_a, mean_b))
    return float(np.mean(distances)) if distances else float("inf")
