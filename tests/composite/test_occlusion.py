"""The occlusion mask: what covers the face in the target stays in front of the swap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.color import to_lab
from facedub.composite.compositor import CompositeConfig
from facedub.composite.glasses_tracks import CACHE_FILE, glasses_by_track, worn_glasses
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, canonical_from_crop
from facedub.composite.occlusion_cues import lens_highlights, with_lens_highlights
from facedub.composite.occlusion_objects import complete_by_colour
from facedub.engines.mesh import MeshEngine
from facedub.errors import FacedubError
from facedub.evaluate.sheet import _pair
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.faces.align import align_face, template_in_crop
from facedub.faces.glasses_cues import glasses_frames, half_pixels
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faces.masks import face_oval
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset
from facedub.swap import SwapConfig, swap

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"  # clear plastic glasses
TWITCH = "clip_deepfacelive_twitch_streamer_webcam.mp4"  # its studio microphone is the object
RUDD = "still_paul_rudd_frontal_studio.jpg"
TORCH = "clip_openface_changelighting_torch_moving_light.wmv"  # a bare face, a moving light
FRAMES = 15
MOUTH, CHIN, LOWER_LIP = 13, 152, 14
# What the invisible watermark adds to an output's pixels, besides the codec (grey levels,
# mean over a region): kept objects sat 0.5-0.7 (microphone) and 0.6-1.1 (bottle) above
# the codec's alone; each swap's watermark carries a new job id, so it varies by run.
WATERMARK_NOISE = 2.0
OCCLUSION_JOB_ID = 4242


def _object_clip(faces_dir: Path, out: Path, paste: Callable[..., tuple[np.ndarray, np.ndarray]]
                 ) -> list[np.ndarray]:
    """The first frames of KATIE with an object pasted over them by `paste(frame,
    landmarks, index)` (-> the frame, its object mask (H, W) bool); returns each frame's
    object mask."""
    frames = [f.image for _, f in zip(range(FRAMES), media.iter_frames(faces_dir / KATIE),
                                      strict=False)]
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(frames[0])[0].landmarks
    info = media.probe(faces_dir / KATIE)
    masks = []
    with media.VideoWriter(out, info.width, info.height, info.fps, crf=12,
                           preset="veryfast") as writer:
        for index, frame in enumerate(frames):
            image, mask = paste(frame, landmarks, index)
            writer.write(image, index / info.fps)
            masks.append(mask)
    return masks


def _microphone(faces_dir: Path) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The streamer's studio microphone, an ellipse over the mouth and chin sliding
    sideways over the clip."""
    microphone = next(media.iter_frames(faces_dir / TWITCH)).image[320:480, 470:640]

    def paste(frame: np.ndarray, landmarks: np.ndarray, index: int
              ) -> tuple[np.ndarray, np.ndarray]:
        width = float(np.ptp(landmarks[:, 0]))
        centre = (landmarks[MOUTH, :2] + landmarks[CHIN, :2]) / 2.0
        axes = (round(0.3 * width), round(0.2 * width))
        x = round(centre[0] + 0.15 * width * np.sin(2 * np.pi * index / FRAMES))
        y = round(centre[1])
        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.ellipse(mask, (x, y), axes, 10.0, 0, 360, 255, -1)
        texture = np.zeros_like(frame)
        texture[y - axes[1]:y + axes[1], x - axes[0]:x + axes[0]] = cv2.resize(
            microphone, (2 * axes[0], 2 * axes[1]))
        return np.where(mask[..., None] > 0, texture, frame), mask > 0
    return paste


# A drink at the mouth: the beer bottle at the bottom of the three men's photo (its
# pixels x 293-331, y 326-375), outlined by a polygon in that crop. Held across the lips
# (its neck pointing up at them made the explicit-content check refuse the clip).
MEN = "multi_three_men_voc.jpg"
BOTTLE_BOX = (293, 326, 331, 375)
BOTTLE_OUTLINE = ((6, 3), (24, 3), (26, 22), (34, 48), (3, 48), (4, 22))


def _bottle(faces_dir: Path) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The bottle lying across the lower lip and the chin, its neck at the left: it rises
    and tips over the clip, then comes down."""
    x0, y0, x1, y1 = BOTTLE_BOX
    bottle = media.read_photo(faces_dir / MEN)[y0:y1, x0:x1]
    outline = np.zeros(bottle.shape[:2], np.uint8)
    cv2.fillPoly(outline, [np.array(BOTTLE_OUTLINE, np.int32)], 255)

    def paste(frame: np.ndarray, landmarks: np.ndarray, index: int
              ) -> tuple[np.ndarray, np.ndarray]:
        width = float(np.ptp(landmarks[:, 0]))
        phase = np.sin(np.pi * index / (FRAMES - 1))  # 0 .. 1 .. 0
        # The bottle's mouth (its crop's top middle) a quarter of the face left of the
        # lower lip, its body across the mouth to the right.
        top = np.array([bottle.shape[1] / 2.0, 0.0])
        matrix = cv2.getRotationMatrix2D((float(top[0]), 0.0), 80.0 + 10.0 * phase,
                                         0.5 * width / bottle.shape[0])
        matrix[:, 2] += landmarks[LOWER_LIP, :2] - top - np.array([0.25 * width,
                                                                   0.08 * width * phase])
        size = frame.shape[1::-1]
        texture = cv2.warpAffine(bottle, matrix, size, flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(outline, matrix, size, flags=cv2.INTER_NEAREST) > 127
        return np.where(mask[..., None], texture, frame), mask
    return paste


@pytest.fixture(scope="module", params=["microphone", "bottle"])
def occluded_swaps(request: pytest.FixtureRequest, faces_dir: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[np.ndarray]]:
    """A real frame's mouth and chin covered by a real object from another shared file,
    moving over the clip: the streamer's microphone, or a bottle at the lips."""
    folder = tmp_path_factory.mktemp("occlusion")
    clip = folder / "object.mp4"
    paste = _microphone(faces_dir) if request.param == "microphone" else _bottle(faces_dir)
    masks = _object_clip(faces_dir, clip, paste)
    # The codec's own noise on the object: the clip only re-encoded as the swap encodes.
    encoded = folder / "encoded.mp4"
    info = media.probe(clip)
    defaults = SwapConfig(work_dir=folder / "work", config_dir=folder / "config")
    with media.VideoWriter(encoded, info.width, info.height, info.fps, crf=defaults.crf,
                           preset=defaults.preset) as writer:
        for frame in media.iter_frames(clip):
            writer.write(frame.image, frame.time)
    return {"masks": masks, "encoded": [f.image.astype(int) for f in media.iter_frames(encoded)],
            **_swapped_with_and_without_mask(faces_dir, clip, folder)}


def _swapped_with_and_without_mask(faces_dir: Path, clip: Path, folder: Path
                                   ) -> dict[str, list[np.ndarray]]:
    """The clip's frames ("target") and its swaps onto Paul Rudd's photo with the
    occlusion mask ("auto") and without it ("off")."""
    engine = MeshEngine(analysed(faces_dir / RUDD, folder / "work", ExtractConfig(crop_size=256)),
                        source_path=faces_dir / RUDD)
    results = {"target": [f.image.astype(int) for f in media.iter_frames(clip)]}
    for mode in ("auto", "off"):
        out = folder / f"swapped_{mode}.mp4"
        # One watermark for every run: its pattern is part of the bound inside the object
        # (a random job id once put the 99th percentile exactly on it, 12.9 against 12.9).
        config = SwapConfig(work_dir=folder / "work", config_dir=folder / "config",
                            visible_label=False, composite=CompositeConfig(occlusion=mode),
                            job_id=OCCLUSION_JOB_ID)
        swap(clip, engine, out, config)
        results[mode] = [f.image.astype(int) for f in media.iter_frames(out)]
    return results


def test_a_moving_object_over_mouth_and_chin_stays_in_front(
        occluded_swaps: dict[str, list[np.ndarray]]) -> None:
    """Inside the object the output is the target up to the codec (the clip re-encoded
    alone: 1.0-1.2 grey levels on the microphone, 2.4-2.8 on the bottle's finer texture)
    and the watermark (WATERMARK_NOISE more); around it the face is swapped."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))
    for index, mask in enumerate(occluded_swaps["masks"]):
        inside = cv2.erode(mask.astype(np.uint8), kernel) > 0
        around = cv2.dilate(mask.astype(np.uint8), kernel, iterations=3) == 0
        target = occluded_swaps["target"][index]
        kept = np.abs(occluded_swaps["auto"][index] - target).mean(axis=2)
        painted = np.abs(occluded_swaps["off"][index] - target).mean(axis=2)
        codec = np.abs(occluded_swaps["encoded"][index] - target).mean(axis=2)
        # Inside the object: the target's pixels, up to the watermark and the codec.
        assert kept[inside].mean() < codec[inside].mean() + WATERMARK_NOISE, index
        # No stray patch either: the 99th percentile within the codec's own 99th
        # percentile plus the watermark (the codec's is 5.3-8.3 levels here; the
        # output's reached 10 here and 12.0 on CI, where a fixed bound of 12 failed).
        assert (np.percentile(kept[inside], 99)
                < np.percentile(codec[inside], 99) + 3 * WATERMARK_NOISE), index
        # Without the mask the swap paints over it: the check above can fail.
        assert painted[inside].mean() > 8.0, index
        # Around it the face is swapped as usual.
        face = (painted > 8.0) & around
        assert face.sum() > 2000, index
        assert kept[face].mean() > 0.8 * painted[face].mean(), index


# Clip 11 (the stage shot): the handheld microphone's head over the performer's chin and
# lower lip in frames 119-125, a fixed box on it in frame pixels (x0, y0, x1, y1).
HAMILTON = "clip_facerecognition_hamilton_multiface_mic.mp4"
MIC_FRAMES = (119, 126)
MIC_BOX = (226, 128, 246, 140)
MIC_BODY = (240, 150, 262, 175)  # the same microphone's body, below the face


def _hamilton_swaps(faces_dir: Path, folder: Path, span: tuple[int, int]
                    ) -> dict[str, list[np.ndarray]]:
    """Frames `span` [first, last) of clip 11 as a clip, swapped with the mask and
    without."""
    clip = folder / "excerpt.mp4"
    info = media.probe(faces_dir / HAMILTON)
    frames = [f.image for f in media.iter_frames(faces_dir / HAMILTON)
              if span[0] <= f.index < span[1]]
    with media.VideoWriter(clip, info.width, info.height, info.fps, crf=12,
                           preset="veryfast") as writer:
        for index, frame in enumerate(frames):
            writer.write(frame, index / info.fps)
    return _swapped_with_and_without_mask(faces_dir, clip, folder)


@pytest.fixture(scope="module")
def microphone_swaps(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> dict[str, list[np.ndarray]]:
    """Frames 119-125 of clip 11 as a clip, swapped with the mask and without."""
    return _hamilton_swaps(faces_dir, tmp_path_factory.mktemp("microphone"), MIC_FRAMES)


def test_a_real_microphone_over_the_chin_is_not_painted_over(
        microphone_swaps: dict[str, list[np.ndarray]]) -> None:
    """Real footage: inside a fixed box on the microphone's head, over the chin, the
    output equals the target up to the codec's noise on that same object (its body below
    the face, which no swap touches: 5 to 7 grey levels on its sharp highlights); without
    the mask the swap paints over the box (18 or more levels beyond that noise).
    Each swap's watermark carries a new job id, so the noise in the box moves from run to
    run: with the mask 0 to 4.5 levels beyond the body's (four runs), hence the margin of
    7, still far below a painted-over box (18.7 to 33.6) or a ghost of a third of it."""
    x0, y0, x1, y1 = MIC_BOX
    bx0, by0, bx1, by1 = MIC_BODY
    for index, target in enumerate(microphone_swaps["target"]):
        kept = np.abs(microphone_swaps["auto"][index] - target)
        painted = np.abs(microphone_swaps["off"][index] - target)[y0:y1, x0:x1].mean()
        noise = kept[by0:by1, bx0:bx1].mean()  # the codec, on the mic's body
        assert painted > noise + 12.0, index  # the box is on the swapped face
        assert kept[y0:y1, x0:x1].mean() < noise + 7.0, index


# Clip 11: the performer's hand sweeps across his mouth and chin, motion-blurred skin over
# skin, in frames 141-142 (the stage shot's 51-52): boxes on the hand's smear over the
# mouth, in frame pixels (x0, y0, x1, y1) by frame.
HAND_FRAMES = (137, 144)
HAND_BOXES = {141: (182, 104, 200, 128), 142: (192, 104, 208, 124)}


@pytest.fixture(scope="module")
def hand_swaps(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> dict[str, list[np.ndarray]]:
    return _hamilton_swaps(faces_dir, tmp_path_factory.mktemp("hand"), HAND_FRAMES)


def test_a_real_hand_sweeping_over_the_mouth_is_not_painted_over(
        hand_swaps: dict[str, list[np.ndarray]]) -> None:
    """Real footage, skin over skin, where neither the net nor the colour cues find the
    hand: what moves unlike the face does. Inside the boxes on the hand's smear the output
    stays the target up to the codec and the watermark (3.9 to 4.6 grey levels over three
    runs), while the swap without the mask paints the source's mouth over it (15 to 23
    levels; before the motion cue the mask did not help: 14.3 to 14.9 and 23.4)."""
    for frame, (x0, y0, x1, y1) in HAND_BOXES.items():
        index = frame - HAND_FRAMES[0]
        target = hand_swaps["target"][index]
        kept = np.abs(hand_swaps["auto"][index] - target)[y0:y1, x0:x1].mean()
        painted = np.abs(hand_swaps["off"][index] - target)[y0:y1, x0:x1].mean()
        assert painted > 12.0, frame
        assert kept < 8.0, frame


class _Constant:
    """A stand-in model whose probabilities are a fixed map plus noise."""

    def __init__(self, value: np.ndarray, noise: float, seed: int = 0) -> None:
        self.value, self.noise = value, noise
        self.rng = np.random.default_rng(seed)

    def probabilities(self, canonical: np.ndarray) -> np.ndarray:
        assert canonical.shape == (128, 128, 3) and canonical.dtype == np.uint8
        jitter = self.rng.normal(0, self.noise, self.value.shape)
        return np.clip(self.value + jitter, 0, 1).astype(np.float32)


def test_the_mask_is_eased_when_still_and_follows_a_move_at_once() -> None:
    landmarks = template_in_crop(256, "whole")
    # A plain grey face, a shade darker (still skin-coloured) at the chin: on the
    # cheeks, which are all bare skin in this plain image, the net's marks do not count,
    # nor on skin round the mouth lit like the cheeks, which a light carries on to
    # without an edge (see complete_by_colour): at the shaded chin they do.
    image = np.full((256, 256, 3), 100, np.uint8)
    image[160:240, 80:176] = 92
    still = np.zeros((64, 64), np.float32)
    still[44:56, 24:36] = 0.9
    noisy = OcclusionMasks(_Constant(still, 0.08))
    raw = OcclusionMasks(_Constant(still, 0.08))
    eased = [noisy(0, t / 25, image, landmarks).mask for t in range(20)]
    fresh = [raw(0, t, image, landmarks).mask for t in range(20)]  # a second apart: no easing
    flicker_eased = np.mean([np.abs(a - b).mean() for a, b in pairwise(eased[5:])])
    flicker_fresh = np.mean([np.abs(a - b).mean() for a, b in pairwise(fresh[5:])])
    assert flicker_eased < 0.7 * flicker_fresh

    moved = np.zeros((64, 64), np.float32)
    moved[44:56, 28:40] = 0.9
    mover = OcclusionMasks(_Constant(still, 0.0))
    mover(0, 0.0, image, landmarks)
    mover.model = _Constant(moved, 0.0)
    after = mover(0, 0.04, image, landmarks).mask
    expected = OcclusionMasks(_Constant(moved, 0.0))(1, 0.0, image, landmarks).mask
    assert np.abs(after - expected).max() < 0.05  # a real move is not smeared over frames


def test_canonical_crop_and_lens_highlights() -> None:
    matrix = canonical_from_crop(template_in_crop(512, "whole"))
    np.testing.assert_allclose(matrix, [[0.25, 0, 0], [0, 0.25, 0]], atol=1e-6)
    landmarks = template_in_crop(256, "whole")
    image = np.full((256, 256, 3), 90, np.uint8)
    image[116:120, 94:98] = 250  # a bright glint on a lens, below the eye
    assert lens_highlights(image, landmarks).max() > 50
    alpha = np.ones((256, 256), np.float32)
    swapped = np.full((256, 256, 3), 90, np.uint8)
    bare = with_lens_highlights(swapped, image, landmarks, alpha, glasses=0.0)
    assert (bare == swapped).all()  # no glasses: nothing added
    worn = with_lens_highlights(swapped, image, landmarks, alpha, glasses=1.0)
    assert worn[118, 96, 0] > 140 and worn[10, 10, 0] == 90


def test_occlusion_mode_is_checked() -> None:
    with pytest.raises(FacedubError, match="--occlusion"):
        CompositeConfig(occlusion="sometimes")


def _skin(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.empty((size, size, 3), np.float32)
    image[:] = (200, 150, 125)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)


def test_an_object_found_in_part_is_taken_whole_by_its_colour() -> None:
    landmarks = template_in_crop(256, "whole")
    image = _skin(256)
    chin = landmarks[CHIN, :2]
    object_box = (slice(int(chin[1]) - 40, int(chin[1]) - 10),
                  slice(int(chin[0]) - 30, int(chin[0]) + 30))
    image[object_box] = (40, 40, 45)  # a dark object over mouth and chin
    image[60:80, 110:140] = (40, 40, 45)  # the same colour on the forehead, unseen by the net
    probabilities = np.zeros((64, 64), np.float32)
    seen = np.zeros((256, 256), bool)
    seen[object_box] = True
    seen[:, int(chin[0]):] = False  # the net found its left half only
    probabilities[cv2.resize(seen.astype(np.uint8), (64, 64)) > 0] = 0.9
    lab = to_lab(cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA))
    completed = complete_by_colour(probabilities, lab, half_pixels(landmarks),
                                   np.ones((64, 64), bool))
    whole = cv2.resize(completed, (256, 256), interpolation=cv2.INTER_NEAREST)
    inner = (slice(object_box[0].start + 4, object_box[0].stop - 4),
             slice(object_box[1].start + 4, object_box[1].stop - 4))
    assert whole[inner].min() == 1.0
    assert whole[62:78, 112:138].max() == 0.0  # not connected to what the net saw


def test_glasses_frames_are_found_and_bare_eyes_are_not_glasses() -> None:
    landmarks = template_in_crop(256, "whole")
    bare = _skin(256)
    frames, evidence = glasses_frames(bare, landmarks)
    assert evidence == 0.0 and frames.max() < 0.5
    worn = bare.copy()
    regions = mesh_regions()
    centres = [landmarks[loop, :2].mean(axis=0) for loop in (regions.right_eye,
                                                              regions.left_eye)]
    for centre in centres:
        cv2.ellipse(worn, (round(centre[0]), round(centre[1])), (26, 19), 0, 0, 360,
                    (30, 30, 30), 2)
    left, right = centres[0] + (26, 0), centres[1] - (26, 0)
    cv2.line(worn, (round(left[0]), round(left[1]) - 4), (round(right[0]), round(right[1]) - 4),
             (30, 30, 30), 2)
    frames, evidence = glasses_frames(worn, landmarks)
    assert evidence > 0.5
    below = (round(centres[0][1]) + 19, round(centres[0][0]))  # the rim under the right eye
    assert frames[below[0] - 1:below[0] + 2, below[1]].max() > 0.5


def test_a_track_known_to_wear_glasses_keeps_faint_broken_rims_whole() -> None:
    """Clear rims show only in fragments; once the whole track says glasses, the ring
    fitted to the fragments is kept in front, gaps included, and the lenses are not."""
    landmarks = template_in_crop(256, "whole")
    image = _skin(256)
    regions = mesh_regions()
    centres = [landmarks[loop, :2].mean(axis=0) for loop in (regions.right_eye,
                                                              regions.left_eye)]
    for centre in centres:
        for start in range(0, 360, 60):  # dashes: 25 degrees of rim, 35 missing
            cv2.ellipse(image, (round(centre[0]), round(centre[1])), (26, 19), 0, start,
                        start + 25, (30, 30, 30), 2)
    gap = np.radians(42.0)
    gap_point = centres[0] + (26 * np.cos(gap), 19 * np.sin(gap))
    nothing = np.zeros((64, 64), np.float32)

    unknown = OcclusionMasks(_Constant(nothing, 0.0))(0, 0.0, image, landmarks)
    assert unknown.glasses == 0.0

    masks = OcclusionMasks(_Constant(nothing, 0.0), worn={0: 1.0})
    known = masks(0, 0.0, image, landmarks)
    assert known.glasses == 1.0
    x, y = np.round(gap_point).astype(int)
    assert known.mask[y - 1:y + 2, x - 1:x + 2].max() > 0.5  # the gap is kept
    lens = np.round(centres[0] + (0, 8)).astype(int)
    assert known.mask[lens[1], lens[0]] == 0.0  # the swapped eye shows through the lens
    cheek = landmarks[205, :2].round().astype(int)
    assert known.mask[cheek[1], cheek[0]] < 0.1


def _lit(bridge: float, net: float, faint: float, light: float = 120.0
         ) -> tuple[float, float, float, float, float]:
    """A face's glasses evidence, both cheeks lit `light`."""
    return bridge, net, faint, light, light


def test_glasses_are_judged_over_the_whole_track(extracted: Callable[..., Faceset],
                                                faces_dir: Path) -> None:
    """d12's clear frames are plain in only a few of its first 40 frames: enough for the
    track; Katie Hill wears none. The answer is kept beside the analysis."""
    assert worn_glasses([_lit(0.0, 0.0, 0.0)] * 18 + [_lit(0.0, 1.0, 0.0)] * 6) == 1.0
    assert worn_glasses([_lit(0.0, 0.0, 0.0)] * 22 + [_lit(0.0, 0.2, 0.0)] * 2) == 0.0  # odd
    assert worn_glasses([_lit(0.8, 0.0, 0.0)] * 24) == 1.0  # a bridge in every frame
    # A bridge in a few frames only, the net marking nothing: shading (clip 11's stage).
    assert worn_glasses([_lit(0.0, 0.0, 0.0)] * 18 + [_lit(0.5, 0.0, 0.0)] * 6) == 0.0
    assert worn_glasses([_lit(0.0, 0.0, 0.0)] * 18 + [_lit(0.5, 0.1, 0.0)] * 6) == 1.0
    judge = OcclusionMasks(OccluderModel())
    for name, expected in ((D12, 1.0), (KATIE, 0.0)):
        faceset = extracted(name, max_frames=40, write_crops=False)
        chosen = faceset.faces_of()
        worn = glasses_by_track(judge, faces_dir / name, faceset, chosen)
        assert set(worn.values()) == {expected}
        assert (faceset.root / CACHE_FILE).is_file()
        assert glasses_by_track(_NoJudge(), faces_dir / name, faceset, chosen) == worn


def test_a_track_none_of_whose_faces_could_be_judged_is_not_taken_for_bare(
        extracted: Callable[..., Faceset], faces_dir: Path) -> None:
    """Faces past the end of what the target decodes give no evidence: their track is
    left out (the per-frame rule), not judged bare (which takes no frame's evidence)."""
    faceset = extracted(D12, max_frames=40, write_crops=False)
    past_the_end = [replace(face, frame=face.frame + 100_000, track=face.track + 1_000)
                    for face in faceset.faces_of()]
    assert glasses_by_track(OcclusionMasks(OccluderModel()), faces_dir / D12, faceset,
                            past_the_end) == {}


def test_a_torch_moving_over_a_bare_face_is_not_glasses(extracted: Callable[..., Faceset],
                                                       faces_dir: Path) -> None:
    """Clip 13: a torch sweeping over a bare face makes dark eye sockets in lit skin,
    which the net marks as lenses in the lit frames only. Faces lit unlike the rest of
    the track give no evidence, so he is judged bare (rims were kept around his eyes)."""
    faceset = extracted(TORCH, write_crops=False)
    worn = glasses_by_track(OcclusionMasks(OccluderModel()), faces_dir / TORCH, faceset,
                            faceset.faces_of())
    assert set(worn.values()) == {0.0}
    usual, torch = [_lit(0.0, 0.0, 0.0, 70.0)] * 18, [_lit(0.0, 0.8, 0.0, 140.0)] * 6
    assert worn_glasses(usual + torch) == 0.0
    assert worn_glasses([_lit(0.0, 0.0, 0.0, 70.0)] * 18 + [_lit(0.0, 0.8, 0.0, 80.0)] * 6
                        ) == 1.0  # the same net marks in the track's usual light


class _NoJudge:
    def glasses_evidence(self, image: np.ndarray, face_landmarks: np.ndarray
                         ) -> tuple[float, float, float, float, float]:
        raise AssertionError("judged again instead of read back")


def test_the_sheet_shows_the_mask_as_a_third_panel() -> None:
    target = _skin(64)
    occluded = np.zeros((64, 64), np.float32)
    occluded[40:, :] = 1.0
    tile = _pair(target, target, occluded)
    assert tile.shape == (64, 3 * 64 + 4, 3)
    panel = tile[:, 2 * 64 + 4:]
    assert panel[50, 10, 0] > 230 and panel[50, 10, 1] < 100  # tinted red
    assert (panel[10] == target[10]).all()
    assert _pair(target, target).shape == (64, 2 * 64 + 2, 3)


def test_a_short_window_of_clear_glasses_is_judged_wearing(
        extracted: Callable[..., Faceset], faces_dir: Path) -> None:
    """Users swap short clips: d12's first 30 frames alone, where neither the bridge nor
    the net is seen, are judged as wearing its clear plastic frames (faint in each face),
    as the whole clip is."""
    assert worn_glasses([_lit(0.0, 0.0, 0.6)] * 24) == 1.0  # faint in every face
    assert worn_glasses([_lit(0.0, 0.0, 0.0)] * 14 + [_lit(0.0, 0.0, 1.0)] * 10) == 0.0
    faceset = extracted(D12, max_frames=30, write_crops=False)
    worn = glasses_by_track(OcclusionMasks(OccluderModel()), faces_dir / D12, faceset,
                            faceset.faces_of())
    assert set(worn.values()) == {1.0}


# Hair across the face: a strand of Katie Hill's hair (frame 0, beside her right cheek)
# laid from d10's forehead over her brow and down the cheek beside the eye.
D10 = "clip_liveportrait_d10_woman_expressions.mp4"
HAIR_BOX = (405, 200, 445, 420)  # x0, y0, x1, y1 in KATIE's frame 0


def test_a_strand_of_hair_across_the_face_stays_in_front(faces_dir: Path) -> None:
    frame = next(media.iter_frames(faces_dir / D10)).image
    x0, y0, x1, y1 = HAIR_BOX
    hair = next(media.iter_frames(faces_dir / KATIE)).image[y0:y1, x0:x1]
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        landmarks = analyser.analyse(frame)[0].landmarks
    aligned = align_face(frame, landmarks, 256, "whole")
    points = aligned.face_landmarks[:, :2]
    top, cheek = points[10], points[425]  # the forehead's top middle, the left cheek
    corners = np.array([top, top, cheek, cheek]) + np.array([(-10, -10), (6, -10), (10, 10),
                                                             (-8, 10)])
    outline = corners.astype(np.int32)
    strand = np.zeros((256, 256), np.uint8)
    cv2.fillPoly(strand, [outline], 255)
    x, y, width, height = cv2.boundingRect(outline)
    texture = np.zeros_like(aligned.image)
    texture[y:y + height, x:x + width] = cv2.resize(hair, (width, height))
    image = np.where(strand[..., None] > 0, texture, aligned.image)
    model = OccluderModel()
    with_strand, bare = OcclusionMasks(model), OcclusionMasks(model)
    for index in range(3):
        occluded = with_strand(0, index / 25.0, image, aligned.face_landmarks)
        plain = bare(0, index / 25.0, aligned.image, aligned.face_landmarks)
    inside = cv2.erode(strand, np.ones((5, 5), np.uint8)) > 0
    # The face's other side, well clear of the strand (on the strand's side the colour
    # cue takes it on into her own dark hair at the temple, which it touches).
    away = face_oval(aligned.face_landmarks, 256) > 0
    away[:, int(outline[:, 0].min()) - 15:] = False
    # The strand is kept; away from it the mask is what it is without the strand.
    assert occluded.mask[inside].mean() > 0.9, occluded.mask[inside].mean()
    assert abs(occluded.mask[away].mean() - plain.mask[away].mean()) < 0.01
