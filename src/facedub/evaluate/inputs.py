"""Who is who: the source person's identity, the target analysis, and the gallery.

The source and target are read through `extract`, so evaluation chooses people exactly as
the swap does (most screen time, or the person of `--target-person`). Identities are mean
dlib descriptors, (128,) float32.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from facedub import media
from facedub.errors import FacedubError
from facedub.evaluate.config import EvalConfig
from facedub.extract import extract
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import checked_faceset
from facedub.faces.identity import IdentityEncoder, distance
from facedub.faces.landmarks import FaceAnalyser
from facedub.faceset import (
    FaceRecord,
    Faceset,
    is_faceset,
    largest_face_per_frame,
)
from facedub.fsutil import sha256_file, write_json_atomic
from facedub.progress import Progress

log = logging.getLogger(__name__)

Role = Literal["source", "target", "other"]
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"})
GALLERY_VIDEO_FRAMES = 5  # evenly spaced frames averaged for a gallery video's identity
# A gallery file this close to the source or target is the same person under another
# name; kept, it would make a correct retrieval look wrong. Below dlib's 0.6 on purpose:
# dropping a different person only makes retrieval slightly easier.
GALLERY_DUPLICATE_DISTANCE = 0.5
GALLERY_CACHE_FILE = "gallery-descriptors.json"


@dataclass(frozen=True)
class Identity:
    """A person: a name for the report, their mean (128,) float32 descriptor, their role."""

    name: str
    descriptor: np.ndarray
    role: Role


@dataclass(frozen=True)
class TargetAnalysis:
    """The original target, analysed once.

    `faces` maps frame index to the chosen person's face in that frame (frames without it
    are absent); `frames` is how many frames were analysed; `others` are the other people
    seen in the target.
    """

    faceset: Faceset
    kind: str  # "video" or "photo"
    frames: int
    faces: Mapping[int, FaceRecord]
    identity: Identity
    others: tuple[Identity, ...]
    spread: float  # mean distance of the person's sampled descriptors to their mean


def source_identity(source: Path, work_dir: Path, config: EvalConfig, progress: Progress,
                    verdicts: Path | None = None
                    ) -> tuple[Identity, tuple[Identity, ...], Faceset]:
    """The source person (and the others seen beside them, and the faceset read) from a
    video, photo, folder of photos or faceset folder. A faceset folder's crops (which the
    realism measures read) pass the explicit-content check first, as a swap's faceset
    source does (`workspace.checked_faceset`): its pass kept in the work folder `verdicts`,
    or, without one, every crop looked at on every run."""
    source = Path(source)
    if is_faceset(source):
        # It was read unchecked (load_faceset): a hand-made or edited folder that swap,
        # train and refine refuse was measured, its crops read into the report's colours.
        faceset = checked_faceset(source, verdicts, progress)
    else:
        every = 1
        if source.is_file() and not media.is_photo_path(source):
            every = max(1, media.probe(source).frame_count // config.source_frames)
        settings = ExtractConfig(every=every, max_frames=config.source_frames,
                                 identity_every=1, max_faces=config.max_faces,
                                 write_crops=False, landmarker=config.landmarker)
        faceset = extract(source, work_dir, settings, progress).faceset
    chosen, others = _persons(faceset, f"source {source.name}", "source")
    return chosen, others, faceset


def analyse_target(target: Path, work_dir: Path, config: EvalConfig,
                   progress: Progress) -> TargetAnalysis:
    target = Path(target)
    if target.is_dir():
        raise FacedubError(f"{target}: the target must be one video or photo, not a folder")
    kind = media.probe(target).kind
    settings = ExtractConfig(max_frames=config.max_frames, max_faces=config.max_faces,
                             person_reference=config.target_person, write_crops=False,
                             landmarker=config.landmarker)
    faceset = extract(target, work_dir, settings, progress).faceset
    chosen, others = _persons(faceset, f"target {target.name}", "target")
    faces = largest_face_per_frame(faceset.faces_of())
    sampled = [r.descriptor for r in faceset.faces_of() if r.descriptor is not None]
    spread = float(np.mean([distance(d, chosen.descriptor) for d in sampled]))
    return TargetAnalysis(faceset, kind, faceset.meta.frames_analysed, faces, chosen, others,
                          spread)


def _persons(faceset: Faceset, label: str, role: Role) -> tuple[Identity, tuple[Identity, ...]]:
    chosen: Identity | None = None
    others: list[Identity] = []
    for person in faceset.meta.persons:
        if person.descriptor is None:
            continue
        if person.id == faceset.meta.person:
            chosen = Identity(label, person.descriptor, role)
        else:
            others.append(Identity(f"{label} person {person.id}", person.descriptor, "other"))
    if chosen is None:
        raise FacedubError(f"{label}: the person's face could not be identified; use media "
                           "where the face is clear and frontal at least once")
    return chosen, tuple(others)


def build_gallery(source: Identity, target: Identity, found: tuple[Identity, ...],
                  config: EvalConfig, skip_files: tuple[Path, ...],
                  encoder: IdentityEncoder) -> tuple[tuple[Identity, ...], tuple[str, ...]]:
    """Source, target, then everyone else: the other people found in the inputs and the
    `--gallery` files. Returns (gallery, names of the entries left out as duplicates of
    the source or target)."""
    others = found
    if config.gallery is not None:
        others += tuple(_gallery_folder(Path(config.gallery), skip_files, config.cache_dir,
                                        encoder, config.landmarker))
    kept: list[Identity] = [source, target]
    skipped: list[str] = []
    for person in others:
        if min(distance(person.descriptor, source.descriptor),
               distance(person.descriptor, target.descriptor)) < GALLERY_DUPLICATE_DISTANCE:
            log.info("gallery: %s looks like the source or target person; left out",
                     person.name)
            skipped.append(person.name)
        else:
            kept.append(person)
    return tuple(kept), tuple(skipped)


def nearest(descriptor: np.ndarray, gallery: tuple[Identity, ...]) -> Identity:
    return min(gallery, key=lambda person: distance(descriptor, person.descriptor))


def _gallery_folder(folder: Path, skip_files: tuple[Path, ...], cache_dir: Path | None,
                    encoder: IdentityEncoder, landmarker: Path) -> Iterator[Identity]:
    skip = {path.resolve() for path in skip_files}
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.resolve() not in skip
             and (media.is_photo_path(p) or p.suffix.lower() in VIDEO_SUFFIXES)]
    if not files:
        raise FacedubError(f"--gallery {folder}: holds no photos or videos besides the inputs; "
                           "give a folder with one person per file")
    cache_path = cache_dir / GALLERY_CACHE_FILE if cache_dir is not None else None
    cache = _read_cache(cache_path)
    with FaceAnalyser(max_faces=4, video=False, model_path=landmarker) as analyser:
        for file in files:
            key = f"{sha256_file(file)}:{GALLERY_VIDEO_FRAMES}"
            if key not in cache:
                found = _describe_file(file, analyser, encoder)
                cache[key] = None if found is None else found.tolist()
            value = cache[key]
            if value is None:
                log.warning("gallery: no face found in %s; left out", file.name)
                continue
            yield Identity(file.name, np.asarray(value, dtype=np.float32), "other")
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(cache_path, cache)


def _describe_file(file: Path, analyser: FaceAnalyser,
                   encoder: IdentityEncoder) -> np.ndarray | None:
    """Mean descriptor of the largest face over a few frames of a photo or video."""
    descriptors = []
    for image in _sample_images(file):
        faces = analyser.analyse(image)
        if faces:
            descriptors.append(encoder.describe(image, faces[0].landmarks))
    return np.mean(descriptors, axis=0).astype(np.float32) if descriptors else None


def _sample_images(file: Path) -> Iterator[np.ndarray]:
    if media.is_photo_path(file):
        yield media.read_photo(file)
        return
    total = media.probe(file).frame_count
    wanted = {math.floor((i + 0.5) * total / GALLERY_VIDEO_FRAMES)
              for i in range(GALLERY_VIDEO_FRAMES)}
    for frame in media.iter_frames(file):
        if frame.index in wanted:
            yield frame.image
        if frame.index >= max(wanted):
            return


def _read_cache(path: Path | None) -> dict[str, list[float] | None]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        log.warning("%s: unreadable, rebuilding the gallery cache", path)
        return {}
    return data if isinstance(data, dict) else {}
