"""Where the landmarker reads the mesh engine's mouth, against where the engine put it
(issue 17: the target's smile, as the landmarker reads it).

MediaPipe's blendshape model reads a smile from the landmarks alone, above all from how
high the mouth's corners sit against the lips' centre. The engine draws the source's lips
with the target's corners, but a photo's texture need not lie where the photo's own
landmarks say: on Bob Dylan's pouting photo (old-photo) the landmarker reads the engine's
lips' centre 0.014-0.025 eye distances higher and the corners 0.01-0.03 further in than
drawn, so corners drawn 0.028 above the centre read 0.003 above it, and the target's
resting smile (mouthSmile 0.33) read 0.10 (BENCHMARKS.md, Expression, fifteenth round).
So with each eye reading (`mesh_eye_read`, every READ_EVERY frames) the engine also reads
how much lower its corners sit against the lips' centre, and how much narrower the mouth
is, than it drew them; the next frames are drawn with the corners raised and the mouth
widened by as much (the corners lowered where the source's texture reads higher),
so that what is read is the target's mouth (never narrowed: below), a raise and a
widening in proportion to the target's smile (the photo's lip line pulls drawn corners
toward its own the more, the higher they are drawn); the widening, where the mouth was
also read at a higher smile (`MouthReads.due`), along the line the readings draw
against the smile. Measured against
the drawing, not against the target: a reading says how far the source's texture shifts
what is drawn, whatever correction the drawing already carries, so the correction is that
shift (not a sum of readings that could run away).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from facedub.faces.regions import MOUTH_CORNERS, mesh_regions

READINGS = 5  # the median of the last this many readings of a track is its correction
# Misreadings this small are the landmarker's noise (the webcam's own crop read against its
# own landmarks: 0.004 eye distances in the corners' height); only what lies beyond is
# corrected, continuously (no step at the edge). Corrected whole beyond it (as the eye
# reading is), old-photo's output read more smile than the target on its resting frames
# and agreed on 55% of 40 frames, against 82.5% so (BENCHMARKS.md, fifteenth round).
LIFT_NOISE = 0.005
WIDTH_NOISE = 0.01
LIFT_LIMIT = 0.05  # eye distances: the largest raise or drop of the corners
# A mouth read wider than drawn is left as wide: narrowed so (the streamer under Kit
# Harington's photo, read 2% wider), the target's resting smile read less, and hair-forehead
# agreed on 37.5% of 40 frames against main's 57.5% (65% widened only).
WIDTH_LIMITS = (1.0, 1.05)  # never narrowed (above), widened at most this much
# Share of the way to a new correction made a frame: no step. Not a track's first
# reading's raise: eased in from none, old-photo's frames 1-6 (Dylan's photo onto a man
# smiling 0.23-0.42) were drawn with a quarter to nine tenths of the raise they called for
# and read 0.06-0.13 under the target's smile (frame 1 a miss). Its widening and a
# lowering are eased in: whole, photo-to-mouth's frames 1-6 (Rowan Atkinson's closed
# smile, already read over d18's) read 0.02-0.06 further over (BENCHMARKS.md,
# twenty-sixth round). The eighteenth round's whole first reading, before the raise was
# scaled by the smile, cost old-photo's resting frames the smiling first frame's raise.
EASE_PER_FRAME = 0.25
LIPS_CENTRE = (13, 14)  # the inner lips' middle points
# The lift follows the target's smile: the photo's lip line pulls the read corners toward
# its own, so the more the drawn corners rise the more they read lower. One lift per track
# overshot the resting frames (old-photo 8, 9, 11: +0.10 to +0.14 at the target's 0.21-0.27,
# right at 0.3-0.4). Scaled by the frame's smile over the readings' median smile (this
# at least, so a resting reading does not blow it up), at most LIFT_SCALE_MAX; a raise is
# learnt from the readings taken at this smile at least alone (`_smiling_raise`). A raise
# only: a texture read higher than drawn is lowered as read, not scaled (skin-tones' Obama
# smiling more than at the readings, frames 16-23, had his corners lowered more, 0.003-0.017
# more smile error, one frame lost; BENCHMARKS.md, eighteenth round), at a smile as the
# readings at a smile read it (LOWERING_EASE). The widening is scaled
# the same way: whole at every smile, old-photo's resting frames 7-11 (the target 0.22-0.27,
# the readings' 0.44) took the first reading's widening of 1.036 and read 0.04-0.12 over
# (BENCHMARKS.md, twenty-sixth round).
SMILE_MIN = 0.1
LIFT_SCALE_MAX = 2.0
# The width's misreading grows with the target's smile: on Obama under Biden's photo
# (skin-tones) the landmarker read the mouth 0.2-0.6% narrower than drawn at the readings'
# smile 0.087 and 3.3-4.3% narrower on frames 16-22 (smile 0.15-0.19), all between
# readings (BENCHMARKS.md, twenty-seventh round). So a photo's mouth is also read where
# the frame's smile lies SMILE_STEP above every reading's of its track (`due`, at least
# READ_GAP frames after the last), and where the readings' smiles spread FIT_SPREAD at
# least the widening is the line through them, the misreading against the smile, taken
# at the frame's smile (`_fitted_width`): skin-tones' smile within 0.1 of the target's on
# 90% -> 97.5% of 40 frames (BENCHMARKS.md, twenty-eighth round).
SMILE_STEP = 0.03
READ_GAP = 3
FIT_SPREAD = 0.03
WIDEN_STEP = 0.01  # the most the widening moves a frame (`_eased_widening`)
# A lowering is learnt at the smile too: a closed-lipped smiling photo's lip line pulls the
# read corners up the more the target smiles. The border photo's closed smile onto d3 read
# 0.024 eye distances higher than drawn at rest (frame 0) and 0.027-0.041 where she smiles
# 0.27-0.32 (frames 9, 12, 15; 0.034-0.050 with the photo's lips drawn over her opening).
# Lowered by every scheduled reading's median (the resting one's alone until frame 12), her
# smiling frames 10-18 were drawn 0.018-0.025 lower and still read 0.08-0.10 more smile
# than hers (0.10-0.16 with the photo's lips over her opening). So a frame smiling
# SMILE_MIN at least is lowered by the readings of both kinds taken at such a smile where
# there are any (`_smiling_lowering`), and where that goes beyond every scheduled reading's
# lowering it is eased in at LOWERING_EASE a frame: at a quarter, frames 10-13 were drawn
# with a quarter to two thirds of what the first smiling reading (frame 9) called for and
# read 0.09-0.14 over her smile with the photo's lips over her opening, 0.06-0.08 so. Not
# any lowering at a smile: a first reading's taken at a smile, so eased, the Paul Rudd
# photo onto d18's smiling frames 1-4 (expr-neutral) read 0.10-0.11 off his smile
# against main's 0.08-0.09 (BENCHMARKS.md, fifty-first round). Only a closed-lipped
# smiling photo's, as far as it is one (`MouthReads`' source_open, the photo's
# `photo_lips_open`: 0.0 for the border photo, Rowan Atkinson's and Angelina Jolie's, 0.23
# for Rose Leslie's): a lowering learnt at one smile was too much where the target smiles
# otherwise under Biden's broad open smile (1.0; skin-tones' Obama, frames 16, 17 and 22
# read 0.094-0.101 off his smile against main's 0.035-0.073, smile 38 -> 36 of 40).
LOWERING_EASE = 0.5


@dataclass(frozen=True)
class MouthMove:
    """How the next frame's mouth is drawn: its corners raised by `lift` eye distances
    against the lips' centre (negative: lowered), its width scaled by `widen`."""

    lift: float = 0.0
    widen: float = 1.0


def corner_height(landmarks: np.ndarray, up: np.ndarray, scale: float) -> float:
    """How high the mouth's corners of `landmarks` (478, 2+) sit above the lips' centre,
    along the unit vector `up` (image pixels), in units of `scale` pixels."""
    points = np.asarray(landmarks, dtype=np.float64)[:, :2]
    centre = points[list(LIPS_CENTRE)].mean(axis=0)
    return float(np.mean((points[list(MOUTH_CORNERS)] - centre) @ up)) / scale


def misread(drawn: np.ndarray, read: np.ndarray) -> tuple[float, float]:
    """(how much higher, in eye distances, the corners of `drawn` (478, 2+) sit against
    their lips' centre than those of `read` (the landmarker's reading of the drawn face,
    same pixels), how much wider the drawn mouth is than the read one). Both are taken in
    the drawn face's frame (its eye line and eye distance), so a misread eye does not count
    here (`mesh_eye_read` takes the eyes)."""
    regions = mesh_regions()
    points = np.asarray(drawn, dtype=np.float64)[:, :2]
    across = points[regions.left_eye].mean(axis=0) - points[regions.right_eye].mean(axis=0)
    eyes = float(np.linalg.norm(across))
    if eyes <= 1e-6:
        return 0.0, 1.0
    up = np.array([across[1], -across[0]]) / eyes  # image y grows down
    higher = corner_height(points, up, eyes) - corner_height(read, up, eyes)
    corners = list(MOUTH_CORNERS)
    width_read = float(np.linalg.norm(np.diff(np.asarray(read)[corners, :2], axis=0)))
    width_drawn = float(np.linalg.norm(np.diff(points[corners], axis=0)))
    return higher, width_drawn / max(width_read, 1e-6)


def _beyond(value: float, noise: float) -> float:
    """`value` less `noise` toward 0 (0 within it)."""
    return float(np.sign(value) * max(abs(value) - noise, 0.0))


class MouthReads:
    """Per target track, the correction of the drawn mouth (`applied`) from the readings
    given to `add`; `source_open`: the photo's `mesh_mouth.photo_lips_open` (a video's 1)."""

    def __init__(self, source_open: float = 1.0) -> None:
        # How far the photo's lips are apart where it smiles (`mesh_mouth.photo_lips_open`;
        # a video's faces 1): a smiling frame's lowering is learnt at the smile as far as
        # it is under 1 (LOWERING_EASE's comment).
        self._source_open = source_open
        self._reads: dict[int, deque[tuple[float, float, float]]] = {}
        # Readings taken for the smile (`due`): (how much wider drawn, smile); the width only.
        self._smile_reads: dict[int, deque[tuple[float, float]]] = {}
        # The same readings' (how much higher drawn, smile): a smiling frame's lowering only.
        self._smile_lifts: dict[int, deque[tuple[float, float]]] = {}
        self._since: dict[int, int] = {}  # frames drawn since the track's last reading
        self._smiles: dict[int, float] = {}  # the track's last frame's smile
        self._applied: dict[int, MouthMove] = {}

    def add(self, track: int, drawn: np.ndarray, read: np.ndarray, smile: float,
            scheduled: bool = True) -> None:
        """One reading of `track`: the landmarks the face was drawn with and those the
        landmarker read on it (478, 2+ each, the same pixels); `smile`: the target's mean
        mouthSmile in that frame. `scheduled`: one of the eye reading's (every
        READ_EVERY frames); else one taken for the smile (`due`), which counts for the
        width and, a closed-lipped smiling photo's, a smiling frame's lowering alone: its
        corners read higher than drawn where the target smiles, and lowered more the smile
        read less (BENCHMARKS.md, eighteenth round)."""
        higher, wider = misread(drawn, read)
        if scheduled:
            self._reads.setdefault(track, deque(maxlen=READINGS)).append((higher, wider, smile))
        else:
            self._smile_reads.setdefault(track, deque(maxlen=READINGS)).append((wider, smile))
            self._smile_lifts.setdefault(track, deque(maxlen=READINGS)).append((higher, smile))
        self._since[track] = 0

    def due(self, track: int, smile: float) -> bool:
        """Whether this frame of `track`, whose target smiles `smile` (mean mouthSmile), is
        read for its width besides the scheduled readings: the track has been read, not in
        the last READ_GAP - 1 frames, and never at a smile within SMILE_STEP under this
        one. Not read where it smiles less than every reading: read there too, skin-tones'
        frame 27 (smile 0.024) read 5% narrower than drawn where the scheduled reading at
        rest nine frames later read as drawn, and the line through them widened his
        resting mouth by 1% for ten frames."""
        points = self._width_points(track)
        if not points or self._since.get(track, 0) < READ_GAP:
            return False
        return smile > max(read_smile for _, read_smile in points) + SMILE_STEP

    def _width_points(self, track: int) -> list[tuple[float, float]]:
        """(how much wider drawn than read, smile) of the track's kept readings."""
        return ([(wider, smile) for _, wider, smile in self._reads.get(track, ())]
                + list(self._smile_reads.get(track, ())))

    def wanted(self, track: int, smile: float | None = None) -> MouthMove:
        """The correction the readings call for: their median misreading beyond the
        noise, within the limits, a raise (from the readings where the target smiled,
        `_smiling_raise`) and a widening scaled by `smile` (the target's mean mouthSmile in
        this frame; None: not scaled) over those readings' median smile, a closed-lipped
        smiling photo's lowering at a smile from the readings taken at one
        (`_smiling_lowering`, as far as `source_open` is under 1, not scaled); none before
        the track's first reading."""
        reads = self._reads.get(track)
        if not reads:
            return MouthMove()
        higher, wider, read_smile = np.median(np.array(reads), axis=0)
        scale = _smile_scale(smile, float(read_smile))
        lift = _beyond(float(higher), LIFT_NOISE)
        if lift > 0.0:  # a raise only (SMILE_MIN's comment), from the smiling readings
            lift = _smiling_raise(reads, smile)
        elif smile is not None and smile >= SMILE_MIN and self._source_open < 1.0:
            smiling = _smiling_lowering(self._lift_points(track), lift)
            lift += (1.0 - self._source_open) * (smiling - lift)
        lift = float(np.clip(lift, -LIFT_LIMIT, LIFT_LIMIT))
        fitted = None if smile is None else _fitted_width(self._width_points(track), smile)
        if fitted is None:
            widen = np.exp(_beyond(float(np.log(wider)), WIDTH_NOISE))
            widen = float(np.clip(1.0 + scale * (widen - 1.0), *WIDTH_LIMITS))
        else:
            widen = float(np.clip(np.exp(_beyond(fitted, WIDTH_NOISE)), *WIDTH_LIMITS))
        return MouthMove(lift, widen)

    def applied(self, track: int, smile: float | None = None) -> MouthMove:
        """The correction this frame of `track` is drawn with: `wanted` (at `smile`) eased
        in by EASE_PER_FRAME a frame from the last frame's, a raise of the track's first
        reading whole from the frame after it, the widening as `_eased_widening` says;
        call once a frame."""
        self._since[track] = self._since.get(track, 0) + 1
        previous = self._smiles.get(track)
        if smile is not None:
            self._smiles[track] = smile
        wanted = self.wanted(track, smile)
        last = self._applied.get(track)
        if last is None:  # nothing drawn corrected yet: a first reading's raise whole
            if not self._reads.get(track):
                return wanted
            last = MouthMove(max(wanted.lift, 0.0))
        widen = self._eased_widening(track, last.widen, wanted.widen, smile, previous)
        ease = (LOWERING_EASE if smile is not None and smile >= SMILE_MIN
                and wanted.lift < min(last.lift, self.wanted(track, 0.0).lift)
                else EASE_PER_FRAME)
        eased = MouthMove(last.lift + ease * (wanted.lift - last.lift), widen)
        self._applied[track] = eased
        return eased

    def _eased_widening(self, track: int, last: float, wanted: float, smile: float | None,
                        previous: float | None) -> float:
        """The widening of this frame of `track`: `wanted` eased in from `last` (the last
        frame's) by EASE_PER_FRAME a frame. Where it is the line through readings at
        several smiles (`_fitted_width`), only what the line calls for at the last frame's
        smile (`previous`) is eased in, and the smile's move since then is followed at
        once: eased whole, the widening trailed Obama's smile by frames (skin-tones 21
        read 0.087 against his 0.194, drawn 1.022 wide where the line called for 1.037).
        Never more than WIDEN_STEP from the last frame's: followed at once, the same
        clip's frame 39 (his smile 0.001 -> 0.192) was drawn 3.1% wider than frame 38, a
        step (the eye reading's 4% in one frame visibly stepped, `mesh_eye_read`)."""
        held = wanted
        if (smile is not None and previous is not None
                and _fitted_width(self._width_points(track), smile) is not None):
            held = self.wanted(track, previous).widen
        # (wanted - held) in brackets: 0 where they are equal, the eased widening to the bit.
        widen = last + EASE_PER_FRAME * (held - last) + (wanted - held)
        return float(np.clip(widen, max(last - WIDEN_STEP, WIDTH_LIMITS[0]),
                             min(last + WIDEN_STEP, WIDTH_LIMITS[1])))

    def _lift_points(self, track: int) -> list[tuple[float, float]]:
        """(how much higher drawn than read, smile) of the track's kept readings, both
        kinds."""
        return ([(higher, smile) for higher, _, smile in self._reads.get(track, ())]
                + list(self._smile_lifts.get(track, ())))

    def forget(self, track: int) -> None:
        self._reads.pop(track, None)
        self._smile_reads.pop(track, None)
        self._smile_lifts.pop(track, None)
        self._since.pop(track, None)
        self._smiles.pop(track, None)
        self._applied.pop(track, None)


def _smiling_raise(reads: deque[tuple[float, float, float]], smile: float | None) -> float:
    """The raise of the corners the track's `reads` ((how much higher drawn than read,
    how much wider, smile) each) taken where the target smiled SMILE_MIN at least call
    for: their median misreading beyond the noise, scaled by `smile` (None: not scaled)
    over their median smile, at most LIFT_SCALE_MAX times; none without such a reading.
    A raise corrects the photo's lip line pulling raised corners toward its own, so it is
    learnt where the corners are raised: a resting face's reading (a talking mouth's kept
    opening moves the lips' centre it is taken against) says nothing of it, and scaled up
    to a later smile it drew the corners above the target's. The shouting photo onto d10
    read 0.011-0.035 flatter than drawn at smile 0.001-0.08 (frames 60-96), so frames
    104-148 (her smile 0.2-0.6) were drawn with twice that beyond the noise, 0.012-0.017
    eye distances above her corners, and read 0.02-0.03 above them and 0.11-0.26 more
    smile: 120 -> 130 of 150 frames within 0.1 with none of it (BENCHMARKS.md, Expression,
    thirty-first round)."""
    smiling = np.array([(higher, read_smile) for higher, _, read_smile in reads
                        if read_smile >= SMILE_MIN])
    if not len(smiling):
        return 0.0
    higher, read_smile = np.median(smiling, axis=0)
    return max(_beyond(float(higher), LIFT_NOISE), 0.0) * _smile_scale(smile, float(read_smile))


def _smiling_lowering(points: list[tuple[float, float]], lowering: float) -> float:
    """The lowering of a smiling frame's corners: the median misreading beyond the noise of
    the `points` ((how much higher drawn than read, smile) per reading, both kinds) taken
    where the target smiled SMILE_MIN at least, where it lowers; `lowering` (every
    scheduled reading's) without such a reading."""
    smiling = [higher for higher, read_smile in points if read_smile >= SMILE_MIN]
    if not smiling:
        return lowering
    return min(_beyond(float(np.median(smiling)), LIFT_NOISE), 0.0)


def _smile_scale(smile: float | None, read_smile: float) -> float:
    """How much a correction read at `read_smile` is scaled at the frame's `smile` (None:
    not scaled): their ratio, the readings' smile taken as SMILE_MIN at least, at most
    LIFT_SCALE_MAX."""
    if smile is None:
        return 1.0
    return float(np.clip(smile / max(read_smile, SMILE_MIN), 0.0, LIFT_SCALE_MAX))


def _fitted_width(points: list[tuple[float, float]], smile: float) -> float | None:
    """The log of how much wider the mouth is drawn than read at `smile`, from the line
    through `points` ((how much wider, smile) per reading) by least squares, never falling
    with the smile (a falling line is the readings' noise); None where their smiles
    spread less than FIT_SPREAD (no line to draw)."""
    if len(points) < 2:
        return None
    values = np.log(np.array([wider for wider, _ in points]))
    smiles = np.array([read_smile for _, read_smile in points])
    if float(np.ptp(smiles)) < FIT_SPREAD:
        return None
    centred = smiles - smiles.mean()
    slope = max(float(centred @ (values - values.mean()) / (centred @ centred)), 0.0)
    return float(values.mean() + slope * (smile - smiles.mean()))
