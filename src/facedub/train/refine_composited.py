"""`refine`'s held-out check on composited faces: the source video's held-out stretch
swapped from the frames before it, every frame through the swap's own per-frame path
(its landmark smoothing), the kept faces (at most HELDOUT_FACES) through the swap's
compositor, the mesh engine's face and the refined one, read with the evaluation's face
SSIM.

`refine`'s other held-out score reads mesh renderings at the refiner's size, before the
compositor: last round it ranked two refiners the other way round from the self-swap
pair, and said +0.010-0.012 where their composited held-out faces lost 0.0010-0.0016 to
the mesh engine's (BENCHMARKS.md, Refiner, twenty-fourth round). The compositor's tone,
colour and low-pass steps remove most of what a refiner learns; what a swap shows is
what is left after them, so this check chooses the refiner's best state and says whether
it beats the mesh engine at all.

The stretch: the source's faces split as `refine` splits them (refine_data.split_faces),
the frames up to the last training face become the swap's source, the frames from the
first held-out face on its target (each cut losslessly, once, into the work folder,
and deleted when the run ends; a stopped run keeps them for its resume, and a folder
unused for the analyses' UNUSED_SECONDS is removed by the next check): neither the mesh
engine nor the refiner has seen a held-out frame. Both cuts swap the refine faceset's
person: the target's person is the one whose descriptor is nearest the faceset's, and
where that person cannot be told (no descriptor near enough, or the source cut's
chosen person is another) the check is skipped with a warning. The mesh engine's
faces are made once; a check refines and composites them again (a fresh compositor each
time, so its per-track state and grain draws are the same for every check, and the mesh
engine's own score is read through the same fresh compositor on the same faces).
The stretch keeps at most HELDOUT_FACES faces, spread evenly over it: its memory (about
7-8 MB a 512 px face) and each check's time stay the same whatever the source's length.
Only the kept faces are composited, so the compositor's per-track state (colour, the eye
blur's and occlusion's easing) steps once per kept face, not once per frame as in the
swap: above the cap the composited crops are not exactly the swap's, the same for the
mesh and refined sides (a fair comparison; the webcam's 22 faces are below the cap).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import statistics
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from facedub import media
from facedub.composite.compositor import Compositor
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.refiner import RefinerBackend, refine_face
from facedub.engines.registry import SOURCE_CROP, EngineRequest, open_engine
from facedub.errors import FacedubError
from facedub.evaluate import realism
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import UNUSED_SECONDS, analysed
from facedub.faces.identity import SAME_PERSON_DISTANCE, distance
from facedub.faceset import Faceset, PersonSummary
from facedub.fsutil import atomic_path
from facedub.progress import NoProgress, Progress
from facedub.swap import SwapConfig, analyse_target, frame_swapper
from facedub.train.refine_data import FaceSplit

log = logging.getLogger(__name__)

# Where the cuts live in the work folder (one subfolder per source and split).
HELDOUT_FOLDER = "refine-heldout"
# The most held-out faces a check scores, spread evenly over the stretch. Last round's
# stretch (the webcam split) held 22 faces: a check cost 1.1-1.2 CPU s and resolved the
# after-compositor network's +0.0015 (20 of 22 faces better, se 0.0002); 40 faces keep a
# check near 2 CPU s (by proportion, not timed at 40) and about 300 MB at 512 px (7-8 MB
# a face), where a 3000-frame source's 450-600 held-out faces would keep 3-4.5 GB and
# re-composite them all at every check.
HELDOUT_FACES = 40


@dataclass(frozen=True)
class HeldOutFace:
    """One held-out frame's face as the swap meets it: the target crop, the mesh engine's
    face for it, the evaluation's face region, and the mesh engine's composited score (what
    `score` reads; tools recompute the composited crop with `composited`)."""

    frame: int
    target: TargetFace
    swapped: SwappedFace
    region: np.ndarray
    mesh_ssim: float


@dataclass(frozen=True)
class CompositedScore:
    """Mean face SSIM of the composited held-out faces: the refined ones, the mesh
    engine's, and the refined minus the mesh engine's frame by frame (mean, standard
    error, faces better)."""

    refined: float
    mesh: float
    gain: float
    gain_se: float
    better: int
    faces: int

    def beats_mesh(self) -> bool:
        return self.gain > 0.0

    def as_validation(self) -> dict[str, float]:
        return {"composited_mesh": self.mesh, "composited_refined": self.refined,
                "composited_gain": self.gain}


class CompositedHoldout:
    """The held-out stretch's faces through the swap's path, made once; `score` refines
    and composites them with a refiner."""

    def __init__(self, faces: tuple[HeldOutFace, ...], target: Path, faceset: Faceset,
                 config: SwapConfig, folder: Path | None = None) -> None:
        self.faces = faces
        self._target, self._faceset, self._config = target, faceset, config
        self.folder = folder  # the cuts' folder, removed by `remove`

    def remove(self) -> None:
        """Delete the cuts (the run has ended: its checks read them no more)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def compositor(self) -> Compositor:
        """A fresh compositor with the stretch's glasses learnt, as the swap makes one."""
        return stretch_compositor(self._target, self._faceset, self._config)

    def score(self, refiner: RefinerBackend) -> CompositedScore | None:
        """None where no face could be read (see `compare`)."""
        return compare(self.refined_ssims(refiner), [face.mesh_ssim for face in self.faces])

    def refined_ssims(self, refiner: RefinerBackend) -> list[float]:
        """Per face, the face SSIM of its refined face (`refine_face`, the swap's)
        composited."""
        images = [refine_face(refiner, face.swapped, face.target.image)
                  for face in self.faces]
        return composited_ssims(self.compositor(), self.faces, images)


def stretch_compositor(target: Path, faceset: Faceset, config: SwapConfig) -> Compositor:
    """A fresh compositor of `target` with its glasses learnt, as the swap makes one."""
    compositor = Compositor(config.composite)
    compositor.learn_glasses(target, faceset, tuple(faceset.faces_of()))
    return compositor


def composited_ssims(compositor: Compositor, faces: tuple[HeldOutFace, ...],
                     images: list[np.ndarray]) -> list[float]:
    """Per face in order, the face SSIM of `faces` with their engine images replaced by
    `images`, composited by `compositor` (fresh: its per-track state is theirs)."""
    ssims = []
    for face, image in zip(faces, images, strict=True):
        shown, _ = composited(compositor, face.target, replace(face.swapped, image=image))
        ssims.append(realism.fidelity(face.target.image, shown, face.region).ssim)
    return ssims


def compare(refined: list[float], mesh: list[float]) -> CompositedScore | None:
    """The scores of the faces both read (a face region off the crop reads NaN); None
    where neither side read any."""
    pairs = [(r, m) for r, m in zip(refined, mesh, strict=True)
             if not (math.isnan(r) or math.isnan(m))]
    if not pairs:
        return None
    gains = [r - m for r, m in pairs]
    spread = statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else 0.0
    return CompositedScore(refined=statistics.mean(r for r, _ in pairs),
                           mesh=statistics.mean(m for _, m in pairs),
                           gain=statistics.mean(gains), gain_se=spread,
                           better=sum(g > 0 for g in gains), faces=len(pairs))


def composited(compositor: Compositor, target: TargetFace, swapped: SwappedFace
               ) -> tuple[np.ndarray, np.ndarray]:
    """(the composited crop (uint8) as the swap pastes it back, its alpha (float32))."""
    made = compositor.composite(target, swapped)
    alpha = made.alpha.astype(np.float32)
    shown = made.image * alpha[..., None] + target.image * (1.0 - alpha[..., None])
    return np.clip(shown + 0.5, 0, 255).astype(np.uint8), alpha


def stretch_edges(source: Faceset, split: FaceSplit) -> tuple[int, int] | None:
    """(the last training face's frame, the first held-out face's) of `source` as `split`
    divides its faces; None when nothing is held out."""
    if not len(split.held):
        return None
    records = source.faces_of()
    training = [*split.train_a, *split.train_b]
    return (max(records[int(i)].frame for i in training),
            min(records[int(i)].frame for i in split.held))


def cut(video: Path, first: int, last: int, out: Path) -> Path:
    """Frames `first` to `last` (indices, inclusive) of `video`, lossless, their times
    from the cut's start; kept if `out` exists (written whole or not at all)."""
    if out.is_file():
        return out
    info = media.probe(video)
    start = None
    out.parent.mkdir(parents=True, exist_ok=True)
    with (atomic_path(out) as partial,
          media.VideoWriter(partial, info.width, info.height, info.fps, crf=0) as writer):
        for frame in media.iter_frames(video):
            if frame.index < first:
                continue
            if frame.index > last:
                break
            start = frame.time if start is None else start
            writer.write(frame.image, frame.time - start)
    return out


def readable_video(path: Path) -> bool:
    """Whether `path` is a video file the swap can read frame by frame: a faceset folder
    or photo folder `refine` was given (or a source moved away since) is not."""
    if not path.is_file():
        return False
    try:
        return media.probe(path).kind == "video"
    except FacedubError:
        return False


def composited_holdout(video: Path, source: Faceset, split: FaceSplit, work_dir: Path,
                       progress: Progress | None = None, owner: Path | None = None
                       ) -> CompositedHoldout | None:
    """The held-out stretch of `video` (the media `source` was analysed from) made ready
    to score, or None where there is none to swap: photos (no stretch of frames), a
    `video` that is not a readable video file (a faceset folder), nothing held out, or no
    held-out face the evaluation can read. `owner`: the refiner folder the cuts serve (its
    own cuts' folder: another run's end, which deletes that run's, cannot pull them away
    mid-run)."""
    progress = progress or NoProgress()
    if source.meta.source_kind != "video":
        log.info("%s: photos have no held-out stretch to swap: the refiner's best state is "
                 "chosen on its renderings", source.meta.source_name)
        return None
    if not readable_video(video):
        log.warning("%s is not a video file to cut the held-out stretch from: the refiner's "
                 "best state is chosen on its renderings (give the source video for the "
                 "composited check)", video)
        return None
    edges = stretch_edges(source, split)
    if edges is None:
        return None
    last_training, first_held = edges
    # The faceset's own last frame index: `frames_analysed` counts the frames analysed,
    # which is not the last index where the analysis read every Nth frame.
    last_held = max(record.frame for record in source.faces_of())
    mine = ("" if owner is None else
            "-" + hashlib.sha256(str(Path(owner).resolve()).encode()).hexdigest()[:8])
    folder = (Path(work_dir) / HELDOUT_FOLDER / f"{source.meta.source_sha256[:16]}-"
              f"{last_training}-{first_held}-{last_held}{mine}")
    remove_unused_stretches(Path(work_dir) / HELDOUT_FOLDER, time.time(), keep=folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)  # in use: not aged out by another run's check
    # Shown without -v: the first time, this costs about twice the source's own analysis.
    progress.start(None, "checking held-out frames: cutting the stretch")
    try:
        source_cut = cut(video, 0, last_training, folder / "source.mp4")
        target_cut = cut(video, first_held, last_held, folder / "target.mp4")
    finally:
        progress.finish()
    try:
        faces, faceset, config = swapped_faces(source_cut, target_cut, Path(work_dir),
                                               progress, HELDOUT_FACES,
                                               person=source.person_descriptor())
    except OtherPersonError as error:
        log.warning("%s: the refiner's best state is chosen on its renderings", error)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    read = [f.mesh_ssim for f in faces if not math.isnan(f.mesh_ssim)]
    if not read:
        log.info("held-out stretch: no face the evaluation can read: the refiner's best "
                 "state is chosen on its renderings")
        shutil.rmtree(folder, ignore_errors=True)
        return None
    log.info("held-out stretch: frames %d-%d swapped from frames 0-%d, %d faces at %d px "
             "(mesh engine composited: face SSIM %.4f)", first_held, last_held,
             last_training, len(faces), faces[0].target.image.shape[0],
             statistics.mean(read))
    return CompositedHoldout(faces, target_cut, faceset, config, folder)


def remove_unused_stretches(stretches: Path, now: float, keep: Path) -> list[Path]:
    """Remove the cut folders in `stretches` (HELDOUT_FOLDER) unused for the analyses'
    UNUSED_SECONDS before `now` (a stopped run never resumed), except `keep`; what was
    removed. A run in progress touches its folder when it makes its stretch."""
    removed: list[Path] = []
    try:
        entries = sorted(stretches.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name == keep.name or entry.name == "config" or entry.is_symlink():
            continue
        try:
            unused = now - entry.stat().st_mtime > UNUSED_SECONDS
        except OSError:  # removed meanwhile
            continue
        if unused and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


class OtherPersonError(FacedubError):
    """A cut of the stretch where the refine faceset's person cannot be told."""


def nearest_person(reference: np.ndarray | None, persons: Sequence[PersonSummary]
                   ) -> int | None:
    """The id of the person of `persons` whose descriptor is nearest `reference` (the
    refine faceset's person's), within SAME_PERSON_DISTANCE (dlib's calibration, as the
    analysis's own person choice uses); None where no one is, or nothing is described."""
    if reference is None:
        return None
    near = [(distance(reference, person.descriptor), person.id) for person in persons
            if person.descriptor is not None]
    best = min(near, default=None)
    return None if best is None or best[0] > SAME_PERSON_DISTANCE else best[1]


def as_person(cut_faces: Faceset, reference: np.ndarray | None, role: str) -> Faceset:
    """`cut_faces` with the refine faceset's person chosen (`nearest_person`); OtherPersonError
    where it cannot be told."""
    person = nearest_person(reference, cut_faces.meta.persons)
    if person is None:
        raise OtherPersonError(f"the held-out check's {role} cut: no person there is the refine "
                          "faceset's person (by their identity descriptors)")
    return replace(cut_faces, meta=replace(cut_faces.meta, person=person))


def evenly_spread(frames: list[int], most: int | None) -> set[int]:
    """At most `most` of `frames` (sorted), spread evenly from the first to the last."""
    if most is None or len(frames) <= most:
        return set(frames)
    return {frames[int(i)] for i in np.linspace(0, len(frames) - 1, most).round()}


def swapped_faces(source: Path, target: Path, work_dir: Path, progress: Progress,
                  most: int | None = None, person: np.ndarray | None = None
                  ) -> tuple[tuple[HeldOutFace, ...], Faceset, SwapConfig]:
    """The faces of `target` (a video; at most `most`, spread evenly over its faces) as
    the swap meets them with the mesh engine of `source`, their composited scores among
    them; with the target's analysis and the swap settings used (the defaults). Every
    frame goes through the swapper (its landmark smoothing reads them in order); only the
    kept ones are held. `person`: a descriptor the faces must be of (`target`'s person
    chosen by it, and `source`'s chosen person must be it: OtherPersonError otherwise); None:
    each analysis's own choice (the person with the most screen time)."""
    config = SwapConfig(work_dir=work_dir, config_dir=work_dir / HELDOUT_FOLDER / "config")
    faceset = analyse_target(target, config, progress)
    if person is not None:
        faceset = as_person(faceset, person, "held-out")
        # The mesh engine swaps its source's chosen person: it must be the refine's.
        source_faces = analysed(source, work_dir, ExtractConfig(crop_size=SOURCE_CROP),
                                progress)
        if nearest_person(person, source_faces.meta.persons) != source_faces.meta.person:
            raise OtherPersonError("the held-out check's source cut: its chosen person is not "
                              "the refine faceset's person (by their identity descriptors)")
    kept = evenly_spread(sorted({record.frame for record in faceset.faces_of()}), most)
    with closing(open_engine("mesh", EngineRequest(work_dir=work_dir,
                                                   source=source))) as engine:
        swapper = frame_swapper(target, faceset, engine, config)
        faces = []
        progress.start(media.probe(target).frame_count or None, "checking held-out frames",
                       unit="frames")
        try:
            for frame in media.iter_frames(target):
                progress.advance()
                face = swapper.engine_face(frame)
                if (face.target is None or face.swapped is None
                        or frame.index not in kept):
                    continue
                crop = face.target
                size = crop.image.shape[0]
                region = realism.realism_regions(crop.face_landmarks, size,
                                                 np.ones((size, size), dtype=bool)).face
                faces.append(HeldOutFace(frame.index, crop, face.swapped, region, math.nan))
        finally:
            progress.finish()
    # The mesh engine's score through a fresh compositor over the same faces, as each
    # check composites the refined ones.
    mesh = composited_ssims(stretch_compositor(target, faceset, config), tuple(faces),
                            [face.swapped.image for face in faces])
    return (tuple(replace(face, mesh_ssim=ssim) for face, ssim in zip(faces, mesh, strict=True)),
            faceset, config)
