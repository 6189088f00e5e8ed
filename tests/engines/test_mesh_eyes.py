"""The source's eyes turned to the target's gaze, and the target's eyes kept on blinks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh import MeshEngineConfig
from facedub.engines.mesh_eyes import (
    EYES,
    EYES_FALL_PER_FRAME,
    EYES_RISE_PER_FRAME,
    iris_in_eye,
    lid_gaps,
    looking_as_target,
    looking_down_open,
    opened_whites,
    resting_blink,
    target_eyes_share,
)
from facedub.engines.mesh_eyes_tone import (
    EyeTone,
    EyeToner,
    eye_box,
    eye_region,
    eye_tone,
    source_share,
    toned,
    with_eyes,
)
from facedub.engines.track_share import EasedShare
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.template import face_template

SIZE = 256
IRIS_POINTS = slice(468, 478)


def _face() -> tuple[np.ndarray, np.ndarray]:
    """(image, landmarks): skin, white eye openings, a dark iris at each iris landmark."""
    landmarks = face_template().astype(np.float64) * 100.0 + SIZE / 2
    image = np.full((SIZE, SIZE, 3), (180.0, 140.0, 120.0), dtype=np.float32)
    for eye in EYES:
        cv2.fillPoly(image, [np.round(landmarks[eye.contour, :2]).astype(np.int32)],
                     (235.0, 235.0, 230.0))
    for k, eye in enumerate(EYES):
        radius = iris_in_eye(landmarks)[k, 2] * np.linalg.norm(
            landmarks[eye.corners[1], :2] - landmarks[eye.corners[0], :2])
        centre = np.round(landmarks[eye.iris_centre, :2]).astype(int)
        iris = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(iris, (int(centre[0]), int(centre[1])), round(radius), 255, -1)
        opening = np.zeros_like(iris)
        cv2.fillPoly(opening, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 255)
        image[(iris > 0) & (opening > 0)] = (40.0, 30.0, 25.0)
    return image, landmarks


def _darkness(image: np.ndarray, point: np.ndarray) -> float:
    x, y = np.round(point).astype(int)
    return float(255.0 - image[y - 1:y + 2, x - 1:x + 2].mean())


def test_the_source_iris_moves_to_where_the_target_looks() -> None:
    image, landmarks = _face()
    target = landmarks.copy()
    target[IRIS_POINTS, 0] += 8.0  # the target looks aside; the eye outlines are the same
    before = image.copy()
    after = looking_as_target(image, landmarks, iris_in_eye(landmarks),
                              iris_in_eye(target))
    for eye in EYES:
        old = landmarks[eye.iris_centre, :2]
        new = target[eye.iris_centre, :2]
        assert _darkness(before, new + np.array([6.0, 0.0])) < 60  # sclera there before
        assert _darkness(after, new + np.array([6.0, 0.0])) > 150  # the iris now
        assert _darkness(after, old - np.array([7.0, 0.0])) < 100  # its old place: no dark iris
    # Nothing outside the eye openings changes.
    openings = np.zeros((SIZE, SIZE), np.uint8)
    for eye in EYES:
        cv2.fillPoly(openings, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 255)
    outside = cv2.dilate(openings, np.ones((5, 5), np.uint8)) == 0
    assert np.abs(after - before)[outside].max() < 1e-3


def test_the_same_gaze_leaves_the_eyes_alone() -> None:
    image, landmarks = _face()
    before = image.copy()
    after = looking_as_target(image, landmarks, iris_in_eye(landmarks),
                              iris_in_eye(landmarks))
    np.testing.assert_allclose(after, before)


def test_the_target_eyes_are_kept_when_it_blinks_beyond_the_source() -> None:
    source = np.zeros(len(BLENDSHAPE_NAMES))
    target = source.copy()
    assert target_eyes_share(source, target) == 0.0
    target[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.6  # a wink
    assert target_eyes_share(source, target) == 1.0
    source[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.55  # the source winks too
    assert target_eyes_share(source, target) == 0.0
    source[BLENDSHAPE_NAMES.index("eyeLookDownRight")] = 0.75  # a downcast source
    assert target_eyes_share(source, target) == 1.0
    target[BLENDSHAPE_NAMES.index("eyeLookDownRight")] = 0.7  # looking down alike
    assert target_eyes_share(source, target) == 0.0


OLDER = "clip_videoretalking_5_older_woman_glasses.mp4"  # looks down through her glasses
BLINKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # blinks at frames 94-97


def _read(faces_dir: Path, name: str, frames: tuple[int, ...]
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(blendshapes, landmarks) of the one face in each of `frames` of a clip."""
    from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
    wanted = {}
    for index, frame in enumerate(media.iter_frames(faces_dir / name)):
        if index in frames:
            wanted[index] = frame.image
        if index >= max(frames):
            break
    with FaceAnalyser(max_faces=1, video=False,
                      model_path=resolve_landmarker_model()) as analyser:
        found = [analyser.analyse(wanted[index])[0] for index in frames]
    return [(face.blendshapes.astype(np.float64), face.landmarks) for face in found]


def test_a_look_down_with_open_eyes_is_no_blink_but_a_blink_is(faces_dir: Path) -> None:
    """The older woman looking down through her glasses (frame 19: eyeBlink 0.3 at
    eyeLookDown 0.35, the iris between the lids) gets the source's eyes; her eyes shut as
    she looks down (frame 16) and d18's blink (frame 95, eyeLookDown 0.67 too) keep the
    target's own. Each against its own first frame, open: the source's and the rest."""
    for name, looks, blinks in ((OLDER, (19,), (16,)), (BLINKING, (), (95,))):
        (rest, _), *faces = _read(faces_dir, name, (0, *looks, *blinks))
        for blendshapes, landmarks in faces[:len(looks)]:
            assert looking_down_open(blendshapes, landmarks) > 0.0
            assert target_eyes_share(rest, blendshapes, rest, rest, landmarks) == 0.0
        for blendshapes, landmarks in faces[len(looks):]:
            assert looking_down_open(blendshapes, landmarks) == 0.0
            assert target_eyes_share(rest, blendshapes, rest, rest, landmarks) == 1.0


def test_a_wink_looking_down_keeps_the_targets_eyes(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """Both eyes must show the iris: one lid closed is a wink, however far down the
    other eye looks."""
    landmarks = face_template().astype(np.float64) * 100.0 + SIZE / 2
    shapes = blendshapes(eyeLookDownLeft=0.7, eyeLookDownRight=0.7, eyeBlinkLeft=0.5,
                         eyeBlinkRight=0.5)
    assert looking_down_open(shapes, landmarks) == 1.0  # both eyes open (the template's)
    rest = np.zeros(len(BLENDSHAPE_NAMES))
    assert target_eyes_share(rest, shapes, rest, rest, landmarks) == 0.0
    assert target_eyes_share(rest, shapes, rest, rest) == 1.0  # read as a blink alone
    eye = EYES[0]
    lids = landmarks[list(eye.upper_lid) + list(eye.lower_lid), 1]
    landmarks[list(eye.upper_lid) + list(eye.lower_lid), 1] = lids.mean()  # a wink
    assert lid_gaps(landmarks)[0] < 0.05 < lid_gaps(landmarks)[1]
    assert looking_down_open(shapes, landmarks) == 0.0
    assert target_eyes_share(rest, shapes, rest, rest, landmarks) == 1.0


def test_the_kept_eyes_rise_at_once_and_fade_out() -> None:
    eased = EasedShare(EYES_FALL_PER_FRAME)
    assert eased.update(0, 0.0) == 0.0
    assert eased.update(0, 1.0) == 1.0
    assert eased.update(0, 0.0) == 1.0 - EYES_FALL_PER_FRAME
    assert eased.update(1, 0.0) == 0.0  # tracks apart
    eased.update(0, 1.0)
    eased.forget(0)  # the track ended: a track of that number starts afresh
    assert eased.update(0, 0.0) == 0.0


def test_a_squinting_source_at_rest_is_no_blink() -> None:
    blink = [BLENDSHAPE_NAMES.index(name) for name in ("eyeBlinkLeft", "eyeBlinkRight")]
    photo = np.zeros((1, len(BLENDSHAPE_NAMES)))
    photo[0, blink] = 0.15  # a photo with slightly narrowed eyes: its only face
    resting = resting_blink(photo)
    target = np.zeros(len(BLENDSHAPE_NAMES))
    target[blink] = 0.05
    usual = target.copy()
    assert target_eyes_share(photo[0], target, resting, usual) == 0.0
    # Frame-to-frame wobble of the target's own eyes stays no blink.
    target[blink] = 0.12
    assert target_eyes_share(photo[0], target, resting, usual) == 0.0
    target[blink] = 0.6  # the target blinks
    assert target_eyes_share(photo[0], target, resting, usual) == 1.0
    # A source face wider open than its rest is its eye's shape, not a blink.
    wide = photo[0].copy()
    wide[blink] = 0.0
    target[blink] = 0.05
    assert target_eyes_share(wide, target, resting, usual) == 0.0


def test_a_source_squinting_at_rest_keeps_the_targets_eyes_steadily() -> None:
    """A smile's squint (rest 0.27 against the target's 0.08) cannot fill the target's
    wider opening: the target's eyes, whatever its eyes do frame to frame."""
    blink = [BLENDSHAPE_NAMES.index(name) for name in ("eyeBlinkLeft", "eyeBlinkRight")]
    photo = np.zeros((1, len(BLENDSHAPE_NAMES)))
    photo[0, blink] = 0.27
    resting = resting_blink(photo)
    usual = np.zeros(len(BLENDSHAPE_NAMES))
    usual[blink] = 0.08
    for now in (0.02, 0.08, 0.2, 0.6):
        target = usual.copy()
        target[blink] = now
        assert target_eyes_share(photo[0], target, resting, usual) == 1.0


def test_the_kept_eyes_fade_in_over_two_frames() -> None:
    eased = EasedShare(EYES_FALL_PER_FRAME, EYES_RISE_PER_FRAME)
    assert eased.update(0, 0.0) == 0.0
    assert eased.update(0, 1.0) == EYES_RISE_PER_FRAME
    assert eased.update(0, 1.0) == 1.0


def test_a_dull_source_eye_takes_the_target_eyes_contrast_and_whites() -> None:
    image, landmarks = _face()
    dull = 128.0 + 0.5 * (image - 128.0)  # a soft, grey copy of the same eyes
    dull[..., 2] += 12.0  # and bluish
    for eye in EYES:
        box = eye_box(landmarks[eye.contour, :2], 6.0, SIZE)
        assert box is not None
        opening, _ = eye_region(landmarks[eye.contour, :2], box, 3.0)
        tone = eye_tone(dull[box], opening, image[box], opening)
        assert tone is not None
        result = toned(dull[box], tone)
        inside = opening > 0
        whites = np.abs(result[inside] - image[box][inside]).mean()
        assert whites < 0.3 * np.abs(dull[box][inside] - image[box][inside]).mean()
        assert result[inside].std() > 1.6 * dull[box][inside].std()


def test_the_eyes_share_is_applied_once() -> None:
    size = 16
    eyes = np.zeros((size, size), np.float32)
    eyes[4:12, 4:12] = 0.4  # the target's eyes at 0.4
    own = np.zeros_like(eyes)
    own[4:12, 4:12] = 1.0  # over the source's toned eyes
    image = np.full((size, size, 3), 100, np.uint8)
    reshaped = np.full((size, size, 3), 200.0, np.float32)
    # The source's share of the kept image (which the compositor blurs like a face).
    share = source_share(np.zeros_like(eyes), eyes, own)
    assert share[8, 8] == pytest.approx(0.6) and share[0, 0] == 0.0
    # The target's catchlights laid over the source's irises are the target's: not blurred.
    lights = np.zeros_like(eyes)
    lights[8, 8], lights[8, 9] = 1.0, 0.5
    lit = source_share(np.zeros_like(eyes), eyes, own, lights)
    assert lit[8, 8] == 0.0 and lit[8, 9] == pytest.approx(0.3) and lit[6, 6] == share[6, 6]
    kept, kept_image = with_eyes(np.zeros_like(eyes), image, eyes, own, reshaped,
                                  (slice(0, size), slice(0, size)))
    assert kept[8, 8] == pytest.approx(1.0)
    assert kept_image[8, 8, 0] == 140  # 0.4 of the target, 0.6 of the source's eyes
    own[:] = 0.0  # no source eyes: the target's by 0.4, the compositor's face by 0.6
    assert source_share(np.zeros_like(eyes), eyes, own).max() == 0.0
    kept, kept_image = with_eyes(np.zeros_like(eyes), image, eyes, own, reshaped,
                                  (slice(0, size), slice(0, size)))
    assert kept[8, 8] == pytest.approx(0.4)
    assert kept_image[8, 8, 0] == 200


def test_the_source_eyes_are_shown_by_default() -> None:
    config = MeshEngineConfig()
    assert config.keep_target_eyes and config.source_eyes


def _blinking(landmarks: np.ndarray) -> np.ndarray:
    """The landmarks with both eye contours closed to a tenth of their height."""
    closed = landmarks.copy()
    for eye in EYES:
        points = closed[eye.contour, 1]
        middle = points.mean()
        closed[eye.contour, 1] = middle + 0.1 * (points - middle)
    return closed


def test_the_eyes_tone_holds_through_a_blink_and_at_the_frame_edge() -> None:
    """A closing target eye (its lash line measured as whites darkened the source's eyes
    for frames after a blink), or one the frame cuts off, keeps the track's last tone;
    a track with none yet leaves the eyes as they are."""
    target, landmarks = _face()
    dull = 128.0 + 0.5 * (target - 128.0)
    toner = EyeToner()
    first = dull.copy()
    regions = toner(first, landmarks, target.astype(np.uint8), landmarks, track=0)
    assert regions.max() > 0.5 and not np.array_equal(first, dull)

    def again(target_image: np.ndarray, target_landmarks: np.ndarray, track: int,
              in_frame: np.ndarray | None = None) -> np.ndarray:
        image = dull.copy()
        toner(image, landmarks, target_image.astype(np.uint8), target_landmarks, track,
              in_frame)
        return image

    darkened = np.clip(target * 0.4, 0, 255)  # a shut eye's lashes and lid, everywhere
    blink = again(darkened, _blinking(landmarks), track=0)
    assert np.abs(blink - first).max() < 0.5  # the tone of before the blink
    outside = np.zeros((SIZE, SIZE), dtype=bool)  # the whole crop past the frame's edge
    assert np.abs(again(darkened, landmarks, 0, outside) - first).max() < 0.5
    assert np.array_equal(again(darkened, landmarks, 1, outside), dull)  # no tone yet
    # Open again and lit as before: measured anew.
    assert np.abs(again(darkened, landmarks, 0) - first).max() > 5.0


def _lightness(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.asarray(lab[..., 0])


def test_a_pale_sources_lid_is_toned_as_skin_not_as_the_eyes_whites() -> None:
    """lighting: a pale webcam source's lower lid, stretched with its dull eye as whites,
    came out as a white crescent under each iris on Obama's dark lids. Past the opening
    the toned source is no lighter than its lid's skin toned like the target's."""
    face, landmarks = _face()
    skin = np.all(face == (180.0, 140.0, 120.0), axis=-1)
    source = 128.0 + 0.5 * (face - 128.0)  # a soft, grey eye (a strong stretch) ...
    source[skin] = (200.0, 170.0, 160.0)  # ... in pale skin
    target = face * 0.7  # dimmer whites, in dark skin
    target[skin] = (125.0, 80.0, 60.0)
    image = source.copy()
    regions = EyeToner()(image, landmarks, target.astype(np.uint8), landmarks, track=0)
    # The toned source itself where it is shown (the compositor's face shows by 1 - region).
    shown = regions > 0.3
    toned_source = source.copy()
    toned_source[shown] += (image[shown] - source[shown]) / regions[shown][:, None]
    lightness, target_lightness = _lightness(toned_source), _lightness(target)
    for eye in EYES:
        opening = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(opening, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 1)
        rim = (cv2.dilate(opening, np.ones((5, 5), np.uint8)) > 0) & (opening == 0) & shown
        assert rim.sum() > 20
        # main: the lid 26 L lighter than the target's there
        assert float(lightness[rim].mean() - target_lightness[rim].mean()) < 5.0
        inside = opening > 0  # the eye itself keeps its tone
        assert abs(float(np.percentile(lightness[inside], 90)
                         - np.percentile(target_lightness[inside], 90))) < 3.0


def test_a_lid_skin_known_on_one_side_only_is_taken_as_it_is() -> None:
    """0 is no lid skin ratio (not read: the ring off the frame): eased from it, a ratio of
    0.3 for a frame would darken the lid to a third."""
    known = EyeTone(50.0, 60.0, 70.0, 1.2, 0.0, 0.0, 1.0, 2.0, skin_ratio=0.7, skin_a=5.0,
                    skin_b=-3.0)
    unknown = replace(known, skin_ratio=0.0, skin_a=0.0, skin_b=0.0)
    for new, last in ((known, unknown), (unknown, known)):
        eased = new.eased(last, 0.4)
        assert (eased.skin_ratio, eased.skin_a, eased.skin_b) == (0.7, 5.0, -3.0)
    halfway = known.eased(replace(known, skin_ratio=0.5), 0.5)
    assert halfway.skin_ratio == pytest.approx(0.6)


@pytest.mark.parametrize("width", [20, 40])
def test_a_sharp_source_eye_takes_a_small_soft_targets_low_contrast(width: int) -> None:
    """occlusion-smoke-hand: Rudd's sharp studio eye (its opening's L spans about 50 from
    iris to whites) in the GIF's small, soft eye (about 24, 18 px wide): at a lightness
    stretch of at least 0.8 the toned iris came out far darker than the target's, a black
    slit under its whites. In a small eye the toned eye's dark end now meets the
    target's; a large one keeps the source's contrast (stretched by 0.8 at least)."""
    shape = (8, width, 3)
    source = np.full(shape, 170.0, np.float32)  # whites ...
    source[:, :8] = 40.0  # ... and a dark iris
    target = np.full(shape, 130.0, np.float32)
    target[:, :8] = 70.0
    opening = np.full(shape[:2], 255, np.uint8)
    tone = eye_tone(source, opening, target, opening)
    assert tone is not None
    if width > 32:
        assert tone.gain == pytest.approx(0.8)
        return
    lightness, target_lightness = _lightness(toned(source, tone)), _lightness(target)
    for q in (15.0, 90.0):  # main: 12 L against the target's 30 at the 15th percentile
        assert abs(float(np.percentile(lightness, q) - np.percentile(target_lightness, q))
                   ) < 2.0


def _small_eyes(scale: float, target_white: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, landmarks, outer, inner): eyes `scale` template units wide (45:
    19 px, the smoker's GIF eye), the source's openings a dark lid and lashes (L about 25)
    throughout, the target's white (`target_white` grey, a little warm) round a dark iris
    at each iris landmark; `outer`, `inner` (S, S) bool: the target's white in each
    opening from its iris to the outer corner and to the inner one."""
    landmarks = face_template().astype(np.float64) * scale + SIZE / 2
    middle = landmarks[[eye.iris_centre for eye in EYES], :2].mean(axis=0)
    for eye in EYES:  # the irises a little inward: room for white on both sides
        iris_points = [eye.iris_centre, *eye.iris_ring]
        landmarks[iris_points, 0] -= np.sign(landmarks[eye.iris_centre, 0] - middle[0]) * (
            scale * 0.04)
    skin = (180.0, 140.0, 120.0)
    source = np.full((SIZE, SIZE, 3), skin, dtype=np.float32)
    target = source.copy()
    sides = [np.zeros((SIZE, SIZE), bool), np.zeros((SIZE, SIZE), bool)]
    xs = np.mgrid[0:SIZE, 0:SIZE][1]
    for eye in EYES:
        opening = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(opening, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 255)
        inside = opening > 0
        source[inside] = (70.0, 55.0, 60.0)
        target[inside] = (target_white, target_white, target_white - 15.0)
        centre = landmarks[eye.iris_centre, :2]
        iris = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(iris, tuple(int(v) for v in np.round(centre)), round(scale * 0.06), 255, -1)
        target[inside & (iris > 0)] = (45.0, 35.0, 30.0)
        core = cv2.erode(opening, np.ones((3, 3), np.uint8)) > 0
        outward = np.sign(centre[0] - middle[0])  # the outer corner's side, in x
        along = (xs - centre[0]) * outward
        sides[0] |= core & (along > scale * 0.12)
        sides[1] |= core & (along < -scale * 0.08)
    white = _lightness(target) > 60
    return source, target, landmarks, sides[0] & white, sides[1] & white


def test_a_small_eye_drawn_shut_shows_the_targets_white_on_its_outer_side() -> None:
    """occlusion-smoke-hand 11-26: Rudd's lid, lashes and iris warped into the GIF's 18 x
    3-5 px opening held no white on its outer side, where the target's eye shows its white:
    the eye read shut (BENCHMARKS.md, thirty-fourth round). There the opening now shows
    the target's white; its iris and inner side stay the source's."""
    source, target, landmarks, outer, inner = _small_eyes(45.0, 200.0)
    image = source.copy()
    laid = opened_whites(image, landmarks, target.astype(np.uint8), landmarks)
    lightness, before = _lightness(image), _lightness(source)
    target_lightness = _lightness(target)
    assert outer.sum() > 8 and inner.sum() > 8
    # main: the outer white 50 L darker than the target's; now the target's but next to
    # the iris (where the outer side begins).
    assert float((target_lightness - before)[outer].mean()) > 40.0
    gap = np.abs(lightness - target_lightness)[outer]
    assert float(np.median(gap)) < 2.0 and float(gap.mean()) < 8.0
    assert float(np.median(laid[outer])) > 0.9
    np.testing.assert_array_equal(image[inner], source[inner])
    for eye in EYES:  # the iris as dark as before
        x, y = np.round(landmarks[eye.iris_centre, :2]).astype(int)
        assert lightness[y, x] < before[y, x] + 2.0
    # Nothing away from the eyes changes.
    near = np.zeros((SIZE, SIZE), np.uint8)
    for eye in EYES:
        cv2.fillPoly(near, [np.round(landmarks[eye.contour, :2]).astype(np.int32)], 255)
    far = cv2.dilate(near, np.ones((9, 9), np.uint8)) == 0
    assert np.abs(image - source)[far].max() < 1e-3


@pytest.mark.parametrize(("scale", "white"), [(100.0, 200.0), (40.0, 45.0)])
def test_a_large_eye_or_a_target_showing_no_white_is_left_as_it_is(scale: float,
                                                                     white: float) -> None:
    """A large eye (43 px) shows the source's own white; a target opening all as dark as
    its iris (no white: a shut or shadowed eye) is not laid out."""
    source, target, landmarks, _, _ = _small_eyes(scale, white)
    image = source.copy()
    laid = opened_whites(image, landmarks, target.astype(np.uint8), landmarks)
    assert not laid.any()
    np.testing.assert_array_equal(image, source)
