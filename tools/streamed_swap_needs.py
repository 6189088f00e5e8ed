"""What a swap's frames take from the whole analysis of its target, against what the
analysis's first K frames alone would give (issue 9: could the frames start beside the
analysis, with the same output?).

    PYTHONPATH=src python tools/streamed_swap_needs.py [FACESET_FOLDER ...]
        [--first 25 50 100] [--max-crop 512]

Without folders: every complete video analysis in the work folder (`locations.work_dir`),
one per target name. Per target and per K, from the detections of the first K frames only
(tracks and persons made again from them, `faces.track.track_faces`; the person with the
most faces chosen, as the analysis does without `--person`):
- whether the chosen person's faces in those frames are the whole analysis's;
- the compositing crop size (`swap.compositing_crop_size`: the median face's), against the
  whole's: every crop pixel of every frame is made at this size;
- how far the chosen person's mean identity descriptor lies from the whole's (the engine
  reads it on every frame: `TargetFace.person`).
A frame's swap depends on all three (and on its track's glasses, judged on faces spread
over the whole track: `composite.glasses_tracks.glasses_by_track`), so frames made from a
prefix's values are the whole analysis's only where all of them agree.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedub.errors import FacedubError
from facedub.faces.identity import distance
from facedub.faces.track import Detection, FrameDetections, track_faces
from facedub.faceset import FaceRecord, Faceset, is_faceset, load_faceset
from facedub.locations import work_dir
from facedub.swap import compositing_crop_size


@dataclass(frozen=True)
class Needs:
    """What the frames take from an analysis: the chosen person's faces (frame, box),
    the compositing crop size, and the chosen person's mean descriptor (None: never
    described)."""

    faces: frozenset[tuple[int, tuple[float, ...]]]
    size: int
    descriptor: np.ndarray | None


@dataclass(frozen=True)
class PrefixReading:
    """The first `first` frames' needs against the whole's."""

    first: int
    same_faces: bool  # the chosen faces in those frames are the whole analysis's
    size: int
    same_size: bool
    descriptor_distance: float | None  # from the whole's; None where either is unknown


def whole_needs(records: Sequence[FaceRecord], chosen: int, crop_size: int,
                descriptor: np.ndarray | None, max_crop: int) -> Needs:
    """The needs as the swap reads them from a finished analysis."""
    faces = [record for record in records if record.person == chosen]
    return Needs(frozenset((r.frame, tuple(r.box)) for r in faces),
                 compositing_crop_size(tuple(faces), crop_size, max_crop), descriptor)


def prefix_needs(records: Sequence[FaceRecord], cuts: frozenset[int], first: int,
                 crop_size: int, max_crop: int) -> Needs | None:
    """The needs made from the detections of frames before `first` alone (None: no face
    there). Frames without a face change nothing in tracking but their cut, so the cut
    frames and the frames with faces are enough."""
    by_frame: dict[int, list[FaceRecord]] = defaultdict(list)
    for record in records:
        if record.frame < first:
            by_frame[record.frame].append(record)
    frames = sorted(set(by_frame) | {cut for cut in cuts if cut < first})
    detections = [FrameDetections(frame, frame in cuts, tuple(
        Detection(r.frame, r.box, r.descriptor) for r in by_frame[frame])) for frame in frames]
    if not any(frame.faces for frame in detections):
        return None
    tracking = track_faces(detections)
    chosen = [record for frame, tracks in zip(detections, tracking.track_of, strict=True)
              for record, track in zip(by_frame[frame.frame], tracks, strict=True)
              if tracking.person_of_track[track] == 0]
    return Needs(frozenset((r.frame, tuple(r.box)) for r in chosen),
                 compositing_crop_size(tuple(chosen), crop_size, max_crop),
                 tracking.person_descriptors[0])


def compare(whole: Needs, prefix: Needs | None, first: int) -> PrefixReading | None:
    if prefix is None:
        return None
    whole_faces = frozenset(face for face in whole.faces if face[0] < first)
    apart = (None if whole.descriptor is None or prefix.descriptor is None
             else distance(whole.descriptor, prefix.descriptor))
    return PrefixReading(first, prefix.faces == whole_faces, prefix.size,
                         prefix.size == whole.size, apart)


def readings(faceset: Faceset, firsts: Sequence[int], max_crop: int
             ) -> tuple[Needs, list[PrefixReading | None]]:
    meta = faceset.meta
    whole = whole_needs(faceset.records, meta.person, meta.crop_size,
                        faceset.person_descriptor(), max_crop)
    return whole, [compare(whole, prefix_needs(faceset.records, meta.cuts, first,
                                               meta.crop_size, max_crop), first)
                   for first in firsts]


def cached_video_analyses(folder: Path) -> list[Path]:
    """The complete video analyses in a work folder, the newest of each target name."""
    newest: dict[str, tuple[float, Path]] = {}
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not is_faceset(entry):
            continue
        try:
            meta = load_faceset(entry, check_files=False).meta
        except FacedubError:  # damaged: not this tool's to judge
            continue
        if meta.complete and meta.source_kind == "video":
            stamp = (entry / "faceset.json").stat().st_mtime
            if meta.source_name not in newest or stamp > newest[meta.source_name][0]:
                newest[meta.source_name] = (stamp, entry)
    return [path for _, path in sorted(newest.values(), key=lambda item: item[1].name)]


def row(name: str, faceset: Faceset, firsts: Sequence[int], max_crop: int) -> list[str]:
    whole, prefixes = readings(faceset, firsts, max_crop)
    cells = [name, str(faceset.meta.frames_analysed), str(len(faceset.meta.persons)),
             str(len({r.track for r in faceset.faces_of()})), str(whole.size)]
    for reading in prefixes:
        if reading is None:
            cells.append("no face")
            continue
        apart = "-" if reading.descriptor_distance is None \
            else f"{reading.descriptor_distance:.3f}"
        cells.append(f"{'same' if reading.same_faces else 'other'} faces, "
                     f"{reading.size}{'' if reading.same_size else ' (differs)'}, {apart}")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--first", nargs="+", type=int, default=[25, 50, 100])
    parser.add_argument("--max-crop", type=int, default=512)
    args = parser.parse_args()
    folders = args.folders or cached_video_analyses(work_dir())
    header = ["target", "frames", "persons", "chosen tracks", "size",
              *(f"first {k}: faces, size, descriptor apart" for k in args.first)]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for folder in folders:
        faceset = load_faceset(folder, check_files=False)
        print("| " + " | ".join(row(faceset.meta.source_name, faceset, args.first,
                                     args.max_crop)) + " |")


if __name__ == "__main__":
    main()
