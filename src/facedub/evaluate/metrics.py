"""Per-frame quality measures of a swap: identity, pose, expression, stability (seams:
`seam`).

Every measure compares the swapped frame with the original target frame at the same time,
in the target face's aligned crop (`FaceCrops`), so a pixel means the same place on the
face in both and the target's own motion, expression and light cancel out. A frame whose
swapped face was not found carries NaN in every face measure and status "lost".
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from facedub.faces.geometry import warp_to_face
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import face_mask
from facedub.faces.regions import LOWER_LIP, MOUTH_CORNERS
from facedub.types import HeadPose

NAN = float("nan")
Status = Literal["ok", "lost", "missing", "no_face"]
# ok: target face and swapped face found; lost: the swapped face was not found where the
# target face is; missing: the swapped media has no frame at this time; no_face: the
# target person is not in this frame, so there is nothing to measure.
FAILED: frozenset[str] = frozenset({"lost", "missing"})

MOUTH_OPEN = 0.25  # jawOpen above this counts as an open mouth
# ... unless the two readings are this close. The landmarker reads one frame's jawOpen
# apart when only the frame's encoding or its place changes: d10 (150 frames) against a
# JPEG copy of itself up to 0.06 apart, against itself shifted 4 px and scaled 3% up to
# 0.13 (95th percentile 0.06); on the bare threshold those copies agreed on 97% and 95%
# of frames, so a perfect swap could not reach 98%. Real misses (a mouth shut where the
# target's opens) differ by 0.2 and more.
MOUTH_TOLERANCE = 0.1
# A jaw dropped behind sealed lips is a closed mouth: MediaPipe reads jawOpen 0.27-0.46 on
# frames of d10 and d18 whose lips touch (inner lips 0.01-0.03 mouth widths apart; with
# the lips apart 0.15-0.76), and it reads the jaw from the whole face's landmarks (the
# blendshape model sees no pixels), so another face on the same mouth reads it
# differently. A mouth counts as open only with its inner lips more than this share of
# its width apart.
LIPS_APART = 0.1
_INNER_LIP_PAIRS = ((13, 14), (82, 87), (312, 317))  # upper and lower inner lip points
# Where the swap keeps what covers the target's lower lip (a microphone held at the mouth:
# the occluder mask, facedub.composite.occlusion), the output shows the target's own pixels
# there and the landmarker reads that mouth from the rest of the face around it: on
# occlusion-mic every jawOpen miss but one has 70-100% of the lower lip kept, and there the
# target read against a 4 px shifted or JPEG copy of itself already misses 2-4 of 40 frames
# (none on d10 or the smoke-hand clip). Its smile likewise: the slight smiles read there
# (mouthSmile 0.13-0.22, occlusion-mic 17 and 32, a miss on every job id) read 0.00-0.02
# on the output with the target's own pixels pasted back over the whole face below the
# nose, so the reading is not the mouth's. Such a mouth is not judged, open or smiling:
# both agreements are left out (NaN) from this share of the lower lip kept (the mask's own
# KEPT level).
MOUTH_HIDDEN = 0.5
EYES_CLOSED = 0.5  # mean eyeBlink above this counts as closed eyes
_JAW = BLENDSHAPE_NAMES.index("jawOpen")
_BLINK = [BLENDSHAPE_NAMES.index(n) for n in ("eyeBlinkLeft", "eyeBlinkRight")]
_GAZE = [i for i, n in enumerate(BLENDSHAPE_NAMES) if n.startswith("eyeLook")]
_SMILE = [BLENDSHAPE_NAMES.index(n) for n in ("mouthSmileLeft", "mouthSmileRight")]
SMILE_TOLERANCE = 0.1  # smile blendshapes this close to the target's count as the same smile
_EXPRESSION = slice(1, None)  # every blendshape but "_neutral"


@dataclass(frozen=True)
class Metric:
    """How to read one per-frame measure. `better` is the direction of a good swap."""

    label: str
    unit: str
    better: Literal["lower", "higher"]
    group: str
    description: str


# The per-frame measures summarised, plotted and tabled, in report order. Names are
# fields of FrameMetrics.
METRICS: dict[str, Metric] = {
    "id_distance_source": Metric("identity distance to source", "dlib", "lower", "identity",
                                 "descriptor distance to the source's mean; < 0.6 is the "
                                 "same person by dlib's calibration"),
    "id_distance_target": Metric("identity distance to target", "dlib", "higher", "identity",
                                 "descriptor distance to the original target person's mean"),
    "id_cosine_source": Metric("cosine to source", "", "higher", "identity",
                               "cosine similarity of descriptors, swapped vs source"),
    "id_cosine_target": Metric("cosine to target", "", "lower", "identity",
                               "cosine similarity of descriptors, swapped vs target"),
    "id_nearer_source": Metric("nearer source than target", "share", "higher", "identity",
                               "swapped face nearer the source than the target; lost = 0; "
                               "where the swap keeps an occluder (glasses frames, a hand), "
                               "measured with it filled alike in all three faces"),
    "id_nearer_source_plain": Metric("nearer source, occluders as they are", "share",
                                     "higher", "identity",
                                     "the same with the kept occluders left in (dlib then "
                                     "reads the target's glasses)"),
    "id_filled": Metric("face filled for identity", "share", "lower", "identity",
                        "share of the face kept from the target and filled alike before "
                        "the identity is measured (0: none)"),
    "id_retrieved": Metric("ID retrieval top-1", "share", "higher", "identity",
                           "nearest gallery person is the source; lost = 0"),
    "id_drift": Metric("identity drift", "dlib", "lower", "identity",
                       "distance to the swapped clip's own mean descriptor (stability)"),
    "yaw_error": Metric("yaw error", "deg", "lower", "pose", "|yaw target - yaw swapped|"),
    "pitch_error": Metric("pitch error", "deg", "lower", "pose", "|pitch difference|"),
    "roll_error": Metric("roll error", "deg", "lower", "pose", "|roll difference|"),
    "pose_error": Metric("pose error", "deg", "lower", "pose",
                         "length of the (yaw, pitch, roll) difference"),
    "expression_error": Metric("expression error", "", "lower", "expression",
                               "mean |difference| of the 51 blendshapes (0..1)"),
    "expression_distance": Metric("expression distance", "", "lower", "expression",
                                  "length of the 51-blendshape difference vector"),
    "smile_error": Metric("smile error", "", "lower", "expression",
                          "|mouthSmile target - swapped|, mean of both sides"),
    "smile_agree": Metric("smile agrees", "share", "higher", "expression",
                          f"smile within {SMILE_TOLERANCE} of the target's (not judged "
                          f"with {MOUTH_HIDDEN:.0%} of the lower lip kept behind an "
                          "occluder)"),
    "jaw_open_error": Metric("jawOpen error", "", "lower", "expression",
                             "|jawOpen target - swapped|"),
    "mouth_open_agree": Metric("mouth open agrees", "share", "higher", "expression",
                               f"both open or both closed (jawOpen > {MOUTH_OPEN} with "
                               f"the lips apart; jawOpen within {MOUTH_TOLERANCE} agrees; "
                               f"not judged with {MOUTH_HIDDEN:.0%} of the lower lip kept "
                               "behind an occluder)"),
    "eye_blink_error": Metric("eyeBlink error", "", "lower", "expression",
                              "|eyeBlink difference|, mean of both eyes"),
    "eyes_closed_agree": Metric("eyes closed agrees", "share", "higher", "expression",
                                f"both closed or both open (eyeBlink > {EYES_CLOSED})"),
    "gaze_error": Metric("gaze error", "", "lower", "expression",
                         "mean |difference| of the 8 eyeLook blendshapes"),
    "flicker": Metric("flicker", "grey levels", "lower", "temporal",
                      "frame-to-frame change inside the face beyond the target's own "
                      "(stabilised on the target face)"),
    "brightness_flicker": Metric("brightness flicker", "grey levels", "lower", "temporal",
                                 "change of the face's mean brightness beyond the target's"),
    "landmark_jitter": Metric("landmark jitter", "% face height", "lower", "temporal",
                              "frame-to-frame motion of swapped landmarks relative to the "
                              "target's"),
    "seam_color": Metric("border colour step", "ΔE", "lower", "seam",
                         "Lab colour step between rings along the face border, where the "
                         "excess is largest"),
    "seam_color_excess": Metric("border colour step excess", "ΔE", "lower", "seam",
                                "colour step beyond the target's own at the same place, by "
                                "sector, at the worst ring boundary near the face oval"),
    "seam_gradient": Metric("border gradient", "grey/px", "lower", "seam",
                            "mean gradient magnitude in the ring where the excess is largest"),
    "seam_gradient_excess": Metric("border gradient excess", "grey/px", "lower", "seam",
                                   "ring gradient beyond the target's own, worst ring"),
    # Realism (evaluate/realism.py). Fidelity: against the target, the ideal output of a
    # self-swap; for a swap of another person they only say how much changed.
    "face_ssim": Metric("face SSIM (self-swap)", "", "higher", "fidelity",
                        "SSIM of luma inside the face against the target"),
    "face_psnr": Metric("face PSNR (self-swap)", "dB", "higher", "fidelity",
                        "PSNR of RGB inside the face against the target"),
    "edge_error": Metric("edge error (self-swap)", "", "lower", "fidelity",
                         "mean |gradient difference| over the target's mean gradient"),
    "invented_colour": Metric("invented colour", "share", "lower", "artifact",
                              "face pixels whose chroma neither the target's face nor the "
                              "source's skin uses"),
    "blobs": Metric("dark/bright blobs", "share", "lower", "artifact",
                    "skin covered by blobs the target does not have there"),
    "stubble": Metric("stubble as dirt", "share", "lower", "artifact",
                      "beard zone covered by dark fine texture the target does not have"),
    "doubled_edges": Metric("doubled edges", "share", "lower", "artifact",
                            "bands around the kept eyes and mouth holding edges the target "
                            "has nowhere near"),
    "sharpness_mismatch": Metric("sharpness mismatch", "|log2|", "lower", "artifact",
                                 "face-over-surroundings sharpness, swapped vs target "
                                 "written alike (marked, encoded)"),
    "grain_mismatch": Metric("grain mismatch", "|log2|", "lower", "artifact",
                             "face-over-surroundings grain, swapped vs target written "
                             "alike (marked, encoded)"),
    "tone_vs_neck": Metric("skin tone vs neck", "ΔE", "lower", "artifact",
                           "the skin's mean colour change minus the neck's (beard zone and "
                           "kept occluders out), swapped vs target written alike"),
    "colour_flatness": Metric("colour flatness", "share", "lower", "artifact",
                              "1 - the skin's colour contrast (a, b between 1/64 and 1/16 "
                              "of the crop) over the target's written alike: her blush and "
                              "rosy shading flattened read as a greyer face"),
    "foreign_bands": Metric("foreign bands", "share", "lower", "artifact",
                            "outer skin (within 0.18 of the crop of the outline, temple to "
                            "jaw: most of the skin but the face's middle) covered by long "
                            "runs departing from the target's colour by more than her own "
                            "spread there: the source's hair or a held object as a band"),
}


@dataclass(frozen=True)
class FrameMetrics:
    """Everything measured on one target frame. Floats are NaN where not measured; the
    agreement and identity flags are 1.0 / 0.0 so that their mean is a share."""

    frame: int
    time: float
    status: Status
    yaw_bin: str = ""  # head-turn bin of the target face, see config.YAW_BINS
    target_yaw: float = NAN
    target_pitch: float = NAN
    target_roll: float = NAN
    identity_sampled: bool = False
    id_nearest: str = ""  # gallery name nearest to the swapped face
    target_jaw_open: float = NAN
    swapped_jaw_open: float = NAN
    target_lips_apart: float = NAN  # see lips_apart
    swapped_lips_apart: float = NAN
    id_distance_source: float = NAN
    id_distance_target: float = NAN
    id_cosine_source: float = NAN
    id_cosine_target: float = NAN
    id_nearer_source: float = NAN
    id_nearer_source_plain: float = NAN
    id_filled: float = NAN
    id_retrieved: float = NAN
    id_drift: float = NAN
    yaw_error: float = NAN
    pitch_error: float = NAN
    roll_error: float = NAN
    pose_error: float = NAN
    expression_error: float = NAN
    expression_distance: float = NAN
    smile_error: float = NAN
    smile_agree: float = NAN
    jaw_open_error: float = NAN
    mouth_open_agree: float = NAN
    eye_blink_error: float = NAN
    eyes_closed_agree: float = NAN
    gaze_error: float = NAN
    flicker: float = NAN
    brightness_flicker: float = NAN
    landmark_jitter: float = NAN
    seam_color: float = NAN
    seam_color_excess: float = NAN
    seam_gradient: float = NAN
    seam_gradient_excess: float = NAN
    face_ssim: float = NAN
    face_psnr: float = NAN
    edge_error: float = NAN
    invented_colour: float = NAN
    blobs: float = NAN
    stubble: float = NAN
    doubled_edges: float = NAN
    sharpness_mismatch: float = NAN
    grain_mismatch: float = NAN
    tone_vs_neck: float = NAN
    colour_flatness: float = NAN
    foreign_bands: float = NAN
    # What the frame's measures were read from (`frame_digest`): the swapped frame as
    # decoded, and the written reference, the texture and tone measures' zero; "" where
    # there is none. Two evaluations that read differently show here whether the inputs
    # differed (a reference encoded otherwise from some frame on) or the measuring did.
    swapped_digest: str = ""
    written_digest: str = ""

    def value(self, name: str) -> float:
        """The measure `name` (a key of METRICS)."""
        return float(getattr(self, name))


def frame_digest(image: np.ndarray | None) -> str:
    """A short content hash of a decoded frame (its shape and bytes); "" for None."""
    if image is None:
        return ""
    digest = hashlib.blake2b(str(image.shape).encode(), digest_size=6)
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


@dataclass(frozen=True)
class FaceCrops:
    """Target and swapped frame, both cut with the target face's alignment.

    `target`, `swapped` (S, S, 3) uint8 RGB; `target_grey`, `swapped_grey` (S, S) float32
    luma; `inside` (S, S) bool, the target's face mask (forehead included) at 0.5;
    `valid` (S, S) bool, crop pixels that lie in the frame.
    """

    target: np.ndarray
    swapped: np.ndarray
    target_grey: np.ndarray
    swapped_grey: np.ndarray
    inside: np.ndarray
    valid: np.ndarray
    band: int  # seam band width in crop pixels


def cut_crops(target: np.ndarray, swapped: np.ndarray, face_from_frame: np.ndarray,
              face_landmarks: np.ndarray, size: int) -> FaceCrops:
    """Cut both frames with the target face's `face_from_frame` (2x3) into (size, size)
    crops; `face_landmarks` (478, 3) are the target's landmarks in crop pixels."""
    inside = face_mask(face_landmarks, size, forehead=True) > 0.5
    in_frame = np.full(target.shape[:2], 255, dtype=np.uint8)
    valid = warp_to_face(in_frame, face_from_frame, size, cv2.INTER_NEAREST) > 0
    target_crop = warp_to_face(target, face_from_frame, size)
    swapped_crop = warp_to_face(swapped, face_from_frame, size)
    return FaceCrops(target_crop, swapped_crop, _grey(target_crop), _grey(swapped_crop),
                     inside, valid, band=max(2, size // 32))


def pose_errors(target: HeadPose, swapped: HeadPose) -> tuple[float, float, float, float]:
    """(|Δyaw|, |Δpitch|, |Δroll|, length of the three) in degrees, angles wrapped."""
    errors = [abs((a - b + 180.0) % 360.0 - 180.0) for a, b in
              ((target.yaw, swapped.yaw), (target.pitch, swapped.pitch),
               (target.roll, swapped.roll))]
    return errors[0], errors[1], errors[2], math.sqrt(sum(e * e for e in errors))


@dataclass(frozen=True)
class ExpressionErrors:
    expression: float
    distance: float
    smile: float
    smile_agree: float
    jaw_open: float
    mouth_open_agree: float
    eye_blink: float
    eyes_closed_agree: float
    gaze: float


def expression_errors(target: np.ndarray, swapped: np.ndarray,
                      lips: tuple[float, float] = (math.inf, math.inf),
                      lip_hidden: float = 0.0) -> ExpressionErrors:
    """Compare two (52,) blendshape vectors in BLENDSHAPE_NAMES order; `lips`: target's
    and swapped face's `lips_apart` (inf: not known); `lip_hidden`: the share of the
    target's lower lip the swap keeps behind an occluder (`lower_lip_hidden`), from
    MOUTH_HIDDEN on the mouth's two agreements are not judged (`judged_mouth`)."""
    difference = np.abs(target.astype(np.float64) - swapped.astype(np.float64))
    blink_t, blink_s = float(target[_BLINK].mean()), float(swapped[_BLINK].mean())
    smile = abs(float(target[_SMILE].mean()) - float(swapped[_SMILE].mean()))
    mouth_open = mouth_agrees(float(target[_JAW]), float(swapped[_JAW]), *lips)
    return ExpressionErrors(
        expression=float(difference[_EXPRESSION].mean()),
        distance=float(np.linalg.norm(difference[_EXPRESSION])),
        smile=smile, smile_agree=judged_mouth(float(smile <= SMILE_TOLERANCE), lip_hidden),
        jaw_open=float(difference[_JAW]),
        mouth_open_agree=judged_mouth(float(mouth_open), lip_hidden),
        eye_blink=float(difference[_BLINK].mean()),
        eyes_closed_agree=float((blink_t > EYES_CLOSED) == (blink_s > EYES_CLOSED)),
        gaze=float(difference[_GAZE].mean()))


def mouth_agrees(target_jaw: float, swapped_jaw: float, target_lips: float = math.inf,
                 swapped_lips: float = math.inf) -> bool:
    """Both mouths open or both closed, a mouth being open with its jawOpen above
    MOUTH_OPEN and its lips apart (`lips_apart` above LIPS_APART; inf: not known); or both
    lips apart or both together and the two jawOpen readings within MOUTH_TOLERANCE: a
    mouth is a miss when it is on the other side of the threshold by more than the
    landmarker's own spread, or shows an opening where the other's lips are sealed."""
    target_parted, swapped_parted = target_lips > LIPS_APART, swapped_lips > LIPS_APART
    target_open = target_jaw > MOUTH_OPEN and target_parted
    swapped_open = swapped_jaw > MOUTH_OPEN and swapped_parted
    if target_open == swapped_open:
        return True
    return target_parted == swapped_parted and abs(target_jaw - swapped_jaw) <= MOUTH_TOLERANCE


def lips_apart(landmarks: np.ndarray) -> float:
    """How far apart the inner lips of a (478, 2+) landmark array are: the mean distance of
    upper and lower inner lip points over the mouth's width (0: sealed)."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(points[MOUTH_CORNERS[0]] - points[MOUTH_CORNERS[1]]))
    gaps = [np.linalg.norm(points[upper] - points[lower]) for upper, lower in _INNER_LIP_PAIRS]
    return float(np.mean(gaps)) / max(width, 1e-6)


def lower_lip_hidden(occluded: np.ndarray, face_landmarks: np.ndarray) -> float:
    """Share of the lower lip that the kept occluder covers: `occluded` (S, S) in [0, 1],
    1 where the swap keeps the target in front of the face; `face_landmarks` (478, 2+) in
    the same crop's pixels. 0 where the lip lies outside the crop."""
    lip = np.zeros(occluded.shape[:2], np.uint8)
    outline = np.round(np.asarray(face_landmarks, dtype=np.float64)[list(LOWER_LIP), :2])
    cv2.fillPoly(lip, [outline.astype(np.int32)], 1)
    inside = lip.astype(bool)
    return float((occluded[inside] > 0.5).mean()) if inside.any() else 0.0


def judged_mouth(agrees: float, lip_hidden: float) -> float:
    """A mouth agreement (open or closed, or the smile), or NaN (not judged) where the swap
    keeps what hides the target's lower lip (`lip_hidden`, lower_lip_hidden, at
    MOUTH_HIDDEN or more): the output shows the target's own lip there, and the landmarker
    reads it from the face around it, not from the mouth."""
    return NAN if lip_hidden >= MOUTH_HIDDEN else agrees


def flicker(previous: FaceCrops, current: FaceCrops) -> tuple[float, float]:
    """(flicker, brightness flicker) between consecutive frames, in grey levels.

    Flicker: mean |swapped change| minus mean |target change| inside the eroded face
    (negative: steadier than the target). Brightness flicker: |change of the swapped
    face's mean grey - change of the target's|.
    """
    region = _eroded(current.inside, current.band) & current.valid & previous.valid
    if not region.any():
        return NAN, NAN
    change_s = current.swapped_grey[region] - previous.swapped_grey[region]
    change_t = current.target_grey[region] - previous.target_grey[region]
    return (float(np.abs(change_s).mean() - np.abs(change_t).mean()),
            float(abs(change_s.mean() - change_t.mean())))


def landmark_jitter(previous_target: np.ndarray, previous_swapped: np.ndarray,
                    target: np.ndarray, swapped: np.ndarray, face_height: float) -> float:
    """Mean frame-to-frame motion of the swapped landmarks relative to the target's, in
    percent of the face height. All landmarks (478, 2+) in frame pixels."""
    residual = swapped[:, :2].astype(np.float64) - target[:, :2]
    previous = previous_swapped[:, :2].astype(np.float64) - previous_target[:, :2]
    motion = np.linalg.norm(residual - previous, axis=1).mean()
    return float(100.0 * motion / max(face_height, 1.0))


def jaw_open(blendshapes: np.ndarray) -> float:
    """The jawOpen blendshape of a (52,) vector: how open the mouth is, 0..1."""
    return float(blendshapes[_JAW])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = float(np.linalg.norm(a64) * np.linalg.norm(b64))
    return float(a64 @ b64) / max(norms, 1e-12)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _eroded(mask: np.ndarray, radius: int) -> np.ndarray:
    """A bool mask shrunk by a disc of `radius` pixels."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    eroded: np.ndarray = cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
    return eroded
