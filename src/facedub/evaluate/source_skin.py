"""The source person's own skin colours, so that the invented-colour measure does not
count colours the source really has (its skin, its lips) as invented."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from facedub import media
from facedub.evaluate.realism import chroma_histogram, realism_regions, used_chroma
from facedub.faces.align import landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faceset import FaceRecord, Faceset, is_faceset

log = logging.getLogger(__name__)

SAMPLED_FACES = 8  # evenly spaced source faces; skin colour changes slowly


def source_chroma(source: Path, faceset: Faceset, count: int = SAMPLED_FACES
                  ) -> np.ndarray | None:
    """(B, B) bool chroma bins (`realism.used_chroma`) of the chosen person's skin in up
    to `count` faces of `source` (a video, photo, or faceset folder with crops); None for
    a folder of photos, whose frames cannot be read back here."""
    size = faceset.meta.crop_size
    histograms = []
    for record, crop in source_faces(source, faceset, count):
        landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
        valid = np.asarray(crop.any(axis=2))  # outside the source image the crop is black
        skin = realism_regions(landmarks, size, valid).skin
        histograms.append(chroma_histogram(crop, skin))
    if not histograms:
        log.info("%s: source colours not read; invented colour judged by the target alone",
                 source)
        return None
    return used_chroma(np.mean(histograms, axis=0))


def source_faces(source: Path, faceset: Faceset, count: int
                 ) -> list[tuple[FaceRecord, np.ndarray]]:
    """Up to `count` of the chosen person's faces evenly spaced over `faceset` (of
    `source`), each with its aligned crop (the faceset's crop size); none for a folder of
    photos, or a faceset folder without crops."""
    records = faceset.faces_of()
    if not records:
        return []
    picks = np.linspace(0, len(records) - 1, min(count, len(records))).round().astype(int)
    chosen = {records[i].frame: records[i] for i in picks}
    return _crops(Path(source), faceset, chosen, faceset.meta.crop_size)


def _crops(source: Path, faceset: Faceset, chosen: dict[int, FaceRecord], size: int
           ) -> list[tuple[FaceRecord, np.ndarray]]:
    if is_faceset(source):
        if not faceset.meta.has_crops:
            return []
        return [(record, faceset.load_image(record)) for record in chosen.values()]
    if not source.is_file():
        return []
    found = []
    last = max(chosen)
    for frame in media.iter_frames(source):
        record = chosen.get(frame.index)
        if record is not None:
            found.append((record, warp_to_face(frame.image, record.face_from_frame, size)))
        if frame.index >= last:
            break
    return found
