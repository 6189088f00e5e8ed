"""Which target tracks wear glasses, judged over each whole track before compositing.

Glasses are worn for a whole shot, but clear plastic frames are plain to see only in some
frames (d12: in about a third of its first 150, a few of its first 40), so a decision
frame by frame, eased, comes late. Before the swap, up to WORN_SAMPLES faces spread over
each track are cut from the target and judged one by one (`OcclusionMasks.glasses_evidence`);
the mean evidence of the clearest quarter says whether the track wears glasses, once
the evidence is confirmed (see `worn_glasses`). Faces lit unlike the rest of the track
(a torch passing over them) give no evidence.

The target's analysis (the swap's and the eval's own, without crops) keeps the answer in
`glasses.json` beside it, so batch chunks and previews decode the target for it once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from facedub import media
from facedub.errors import FacedubError
from facedub.faces.align import landmarks_in_crop
from facedub.faces.geometry import warp_to_face
from facedub.faceset import FaceRecord, Faceset
from facedub.fsutil import read_json_object, write_json_atomic
from facedub.spread import spread_indices

log = logging.getLogger(__name__)

CACHE_FILE = "glasses.json"
CACHE_FORMAT = "facedub-glasses-tracks"
CACHE_VERSION = 4  # raise it whenever the judgement changes: older answers are redone
WORN_SAMPLES = 24
# The clearest quarter's mean evidence from WORN_LOW to WORN_HIGH ramps glasses in.
# Measured (24 samples): d12 0.27 or more over any 40 of its first 150 frames (0.83 over
# all 150), d9 and the older woman 1.0; over any 40 of the first 150 frames of Katie Hill,
# d3, d10, d18, Obama and the streamer 0.02 at most.
WORN_LOW, WORN_HIGH = 0.1, 0.2
# A bridge seen in a few samples only is not enough on its own: compression blocks and the
# shading between low brows make the same edge (the stage shot of clip 11, 3.0-7.2 s: a
# clearest quarter of 0.21 from the bridge, none from the net). The net must mark some of
# the frames too (its clearest quarter NET_CONFIRM or more: d12 0.09 or more over any 40
# of its first 150 frames, clip 11 0.0), or the bridge must show in most samples (its
# median BRIDGE_CONFIRM or more: d9 0.81, the older woman 1.0).
NET_CONFIRM, BRIDGE_CONFIRM = 0.05, 0.5
# Short clips: d12's first 24 frames give neither cue (both 0.0), so a 30-frame excerpt
# was judged bare. There its frames are faint in every face (the net, the bridge and a
# ring's lines all weak at once: `glasses_cues.faint_glasses_evidence`). Their median
# over the samples from FAINT_LOW to FAINT_HIGH also ramps glasses in. Measured on every
# 30-frame window (24 samples): d12 0.78 or more where the rule above fails but at
# frames 35-38 (0.30-0.46); Katie Hill, d3, d10, d18, Obama and clip 11 0.0, the
# streamer 0.25 at most (a thin margin).
FAINT_LOW, FAINT_HIGH = 0.3, 0.5
# A light moving over a bare face (clip 13, a torch sweeping over it) makes the eye
# sockets dark holes in lit skin, which the net marks as lenses (up to 0.82 in the frames
# the torch lights, none in the others), while glasses are seen in the track's usual light
# too. So a face whose cheek, either one, is lit more than LIT_APART times brighter or
# darker than that cheek's median over the samples gives no evidence. Measured (24
# samples, whole clips): clip 13 up to 2.36 times (9 of its 24 faces beyond 1.25); d12,
# d9 and the older woman 1.07 at most; the bare clips 1.03-1.22, but for clip 14's
# exposure dip (1.28, one face) and clip 11's stage lights (1.82, 10 faces). Any LIT_APART
# from 1.15 to 1.35 judged every clip and 30-frame window the same.
LIT_APART = 1.25
CROP = 256  # the faces are judged at this crop size (the net's canonical crop is 128)


Evidence = tuple[float, float, float, float, float]


class GlassesJudge(Protocol):
    def glasses_evidence(self, image: np.ndarray, face_landmarks: np.ndarray) -> Evidence:
        """Evidence in [0, 1] of glasses on the face of the crop `image`: from their
        bridge, from the net marking their frames, and from faint frames; then the
        lightness (0-255) of its right and left cheek."""
        ...


def worn_glasses(evidence: Sequence[Evidence]) -> float:
    """How sure it is in [0, 1] that a track wears glasses, from the (bridge, net, faint,
    right cheek, left cheek) evidence of its sampled faces: the mean of the clearest
    quarter of the stronger of the first two (a few odd frames do not decide), once
    confirmed (NET_CONFIRM); or faint frames in most of them (FAINT_LOW). Faces lit
    unlike the track (LIT_APART) count as showing nothing."""
    if len(evidence) == 0:
        return 0.0
    faces = np.asarray(evidence, dtype=np.float64).reshape(-1, 5)
    cues = faces[:, :3] * _lit_like_the_track(faces[:, 3:])[:, None]
    bridge, net = cues[:, 0], cues[:, 1]
    faint = (float(np.median(cues[:, 2])) - FAINT_LOW) / (FAINT_HIGH - FAINT_LOW)
    if _clearest(net) < NET_CONFIRM and float(np.median(bridge)) < BRIDGE_CONFIRM:
        return float(np.clip(faint, 0.0, 1.0))
    strongest = (_clearest(np.maximum(bridge, net)) - WORN_LOW) / (WORN_HIGH - WORN_LOW)
    return float(np.clip(max(strongest, faint), 0.0, 1.0))


def _lit_like_the_track(lightness: np.ndarray) -> np.ndarray:
    """(N,) bool: the faces whose (N, 2) cheeks' `lightness` are both within LIT_APART
    times their median over the faces."""
    lightness = np.maximum(lightness, 1.0)
    apart = np.abs(np.log(lightness / np.median(lightness, axis=0)))
    return np.asarray((apart <= np.log(LIT_APART)).all(axis=1))


def _clearest(values: np.ndarray) -> float:
    """The mean of the clearest quarter of `values`."""
    ordered = np.sort(values)
    return float(ordered[-max(1, len(ordered) // 4):].mean())


def glasses_by_track(judge: GlassesJudge, target: Path, faceset: Faceset,
                     records: Sequence[FaceRecord]) -> dict[int, float]:
    """Per track of `records` (faces of `target`, analysed in `faceset`), how sure it is
    that the face wears glasses; remembered in the faceset's folder."""
    tracks: dict[int, list[FaceRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.frame):
        tracks[record.track].append(record)
    cache = faceset.root / CACHE_FILE
    known = _read_cache(cache)
    wanted: dict[int, list[FaceRecord]] = defaultdict(list)
    for track, faces in tracks.items():
        if track not in known:
            for i in spread_indices(len(faces), WORN_SAMPLES):
                wanted[faces[i].frame].append(faces[i])
    if wanted:
        evidence = _judge_frames(judge, target, wanted, CROP / faceset.meta.crop_size)
        known.update({track: worn_glasses(values) for track, values in evidence.items()})
        try:
            write_json_atomic(cache, {"format": CACHE_FORMAT, "version": CACHE_VERSION,
                                      "tracks": {str(k): v for k, v in known.items()}})
        except OSError as error:  # a read-only analysis folder: judged again next time
            log.debug("%s not written: %s", cache, error)
    # A track none of whose faces could be judged (a target that decodes short) is left
    # out, so its frames keep the per-frame rule rather than being taken for bare.
    return {track: known[track] for track in tracks if track in known}


def _judge_frames(judge: GlassesJudge, target: Path, wanted: dict[int, list[FaceRecord]],
                  scale: float) -> dict[int, list[Evidence]]:
    """The evidence of every wanted face, by track, cut at CROP pixels (`scale` times
    the analysis's crop); the target is decoded up to the last wanted frame."""
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    last = max(wanted)
    for frame in media.iter_frames(target, indices=wanted):  # only those made RGB
        for record in wanted.get(frame.index, ()):
            face_from_frame = record.face_from_frame * scale
            crop = warp_to_face(frame.image, face_from_frame, CROP)
            landmarks = landmarks_in_crop(record.frame_landmarks, face_from_frame)
            evidence[record.track].append(judge.glasses_evidence(crop, landmarks))
        if frame.index >= last:
            break
    return evidence


def _read_cache(path: Path) -> dict[int, float]:
    if not path.is_file():
        return {}
    try:
        raw = read_json_object(path, CACHE_FORMAT, "glasses cache", "it is rebuilt")
        if raw.get("version") != CACHE_VERSION:
            return {}
        return {int(k): float(v) for k, v in raw["tracks"].items()}
    except (FacedubError, KeyError, ValueError, TypeError, AttributeError):
        return {}  # damaged: judged again
