"""How far apart the landmarker reads the mesh engine's eyes, against the target's own
(issue 17: the target's expression, as the landmarker reads it).

MediaPipe's blendshape model reads a smile from where the mouth's corners sit against the
eyes. The engine shows the source's own eyes (`mesh_eyes`), and the landmarker reads them
where their texture is, which the shape move's placement does not say: on main's outputs
the shouting photo's eyes on d10 read 0.957 of d10's own distance apart (d10's winged
eyeliner reads as eye, and the move's dead zone leaves the eyes at about 0.975), Biden's
on Obama 1.007, Rudd's on d18 1.026 (iris centres). With the target's mouth kept at its own
width, the shouting pair's mouth was 4-6% wide against the eyes and read as a smile on a
quarter of its frames (BENCHMARKS.md, Expression, twelfth and thirteenth rounds); a fixed
ratio from the two faces' shapes narrowed Obama's already-faint smile away. So the engine
reads its own face now and then, as shown over the target crop, and the mouth is narrowed
by what it reads (`mesh_shape.narrowed_mouth`: its opening as much as its width, the jaw's
opening being read in the same eye distance), eased in over frames, never widened.
Shouting pair, 150 frames: smile within 0.1 of the target's 69% -> 87%.

The landmarker (image mode: readings are READ_EVERY frames apart) is opened at the first
reading and kept until the last track is forgotten or `close`: opened for every reading, a
reading took about 0.11 s (9.5 ms a frame of d10's clip), kept open 0.02-0.04 s (3.3 ms a
frame), with the same values (BENCHMARKS.md, Expression, thirteenth round).

A reading is the image-mode landmarker's on the whole crop alone (`FaceAnalyser`'s first
step), the analyser's tiled search for further faces only where that finds none: the crop
holds the one face, which the whole-crop pass found on every reading checked, and the
search's ten detector runs over tiles were two thirds of a reading (32 against 12 ms CPU
on the README clip's frames; twenty-second round). `FaceAnalyser.analyse` keeps the
largest face of the two passes, which is the whole-crop one wherever it finds one (a face
the search adds overlaps it by at most 0.3 and fits in the crop beside it): the same
landmarks.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from facedub.faces.landmarks import FaceAnalyser, open_landmarker, resolve_landmarker_model
from facedub.faces.mediapipe_offline import mp, vision
from facedub.faces.regions import eye_distance, mesh_regions

READ_EVERY = 12  # frames of a track between readings
READINGS = 5  # the median of the last this many readings of a track is its ratio
NARROWEST = 0.9  # the mouth is narrowed at most to this share of its width
# Ratios this close to 1 are the landmarker's noise: one face's readings spread by about
# 1% (Biden's eyes on Obama read 0.989-0.999); narrowing there would change every such face
# for nothing (skin-tones' smile read 92% with it, main's own runs 90-100%).
NOISE = 0.01
EASE_PER_FRAME = 0.25  # share of the way to a new ratio the applied one moves a frame: the
# first reading's 4% came in one frame and the mouth visibly stepped (3x) on a still face
MIN_CONFIDENCE = 0.5  # FaceAnalyser's default, for both passes
SAME_FACE = 0.25  # eye distances the read eyes' midpoint may lie from the target's


class EyeReads:
    """Per target track, how far apart the landmarker reads the engine's eyes against the
    target's (`ratio`), from a reading every READ_EVERY frames (`due`, `read`). Holds the
    landmarker from the first reading until its last track is forgotten or `close`."""

    def __init__(self, model_path: Path | None = None) -> None:
        self._model_path = model_path
        self._reads: dict[int, deque[float]] = {}
        self._frames: dict[int, int] = {}
        self._applied: dict[int, float] = {}
        self._whole: vision.FaceLandmarker | None = None  # the whole-crop pass
        self._analyser: FaceAnalyser | None = None  # with the tiled search, where it finds none

    def ratio(self, track: int) -> float:
        """The median read distance over the target's, at least NARROWEST; 1 where it is
        above 1 - NOISE, and before the track's first reading."""
        reads = self._reads.get(track)
        if not reads:
            return 1.0
        median = float(np.median(reads))
        return 1.0 if median > 1.0 - NOISE else max(median, NARROWEST)

    def applied(self, track: int) -> float:
        """The ratio this frame of `track` is narrowed by: `ratio` eased in by
        EASE_PER_FRAME a frame, so a reading never changes the mouth at once; call once a
        frame. A track's first frames (before its first reading) are not narrowed."""
        eased = self._applied.get(track, 1.0)
        eased += EASE_PER_FRAME * (self.ratio(track) - eased)
        self._applied[track] = eased
        return eased

    def due(self, track: int) -> bool:
        """Whether this frame of `track` is read (its first and every READ_EVERY-th);
        call once a frame."""
        count = self._frames.get(track, 0)
        self._frames[track] = count + 1
        return count % READ_EVERY == 0

    def read(self, track: int, shown: np.ndarray, target_landmarks: np.ndarray
             ) -> np.ndarray | None:
        """Read `shown`, the engine's face over the target crop ((S, S, 3) uint8 RGB), whose
        target face has `target_landmarks` (478, 2+) in the same pixels; nothing is kept
        where the landmarker finds no face. Returns the landmarks read (478, 3), None where
        nothing was kept (`mesh_mouth_read` reads the mouth from them)."""
        read = self.look(shown, target_landmarks)
        if read is not None:
            self._reads.setdefault(track, deque(maxlen=READINGS)).append(
                eye_distance(read) / eye_distance(np.asarray(target_landmarks)))
        return read

    def look(self, shown: np.ndarray, target_landmarks: np.ndarray) -> np.ndarray | None:
        """The landmarks (478, 3) read on `shown` as `read` reads them, None where it keeps
        nothing; no eye reading is kept (`mesh_mouth_read` reads the mouth alone on some
        frames)."""
        target = np.asarray(target_landmarks)
        own = eye_distance(target)
        if own <= 1e-6:
            return None
        read = self._landmarks(np.ascontiguousarray(shown), target, own)
        if read is None or not _same_face(read, target, own):
            return None
        return read

    def _landmarks(self, shown: np.ndarray, target: np.ndarray, own: float
                   ) -> np.ndarray | None:
        """(478, 3) float32 landmarks of the face in `shown`, in its pixels (z scaled by
        its width), as `FaceAnalyser.analyse` of an image-mode analyser reads them; None
        where it finds no face. The whole-crop pass first (the analyser's own first step,
        with its options); the analyser whole where that finds none, or finds a face that
        is not the target's (`target`, eye distance `own`): in a crop with two faces the
        pass may return the other one, where the analyser's tiled search keeps the
        largest."""
        model = self._model_path or resolve_landmarker_model()
        if self._whole is None:
            self._whole = open_landmarker(model, 1, False, MIN_CONFIDENCE)
        result = self._whole.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=shown))
        if result.face_landmarks:
            height, width = shown.shape[:2]
            read = np.array([(p.x * width, p.y * height, p.z * width)
                             for p in result.face_landmarks[0]], dtype=np.float32)
            if _same_face(read, target, own):
                return read
        if self._analyser is None:
            self._analyser = FaceAnalyser(max_faces=1, video=False, model_path=model,
                                          min_confidence=MIN_CONFIDENCE)
        # A new shot: nothing followed from the last reading (maybe another track's), so
        # each reading is what a freshly opened landmarker reads.
        found = self._analyser.analyse(shown, new_shot=True)
        return np.asarray(found[0].landmarks) if found else None

    def forget(self, track: int) -> None:
        """Drop the track's readings; the landmarker is closed with the last track."""
        self._reads.pop(track, None)
        self._frames.pop(track, None)
        self._applied.pop(track, None)
        if not self._reads and not self._frames:
            self.close()

    def close(self) -> None:
        """Close the landmarker (a later reading opens it again)."""
        if self._whole is not None:
            self._whole.close()
            self._whole = None
        if self._analyser is not None:
            self._analyser.close()
            self._analyser = None


def _same_face(read: np.ndarray, target: np.ndarray, own: float) -> bool:
    """Whether the face read is the target's: its eyes' midpoint within SAME_FACE eye
    distances of the target's (not a neighbour's face, or a misread, in the crop)."""
    regions = mesh_regions()
    eyes = np.concatenate([regions.left_eye, regions.right_eye])
    apart = np.linalg.norm(read[eyes, :2].mean(axis=0) - target[eyes, :2].mean(axis=0))
    return bool(apart <= SAME_FACE * own)
