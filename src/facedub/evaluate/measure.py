"""The frame loop: stream target and swapped media side by side and measure every frame.

Identity descriptors (dlib, about 75 ms a face) are the slow part, so only sampled frames
are described. They run inline: on a 2-core machine a background thread for dlib was
measured slower than inline (8.1 s vs 6.7 s for 60 frames), both libraries use threads
of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from facedub.composite.glasses_tracks import glasses_by_track
from facedub.composite.occlusion import OccluderModel, OcclusionMasks
from facedub.evaluate.config import EvalConfig, yaw_bin
from facedub.evaluate.inputs import Identity, TargetAnalysis, nearest
from facedub.evaluate.metrics import (
    FAILED,
    NAN,
    FaceCrops,
    FrameMetrics,
    Status,
    cosine,
    cut_crops,
    expression_errors,
    flicker,
    frame_digest,
    jaw_open,
    landmark_jitter,
    lips_apart,
    lower_lip_hidden,
    pose_errors,
)
from facedub.evaluate.occluded_identity import (
    SourceCrop,
    filled_descriptors,
)
from facedub.evaluate.output_path import WrittenFrames
from facedub.evaluate.pairing import FramePair, check_kinds, match_face, paired_frames
from facedub.evaluate.pictures import PictureKeeper, side_by_side, strip_frames
from facedub.evaluate.realism import (
    ARTIFACT_MEASURES,
    Realism,
    doubled_edges,
    measure_realism,
    realism_regions,
    view,
)
from facedub.evaluate.resume import Described, MeasuredFrames, SavedFrame
from facedub.evaluate.seam import seam_measure
from facedub.evaluate.sheet import SheetKeeper
from facedub.evaluate.source_openings import source_edges
from facedub.faces.align import landmarks_in_crop
from facedub.faces.geometry import crop_in_frame, warp_to_face
from facedub.faces.identity import IdentityEncoder, distance
from facedub.faces.landmarks import FaceAnalyser
from facedub.faceset import FaceRecord
from facedub.progress import Progress
from facedub.types import FaceObservation


@dataclass(frozen=True)
class Measured:
    frames: tuple[FrameMetrics, ...]
    pictures: PictureKeeper  # thumbnails kept for the report, written by it
    identity_step: int  # every Nth frame with a target face was described
    sheet: SheetKeeper  # full-resolution crops for the contact sheet


# What the contact sheet shows the worst frames of: every artifact measure, and the
# self-swap SSIM turned round so that higher is worse.
SHEET_MEASURES = (*ARTIFACT_MEASURES, "ssim_loss")


@dataclass(frozen=True)
class _Face:
    """What the next frame needs of this one for the temporal measures."""

    frame: int
    crops: FaceCrops
    target_landmarks: np.ndarray
    swapped_landmarks: np.ndarray


def measure(target: Path, swapped: Path, analysis: TargetAnalysis, gallery: Sequence[Identity],
            encoder: IdentityEncoder, config: EvalConfig, progress: Progress,
            source_chroma: np.ndarray | None = None,
            sources: Sequence[SourceCrop] = (), written: Path | None = None,
            kept: MeasuredFrames | None = None) -> Measured:
    """Measure every analysed target frame against the swapped frame at the same time.

    `source_chroma`: (B, B) bool chroma bins the source's skin uses
    (`realism.used_chroma`), so its own colours do not count as invented; None: judge by
    the target alone. `sources`: source faces in the target crops' space, for the identity
    of frames whose occluders the swap keeps (facedub.evaluate.occluded_identity).
    `written`: the target marked and encoded as the output was, frame for frame
    (`output_path.write_reference`), the texture measures' zero; None: the target.
    `kept`: the frames a stopped run measured (`resume.MeasuredFrames`), taken from there
    and replayed through the stateful steps only; every frame measured here is added."""
    target_info, _ = check_kinds(target, swapped)
    face_frames = sorted(analysis.faces)
    step = config.identity_step(len(face_frames))
    sampled = set(face_frames[::step])
    source = _source_of(gallery)
    keeper = PictureKeeper(config.worst_count, strip_frames(face_frames, config.strip_frames))
    sheet = SheetKeeper(SHEET_MEASURES, config.sheet_worst,
                        strip_frames(face_frames, config.sheet_even))
    size = analysis.faceset.meta.crop_size
    occlusion = OcclusionMasks(OccluderModel())  # shown on the sheet, as swap finds it
    occlusion.worn.update(glasses_by_track(occlusion, target, analysis.faceset,
                                           tuple(analysis.faces.values())))
    frames: list[FrameMetrics] = []
    previous: _Face | None = None
    described: list[Described] = []
    period = 1.0 / float(target_info.fps) if target_info.fps else 1.0
    written_frames = WrittenFrames(written, 0.5 * period)
    progress.start(analysis.frames, f"evaluate {swapped.name}")
    try:
        with FaceAnalyser(max_faces=config.max_faces, video=analysis.kind == "video",
                          model_path=config.landmarker) as analyser:
            for pair in paired_frames(target, swapped, target_info, analysis.frames):
                index = pair.target.index
                saved = kept.get(index) if kept is not None else None
                reference = written_frames.at(pair.target.time)
                # Every swapped frame goes through the landmark model, as every target frame
                # did in extract: in video mode its tracking depends on the sequence (so a
                # frame measured before, `saved`, is landmarked again too).
                swapped_faces = [] if pair.swapped is None else analyser.analyse(
                    pair.swapped, pair.target.time,
                    new_shot=index == 0 or index in analysis.faceset.meta.cuts)
                record = analysis.faces.get(index)
                metrics, current, entry = FrameMetrics(index, pair.target.time, "no_face"), \
                    None, None
                if record is not None:
                    face = match_face(record.box, swapped_faces)
                    seen = _seen(pair, record, size, occlusion)
                    if saved is None:
                        metrics = _measure_face(pair, record, face, previous, seen,
                                                source_chroma, sources, reference)
                    else:
                        metrics = saved.metrics
                    if face is not None:
                        current = _Face(index, seen.crops, record.frame_landmarks,
                                        face.landmarks)
                    _offer_pictures(keeper, metrics, seen.thumb)
                    _offer_sheet(sheet, metrics, seen.crops, seen.occluded)
                    if index in sampled:
                        metrics = replace(metrics, identity_sampled=True)
                    if saved is not None:
                        entry = saved.described
                    elif index in sampled and face is not None and pair.swapped is not None:
                        descriptor = encoder.describe(pair.swapped, face.landmarks)
                        entry = (index, descriptor, filled_descriptors(
                            encoder, seen.crops.target, seen.crops.swapped,
                            seen.face_landmarks, seen.occluded, sources))
                    if entry is not None:
                        described.append(entry)
                        keeper.offer("identity", distance(entry[1], source.descriptor),
                                     index, seen.thumb)
                if saved is None:
                    metrics = replace(metrics, swapped_digest=frame_digest(pair.swapped),
                                      written_digest=frame_digest(reference))
                    if kept is not None:
                        kept.add(SavedFrame(metrics, entry))
                frames.append(saved.metrics if saved is not None else metrics)
                previous = current
                progress.advance()
    finally:
        progress.finish()
        if kept is not None:
            kept.close()
    frames = _with_identity(frames, described, analysis.identity, gallery)
    return Measured(tuple(frames), keeper, step, sheet)


@dataclass(frozen=True)
class _Seen:
    """What a frame with a target face shows, made for every frame, a resumed run's
    replayed ones too: the crops, the target's landmarks in the crop, the occlusion mask
    (S, S) float in [0, 1] (what the swap keeps of the target in front of the face, as
    swap finds it: `occlusion`, called once a frame in order, eases over frames) and the
    side-by-side thumbnail."""

    crops: FaceCrops
    face_landmarks: np.ndarray
    occluded: np.ndarray
    thumb: np.ndarray


def _seen(pair: FramePair, record: FaceRecord, size: int,
          occlusion: OcclusionMasks) -> _Seen:
    swapped = pair.swapped if pair.swapped is not None else np.zeros_like(pair.target.image)
    face_landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    crops = cut_crops(pair.target.image, swapped, record.face_from_frame, face_landmarks,
                      size)
    height, width = pair.target.image.shape[:2]
    in_frame = crop_in_frame(record.face_from_frame, size, (width, height))
    occluded = occlusion(record.track, record.time, crops.target, face_landmarks,
                         in_frame).mask
    return _Seen(crops, face_landmarks, occluded, side_by_side(crops.target, crops.swapped))


def _measure_face(pair: FramePair, record: FaceRecord, face: FaceObservation | None,
                  previous: _Face | None, seen: _Seen, source_chroma: np.ndarray | None,
                  sources: Sequence[SourceCrop] = (), written: np.ndarray | None = None
                  ) -> FrameMetrics:
    """Measures of one frame with a target face (`seen`). `sources`: the source's faces,
    whose own eyes the doubled-edge measure does not count as doubled where the output
    shows them (facedub.evaluate.source_openings). `written`: the target frame as the
    output path writes it (the texture and tone measures' zero), None: the target frame."""
    crops, face_landmarks, occluded = seen.crops, seen.face_landmarks, seen.occluded
    status: Status = "missing" if pair.swapped is None else "lost" if face is None else "ok"
    base = FrameMetrics(pair.target.index, pair.target.time, status,
                        yaw_bin=yaw_bin(record.pose.yaw), target_yaw=record.pose.yaw,
                        target_pitch=record.pose.pitch, target_roll=record.pose.roll,
                        target_jaw_open=jaw_open(record.blendshapes),
                        target_lips_apart=lips_apart(record.frame_landmarks))
    if face is None:
        return base
    yaw, pitch, roll, pose = pose_errors(record.pose, face.pose)
    swapped_lips = lips_apart(face.landmarks)
    # The target's lower lip kept behind an occluder: neither mouth agreement is judged.
    expression = expression_errors(record.blendshapes, face.blendshapes,
                                   (base.target_lips_apart, swapped_lips),
                                   lower_lip_hidden(occluded, face_landmarks))
    seam = seam_measure(crops)
    flick, brightness, jitter = NAN, NAN, NAN
    if previous is not None and previous.frame == pair.target.index - 1:
        flick, brightness = flicker(previous.crops, crops)
        jitter = landmark_jitter(previous.target_landmarks, previous.swapped_landmarks,
                                 record.frame_landmarks, face.landmarks,
                                 record.box[3] - record.box[1])
    return replace(
        base, swapped_jaw_open=jaw_open(face.blendshapes), swapped_lips_apart=swapped_lips,
        yaw_error=yaw,
        pitch_error=pitch, roll_error=roll, pose_error=pose,
        expression_error=expression.expression, jaw_open_error=expression.jaw_open,
        expression_distance=expression.distance, smile_error=expression.smile,
        smile_agree=expression.smile_agree, mouth_open_agree=expression.mouth_open_agree,
        eye_blink_error=expression.eye_blink,
        eyes_closed_agree=expression.eyes_closed_agree, gaze_error=expression.gaze,
        flicker=flick, brightness_flicker=brightness, landmark_jitter=jitter,
        seam_color=seam.color, seam_color_excess=seam.color_excess,
        seam_gradient=seam.gradient, seam_gradient_excess=seam.gradient_excess,
        **asdict(_realism(crops, face_landmarks, face, record, source_chroma, sources,
                          written, occluded)))


def _realism(crops: FaceCrops, face_landmarks: np.ndarray, face: FaceObservation,
             record: FaceRecord, source_chroma: np.ndarray | None,
             sources: Sequence[SourceCrop], written: np.ndarray | None = None,
             occluded: np.ndarray | None = None) -> Realism:
    size = crops.target.shape[0]
    target, swapped = view(crops.target), view(crops.swapped)
    regions = realism_regions(face_landmarks, size, crops.valid)
    explained = None
    # The source's warped faces (4-17 ms a frame for a photo, 21-47 for a video's four
    # faces at 256 px, measured under load) only where some edge is not the target's.
    if sources and doubled_edges(target, swapped, regions.openings) > 0.0:
        explained = source_edges(target, swapped, face_landmarks,
                                 landmarks_in_crop(face.landmarks, record.face_from_frame),
                                 sources)
    written_crop = None if written is None else view(
        warp_to_face(written, record.face_from_frame, size))
    return measure_realism(target, swapped, regions, source_chroma, explained, written_crop,
                           occluded)


def _offer_pictures(keeper: PictureKeeper, metrics: FrameMetrics, thumb: np.ndarray) -> None:
    if metrics.status in FAILED:
        keeper.offer_lost(metrics.frame, thumb)
    else:
        keeper.offer("seam", metrics.seam_color_excess, metrics.frame, thumb)
        keeper.offer("expression", metrics.jaw_open_error + metrics.smile_error,
                     metrics.frame, thumb)
    if keeper.wants_strip(metrics.frame):
        keeper.offer_strip(metrics.frame, thumb)


def _offer_sheet(sheet: SheetKeeper, metrics: FrameMetrics, crops: FaceCrops,
                 occluded: np.ndarray) -> None:
    if sheet.wants_even(metrics.frame):
        sheet.offer_even(metrics.frame, crops.target, crops.swapped, occluded)
    if metrics.status != "ok":
        return
    for name in SHEET_MEASURES:
        score = 1.0 - metrics.face_ssim if name == "ssim_loss" else metrics.value(name)
        sheet.offer(name, score, metrics.frame, crops.target, crops.swapped, occluded)


def _with_identity(frames: list[FrameMetrics],
                   described: list[Described],
                   target: Identity, gallery: Sequence[Identity]) -> list[FrameMetrics]:
    """Fill in the identity measures of the described frames; a sampled frame whose face
    was lost counts as a failed identification, not as a gap. Where the swap kept an
    occluder, the distances and nearer-the-source compare the faces with it filled alike
    (`filled`); retrieval and drift stay on the faces as they are."""
    source = _source_of(gallery)
    swapped_mean = np.mean([d for _, d, _ in described], axis=0) if described else None
    found: dict[int, FrameMetrics] = {}
    by_frame = {metrics.frame: metrics for metrics in frames}
    for frame, descriptor, filled in described:
        plain = distance(descriptor, source.descriptor) < distance(descriptor,
                                                                   target.descriptor)
        ours, theirs, to = ((descriptor, source.descriptor, target.descriptor)
                            if filled is None else (filled.swapped, filled.source,
                                                    filled.target))
        to_source, to_target = distance(ours, theirs), distance(ours, to)
        best = nearest(descriptor, tuple(gallery))
        found[frame] = replace(
            by_frame[frame], id_distance_source=to_source, id_distance_target=to_target,
            id_cosine_source=cosine(ours, theirs), id_cosine_target=cosine(ours, to),
            id_nearer_source=float(to_source < to_target),
            id_nearer_source_plain=float(plain),
            id_filled=0.0 if filled is None else filled.share,
            id_retrieved=float(best.role == "source"), id_nearest=best.name,
            id_drift=distance(descriptor, swapped_mean) if swapped_mean is not None else NAN)
    result = []
    for metrics in frames:
        if metrics.frame in found:
            metrics = found[metrics.frame]
        elif metrics.identity_sampled and metrics.status in FAILED:
            metrics = replace(metrics, id_nearer_source=0.0, id_nearer_source_plain=0.0,
                              id_retrieved=0.0)
        result.append(metrics)
    return result


def _source_of(gallery: Sequence[Identity]) -> Identity:
    return next(person for person in gallery if person.role == "source")
