"""What covers the face in the target stays in front of the swapped face.

Two sources, both in the pixels of the target's aligned crop:

- `OcclusionMasks`: OccluderNet (facedub.models.occluder), a small network trained on face
  crops with hands, glasses frames, microphones, cups, pens and hair drawn over them
  (tools/train_occluder.py). The crop is warped to the net's canonical 128 px face, the
  result (64 px) warped back and eased over time per track, so a still occluder does not
  flicker while a moving one is followed at once. Colour completes what the net finds in
  part, and what moves unlike the face between frames (a hand sweeping over it, skin on
  skin: facedub.composite.occlusion_motion) is added. Glasses lenses are not occluders: the
  swapped eyes show through them, and `lens_highlights` puts the target's reflections back
  on top.
- `edge_occluders`: hair, fringes and hats at the forehead and temples. The mask reaches
  above the landmark oval towards the hairline and out to the temples, but hair often
  falls there, on the target (pasting skin over a fringe is a giveaway) and on the source
  (its sideburns pasted onto the target's temples are another). In that outer zone, pixels
  that do not look like the face's own skin (a colour model from its cheeks and nose) are
  left out of the swap, unless they are a paler, smooth skin of its hue (a powdered or lit
  forehead: facedub.composite.forehead).
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from safetensors import safe_open

from facedub.composite.color import to_lab
from facedub.composite.forehead import powdered_skin
from facedub.composite.glasses_rims import (
    HeldRims,
    RimsKey,
    Rings,
    between_searches,
    draw_rims,
    follow_rims,
    rims_key,
    ring_cover,
    searching,
)
from facedub.composite.occlusion_motion import MOTION_LEVEL, moving_objects, still_regions
from facedub.composite.occlusion_objects import (
    FaceZones,
    complete_by_colour,
    dark_objects,
    face_zones,
    sample_covariance,
)
from facedub.errors import FacedubError
from facedub.faces.align import template_in_crop
from facedub.faces.geometry import apply_affine, umeyama
from facedub.faces.glasses_cues import (
    cheek_lightness,
    faint_glasses_evidence,
    glasses_frames,
    glasses_span,
    half_pixels,
    net_glasses_evidence,
    net_glasses_share,
)
from facedub.faces.masks import (
    box_meet,
    box_within,
    convex_hull_mask,
    face_oval,
    hair_zone,
    mask_bounds,
)
from facedub.faces.regions import eye_distance, mesh_regions
from facedub.models.occluder_graph import (
    OCCLUDER_OUT,
    OCCLUDER_RES,
    occluder_graph,
    occluder_shapes,
    occluder_widths,
    scaled_input,
)

log = logging.getLogger(__name__)

OCCLUSION_MODES = ("auto", "off")
WEIGHTS_FILE = "occluder.safetensors"
# The net's probability is mapped to an occlusion alpha by this ramp; below 0.5, so that
# an occluder's soft edge stays in front rather than being swapped over.
RAMP_LOW, RAMP_HIGH = 0.25, 0.55
# Easing: a pixel whose probability moves by EASE_FULL or more follows at once (a moving
# hand); smaller changes (the net's frame-to-frame noise) are eased by EASE_MIN at least.
EASE_MIN, EASE_FULL = 0.3, 0.35
MAX_GAP_SECONDS = 0.25  # a longer gap (a cut, the face lost) starts the easing afresh
# Glasses evidence is eased fast up and slowly down: one good look at the frames is
# enough, and wearing them does not flicker. The eased evidence from WEARING_LOW to
# WEARING_HIGH ramps the frames in.
GLASSES_RISE, GLASSES_FALL = 0.3, 0.02
WEARING_LOW, WEARING_HIGH = 0.4, 0.7
RING_EASING = 0.5  # the drawn rims' share of the held rims' move per frame
# A dark object found at the chin fades by this share a frame once no longer found, so
# the frames where a grille's highlight breaks it up do not flicker.
DARK_HOLD = 0.7
# What moved unlike the face (a hand) fades by this share a frame once it stops: a hand
# pauses, and clips repeat frames (no motion at all between them). Where its pixels
# changed since, it has gone (held, a hand's mark kept the target's lip corner beside
# the fingers that had moved on: clip 11's stage shot, frame 48).
MOTION_HOLD = 0.5
BEYOND = 1e-3  # a canonical pixel with more of its area beyond the frame's edge is not shown


def occluder_weights() -> Path:
    """The shipped OccluderNet weights (inside the package: nothing is downloaded)."""
    return Path(str(importlib.resources.files("facedub") / "data" / WEIGHTS_FILE))


class OcclusionModel(Protocol):
    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        """(128, 128, 3) uint8 RGB canonical crop -> (64, 64) float32 in [0, 1]."""
        ...


class OccluderModel:
    """OccluderNet on onnxruntime, one thread (the swap runs its stages on the others).

    `probabilities(canonical)` takes (128, 128, 3) uint8 RGB aligned to the template at
    the "whole" coverage and returns (64, 64) float32 in [0, 1].
    """

    def __init__(self, weights: Path | None = None) -> None:
        import onnxruntime as ort  # only the occlusion mask needs it here

        path = weights or occluder_weights()
        if not path.is_file():
            raise FacedubError(f"{path}: occluder weights missing; reinstall facedub, or "
                               "swap with --occlusion off")
        # NumPy weights and a graph built from them: importing torch for this cost more
        # CPU than the network's inference on a 200-frame clip.
        state, widths = _occluder_state(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # The input scaled here (see `scaled_input`): the same logits, 40 us less a
        # frame; the decoder's concatenations left out (`split`): logits within 1e-6,
        # 0.15 ms less.
        graph = occluder_graph(state, levels=len(widths), scaled=True, split=True)
        self._session = ort.InferenceSession(graph, options,
                                             providers=["CPUExecutionProvider"])

    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        (logits,) = self._session.run(None, {"image": scaled_input(canonical)})
        # The logistic in place on the run's own output: the values of
        # 1 / (1 + exp(-logits)) in float32, without five temporaries.
        values = np.asarray(logits[0, 0], np.float32)
        np.negative(values, out=values)
        np.exp(values, out=values)
        values += np.float32(1.0)
        return np.divide(np.float32(1.0), values, out=values)


def _occluder_state(path: Path) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """OccluderNet's weights (NumPy) in `path` and its widths (the file's metadata; the
    first shipped net's where it names none), every tensor checked against them."""
    with safe_open(str(path), "np") as weights:
        try:
            widths = occluder_widths(weights.metadata())
        except ValueError as error:
            raise FacedubError(f"{path}: {error}; reinstall facedub") from None
        state = {name: weights.get_tensor(name) for name in weights.keys()  # noqa: SIM118
                 if not name.endswith("num_batches_tracked")}
    shapes = {name: tuple(value.shape) for name, value in state.items()}
    if shapes != occluder_shapes(widths):
        raise FacedubError(f"{path}: not OccluderNet weights of widths {list(widths)}; "
                           "reinstall facedub")
    return state, widths


def canonical_from_crop(face_landmarks: np.ndarray) -> np.ndarray:
    """2x3 similarity from a face crop's pixels to OccluderNet's 128 px canonical crop,
    fitted on the rigid landmarks like facedub.align, so any engine's crop size and
    coverage works."""
    return umeyama(np.asarray(face_landmarks)[mesh_regions().rigid, :2],
                   _canonical_rigid())[:2, :]


@functools.cache
def _canonical_rigid() -> np.ndarray:
    """The template's rigid landmarks in the net's canonical crop (the same every frame:
    made once)."""
    points = template_in_crop(OCCLUDER_RES, "whole")[mesh_regions().rigid, :2]
    points.flags.writeable = False  # cached and shared: read only
    return points


@dataclass(frozen=True)
class Occluded:
    """What covers one target face: `mask` (S, S) float32 in [0, 1] in the crop's pixels,
    1 where something in front hides the face; `glasses` in [0, 1], how sure it is that
    the face wears glasses (above 0.5 their reflections go back over the swapped eyes)."""

    mask: np.ndarray
    glasses: float


@dataclass
class _Eased:
    """A track's eased state, in the canonical frame, which moves with the face."""

    objects: np.ndarray  # (64, 64) net and colour
    dark: np.ndarray  # (64, 64) dark objects at the chin, held (DARK_HOLD)
    moving: np.ndarray  # (64, 64) what moved unlike the face, held (MOTION_HOLD)
    lab: np.ndarray  # (64, 64, 3) the last canonical crop in CIELAB, for the motion cue
    points: np.ndarray  # (N, 2) its landmarks
    frames: np.ndarray  # (256, 256) glasses frames
    rings: Rings  # the rims drawn around the eyes, eased towards `held`'s
    held: HeldRims | None  # the rims held by the fit (facedub.composite.glasses_rims)
    glasses: float
    time: float
    # The rims last drawn (in the fine crop) and what they were drawn from: held rims
    # are drawn once.
    drawn: tuple[RimsKey, np.ndarray] | None = None


@dataclass
class OcclusionMasks:
    """Per-track occlusion masks: `model` plus the eased state of every target track."""

    model: OcclusionModel
    # Per track, how sure it is from the whole track that the face wears glasses
    # (facedub.composite.glasses_tracks); where known, single frames' evidence is not used.
    worn: dict[int, float] = field(default_factory=dict)
    _tracks: dict[int, _Eased] = field(default_factory=dict)

    def glasses_evidence(self, image: np.ndarray, face_landmarks: np.ndarray
                         ) -> tuple[float, float, float, float, float]:
        """Evidence in [0, 1] that the face in the crop `image` wears glasses, from this
        crop alone: their frames' bridge, the net marking the frames, and faint frames
        (three weak cues at once); then how its right and left cheek are lit (0-255), to
        compare with the track's other faces."""
        _, _, fine, fine_landmarks, canonical, _ = _canonical(image, face_landmarks, None)
        probabilities = self.model.probabilities(canonical)
        frames, bridge = glasses_frames(fine, fine_landmarks)
        half_landmarks = half_pixels(fine_landmarks)
        faint = faint_glasses_evidence(fine, fine_landmarks,
                                       net_glasses_share(probabilities, half_landmarks),
                                       ring_cover(frames, fine_landmarks))
        right, left = cheek_lightness(fine, fine_landmarks)
        return bridge, net_glasses_evidence(probabilities, half_landmarks), faint, right, left

    def forget(self, track: int) -> None:
        """The track has no more faces: its eased masks dropped (`worn`, judged before the
        swap from the whole track, is the analysis's, like the track's records)."""
        self._tracks.pop(track, None)

    def __call__(self, track: int, time: float, image: np.ndarray,
                 face_landmarks: np.ndarray, in_frame: np.ndarray | None = None) -> Occluded:
        """What covers the face in `image` (S, S, 3) uint8 RGB, a target face crop;
        `face_landmarks` in its pixels; `time` in seconds orders the frames of a track;
        `in_frame` (S, S) bool, the crop's pixels inside the frame (None: all of them)."""
        size = image.shape[0]
        matrix, fine_from_crop, fine, fine_landmarks, canonical, shown = _canonical(
            image, face_landmarks, in_frame)
        probabilities = self.model.probabilities(canonical)
        # The colour cues are judged at the net's resolution, in CIELAB, and only on what
        # the frame shows (`shown`).
        half = to_lab(_area_shrunk(fine, OCCLUDER_OUT))
        half_landmarks = half_pixels(fine_landmarks)
        worn = self.worn.get(track)
        # The zones that the colour, dark-object and motion cues each made: made once.
        zones = face_zones(half_landmarks, OCCLUDER_OUT, shown)
        previous = self._continued(track, time)
        moving, residual = self._moving(track, time, half, half_landmarks, shown, zones)
        objects = complete_by_colour(probabilities, half, half_landmarks, shown,
                                     bare_eyes=worn is not None and worn <= WEARING_LOW,
                                     zones=zones, settled=_settled(previous, residual))
        held: HeldRims | None = None
        if (worn is not None and previous is not None and previous.held is not None
                and not searching(previous.held)):
            # A track judged as a whole takes no single frame's bridge (below), and its
            # rims are held between searches: its frames' lines are looked for on the
            # search's frames only, held as eased between (about 0.7 ms a frame).
            frames, bridge = previous.frames, 0.0
            held = between_searches(previous.held)
            rings = held.rings
        elif _glasses_drawn(worn, self._tracks.get(track)):
            # The bridge is evidence only for a track not judged (below).
            frames, bridge = glasses_frames(fine, fine_landmarks, worn is None)
            # Glasses sit still on the face: the track's rims are held where they were
            # unless the lines show them clearly elsewhere (not the lines' noise).
            held = follow_rims(frames, fine_landmarks,
                               None if previous is None else previous.held)
            rings = held.rings
        else:
            # A track judged bare draws no frames nor rims: not looked for (about 1.4 ms,
            # a fifth of the mask's cost besides the net).
            frames, bridge = _no_frames(previous, fine.shape[0]), 0.0
            rings = np.zeros((2, 4))
        # One half pixel wider, to cover the object's rim: at this resolution it is blended
        # with the skin around and not dark enough to be found.
        dark = cv2.dilate(dark_objects(half, half_landmarks, probabilities, shown, zones
                                       ).astype(np.float32), np.ones((3, 3), np.uint8))
        # A track judged as a whole (glasses_tracks) takes no single frame's evidence: the
        # bridge alone is often shading or compression (see its NET_CONFIRM), and the net
        # marks the dark eye sockets of a bare face under a passing light as lenses (clip
        # 13's torch: 0.5 in frames 52-60), the very frames the judgement leaves out. (So
        # the net's evidence is only worked out for a track not judged.)
        evidence = (max(net_glasses_evidence(probabilities, half_landmarks), bridge)
                    if worn is None else worn)
        state = self._ease(track, time, _Eased(objects, dark, moving, half, half_landmarks,
                                               frames, rings, held, evidence, time), residual)
        half_from_crop = matrix * (OCCLUDER_OUT / OCCLUDER_RES)
        half_from_crop[:, 2] -= 0.25  # half pixel u covers canonical 2u and 2u + 1
        # Only what covers the face counts (the background is never swapped anyway): the
        # full-size work is done in the box of the face's oval alone, which is 0 around
        # it, and each step only where its own map is not 0 (at 512 px every full-size
        # pass costs a tenth of a millisecond).
        wearing = float(np.clip((state.glasses - WEARING_LOW) / (WEARING_HIGH - WEARING_LOW),
                                0.0, 1.0))
        oval = face_oval(face_landmarks, size, forehead=True)
        whole = np.zeros((size, size), np.float32)
        box = mask_bounds(oval)
        if box is None:
            return Occluded(whole, wearing)
        mask = whole[box]  # a view: what is written here is the crop's mask
        found = np.maximum(np.maximum(state.objects, state.dark), state.moving)
        # Where every pixel a bilinear sample reaches is at or under RAMP_LOW (the net's
        # faint guesses cover the whole crop), the ramp is 0, as `mask` already is: only
        # the box around the higher ones is warped.
        part = _warped_box(found > RAMP_LOW, half_from_crop, box)
        if part is not None:
            # The ramp in place: every temporary costs time too.
            # Warped straight into the mask's part (0 there until now), then ramped there.
            ramped = _warp_up(found, half_from_crop, part, mask[box_within(part, box)])
            ramped -= RAMP_LOW
            ramped /= RAMP_HIGH - RAMP_LOW
            np.clip(ramped, 0.0, 1.0, out=ramped)
        if wearing > 0:
            # Lenses are not occluders: the swapped eyes show through them. Nor is the rest
            # of what the glasses span (under the lenses, the bridge of the nose): the net
            # and the colour cue mark it with the glasses, and keeping it keeps the target's
            # eyes and brows, which is whom a viewer then sees. The glasses themselves come
            # back below as their frames and rims.
            spanned = glasses_span(face_landmarks, size, box)
            span_box = mask_bounds(spanned)
            if span_box is not None:
                # The span is 0 or 255: the mask is kept as it is off it, and scaled by
                # 1 - wearing on it (in float32, as 1 - wearing * 255 / 255 was).
                kept = np.float32(1.0) - np.float32(1.0) * np.float32(wearing)
                covered = mask[span_box]
                np.multiply(covered, kept, out=covered, where=spanned[span_box] > 0)
            # Clear rims show only in fragments: the rims fitted to them are drawn whole.
            frames = np.maximum(state.frames, self._rims(state, eye_distance(fine_landmarks)))
            part = _warped_box(frames, fine_from_crop, box)
            if part is not None:
                drawn = _warp_up(frames, fine_from_crop, part)
                drawn *= wearing
                inside = mask[box_within(part, box)]
                np.maximum(inside, drawn, out=inside)
        mask[oval[box] == 0] = 0.0
        return Occluded(whole, wearing)

    def _continued(self, track: int, time: float) -> _Eased | None:
        """The track's eased state if this frame continues it (None: its first frame, or
        after a gap)."""
        state = self._tracks.get(track)
        if state is None or not 0 < time - state.time <= MAX_GAP_SECONDS:
            return None
        return state

    @staticmethod
    def _rims(state: _Eased, spacing: float) -> np.ndarray:
        """The track's rims drawn in the fine crop: as last drawn where they are drawn
        from the same (rounded) rings and width, so held rims cost nothing to draw."""
        key = rims_key(state.rings, spacing)
        if state.drawn is None or state.drawn[0] != key:
            state.drawn = (key, draw_rims(state.rings, spacing, state.frames.shape[0]))
        return state.drawn[1]

    def _moving(self, track: int, time: float, lab: np.ndarray, points: np.ndarray,
                shown: np.ndarray, zones: FaceZones) -> tuple[np.ndarray, np.ndarray]:
        """(64, 64) what moved unlike the face since the track's last frame (none on its
        first, or after a gap), and (64, 64) how far each pixel moved unlike the face."""
        state = self._continued(track, time)
        if state is None:
            none = np.zeros(lab.shape[:2], np.float32)
            return none, none
        return moving_objects(lab, points, state.lab, state.points, shown, zones)

    def _ease(self, track: int, time: float, fresh: _Eased, residual: np.ndarray) -> _Eased:
        state = self._continued(track, time)
        if state is None:
            self._tracks[track] = fresh
            return fresh
        state.objects = _eased(state.objects, fresh.objects)
        state.dark = np.maximum(fresh.dark, DARK_HOLD * state.dark)
        state.moving = np.maximum(fresh.moving,
                                  MOTION_HOLD * still_regions(state.moving, residual))
        state.lab, state.points = fresh.lab, fresh.points
        # Between searches the fresh frames are the state's own, which eased towards
        # themselves stay as they are (`_eased` of equal maps is the map): not redone.
        if fresh.frames is not state.frames:
            state.frames = _eased(state.frames, fresh.frames)
        state.rings = state.rings + RING_EASING * (fresh.rings - state.rings)
        state.held = fresh.held
        rate = GLASSES_RISE if fresh.glasses > state.glasses else GLASSES_FALL
        state.glasses += rate * (fresh.glasses - state.glasses)
        state.time = time
        return state


def _canonical(image: np.ndarray, face_landmarks: np.ndarray, in_frame: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray]:
    """The crop's 2x3 to the net's canonical crop, the same to the fine (twice the size)
    canonical crop, the fine crop, the landmarks in it, the net's canonical crop, and the
    pixels of the net's output (64 px) that the frame shows (`in_frame`, (S, S) bool or
    None for all).

    Where the frame's edge cuts the face, the crop's black fill beyond it would be a dark
    object to the net (which then marks the chin above it too): the fine crop there takes
    the nearest pixel the frame shows, as if the picture went on."""
    matrix = canonical_from_crop(face_landmarks)
    # The glasses' thin frames are looked for at twice the net's resolution.
    fine_from_crop = matrix * 2.0
    fine_from_crop[:, 2] += 0.5  # fine pixel 2u + 0.5 is canonical pixel u's centre
    fine = _warp_down(image, fine_from_crop, 2 * OCCLUDER_RES)
    half = OCCLUDER_OUT
    shown = np.ones((half, half), bool)
    if in_frame is not None and not in_frame.all():
        # The share of every fine pixel that comes from beyond the frame.
        beyond = _warp_down((~in_frame).astype(np.float32), fine_from_crop, 2 * OCCLUDER_RES)
        fine = _nearest_shown(fine, beyond > BEYOND)
        shown = cv2.resize(beyond, (half, half), interpolation=cv2.INTER_AREA) <= BEYOND
    fine_landmarks = apply_affine(fine_from_crop, np.asarray(face_landmarks)[:, :2])
    canonical = cv2.resize(fine, (OCCLUDER_RES, OCCLUDER_RES), interpolation=cv2.INTER_AREA)
    return matrix, fine_from_crop, fine, fine_landmarks, canonical, shown


def _area_shrunk(image: np.ndarray, size: int) -> np.ndarray:
    """(size, size, C) float32: `image` (S, S, C) uint8, S a multiple of `size`, shrunk
    by area averaging: the whole numbers OpenCV's uint8 INTER_AREA gives (the mean of
    each block rounded half to even), from its float32 path, which a 4x shrink of three
    channels runs in two thirds of the time (0.12 against 0.17 ms at 256 px)."""
    shrunk = cv2.resize(image.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    # Each block's sum of whole numbers and its scaling by 1 / (the block's pixels) are
    # exact in float32, so rounding gives OpenCV's uint8 values.
    return np.rint(shrunk, out=shrunk)


def _nearest_shown(image: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """`image` with every `hidden` pixel replaced by the nearest one that is not (in
    place where it is a fresh array: the fine crop's warp).

    Only the hidden pixels are looked up (a few hundred of the fine crop's 65,536 at a
    frame's edge): gathering every pixel from its own label took 2 ms a frame there, and
    a shown pixel's label is its own, so the values are the same. And only in their box
    (`_labels_box`: a strip along the frame's edge, not the whole crop), where OpenCV's
    distance transform finds for each the same shown pixel it finds in the whole crop."""
    if hidden.all() or not hidden.any():
        return image
    rows, columns = _labels_box(hidden)
    local = hidden[rows, columns]
    _, labels = cv2.distanceTransformWithLabels(local.astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    # The shown pixels are labelled 1, 2, ... in raster order: the k-th (from 0) lies at
    # flat index k plus the number of hidden pixels before it, which is the number of
    # hidden pixels h_j (the j-th, from 0) with h_j - j <= k. Counted among the hidden
    # pixels alone (not by listing the shown ones). All in the box's own pixels, then
    # moved to the crop's.
    flat = np.flatnonzero(local)
    shown = labels.reshape(-1)[flat].astype(np.intp) - 1
    shown += np.searchsorted(flat - np.arange(len(flat)), shown, side="right")
    width, offset = local.shape[1], rows.start * hidden.shape[1] + columns.start
    pixels = image.reshape(-1, *image.shape[2:])
    pixels[_in_crop(flat, width, hidden.shape[1], offset)] = \
        pixels[_in_crop(shown, width, hidden.shape[1], offset)]
    return image


def _labels_box(hidden: np.ndarray) -> tuple[slice, slice]:
    """The box of the `hidden` pixels (some, not all) grown by the two pixels that
    OpenCV's labelled distance transform (a 5 x 5 chamfer mask, whatever the mask size
    asked for) reaches from a pixel, within the crop. Every pixel of the box outside the
    hidden ones is shown: each pass of the transform reads, for a hidden pixel, only
    pixels of the box or beyond the crop's edge (as in the whole crop), and the shown
    ones are its 0 sources, so each hidden pixel gets the same distance and the same
    nearest shown pixel as in the whole crop."""
    bounds = mask_bounds(hidden)
    assert bounds is not None  # some pixels are hidden
    height, width = hidden.shape
    return (slice(max(0, bounds[0].start - 2), min(height, bounds[0].stop + 2)),
            slice(max(0, bounds[1].start - 2), min(width, bounds[1].stop + 2)))


def _in_crop(flat: np.ndarray, width: int, crop_width: int, offset: int) -> np.ndarray:
    """Flat indices of a box `width` pixels wide (its corner at flat index `offset` of a
    crop `crop_width` wide) as flat indices of the crop (in place on `flat`'s copy)."""
    rows, columns = np.divmod(flat, width)
    rows *= crop_width
    rows += columns
    rows += offset
    return rows


def _settled(previous: _Eased | None, residual: np.ndarray) -> np.ndarray | None:
    """(64, 64) bool: the face as it was on the track's last frame (`previous`, None: none
    to go by), bare there (no cue at the ramp's middle, where the mask keeps half the
    target: the net's own faint guesses stay, as they were) and unchanged since (`residual`,
    the motion cue's, under MOTION_LEVEL): what the colour completion may not take on
    where the net is unsure (see `complete_by_colour`). A beard, or the jaw's shaded
    edge, is unlike the cheeks' skin; a microphone brought up to the chin reached along
    them (clip 11's stage shot, frames 5-7: its goatee, whose kept edge drew a dark line
    under Rudd's lower lip, and the jaw's edge up to the cheek). What comes in over the
    face changes the pixels it covers."""
    if previous is None:
        return None
    found = np.maximum(np.maximum(previous.objects, previous.dark), previous.moving)
    return (found < 0.5 * (RAMP_LOW + RAMP_HIGH)) & (residual < MOTION_LEVEL)


def _no_frames(previous: _Eased | None, size: int) -> np.ndarray:
    """(size, size) float32 zeros: the glasses' frames of a frame where they are not
    looked for. The track's own eased frames where they are all 0 already (a track judged
    bare, after its first frame): `_ease` then leaves them as they are, which is what
    easing zeros towards zeros gives (0.3 x (0 - 0) + 0 = 0), without its five passes
    over the fine crop and a fresh array (about 0.1 ms a frame at 256 px). (OpenCV's
    test for a non-zero pixel: a quarter of NumPy's `any` here; -0.0 is zero to both.)"""
    if previous is not None and previous.frames.shape == (size, size) \
            and not cv2.hasNonZero(previous.frames):
        return previous.frames
    return np.zeros((size, size), np.float32)


def _glasses_drawn(worn: float | None, state: _Eased | None) -> bool:
    """Whether the glasses' frames and rims may be drawn on this frame of a track judged
    `worn` as a whole (None: not judged) with eased `state` (None: its first face): not
    when it is judged bare (WEARING_LOW or less) and its eased evidence is no higher,
    since the evidence then stays a mix of the two and never ramps the frames in."""
    if worn is None or worn > WEARING_LOW:
        return True
    return state is not None and state.glasses > WEARING_LOW


def _eased(previous: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """A pixel whose value moves by EASE_FULL or more follows at once (a moving hand);
    smaller changes (frame-to-frame noise) are eased. (In place on the temporaries: the
    values of `previous + clip(|change| / EASE_FULL, EASE_MIN, 1) * change`.)"""
    change = fresh - previous
    share = np.abs(change)
    share /= EASE_FULL
    np.clip(share, EASE_MIN, 1.0, out=share)
    share *= change
    share += previous
    return share.astype(np.float32, copy=False)


def _warp_up(values: np.ndarray, matrix: np.ndarray, box: tuple[slice, slice],
             out: np.ndarray | None = None) -> np.ndarray:
    """`values` warped up to the crop's pixels in `box` (rows, columns) alone: `matrix`
    (crop to `values`) is moved to the box's corner (the crop's warp cut to the box, but
    for float32's last bit). With `out` (float32, the box's shape, a view of a larger
    array is fine) written there, and `out` returned."""
    rows, columns = box
    moved = matrix.copy()
    moved[:, 2] += matrix[:, :2] @ np.array([columns.start, rows.start], np.float64)
    size = (columns.stop - columns.start, rows.stop - rows.start)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if out is None:
        return cv2.warpAffine(values, moved, size, flags=flags,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    written = cv2.warpAffine(values, moved, size, dst=out, flags=flags,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if written is not out and not np.shares_memory(written, out):
        out[...] = written  # OpenCV wrote elsewhere (it could not take the view)
    return out


def _warped_box(values: np.ndarray, matrix: np.ndarray, box: tuple[slice, slice]
                ) -> tuple[slice, slice] | None:
    """The part of `box` (rows, columns of the crop) where `values`, warped up by
    `matrix` (crop to `values`), can be non-zero: the crop's pixels whose bilinear
    sample reaches a non-zero pixel of `values` (None: nowhere). Beyond it the warp is
    exactly 0."""
    bounds = mask_bounds(values)
    if bounds is None:
        return None
    rows, columns = bounds
    # A sample reaches one pixel each way; a pixel's margin more for the corners' rounding.
    corners = np.array([[columns.start - 2, rows.start - 2], [columns.stop + 1, rows.start - 2],
                        [columns.start - 2, rows.stop + 1], [columns.stop + 1, rows.stop + 1]],
                       np.float64)
    inverse = cv2.invertAffineTransform(matrix)
    crop = corners @ inverse[:, :2].T + inverse[:, 2]
    low = np.floor(crop.min(axis=0)).astype(int)
    high = np.ceil(crop.max(axis=0)).astype(int) + 1
    return box_meet((slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0]))), box)


def _warp_down(image: np.ndarray, matrix: np.ndarray, out: int) -> np.ndarray:
    """The (out, out) canonical crop; large crops are first shrunk by area averaging,
    since a bilinear warp alone would alias."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    original = image.shape[0]
    small = max(out, round(original * 2.0 * scale))
    # A crop at the fine crop's own scale (a 512 px crop: 0.5 but for the fit's last
    # bits, under it in about half the frames) shrinks to its own size: OpenCV's copy,
    # and a matrix moved by 0 and scaled by 1 (the same warp), so it is not made.
    if scale < 0.5 and small != original:
        image = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
        factor = original / small  # small pixel p sits at (p + 0.5) * factor - 0.5
        offset = 0.5 * factor - 0.5
        matrix = matrix.copy()
        matrix[:, 2] += matrix[:, :2] @ np.array([offset, offset])
        matrix[:, :2] *= factor
    return cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


# Cheek and nose landmarks whose hull is almost always bare skin.
SKIN_REFERENCE = (1, 4, 5, 195, 197, 36, 266, 50, 280, 101, 330, 205, 425, 142, 371)
LIGHTNESS_SLACK = 3.0  # lighting changes lightness across a face far more than hue
SKIN_DISTANCE = 3.0  # Mahalanobis distance beyond which a pixel is not skin


@dataclass(frozen=True)
class EdgeZones:
    """What `edge_occluders` takes from the landmarks alone, at the quarter size it judges
    at: made once a frame for both crops it judges (the target's and the swapped face's,
    with the target's landmarks). `size`: that quarter size, of crops `full_size` px;
    `reference` (size, size) bool, the cheeks' and nose's hull (the skin's colour
    model); `zone` (size, size) float32, where hair falls (`masks.hair_zone`); `rows`,
    the zone's rows from the top (none judged below)."""

    full_size: int
    size: int
    reference: np.ndarray
    zone: np.ndarray
    rows: int


def edge_zones(face_landmarks: np.ndarray, full_size: int) -> EdgeZones:
    """`EdgeZones` of a crop `full_size` px with `face_landmarks` in its pixels."""
    size = max(32, full_size // 4)
    landmarks = face_landmarks * (size / full_size)
    reference = convex_hull_mask(landmarks[list(SKIN_REFERENCE)], (size, size))
    zone = hair_zone(landmarks, size)
    rows = int(np.flatnonzero(zone.any(axis=1)).max()) + 1 if zone.any() else 0
    reference.flags.writeable = zone.flags.writeable = False  # shared by two calls: read only
    return EdgeZones(full_size, size, reference, zone, rows)


def edge_occluders(image: np.ndarray, face_landmarks: np.ndarray,
                   zones: EdgeZones | None = None) -> np.ndarray:
    """(S, S) float32 in [0, 1]: 1 where something other than skin covers the forehead
    or the temples.

    `image` is a face crop, RGB uint8, `face_landmarks` in crop pixels; `zones`, their
    `edge_zones` where already made (the compositor judges two crops with the same
    landmarks). Judged in CIELAB at quarter resolution (hair is not a fine detail) and
    returned at full size.
    """
    full_size = image.shape[0]
    if zones is None or zones.full_size != full_size:
        zones = edge_zones(face_landmarks, full_size)
    size, reference, zone, rows = zones.size, zones.reference, zones.zone, zones.rows
    lab = to_lab(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    pixels = lab[reference > 0].reshape(-1, 3).astype(np.float64)
    if len(pixels) < 20:
        return np.zeros((full_size, full_size), dtype=np.float32)
    mean = pixels.mean(axis=0)
    # `np.cov`'s own steps (`sample_covariance`: its values, without its argument
    # handling, twice a frame).
    covariance = sample_covariance(pixels) + np.diag([4.0, 1.0, 1.0])
    covariance[0] *= LIGHTNESS_SLACK
    covariance[:, 0] *= LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance)
    region = lab[:rows].reshape(-1, 3).astype(np.float64)
    region -= mean  # in place on the fresh copy: the values of `copy - mean`
    # The quadratic form as a product then a row sum: NumPy's three-operand einsum took
    # 0.22 of the 0.28 ms (the same values but for float64's last bits).
    refused = np.einsum("pj,pj->p", region @ inverse, region)
    np.sqrt(refused, out=refused)
    # (distance - SKIN_DISTANCE) / 1.5 clipped to [0, 1], in place on the distance.
    refused -= SKIN_DISTANCE
    refused /= 1.5
    np.clip(refused, 0.0, 1.0, out=refused)
    # A pale, powdered or lit forehead is refused by the cheeks' model but is skin: the
    # compositor kept the target's whole forehead on such faces (expr-shouting's d10).
    judged = np.flatnonzero((refused > 0) & (zone[:rows].reshape(-1) > 0))
    if len(judged):
        refused[judged[powdered_skin(image, lab, reference, judged)]] = 0.0
    occluded = np.zeros((size, size), dtype=np.float32)
    occluded[:rows] = refused.reshape(rows, size)
    occluded *= zone
    # Open then blur: isolated pixels (freckles, shine) are not hair.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    opened = cv2.morphologyEx(occluded, cv2.MORPH_OPEN, kernel)
    blurred = cv2.GaussianBlur(opened, (0, 0), size / 128.0 + 0.5)
    return cv2.resize(blurred, (full_size, full_size), interpolation=cv2.INTER_LINEAR)


