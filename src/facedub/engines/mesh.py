"""The mesh engine: no training. For each target face, pick the source faces nearest in
head pose and expression, warp their texture over the landmark mesh onto the target, and
blend them. Works from one photo; better from a source video that turns its head.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from facedub.engines.base import EngineFacts, SwappedFace, TargetFace
from facedub.engines.mesh_catchlights import target_catchlights, with_catchlights
from facedub.engines.mesh_choice import eased_nearest, first_uses, pose_distances
from facedub.engines.mesh_contributions import (
    FACE_WORKERS,
    SourceFace,
    TargetFrame,
    contributions,
    summed,
)
from facedub.engines.mesh_expression import SourceWrinkles, target_expression_lines
from facedub.engines.mesh_expression_regions import UsualExpression, region_weights
from facedub.engines.mesh_eye_read import EyeReads
from facedub.engines.mesh_eye_rim import eyes_closing, rim_lines_once
from facedub.engines.mesh_eyes import (
    EYES,
    EYES_FALL_PER_FRAME,
    EYES_RISE_PER_FRAME,
    iris_centres,
    iris_in_eye,
    kept_eyes,
    narrower_at_rest,
    opened_whites,
    resting_blink,
    resting_blinks,
    source_irises,
    target_eyes_share,
)
from facedub.engines.mesh_eyes_tone import EyeToner, eyes_bounds, source_share, with_eyes
from facedub.engines.mesh_lids import (
    UsualLids,
    eye_opening,
    lids_share,
    smoothed_lids,
    stretched_share,
    upper_lid_triangles,
)
from facedub.engines.mesh_light import SourceLight
from facedub.engines.mesh_mirror import (
    feathered_out,
    oblique_share,
    socket_triangles,
    sockets_reach,
    with_target_sockets,
)
from facedub.engines.mesh_mouth import (
    CORNERS_RISE_PER_FRAME,
    LIPS_FALL_PER_FRAME,
    closed_counts,
    corners_mask,
    keep_target_interior,
    lips_mask,
    mean_smile,
    not_darker,
    photo_lips_open,
    placement_share,
    target_corners_share,
    target_interior,
    target_lips_share,
)
from facedub.engines.mesh_mouth_read import MouthReads
from facedub.engines.mesh_shape import (
    OPENING_SHARE,
    FaceShape,
    lifted_corners,
    other_person,
    resized_mouth,
)
from facedub.engines.mesh_source_brows import (
    BROW_SHARE_STEP,
    heads_against_skin,
    lift_share,
    with_lift,
)
from facedub.engines.mesh_source_mouth import SourceMouths, warped_mouths
from facedub.engines.mesh_sources import SourceFaces
from facedub.engines.mesh_stubble import (
    TargetBeards,
    beard_cheeks,
    beard_zone,
    corners_shave_share,
    dots_shown,
    hair_zone,
    lighter_only,
    sampled_faces,
    shaved,
    shaven,
    skin_around,
    smiling_corners,
    smooth_lip,
    source_moustache,
    source_stubble,
    stubble_as_hair,
)
from facedub.engines.mesh_topology import mesh_depths, mesh_topology, mesh_vertices
from facedub.engines.mesh_usable import check_usable
from facedub.engines.mesh_warp import (
    TargetRaster,
    clamped_maps,
    rasterize,
    source_maps,
    upsample,
)
from facedub.engines.track_share import EasedShare
from facedub.errors import FacedubError
from facedub.faces.align import Coverage, landmarks_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import bounds_or_empty, feather, polygon_mask, three_channels
from facedub.faceset import FaceRecord, Faceset

# Blendshapes that change the face's texture (open mouth, closed eyes, smile lines, brows).
EXPRESSION_KEYS = ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft",
                   "mouthSmileRight", "mouthPucker", "mouthFunnel", "browInnerUp",
                   "browDownLeft", "browDownRight")
CROP_CACHE_SIZE = 48
CLEAN_ENOUGH = 0.5  # per-pixel clean coverage below which the target's own skin fills in
LIPS_SURROUND = 0.2  # mouth widths of skin around the target's lips kept with them
SHARED_MIN = 0.02  # shared light below which the lifted source is used as it is
STUBBLE_MODES = ("hair", "shave", "as-is")  # MeshEngineConfig.stubble


@dataclass(frozen=True)
class MeshEngineConfig:
    neighbours: int = 3  # source faces blended per target face
    degrees_per_unit: float = 12.0  # pose difference that counts as much as ...
    expression_weight: float = 1.5  # ... this weight times the blendshape difference
    follow: float = 0.35  # share of the new choice per frame; the rest is the last choice
    keep_target_eyes: bool = True  # the target's own eyes: gaze and blinks stay true
    # With keep_target_eyes: the source's own eyes (headturn-man nearer the source 42% ->
    # 78% of frontal frames), turned to the target's gaze and toned like the target's own
    # eyes in the same frame (a soft video source's came out dull and grey), the target's
    # only while it blinks beyond the source (mesh_eyes); False: always the target's.
    source_eyes: bool = True
    keep_target_mouth: bool = True  # the target's own mouth opening: teeth, tongue
    # With keep_target_mouth, where the chosen faces' mouth is more open or stretched than
    # the target's: the lips of other source faces whose mouth fits (mesh_source_mouth),
    # not the target's own (40 frames, nearer the source: older-glasses 25-32% -> 48-50%,
    # headturn-man's frontal frames 72-78% -> 89-92%); False: the target's lips there.
    source_mouth: bool = True
    target_expression_lines: bool = True  # smile folds, crow's feet... follow the target
    shape: float = 1.0  # 0: the target's face shape; 1: features moved to the source's
    lift_source_shadows: bool = True  # the source photo's one-sided shadows (mesh_light)
    # What becomes of the source's stubble (mesh_stubble), where it has some: "hair" its
    # darkness and specks on its own skin colour, greyed as hair by the compositor
    # (carried as it was, a ginger stubble read as a brown-orange band round the mouth
    # of a smooth chin); "shave" the target's own chin there (the face reads less like
    # the source: 40 frames, nearer the source shaved / not: expr-neutral 42% / 88%,
    # blink-video 85% / 100%; BENCHMARKS.md, eleventh round); "as-is" carried as it is.
    stubble: str = "hair"
    # The kept mouth narrowed by how far apart the landmarker reads the engine's own eyes
    # (mesh_eye_read, a reading every 12th frame of a track, 20-40 ms each). False where
    # every track is one rendering (the refiner's training pairs): a reading only acts
    # from its track's next frame, so there it would cost and never be used.
    read_eyes: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.neighbours <= 16:
            raise FacedubError("--neighbours must be between 1 and 16")
        if not 0.0 < self.follow <= 1.0:
            raise FacedubError("the mesh engine's follow rate must be in (0, 1]")
        if not 0.0 <= self.shape <= 1.0:
            raise FacedubError("the mesh engine's shape strength must be in [0, 1]")
        if self.stubble not in STUBBLE_MODES:
            raise FacedubError(f"--stubble {self.stubble}: use one of "
                               f"{', '.join(STUBBLE_MODES)}")


class MeshEngine:
    """Holds the source faces' features and a small cache of their crops, and per target
    track the current blend of source faces (so the texture does not pop)."""

    def __init__(self, source: Faceset, config: MeshEngineConfig | None = None,
                 source_path: Path | None = None, cache_dir: Path | None = None,
                 refuse_turned: bool = True) -> None:
        """`source_path`: the media the faceset was extracted from, as the provenance names
        it (default: the faceset folder). `cache_dir`: where the source faces' cleaned
        crops are kept on disk for later swaps (`mesh_source_cache.cache_folder`); None:
        in memory only. `refuse_turned`: refuse a source whose every face is turned too far
        (`mesh_usable`); False only for an engine over a part of a source already accepted
        (a refiner's training renders from pools of its faces)."""
        self.config = config or MeshEngineConfig()
        self._facts = EngineFacts("mesh", asdict(self.config),
                                  (("source", Path(source_path or source.root)),))
        self._source = source
        self._records = source.faces_of()
        if not self._records:
            raise FacedubError(f"{source.root}: the chosen person has no faces; extract again")
        # A profile is refused before any work (mesh_usable): it gave a mangled face.
        if refuse_turned:
            check_usable([r.pose.yaw for r in self._records], Path(source_path or source.root))
        self._topology = mesh_topology()
        self._sockets = socket_triangles(self._topology.triangles,
                                         self._topology.template_vertices,
                                         self._topology.eye_openings)
        self._socket_shares: dict[int, np.ndarray] = {}  # `_socket_share`, per source face
        self._lids = upper_lid_triangles(self._topology.triangles,
                                         self._topology.template_vertices,
                                         self._topology.eye_openings)
        self._usual_lids = UsualLids()  # per target track: its lids lowered
        poses = [(r.pose.yaw, r.pose.pitch, r.pose.roll) for r in self._records]
        self._poses = np.array(poses, dtype=np.float64)
        keys = [BLENDSHAPE_NAMES.index(name) for name in EXPRESSION_KEYS]
        self._blendshapes = np.array([r.blendshapes for r in self._records])
        self._expressions = self._blendshapes[:, keys]
        self._expression_keys = keys
        source_landmarks = [landmarks_in_crop(r.frame_landmarks, r.face_from_frame)
                            for r in self._records]
        self._vertices = [mesh_vertices(landmarks) for landmarks in source_landmarks]
        self._shape = FaceShape(source_landmarks, self.config.shape, self._blendshapes)
        self._person = source.person_descriptor()  # the source's identity (other_person)
        # Each face's iris and, a photo's, how far it looks down with its lids open (a
        # video's faces do not separate by it: `source_irises`).
        photo = source.meta.source_kind == "photo"
        self._irises = [source_irises(landmarks, shapes if photo else None)
                        for landmarks, shapes in zip(source_landmarks, self._blendshapes,
                                                     strict=True)]
        self._faces = SourceFaces(source, self._records, self._topology, self._vertices,
                                  lift_shadows=self.config.lift_source_shadows,
                                  no_catchlights=self.config.source_eyes,
                                  cache_size=CROP_CACHE_SIZE, disk=cache_dir)
        self._light = SourceLight(self._faces.unlifted, source_landmarks, CROP_CACHE_SIZE,
                                  asymmetry=self._faces.light_asymmetry)
        self._eyes_shares = EasedShare(EYES_FALL_PER_FRAME, EYES_RISE_PER_FRAME)  # per track
        self._eye_toner = EyeToner()  # per track and eye, eased
        # How open the source's eyes are at rest: a squinting photo is not a blink.
        self._resting_blink = resting_blink(self._blendshapes)
        self._blend_by_track: dict[int, dict[int, float]] = {}
        self._usual = UsualExpression()  # per target track, for its expression lines
        self._wrinkles = SourceWrinkles(self._faces.crop_and_landmarks)  # per source face
        self._lips_shares = EasedShare(LIPS_FALL_PER_FRAME)  # per track: lips do not pop
        self._mouths = SourceMouths(self._poses, self._blendshapes, self.config.degrees_per_unit,
                                    self.config.expression_weight, self.config.neighbours,
                                    self.config.follow)  # per track: faces whose mouth fits
        self._own_lips = EasedShare(LIPS_FALL_PER_FRAME)  # per track: the target's, beside them
        # per track: the target's mouth corners
        self._corner_shares = EasedShare(LIPS_FALL_PER_FRAME, CORNERS_RISE_PER_FRAME)
        # How far a photo's lips are apart, where it smiles: its mouth interior and its
        # smile count so far where the target's lips are closed too
        # (mesh_mouth.closed_counts); a video's faces as they are.
        self._source_open = (photo_lips_open(source_landmarks[0], self._blendshapes[0])
                             if len(self._records) == 1 else 1.0)
        # per track: the stubble shaved off a smiling target's corners (mesh_stubble)
        self._shaved_corners = EasedShare(LIPS_FALL_PER_FRAME, CORNERS_RISE_PER_FRAME)
        self._brow_shares = EasedShare(BROW_SHARE_STEP, BROW_SHARE_STEP)  # per track
        # The current frame's remap maps per source face (the texture and the mouth
        # interior are warped through the same ones).
        self._frame_maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._stubbled: bool | None = None  # whether the source is, judged at the first face
        self._moustache = 1.0  # a stubbled source's upper lip: 0 dotted .. 1 a moustache
        self._target_beards = TargetBeards()  # per track: its own stubble stays as it is
        self._eye_reads = EyeReads()  # per track: the engine's eyes as the landmarker reads them
        # per track: its mouth, from the same readings (a closed smile's lowered as read
        # at the smile)
        self._mouth_reads = MouthReads(self._source_open)
        self._workers: ThreadPoolExecutor | None = None  # `_face_workers`

    @property
    def facts(self) -> EngineFacts:
        return self._facts

    @property
    def crop_size(self) -> int:
        return self._source.meta.crop_size

    @property
    def coverage(self) -> Coverage:
        return self._source.meta.coverage

    def swap_face(self, target: TargetFace) -> SwappedFace:
        size = target.image.shape[0]
        landmarks = self._shape.moved(target.track, target.face_landmarks,
                                      other_person(self._person, target.person))
        # The mouth as wide against the eyes as the target's, where the landmarker reads the
        # engine's eyes nearer together than the target's (mesh_eye_read): else it reads a
        # smile the target does not show.
        # Placed nearer the nose by that ratio (`mesh_shape.narrowed_mouth`) only as far as
        # the target's mouth is open (`mesh_mouth.placement_share`).
        ratio = self._eye_reads.applied(target.track)
        if ratio < 1.0:
            placed = placement_share(target.blendshapes)
            landmarks = resized_mouth(landmarks, ratio, OPENING_SHARE,
                                      drop_ratio=ratio + (1.0 - placed) * (1.0 - ratio))
        # Its corners and width drawn so that the landmarker reads them where the target's
        # are (mesh_mouth_read): a photo's lips read higher or narrower than they are drawn.
        target_smile = mean_smile(target.blendshapes)
        mouth_move = self._mouth_reads.applied(target.track, target_smile)
        landmarks = lifted_corners(resized_mouth(landmarks, mouth_move.widen), mouth_move.lift)
        vertices = mesh_vertices(landmarks)
        raster = rasterize(vertices, mesh_depths(landmarks), size, self._topology)
        inside = upsample(np.ones(len(raster.triangle), dtype=np.float32), raster, size)
        self._frame_maps = {}
        blend = self._choose_sources(target)  # once a frame: it eases the track's choice
        workers = self._face_workers(len(blend))
        if workers is not None:  # a first swap's new faces made on two threads, not in turn
            self._faces.make_ahead(blend.keys(), workers, interiors=self.config.keep_target_mouth,
                                   light=self.config.lift_source_shadows)
        source_blendshapes = np.asarray(sum(w * self._blendshapes[i] for i, w in blend.items()))
        usual = self._usual.update(target.track, target.blendshapes)  # once a frame
        eyes_share = 1.0
        differs = self._shape.differs(target.track)
        if self.config.keep_target_eyes and self.config.source_eyes:
            # The target's own eyes where the faces are one person's (a self-swap: its own
            # eyes are the source's, with their true gaze) or where it blinks.
            glance = (sum(w * float(self._irises[i][0, 3]) for i, w in blend.items())
                      / max(sum(blend.values()), 1e-6))
            wanted = (target_eyes_share(source_blendshapes, target.blendshapes,
                                        self._resting_blink, usual, target.face_landmarks,
                                        glance)
                      if differs else 1.0)
            eyes_share = self._eyes_shares.update(target.track, wanted)
        # Each source face's iris moved to the target's gaze before the faces are blended:
        # moving one averaged iris left the others where they looked, grey ghosts of
        # irises in a washed-out eye (a video source blends up to five faces).
        gaze = (landmarks, iris_in_eye(target.face_landmarks)) if eyes_share < 1.0 else None
        shared = (self._light.shared(target.track, target.image, target.face_landmarks, blend,
                                     target.in_frame)
                  if self.config.lift_source_shadows else 0.0)
        # Each face made apart (on two threads for a video source's several), then summed
        # in the blend's order: the same sums as adding each as it was made.
        frame = TargetFrame(raster, size, inside, gaze)
        brow_share = self._brow_share(target, blend)
        made = contributions(self._blended_faces(blend, shared, brow_share), frame,
                             self._face_workers(len(blend)))
        self._frame_maps = {index: face.maps for index, face in zip(blend, made, strict=True)}
        # coverage: the clean source share per pixel
        total, weight_sum, coverage = summed(made, size)
        image = np.divide(total, three_channels(np.maximum(weight_sum, 1e-6)), out=total)
        # The target's own pixels where it keeps its eyes and mouth, and where nothing clean
        # is left to show (hair over the source's forehead on both sides, outside a cut-off
        # photo): its own skin, which the compositor tones like the rest.
        with_target_where_unclean(image, target.image, coverage)
        # The far socket of a turned photo, seen edge-on, and its mirror image, the near
        # socket's own shade: the target's own skin there, toned to the source's
        # (mesh_mirror.with_target_sockets; BENCHMARKS.md, thirtieth round).
        oblique = self._oblique_sockets(blend, raster, size, inside)
        # The upper lids a target lowers under raised brows, stretched far past the
        # source's own: their coarse shading smoothed (mesh_lids; the wedge on readme-photo).
        # Only as far as the target lowers its own (a turned photo's far lid stretches too:
        # its lids grown and its eyes closing, against its own usual).
        lowered = self._usual_lids.lowered(
            target.track,
            lids_share(mesh_vertices(target.face_landmarks), self._topology.triangles,
                       self._lids),
            eye_opening(target.face_landmarks))
        lids = (self._stretched_lids(blend, vertices, raster, size, inside, landmarks, lowered)
                if lowered > 0.0 else None)
        if lids is not None:
            smoothed_lids(image, *lids, size)
        if oblique is not None:
            aligned = target.image.astype(np.float32)  # the target reshaped where it is read
            reach = sockets_reach(oblique, size)
            aligned[reach] = self._reshaped_target(target, landmarks, raster, size, reach)
            with_target_sockets(image, aligned, oblique, inside, size)
        # The blended faces' mouth interior (teeth, cavity) inside the lips' outline.
        outline = lips_mask(landmarks, size) if self.config.keep_target_mouth else None
        counts = closed_counts(self._source_open, target.face_landmarks)
        corner_disc = np.zeros((size, size), dtype=np.float32)  # the target's mouth corners
        corners: np.ndarray | None = None  # the disc's share of `kept`, where it is kept
        blend_interior = None
        kept_lips: np.ndarray | None = None  # where the target's lips and skin round them are
        if outline is not None:
            lips_box = bounds_or_empty(outline > 0)
            blend_interior = self._warped_interior(blend, raster, size, lips_box)
            blend_interior[lips_box] *= outline[lips_box]  # both 0 outside the box
            if counts < 1.0:  # a closed photo's inner loop over closed lips is no interior
                blend_interior[lips_box] *= np.float32(counts)
        lips, mouth = self._lips(image, target, landmarks, raster, source_blendshapes, differs,
                                 blend_interior)
        hair = (self._restyle_stubble(image, target, landmarks, raster, differs)
                if self.config.stubble != "as-is" else None)
        # The target itself where it keeps its mouth, reshaped like the source so it moves
        # with the features around it. Its eyes are pasted by the compositor alone (mixed
        # in here too, their share was applied twice: 1 - (1 - s)^2).
        kept, eyes = self._kept(raster, size, target, landmarks, eyes_share)
        if outline is not None and blend_interior is not None:
            # The target's lips and the skin around them too, as far as the source's mouth
            # is more open or wider (with the mouth faces: also where their lips are not
            # shown, not clean there).
            if lips > 0.0:
                kept_lips = lips * lips_mask(landmarks, size, LIPS_SURROUND)
                kept = np.maximum(kept, kept_lips)
            if mouth is not None:
                kept = np.maximum(kept, mouth[2])
            # The skin round the target's own mouth corners as far as it smiles more than a
            # photo source; not its lips (a lipstick target's red corner tips on the source's
            # paler lips, headturn-woman). Not from a source of several faces: its choice
            # weighs the mouth's blendshapes, so its smiling faces come where the target
            # smiles, and the target's corners cost likeness (headturn-man's frontal bin
            # 92% -> 86%, headturn-woman's distance to the source +0.037). Shared once the
            # reshaped target is known (below): not where it carries a beard the source lacks.
            if len(self._records) == 1:
                corner_disc = (corners_mask(landmarks, size) * (1.0 - outline)).astype(np.float32)
            # The source's teeth and mouth cavity reach past MediaPipe's inner lip line in a
            # broad smile: the target's own pixels wherever they were warped to, inside the
            # lips (a wide-open source's mesh folds slivers of it onto the chin); the mouth
            # faces' own where their lips are shown (`_lips` replaced both already).
            interior = blend_interior
            if mouth is not None:
                interior = interior + mouth[0] * (mouth[1] * outline - interior)
            # In place, on the mouth's box only (`keep_target_interior` for a mask of
            # ones, whose 1 - mask is 0 outside it): the same values, no crop copies.
            changed = target_interior(image, target.image, interior)
            if changed is not None:
                inner, share = changed
                # 1 - (1 - share), not share: the old mask's float32 rounding, to the bit.
                kept[inner] = np.maximum(kept[inner], 1.0 - (1.0 - share))
        # The source's own eyes toned like the target's in this frame (mesh_eyes_tone), and
        # pasted uncoloured like the target's kept eyes were.
        own_eyes = (self._eye_toner(image, landmarks, target.image, target.face_landmarks,
                                    target.track, target.in_frame) if gaze is not None
                    else np.zeros((size, size), dtype=np.float32))
        catchlights = None
        if gaze is not None:
            # The frame's light mirrored in the eyes: the target's catchlights (the
            # source's were taken out with its studio's strip lights, `SourceFaces.clean_crop`).
            catchlights = with_catchlights(image, landmarks, iris_centres(landmarks, gaze[1]),
                                           target_catchlights(target.image,
                                                              target.face_landmarks))
            # In a small eye, the target's white where the source's lid and lashes cover it
            # (mesh_eyes.opened_whites): the target's pixels, kept unblurred like its
            # catchlights (`source_share`).
            np.maximum(catchlights, opened_whites(image, landmarks, target.image,
                                                  target.face_landmarks, target.in_frame),
                       out=catchlights)
        box = bounds_or_empty(np.maximum(np.maximum(kept, eyes), corner_disc) > 0.01)
        reshaped = self._reshaped_target(target, landmarks, raster, size, box)
        if corner_disc.any():
            # Compared only where the frame shows the target (its black fill past a frame
            # edge is no darker skin).
            compared = (corner_disc[box] if target.in_frame is None
                        else corner_disc[box] * target.in_frame[box])
            disc = corner_disc[box] * self._corner_share(
                target, source_blendshapes, image[box], reshaped, compared, counts)
            # The disc's share of what is kept there, for the compositor to tone (kept for
            # its shade, pasted uncoloured it was the target's own skin colour beside the
            # coloured face: hair-band-photo's brown near corner; BENCHMARKS.md, 49th round).
            corners = np.zeros_like(kept)
            corners[box] = np.clip(disc - kept[box], 0.0, None) / np.maximum(disc, 1e-6)
            kept[box] = np.maximum(kept[box], disc)
        image[box] += three_channels(kept[box]) * (reshaped - image[box])
        # What the compositor pastes by `kept` over its coloured face where the target's
        # lips and the skin round them are kept: the target's own pixels alone. The engine's
        # image holds the untoned source by 1 - kept in their feathered margin, and pasted
        # by kept again that showed through by kept * (1 - kept), up to a quarter: a dark
        # source's skin 4-7 L darker in a ring round the target's lips (expr-shouting: the
        # lips read pasted on). Not round the opening alone, nor in the corners' share: the
        # target's own there moved the smile read (headturn-woman 40 -> 34 of 40 frames,
        # hair-band-photo 40 -> 38; BENCHMARKS.md, Realism, fifty-sixth round).
        mouth_paste = None
        if kept_lips is not None:
            own = np.clip(kept_lips[box] / np.maximum(kept[box], 1e-6), 0.0, 1.0)
            mouth_paste = rounded_to_uint8(image[box] + three_channels(own)
                                           * (reshaped - image[box]))
        image_u8 = rounded_to_uint8(image)  # `image` is not read again
        if self.config.target_expression_lines:
            weights = region_weights(source_blendshapes, target.blendshapes, usual,
                                     self._usual.opening(target.track))
            image_u8 = target_expression_lines(image_u8, target.image, target.face_landmarks,
                                               self._wrinkles(blend, weights), target.in_frame)
        if eyes_share > 0.0 and differs and narrower_at_rest(
                *resting_blinks(self._resting_blink, usual)):
            # The source's lid lines under the kept eyes' feathered rim drawn once, the
            # source's on an open eye, the target's lid on a closing one: at part strength
            # beside the target's own lid they were a second lid line; only where the eyes
            # are kept for the source's squint at rest (mesh_eye_rim).
            image_u8, eyes = rim_lines_once(image_u8, reshaped, eyes, eyes_share, landmarks,
                                            box, eyes_closing(target.blendshapes,
                                                              target.face_landmarks))
        if self.config.source_eyes and eyes_share > 0.0 and differs:
            # Where the target's eyes come back, the iris colour of the source's eyes (not
            # where the faces are the same person's: the target's eyes are then its own).
            reshaped = self._eye_toner.tint(reshaped, box, landmarks, target.track, size)
        eyes_box = eyes_bounds(eyes, own_eyes)  # where the eyes' shares are: found once
        kept_source = source_share(kept, eyes, own_eyes, catchlights, eyes_box)
        mouth_kept = kept[box].copy()
        kept, kept_image = with_eyes(kept, image_u8, eyes, own_eyes, reshaped, box, eyes_box)
        # The source's relief and its features' tone at the middle scale, as far as its face
        # shape is shown (not on a self-swap: the target's is then the right one, lit right).
        mask = feather(inside, erode=2, blur=max(2, size // 96))
        if self.config.read_eyes and self._eye_reads.due(target.track):
            read = self._eye_reads.read(target.track, _shown(target.image, image_u8, mask, kept,
                                                             kept_image), target.face_landmarks)
            # A photo's mouth only: a video source's texture changes every frame, so one
            # reading's misplacement need not hold for the next (expr-video-smiling lost
            # two smile frames after the first reading; BENCHMARKS.md, fifteenth round).
            # The read inner-lip points may be the target's kept opening on a talking
            # frame: the correction is the median of several readings.
            if read is not None and len(self._records) == 1:
                self._mouth_reads.add(target.track, landmarks, read, target_smile)
        elif (self.config.read_eyes and len(self._records) == 1
              and self._mouth_reads.due(target.track, target_smile)):
            # And where the target smiles beyond every reading: the mouth's width alone.
            read = self._eye_reads.look(_shown(target.image, image_u8, mask, kept, kept_image),
                                        target.face_landmarks)
            if read is not None:
                self._mouth_reads.add(target.track, landmarks, read, target_smile,
                                      scheduled=False)
        if mouth_paste is not None and kept_lips is not None:
            # The compositor pastes the lips' own where they are kept and the eyes' share
            # does not outweigh them; the read-backs above saw the engine's image there, as
            # they were tuned on. Elsewhere (the opening alone, the corners) main's image.
            np.copyto(kept_image[box], mouth_paste,
                      where=((kept_lips[box] > 0.0) & (kept[box] <= mouth_kept))[..., None])
        # A photo's sockets' shading is its one light (the shouting photo's top light, a
        # grey veil over both eyes), taken off in the compositor; a video source's darker
        # upper lids were its eyes' own depth (headturn-man; BENCHMARKS.md, sixteenth round).
        return SwappedFace(image=image_u8, mask=mask, kept=kept, kept_image=kept_image,
                           kept_source=kept_source,
                           relief=self._shape.share(target.track), hair=hair,
                           socket_light=len(self._records) == 1,
                           corners=corners if corners is not None and corners.any() else None)

    def _corner_share(self, target: TargetFace, source_blendshapes: np.ndarray,
                      face: np.ndarray, reshaped: np.ndarray, disc: np.ndarray,
                      counts: float) -> float:
        """The share of the target's own mouth corners to show (`disc`, in the same box as
        `face`, the engine's face, and `reshaped`, the target reshaped to it), eased per
        track: as far as the target smiles more than the source (`target_corners_share`,
        its smile as far as it `counts`: `closed_counts`),
        and not where its skin there is darker than the source's (a moustache's or goatee's
        ends, stubble: `not_darker`)."""
        wanted = target_corners_share(source_blendshapes, target.blendshapes, counts)
        if wanted > 0.0:
            wanted *= not_darker(face, reshaped, disc, target.image.shape[0],
                                 mean_smile(target.blendshapes))
        return self._corner_shares.update(target.track, wanted)

    def _lips(self, image: np.ndarray, target: TargetFace, landmarks: np.ndarray,
              raster: TargetRaster, source_blendshapes: np.ndarray, differs: bool,
              blend_interior: np.ndarray | None
              ) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """The share of the target's own lips (and the skin round them) to keep, eased per
        track, as far as the blend's mouth (`source_blendshapes`) is more open or wider
        than the target's. With `source_mouth`, from a source of several faces onto another
        person: in place, `image` (S, S, 3) float32 takes there the lips of the faces whose
        mouth fits the target's (mesh_source_mouth), and the target's own lips stay only as
        far as even theirs are more open or wider; also returned then: (S, S) float32 each,
        where their lips are shown, their mouth interior there and where the target's lips
        come back instead (the mouth faces not clean there). `blend_interior` (S, S): the
        blend's mouth interior inside the lips, the target's pixels before their lips are
        laid over it, so none of the blend's teeth shows where they are partly shown."""
        if not self.config.keep_target_mouth or blend_interior is None:
            return 0.0, None
        wanted = target_lips_share(source_blendshapes, target.blendshapes)
        lips = self._lips_shares.update(target.track, wanted)
        if lips == 0.0 or not (self.config.source_mouth and differs and len(self._records) > 1):
            self._mouths.forget(target.track)
            self._own_lips.forget(target.track)
            return lips, None
        size = image.shape[0]
        pose = np.array([target.pose.yaw, target.pose.pitch, target.pose.roll])
        mouth = self._mouths.choose(target.track, pose, target.blendshapes)
        own = self._own_lips.update(target.track, min(wanted, target_lips_share(
            self._mouths.blendshapes(mouth), target.blendshapes)))
        region = lips * lips_mask(landmarks, size, LIPS_SURROUND)
        box = bounds_or_empty(region > 0.01)
        shown = np.zeros((size, size), dtype=np.float32)
        interior = np.zeros((size, size), dtype=np.float32)
        if region[box].size:
            texture, clean, interior[box] = warped_mouths(self._faces, self._vertices, mouth,
                                                          raster, size, box)
            shown[box] = region[box] * clean
            ones = np.ones((size, size), dtype=np.float32)
            image[:] = keep_target_interior(image, ones, target.image, blend_interior)[0]
            painted = image.copy()
            painted[box] = texture
            painted = keep_target_interior(painted, ones, target.image,
                                           interior * lips_mask(landmarks, size))[0]
            image[box] += three_channels(shown[box]) * (painted[box] - image[box])
        return min(own, lips), (shown, interior, region - shown)

    def _restyle_stubble(self, image: np.ndarray, target: TargetFace, landmarks: np.ndarray,
                         raster: TargetRaster, differs: bool) -> np.ndarray | None:
        """In place: where the source shows stubble (mesh_stubble.shaved), in the beard
        zone of `landmarks` `image` (S, S, 3) float32 takes its stubble as hair
        (mesh_stubble.stubble_as_hair), or, with `stubble` "shave", the target's own skin
        reshaped to `landmarks` with the source's broad lightness (mesh_stubble.shaven).
        Returns the zone where it is hair (`SwappedFace.hair`), else None. As hair, not
        where the faces are one person's (`differs` False) or the target has stubble of
        its own: greyed there, the stubble came out grey-green inside a ginger beard. As
        hair and from a video source, the skin round a smiling target's mouth corners is
        shaved to the target's own where that lightens it (mesh_stubble.smiling_corners).
        As hair on a smooth target and from a video source, the zone's cheeks beyond the
        mouth's corners are held near the source's skin and left out of the hair
        (mesh_stubble.beard_cheeks)."""
        if self._stubbled is None:
            crops = [partial(self._faces.crop_and_landmarks, index)
                     for index in range(len(self._records))]
            # Both kept on disk with the source's faces: read back by a later swap.
            read = sampled_faces(len(crops))
            self._stubbled = shaved(self._faces.kept_reading(
                "stubble", source_stubble.__module__, read, lambda: source_stubble(crops)))
            if self._stubbled:
                self._moustache = self._faces.kept_reading(
                    "moustache", source_moustache.__module__, read,
                    lambda: source_moustache(crops))
        if not self._stubbled:
            return None
        if self.config.stubble == "hair" and (not differs or self._target_beards.bearded(
                target.track, target.image, target.face_landmarks)):
            return None
        size = image.shape[0]
        zone = beard_zone(landmarks, size)
        box = bounds_or_empty(zone > 0.01)
        if self.config.stubble == "hair":
            # A dotted (not moustached) upper lip's specks spread into their shade on a
            # smooth target seen large enough for dots to show (mesh_stubble.smooth_lip).
            lip = smooth_lip(landmarks, zone, (1.0 - self._moustache)
                             * dots_shown(size, target.face_from_frame)
                             * self._target_beards.smooth(target.track))
            # The cheeks beyond the mouth's corners of a smooth target: the source's shade
            # there no darker than its skin by much, and not greyed as hair (a grey blotch on
            # Obama's cheek, lighting; mesh_stubble.beard_cheeks). From a video source only:
            # from Paul Rudd's studio photo, whose even stubble showed no blotch, it moved
            # readme-photo's smile and mouth agreement (40 -> 39 of 40 each, its own job id;
            # BENCHMARKS.md, Realism, fifty-second round).
            cheeks = (beard_cheeks(landmarks, zone, self._target_beards.smooth(target.track))
                      if len(self._records) > 1 else None)
            stubble_as_hair(image, zone, skin_around(landmarks, zone), size, in_place=True,
                            smooth=lip, cheeks=cheeks)
            # Where the target smiles, the skin round its corners is its own: the source's
            # moustache ends and goatee there read as corners held down (mesh_stubble).
            # The shave only takes the source's stubble away, never brings the target's own
            # dark hair (`lighter_only`: painted strokes at d10's corners came onto Paul
            # Rudd's and the streamer's). Eased per track as the corners' own share is: a
            # talking target's smile reads 0.0, 0.8, 0.4 from one frame to the next (Obama,
            # frames 0-2). Not from a photo source: there the corners' gate (`_corner_share`)
            # already shows the target's own corners as far as it smiles more than the
            # source, and the shave, ramped by the target's smile alone, lifted what the gate
            # left of the source's (its corner crease; the target's paler skin, lighter, came
            # with it): Paul Rudd onto Katie Hill's frame 0, corners 0.48 and shave 0.94, her
            # smile 0.19 read 0.28 unshaved and 0.33 shaved (readme-photo, twenty-fifth round).
            smile = mean_smile(target.blendshapes) if len(self._records) > 1 else 0.0
            share = self._shaved_corners.update(target.track, corners_shave_share(smile))
            corners = smiling_corners(landmarks, zone, share)
            if corners is not None and image[box].size:
                reshaped = self._reshaped_target(target, landmarks, raster, size, box)
                image[box] = lighter_only(
                    image[box], shaven(image[box], reshaped, corners[box], size), size)
            return hair_zone(landmarks, zone, cheeks)
        reshaped = self._reshaped_target(target, landmarks, raster, size, box)
        image[box] = shaven(image[box], reshaped, zone[box], size)
        return None

    def _warped_interior(self, blend: dict[int, float], raster: TargetRaster, size: int,
                         box: tuple[slice, slice]) -> np.ndarray:
        """(S, S) float32 in [0, 1]: the blended source faces' mouth interiors (teeth,
        cavity) warped onto the target raster, inside `box` (0 outside it: the lips'
        outline that multiplies it is 0 there)."""
        interior = np.zeros((size, size), dtype=np.float32)
        if interior[box].size == 0:  # the lips wholly off the crop: remap takes no empty map
            return interior
        for index, weight in blend.items():
            map_x, map_y = self._direct_maps(index, raster, size)
            interior[box] += weight * cv2.remap(self._faces.interior(index), map_x[box], map_y[box],
                                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                                borderValue=0.0)
        # In the box only: 0 outside it either way.
        interior[box] = np.clip(interior[box] / max(sum(blend.values()), 1e-6), 0.0, 1.0)
        return interior

    def _blended_faces(self, blend: dict[int, float], shared: float,
                       brow_share: float) -> list[SourceFace]:
        """The blended faces (`blend`: weights by index) as `source_contribution` reads
        them, from the caches on this thread (they are not made for two threads); a
        smiling photo's inner brow heads lifted out of its squint's shade by `brow_share`
        of its lift (`SourceFaces.brow_lift`)."""
        faces = self._faces
        photo = self._source.meta.source_kind == "photo"
        return [SourceFace(weight, self._brows_lifted(index, brow_share), faces.sampling(index),
                           faces.mirror(index), faces.mirror_cleans(index),
                           self._vertices[index], self._irises[index],
                           self._light.unlifted(index) if shared > SHARED_MIN else None,
                           shared, photo)
                for index, weight in blend.items()]

    def _brow_share(self, target: TargetFace, blend: dict[int, float]) -> float:
        """The share of a smiling photo's inner heads' lift (`SourceFaces.brow_lift`) this
        frame takes: as far as the target's own inner heads are lighter against its skin
        than the photo's (`lift_share`), eased per track (a reading's jitter would flicker
        the heads' lightness); 0 where no face blended has a lift."""
        lifts = [lift for lift in map(self._faces.brow_lift, blend) if lift is not None]
        if not lifts:
            return 0.0
        shade = heads_against_skin(target.image, target.face_landmarks)
        return self._brow_shares.update(target.track,
                                        max(lift_share(lift, shade) for lift in lifts))

    def _brows_lifted(self, index: int, share: float) -> np.ndarray:
        crop = self._faces.clean_crop(index)
        lift = self._faces.brow_lift(index)
        return crop if lift is None else with_lift(crop, lift, share)

    def _face_workers(self, faces: int) -> ThreadPoolExecutor | None:
        """The threads a frame's several source faces are made on (started with the first
        such frame: a photo source never needs them), None for one face."""
        if faces < 2:
            return None
        if self._workers is None:
            self._workers = ThreadPoolExecutor(FACE_WORKERS, thread_name_prefix="facedub-face")
            # An engine never closed (a library caller's) lets its idle threads go with it.
            weakref.finalize(self, self._workers.shutdown, wait=False)
        return self._workers

    def _oblique_sockets(self, blend: dict[int, float], raster: TargetRaster, size: int,
                         inside: np.ndarray) -> np.ndarray | None:
        """(S, S) float32: the blended sources' `oblique_share` of the eyes' sockets,
        feathered outwards (`feathered_out`) within the target's mesh (`inside`); None where
        no socket shown is seen obliquely."""
        share = np.zeros(len(self._topology.triangles), dtype=np.float32)
        for index, weight in blend.items():
            share += weight * self._socket_share(index)
        share /= max(sum(blend.values()), 1e-6)
        if float(share.max()) <= 0.01:
            return None
        shown = feathered_out(upsample(share[raster.triangle], raster, size), size) * inside
        return shown if float(shown.max()) > 0.01 else None

    def _stretched_lids(self, blend: dict[int, float], vertices: np.ndarray,
                        raster: TargetRaster, size: int, inside: np.ndarray,
                        landmarks: np.ndarray, lowered: float
                        ) -> tuple[np.ndarray, np.ndarray] | None:
        """(S, S) float32: the blended sources' `stretched_share` of the upper lids over
        the target's moved mesh (`vertices`, from `landmarks`), times how far the target
        lowers its own lids (`lowered`, `UsualLids.lowered`), feathered outwards
        (`feathered_out`) within the mesh (`inside`), the eye openings out (the eyes are
        the kept eyes' or the source's own); None where no lid is stretched."""
        share = np.zeros(len(self._topology.triangles), dtype=np.float32)
        for index, weight in blend.items():
            share += weight * stretched_share(self._vertices[index], vertices,
                                              self._topology.triangles, self._lids)
        share *= np.float32(lowered / max(sum(blend.values()), 1e-6))
        if float(share.max()) <= 0.01:
            return None
        shown = feathered_out(upsample(share[raster.triangle], raster, size), size) * inside
        points = np.asarray(landmarks, dtype=np.float64)[:, :2]
        lids = inside.copy()
        for eye in EYES:
            lids *= 1.0 - polygon_mask(points[eye.contour], size)
        shown *= lids
        return (shown, lids) if float(shown.max()) > 0.01 else None

    def _socket_share(self, index: int) -> np.ndarray:
        """One source face's `oblique_share` of the sockets: its own, made on its first use."""
        if index not in self._socket_shares:
            self._socket_shares[index] = oblique_share(
                self._faces.sampling(index).visibility, self._faces.mirror(index).visibility,
                self._sockets, float(self._poses[index, 0]))
        return self._socket_shares[index]

    def _reshaped_target(self, target: TargetFace, landmarks: np.ndarray,
                         raster: TargetRaster, size: int, box: tuple[slice, slice]
                         ) -> np.ndarray:
        """(H, W, 3) float32 inside `box`: the target crop warped from its own mesh onto
        the moved one (`landmarks`); the crop itself where nothing moved by half a pixel."""
        image = target.image[box]
        moved = np.abs(landmarks[:, :2] - target.face_landmarks[:, :2]).max()
        if moved < 0.5 or image.size == 0:
            return image.astype(np.float32)
        map_x, map_y = source_maps(raster, mesh_vertices(target.face_landmarks),
                                   self._topology.triangles, size, box)
        warped = cv2.remap(target.image, *clamped_maps(map_x, map_y, target.image.shape),
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # The crop's own bytes outside the mesh, then one cast: the same values as the
        # float copies' (a cast is exact), without a float copy of the box first.
        np.copyto(warped, image, where=(map_x < 0)[..., None])
        return warped.astype(np.float32)

    def _direct_maps(self, index: int, raster: TargetRaster, size: int
                     ) -> tuple[np.ndarray, np.ndarray]:
        """This frame's remap maps of source face `index`, every triangle from itself."""
        if index not in self._frame_maps:
            sampling = self._faces.sampling(index)
            self._frame_maps[index] = source_maps(raster, self._vertices[index],
                                                  sampling.triangles, size,
                                                  corners=sampling.corners)
        return self._frame_maps[index]

    def end_track(self, track: int) -> None:
        """Every per-track state dropped: the track's source choice, shape move, light,
        usual expression and lids, eye, lip, mouth-corner and brow-lift shares, mouth faces,
        eye tones,
        beard verdict and eye readings."""
        self._blend_by_track.pop(track, None)
        for state in (self._shape, self._light, self._usual, self._eyes_shares,
                      self._lips_shares, self._mouths, self._own_lips, self._corner_shares,
                      self._shaved_corners, self._brow_shares, self._usual_lids,
                      self._eye_toner, self._target_beards, self._eye_reads, self._mouth_reads):
            state.forget(track)

    def prepare(self, targets: Sequence[FaceRecord]) -> None:
        """The source faces the choice will blend for the target's faces `targets` (in
        frame order) made ahead on a thread of their own (`SourceFaces.make_in_background`,
        in the order of first use, `mesh_choice.first_uses`): on a first swap from a video
        source, not on the engine thread as each frame first blends them. Only a hint:
        what is not made yet when a frame needs it is made there as before. And each
        track's opening smile usual (`UsualExpression.expect`)."""
        config = self.config
        by_track: dict[int, list[np.ndarray]] = {}
        for record in targets:
            by_track.setdefault(record.track, []).append(record.blendshapes)
        for track, blendshapes in by_track.items():
            self._usual.expect(track, blendshapes)
        choice = [(record.track, np.array([record.pose.yaw, record.pose.pitch,
                                           record.pose.roll]),
                   np.asarray(record.blendshapes)[self._expression_keys])
                  for record in targets]
        self._faces.make_in_background(
            lambda: first_uses(self._poses, self._expressions, choice, config.degrees_per_unit,
                               config.expression_weight, config.neighbours, config.follow),
            interiors=config.keep_target_mouth, light=config.lift_source_shadows)

    def close(self) -> None:
        """The eye readings' landmarker closed (else closed with the last track ended), and
        the source faces' threads let go: each even if an earlier step raised (a stop
        signal landing while the background face thread is joined left the landmarker
        open until the interpreter's exit, as `FaceAnalyser.close` did)."""
        with contextlib.ExitStack() as closing:
            # (Last in, first out: the background thread stopped first, as before.)
            closing.callback(self._shut_workers)
            closing.callback(self._eye_reads.close)
            closing.callback(self._faces.stop_background)

    def _shut_workers(self) -> None:
        if self._workers is not None:
            self._workers.shutdown()
            self._workers = None

    def _choose_sources(self, target: TargetFace) -> dict[int, float]:
        """Blend weights of the nearest source faces, eased over time per target track."""
        config = self.config
        pose = np.array([target.pose.yaw, target.pose.pitch, target.pose.roll])
        expression = target.blendshapes[self._expression_keys]
        distance = (pose_distances(self._poses, pose, config.degrees_per_unit)
                    + config.expression_weight
                    * np.linalg.norm(self._expressions - expression, axis=1))
        kept = eased_nearest(distance, self._blend_by_track.get(target.track, {}),
                             config.neighbours, config.follow)
        self._blend_by_track[target.track] = kept
        return kept

    def _kept(self, raster: TargetRaster, size: int, target: TargetFace,
              landmarks: np.ndarray, eyes_share: float) -> tuple[np.ndarray, np.ndarray]:
        """(S, S) float32 each: where the target keeps its own mouth opening (feathered a
        little so the lips meet softly) and its own eyes (mesh_eyes.kept_eyes, as much as
        `eyes_share`)."""
        kept = np.zeros((size, size), dtype=np.float32)
        eyes = np.zeros((size, size), dtype=np.float32)
        if self.config.keep_target_mouth:
            mouth = upsample(self._topology.mouth_opening[raster.triangle].astype(np.float32),
                             raster, size)
            kept = feather(mouth, erode=-2, blur=max(2, size // 96))
        if self.config.keep_target_eyes and eyes_share > 0.0:
            eyes = kept_eyes(landmarks, size, target.blendshapes) * np.float32(eyes_share)
        return kept, eyes


def with_target_where_unclean(image: np.ndarray, target: np.ndarray, coverage: np.ndarray
                              ) -> None:
    """In place: `image` (S, S, 3) float32 moved to the `target` crop (S, S, 3) uint8 as far
    as the clean `coverage` (S, S) float32, its clean source share, is below CLEAN_ENOUGH:
    `image += three_channels(clip(1 - coverage / CLEAN_ENOUGH, 0, 1)) * (target - image)`,
    the same operations (a product's value does not depend on its order), in the fresh
    quotient's and difference's arrays: three crop-sized temporaries fewer a frame."""
    unclean = coverage / CLEAN_ENOUGH
    np.subtract(1.0, unclean, out=unclean)
    np.clip(unclean, 0.0, 1.0, out=unclean)
    difference = np.subtract(target, image)
    difference *= three_channels(unclean)
    image += difference


def rounded_to_uint8(image: np.ndarray) -> np.ndarray:
    """`np.clip(image + 0.5, 0, 255).astype(np.uint8)` of the float32 `image`, the same
    values, the sum and clip taken in `image` itself (overwritten): two (S, S, 3) float32
    temporaries fewer a frame."""
    image += 0.5
    np.clip(image, 0, 255, out=image)
    return image.astype(np.uint8)


def _shown(target: np.ndarray, face: np.ndarray, mask: np.ndarray, kept: np.ndarray,
           kept_image: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8: the engine's `face` over the `target` crop by `mask`, the target's
    kept pixels (`kept_image`) over it by `kept`, about as the compositor shows them (its
    colour and light aside)."""
    shown = target.astype(np.float32)
    shown += three_channels(mask) * (face.astype(np.float32) - shown)
    shown += three_channels(kept) * (kept_image.astype(np.float32) - shown)
    return np.clip(shown + 0.5, 0, 255).astype(np.uint8)

