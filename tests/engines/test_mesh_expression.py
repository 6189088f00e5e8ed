"""The mesh engine gives the target's expression, not the source photo's: a smiling source
with teeth onto a closed mouth shows no teeth, and its smile lines give way to the
target's (issue 17). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_expression import (
    CREASE_WIDTH,
    SOURCE_THIN_LINE,
    expression_band,
    follow_target_lines,
    foreign_lines,
    gated_lift,
    target_expression_lines,
    wrinkled_shares,
)
from facedub.engines.mesh_expression_regions import (
    LINE_REGIONS,
    UsualExpression,
    line_weight_map,
    region_weights,
)
from facedub.engines.mesh_mouth import (
    LIPS_FALL_PER_FRAME,
    corners_mask,
    lips_mask,
    mouth_interior,
    not_darker,
    target_corners_share,
    target_lips_share,
)
from facedub.engines.mesh_topology import mesh_topology, mesh_vertices, template_anchors
from facedub.engines.track_share import EasedShare
from facedub.faces.align import landmarks_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset
from target_support import target_from_frame

SMILING = "still_biden_frontal.jpg"  # a broad smile, upper teeth showing
SHOUTING = "still_woman_shouting.jpg"  # mouth wide open, lit from one side
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: mouth closed, neutral
CROP = 256
CREASE_SHADE = 0.7  # strokes 6.4 grey levels darker than their surroundings at 1/128


@pytest.fixture(scope="module")
def smiling(extracted: Callable[..., Faceset]) -> Faceset:
    return extracted(SMILING, crop_size=CROP)


@pytest.fixture(scope="module")
def closed_mouth(extracted: Callable[..., Faceset], faces_dir: Path) -> TargetFace:
    """The talking man's first frame, aligned as the swap aligns it."""
    record = extracted(TALKING, max_frames=1, crop_size=CROP).faces_of()[0]
    frame = next(media.iter_frames(faces_dir / TALKING))
    assert record.blendshapes[BLENDSHAPE_NAMES.index("jawOpen")] < 0.1
    return target_from_frame(frame.image, record.frame_landmarks, CROP, record.pose,
                             record.blendshapes)


def _teeth(image: np.ndarray) -> np.ndarray:
    """(S, S) bool: bright, nearly colourless pixels (teeth, not lips or skin)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    return (lab[..., 0] > 150) & (chroma < 14)


def _lips(target: TargetFace) -> np.ndarray:
    points = target.face_landmarks[mesh_regions().lips_outer]
    return polygon_mask(points, CROP) > 0.5


def test_source_interior_covers_its_teeth(smiling: Faceset) -> None:
    record = smiling.faces_of()[0]
    image = smiling.load_image(record)
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    lips = polygon_mask(landmarks[mesh_regions().lips_outer], CROP) > 0.5
    teeth = _teeth(image) & lips
    assert teeth.sum() > 50, "the source photo should show teeth"
    interior = mouth_interior(image, landmarks) > 0.5
    assert (teeth & interior).sum() >= 0.95 * teeth.sum()
    assert interior.sum() < 0.8 * lips.sum(), "the lips themselves are not interior"


def test_lips_in_shadow_are_not_interior(extracted: Callable[..., Faceset]) -> None:
    """A mouth lit from one side: its shadowed half of the lower lip is darker than the
    lips' median by as much as the cavity, but it is lip (judged against the lips near it)."""
    shouting = extracted(SHOUTING, crop_size=CROP)
    record = shouting.faces_of()[0]
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    regions = mesh_regions()
    outer = polygon_mask(landmarks[regions.lips_outer], CROP) > 0.5
    inner = polygon_mask(landmarks[regions.lips_inner], CROP) > 0.5
    width = float(np.linalg.norm(landmarks[61, :2] - landmarks[291, :2]))
    grow = round(0.05 * width)
    near_inner = cv2.dilate(inner.astype(np.uint8), np.ones((2 * grow + 1,) * 2, np.uint8))
    lips = outer & ~near_inner.astype(bool)
    interior = mouth_interior(shouting.load_image(record), landmarks) > 0.5
    assert (interior & inner).sum() >= 0.95 * inner.sum()
    assert (interior & lips).sum() < 0.05 * lips.sum()


def test_closed_target_mouth_shows_no_source_teeth(smiling: Faceset,
                                                   closed_mouth: TargetFace) -> None:
    engine = MeshEngine(smiling, MeshEngineConfig(follow=1.0))
    swapped = engine.swap_face(closed_mouth)
    result = Compositor(CompositeConfig()).composite(closed_mouth, swapped)
    lips = _lips(closed_mouth)
    assert _teeth(result.image)[lips].sum() <= _teeth(closed_mouth.image)[lips].sum() + 3
    # Between the closed lips the pixels are the target's own.
    inner = polygon_mask(closed_mouth.face_landmarks[mesh_regions().lips_inner], CROP, blur=0)
    line = cv2.dilate((inner > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    difference = np.abs(result.image.astype(np.float32) - closed_mouth.image)[line]
    assert float(np.median(difference)) < 4.0


def test_smile_lines_follow_the_target(smiling: Faceset, closed_mouth: TargetFace) -> None:
    """The smiling source's creases on the cheeks (its crease band darker than the
    neutral target's) fade; they are not replaced by the target's own face."""
    source_smile = smiling.faces_of()[0].blendshapes
    weights = region_weights(source_smile, closed_mouth.blendshapes)
    assert weights.fade["cheeks"] == 1.0, "a broad smile onto a neutral face differs fully"
    assert weights.deepen["cheeks"] == 0.0, "the neutral target has no smile lines to give"
    with_lines = MeshEngine(smiling, MeshEngineConfig(follow=1.0)).swap_face(closed_mouth)
    borrowed = MeshEngine(smiling, MeshEngineConfig(follow=1.0, target_expression_lines=False)
                          ).swap_face(closed_mouth)
    # The cheeks, less the thin high-contrast lines that are left alone on purpose.
    region = ((line_weight_map(closed_mouth.face_landmarks, CROP, {"cheeks": 1.0}) > 0.9)
              & (foreign_lines(closed_mouth.image) < 0.1)
              & (foreign_lines(borrowed.image, SOURCE_THIN_LINE) < 0.1))
    assert region.sum() > 0.02 * CROP * CROP
    target_band = expression_band(closed_mouth.image, width=CREASE_WIDTH)[region]

    def darker(image: np.ndarray) -> float:
        band = expression_band(image, width=CREASE_WIDTH)[region]
        return float(np.maximum(target_band - band, 0.0).mean())

    assert darker(with_lines.image) < 0.5 * darker(borrowed.image)


def test_lines_move_only_as_the_expressions_differ() -> None:
    blendshapes = np.full(len(BLENDSHAPE_NAMES), 0.3, dtype=np.float32)
    same = region_weights(blendshapes, blendshapes)
    assert set(same.fade.values()) == set(same.deepen.values()) == {0.0}
    frowning = blendshapes.copy()
    frowning[BLENDSHAPE_NAMES.index("browDownLeft")] = 1.0
    weights = region_weights(blendshapes, frowning)
    assert weights.deepen["between brows"] > 0.99 and weights.fade["between brows"] == 0.0
    assert weights.deepen["cheeks"] == weights.fade["cheeks"] == 0.0
    # The other way round the source's frown fades, and the target's gives nothing.
    reverse = region_weights(frowning, blendshapes)
    assert reverse.fade["between brows"] > 0.99 and reverse.deepen["between brows"] == 0.0
    # A target that always frowns this much (its usual) gives its lines to no one.
    usual = region_weights(blendshapes, frowning, target_usual=frowning)
    assert usual.deepen["between brows"] == 0.0


def test_usual_expression_is_the_tracks_low_quantile() -> None:
    usual = UsualExpression()
    rest = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    squint = rest.copy()
    squint[BLENDSHAPE_NAMES.index("eyeSquintLeft")] = 0.8
    assert np.array_equal(usual.update(0, squint), squint), "the first frame is its own usual"
    for _ in range(10):
        usual.update(0, rest)
    assert float(usual.update(0, squint).max()) < 0.05
    assert np.array_equal(usual.update(1, squint), squint), "each track its own"


def test_glasses_rims_are_foreign_but_a_soft_crease_is_not() -> None:
    skin = np.full((256, 256, 3), (200, 160, 140), dtype=np.uint8)
    fold = 1.0 - 0.25 * np.exp(-((np.arange(256) - 65.0) ** 2) / (2 * 4.0**2))
    image = np.clip(skin * fold[None, :, None], 0, 255).astype(np.uint8)  # a soft fold
    cv2.circle(image, (170, 128), 40, (60, 50, 50), 2)  # a thin dark rim
    foreign = foreign_lines(image)
    assert foreign[128, 130] > 0.9 and foreign[88, 170] > 0.9
    assert foreign[:, 55:75].max() < 0.1 and foreign[128, 170] < 0.1


def test_closed_target_lips_are_the_targets(smiling: Faceset, closed_mouth: TargetFace
                                            ) -> None:
    """A broad smile's lips, stretched thin over the teeth, are not painted over the
    target's closed lips: the target's own lips show (the source's mouth is far wider)."""
    source = smiling.faces_of()[0].blendshapes
    assert target_lips_share(source, closed_mouth.blendshapes) == 1.0
    assert target_lips_share(source, source) == 0.0
    assert target_lips_share(closed_mouth.blendshapes, source) == 0.0, "only a wider source"
    swapped = MeshEngine(smiling, MeshEngineConfig(follow=1.0)).swap_face(closed_mouth)
    lips = lips_mask(closed_mouth.face_landmarks, CROP) > 0.99
    assert lips.sum() > 200
    difference = np.abs(swapped.image.astype(np.float32) - closed_mouth.image)
    assert float(np.median(difference[lips])) < 4.0
    # ... and the skin just around them, where the smile's stretched corners lay.
    def grown(pixels: int) -> np.ndarray:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1,) * 2)
        return cv2.dilate(lips.astype(np.uint8), kernel).astype(bool)

    around = grown(5) & ~grown(3)
    assert around.sum() > 100
    # (the source's skin there: a median difference of 22; the rest is the blend's fade)
    assert float(np.median(difference[around])) < 12.0


def test_the_targets_lips_fade_out_over_frames(smiling: Faceset, closed_mouth: TargetFace
                                               ) -> None:
    """Once the target's lips were shown, a frame that would show the source's lips again
    still shows mostly the target's (they fade by LIPS_FALL_PER_FRAME a frame, so the
    mouth does not switch in one frame); another track starts afresh."""
    engine = MeshEngine(smiling, MeshEngineConfig(follow=1.0))
    engine.swap_face(closed_mouth)  # the broad smile onto closed lips: the target's lips
    # The same frame, now read as smiling like the source: the share alone would be 0.
    as_source = replace(closed_mouth, blendshapes=smiling.faces_of()[0].blendshapes)
    assert target_lips_share(as_source.blendshapes, as_source.blendshapes) == 0.0
    # The skin just around the lips (the lips themselves are the target's anyway here:
    # the smile's teeth, left out, reach over them).
    lips = (lips_mask(closed_mouth.face_landmarks, CROP) > 0.99).astype(np.uint8)
    def grown(pixels: int) -> np.ndarray:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1,) * 2)
        return cv2.dilate(lips, kernel).astype(bool)

    around = grown(4) & ~grown(3)

    def median_difference(swapped: np.ndarray) -> float:
        return float(np.median(np.abs(swapped.astype(np.float32) - closed_mouth.image)[around]))

    eased = median_difference(engine.swap_face(as_source).image)  # 4 grey levels
    fresh = median_difference(engine.swap_face(replace(as_source, track=1)).image)  # 12
    assert eased < 6.0 < fresh


def test_eased_lips_share_rises_at_once_and_falls_by_a_step() -> None:
    eased = EasedShare(LIPS_FALL_PER_FRAME)
    assert eased.update(0, 0.0) == 0.0
    assert eased.update(0, 1.0) == 1.0
    assert eased.update(0, 0.0) == pytest.approx(1.0 - LIPS_FALL_PER_FRAME)
    assert eased.update(0, 0.5) == pytest.approx(max(0.5, 1.0 - 2 * LIPS_FALL_PER_FRAME))
    assert eased.update(1, 0.2) == 0.2  # a track of its own


def test_a_closed_lipped_smile_keeps_its_lips_on_a_closed_mouth(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """A slight closed-lipped smile (the border photo's, 0.33) onto a still, closed mouth
    keeps the source's own lips; onto a dropped jaw the target's lips show as before, and
    a broad smile still gives way to them on a closed mouth."""
    slight = blendshapes(mouthSmileLeft=0.33, mouthSmileRight=0.23)
    assert target_lips_share(slight, blendshapes()) == 0.0
    assert target_lips_share(slight, blendshapes(jawOpen=0.4)) == 1.0
    assert target_lips_share(blendshapes(mouthSmileLeft=0.97), blendshapes()) == 1.0


def test_a_slight_expression_keeps_its_lines(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """The source's lines fade for what it shows clearly (a shout's jaw, 0.79, onto a mouth
    half open), hardly for a slight closed smile (0.33): those lines are its own face."""
    still = blendshapes()
    assert region_weights(blendshapes(mouthSmileLeft=0.33), still).fade["cheeks"] < 0.05
    assert region_weights(blendshapes(jawOpen=0.79), blendshapes(jawOpen=0.41)).fade["cheeks"] > 0.3
    assert region_weights(blendshapes(mouthSmileLeft=0.97), still).fade["cheeks"] == 1.0


def _skin_disc(fold: bool) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured disc on dark hair (and its skin mask), with or without a soft dark
    fold down its left half, 27 px from the hair."""
    yy, xx = np.mgrid[0:256, 0:256]
    skin = (((xx - 128) / 90.0) ** 2 + ((yy - 128) / 110.0) ** 2 < 1.0).astype(np.float32)
    image = np.where(skin[..., None] > 0, np.array([205, 160, 140]), np.array([30, 25, 25]))
    if fold:
        image = image * (1.0 - 0.3 * np.exp(-((xx - 65.0) ** 2) / (2 * 3.0**2)))[..., None]
    return np.clip(image, 0, 255).astype(np.uint8), skin


def test_band_is_measured_against_the_skin_not_the_hair() -> None:
    plain, skin = _skin_disc(fold=False)
    assert expression_band(plain)[128, 128 - 70] > 0.2  # the hair lifts the face ...
    assert abs(float(expression_band(plain, skin)[128, 128 - 70])) < 0.03  # ... not here


def test_a_borrowed_fold_goes_wholly() -> None:
    """Where the target's shading is taken in full, the source's fold is gone, also near
    dark hair (whose lift of the band once clipped the target's band and kept most of the
    fold)."""
    folded, skin = _skin_disc(fold=True)
    plain, _ = _skin_disc(fold=False)
    weight = np.zeros((256, 256), dtype=np.float32)
    weight[60:200, 35:95] = 1.0
    nowhere = np.zeros_like(weight)
    result = follow_target_lines(folded, plain, nowhere, skin, nowhere,
                                 cv2.GaussianBlur(weight, (0, 0), 3))
    row = (slice(110, 150), slice(59, 72))
    before = np.abs(expression_band(folded, skin) - expression_band(plain, skin))[row].max()
    after = np.abs(expression_band(result, skin) - expression_band(plain, skin))[row].max()
    assert after < 0.2 * before


def _fold_and_weight() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A skin disc with a fold, the same without it, its skin mask, and a soft weight over
    the fold's side of the face."""
    folded, skin = _skin_disc(fold=True)
    plain, _ = _skin_disc(fold=False)
    weight = np.zeros((256, 256), dtype=np.float32)
    weight[60:200, 35:95] = 1.0
    return folded, plain, skin, cv2.GaussianBlur(weight, (0, 0), 3)


def luma(image: np.ndarray) -> float:
    """Mean grey level on the fold."""
    on_the_fold = (slice(110, 150), slice(62, 69))
    return float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[on_the_fold].mean())


def test_a_crease_fades_and_the_targets_crease_deepens() -> None:
    """`fade` lifts only the source's darker creases, `deepen` takes only the target's
    darker ones: neither puts the other face's light structure on the source."""
    folded, plain, skin, weight = _fold_and_weight()
    nowhere = np.zeros_like(weight)
    faded = follow_target_lines(folded, plain, weight, skin, nowhere)
    kept = follow_target_lines(folded, plain, nowhere, skin, weight)  # the target has none
    deepened = follow_target_lines(plain, folded, nowhere, skin, weight)
    not_faded = follow_target_lines(plain, folded, weight, skin, nowhere)

    assert luma(faded) - luma(folded) > 0.4 * (luma(plain) - luma(folded))
    assert abs(luma(kept) - luma(folded)) < 2.0
    assert luma(plain) - luma(deepened) > 0.4 * (luma(plain) - luma(folded))
    assert abs(luma(not_faded) - luma(plain)) < 2.0


def test_furrows_between_the_brows_lift_unless_the_target_frowns() -> None:
    """MediaPipe reads no browDown on some frowning photos (the shouting photo: 0.01), so
    the source's furrows between the brows are lifted whatever its blendshapes say, as long
    as the target does not frown itself."""
    calm = np.zeros(len(BLENDSHAPE_NAMES), dtype=np.float32)
    assert region_weights(calm, calm).lift["between brows"] == 1.0
    assert region_weights(calm, calm).fade["between brows"] == 0.0
    assert "forehead" not in region_weights(calm, calm).lift, "only between the brows"
    frowning = calm.copy()
    frowning[BLENDSHAPE_NAMES.index("browDownRight")] = 0.5
    assert region_weights(calm, frowning).lift["between brows"] == 0.0
    # A target that always reads this frown (MediaPipe's per-person bias) does not show one.
    assert region_weights(calm, frowning, target_usual=frowning).lift["between brows"] == 1.0


def test_forehead_lines_fade_under_the_targets_raised_brows(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """The shouting photo (browInnerUp 0.24, browOuterUp 0.13-0.18) onto d10 (0.56-0.99,
    her usual): her smooth forehead under brows raised well beyond the photo's is what the
    expression draws, so the photo's forehead furrows fade; only the forehead, not for
    brows alike or slightly raised, not for a photo whose brows are at rest."""
    shout = blendshapes(browInnerUp=0.24, browOuterUpLeft=0.18, browOuterUpRight=0.13)
    raised = blendshapes(browInnerUp=0.56, browOuterUpLeft=0.76, browOuterUpRight=0.45)
    weights = region_weights(shout, raised, target_usual=raised)
    assert weights.fade["forehead"] > 0.7
    assert weights.deepen["forehead"] == 0.0, "her usual: her lines are not taken"
    assert weights.fade["between brows"] == weights.fade["eye corners"] == 0.0
    assert region_weights(shout, shout).fade["forehead"] == 0.0
    slightly = blendshapes(browInnerUp=0.35, browOuterUpLeft=0.3, browOuterUpRight=0.3)
    assert region_weights(shout, slightly).fade["forehead"] == 0.0
    # The older woman's photo (0.27 / 0.02 / 0.03) under her target's slight raise keeps
    # its own forehead lines.
    older = blendshapes(browInnerUp=0.27, browOuterUpLeft=0.02, browOuterUpRight=0.03)
    lifted = blendshapes(browInnerUp=0.13, browOuterUpLeft=0.34, browOuterUpRight=0.01)
    assert region_weights(older, lifted).fade["forehead"] == 0.0
    # A photo at rest (Paul Rudd's, 0.00) keeps its lines under Katie Hill's raise.
    rest = blendshapes()
    katie = blendshapes(browInnerUp=0.49, browOuterUpLeft=0.42, browOuterUpRight=0.57)
    assert region_weights(rest, katie).fade["forehead"] == 0.0


def test_the_lift_takes_a_furrow_but_adds_no_light() -> None:
    """`lift` lightens the source's own furrow toward the target's plain skin, and where
    the source has none it puts nothing of the target's lighter structure on it."""
    folded, plain, skin, weight = _fold_and_weight()
    nowhere = np.zeros_like(weight)
    lifted = follow_target_lines(folded, plain, nowhere, skin, lift=weight)
    untouched = follow_target_lines(plain, folded, nowhere, skin, lift=weight)

    assert luma(lifted) - luma(folded) > 0.4 * (luma(plain) - luma(folded))
    assert luma(lifted) <= luma(plain) + 2.0
    assert abs(luma(untouched) - luma(plain)) < 2.0


def _thin_line_disc(line: bool, pores: bool = False, depth: float = 0.35,
                    broad: float = 0.0) -> np.ndarray:
    """A 512 px skin disc (as `_skin_disc`, twice the size) with or without a sharp dark
    line two pixels wide down its left half (a deep fold's core) `depth` dark, optionally
    with dark pores a pixel wide beside it and a broad fold (12 px wide) `broad` dark
    around it."""
    yy, xx = np.mgrid[0:512, 0:512]
    skin = ((xx - 256) / 180.0) ** 2 + ((yy - 256) / 220.0) ** 2 < 1.0
    image = np.where(skin[..., None], np.array([205, 160, 140]), np.array([30, 25, 25]))
    shade = 1.0 - broad * np.exp(-((xx - 130.0) ** 2) / (2 * 6.0**2))
    if line:
        shade *= 1.0 - depth * np.exp(-((xx - 130.0) ** 2) / (2 * 0.8**2))
    if pores:
        shade[(yy % 9 == 0) & (xx % 9 == 0) & (np.abs(xx - 130) > 20)] = 0.8
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def test_a_thin_fold_goes_with_its_core_and_the_targets_stays() -> None:
    """A fold finer than the bands see (they start above a pixel at half size) is lifted
    whole where its band is lifted, not left as a thin dark line; the same line in the
    target stays (the target's own), and the source's pores around it stay."""
    skin = _skin_disc(fold=False)[1]
    weight = np.zeros((256, 256), dtype=np.float32)
    weight[60:200, 35:95] = 1.0
    weight = cv2.GaussianBlur(weight, (0, 0), 3)
    nowhere = np.zeros_like(weight)
    folded, plain = _thin_line_disc(True, pores=True), _thin_line_disc(False, pores=True)

    def depth(image: np.ndarray) -> float:  # the line's darkness against its sides
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[230:290]
        return float(grey[:, [124, 136]].mean() - grey[:, 130].mean())

    faded = follow_target_lines(folded, plain, weight, skin, nowhere)
    kept = follow_target_lines(folded, folded, weight, skin, nowhere)
    assert depth(faded) < 0.25 * depth(folded)
    assert abs(depth(kept) - depth(folded)) < 2.0
    pores = (slice(225, 290, 9), slice(90, 117, 9))  # beside the line, inside the weight
    assert np.abs(faded[pores].astype(int) - folded[pores].astype(int)).max() <= 3


def _fold_weight() -> tuple[np.ndarray, np.ndarray]:
    skin = _skin_disc(fold=False)[1]
    weight = np.zeros((256, 256), dtype=np.float32)
    weight[60:200, 35:95] = 1.0
    return cv2.GaussianBlur(weight, (0, 0), 3), skin


def test_a_thin_folds_lift_leaves_no_light_stripe() -> None:
    """The band's lift, measured with the fold's thin core, spread over the plain skin
    beside it; the core was then filled up to that: a light stripe where the fold was (a
    very dark line's: 40 levels)."""
    weight, skin = _fold_weight()
    plain = cv2.cvtColor(_thin_line_disc(False), cv2.COLOR_RGB2GRAY).astype(int)
    for depth in (0.35, 0.9):
        folded = _thin_line_disc(True, depth=depth)
        faded = follow_target_lines(folded, _thin_line_disc(False), weight, skin,
                                    np.zeros_like(weight))
        grey = cv2.cvtColor(faded, cv2.COLOR_RGB2GRAY).astype(int)
        assert (grey[200:320, 110:150] <= plain[200:320, 110:150] + 2).all(), depth


def test_the_targets_thin_fold_stays_where_its_band_is_lifted() -> None:
    """A source fold (a thin core in a broad shade) onto a target with the same core but no
    shade: the shade is lifted, and the core keeps the target's depth (lifted only as far
    as it is darker than the target's)."""
    weight, skin = _fold_weight()
    source = _thin_line_disc(True, broad=0.2)
    target = _thin_line_disc(True)
    out = follow_target_lines(source, target, weight, skin, np.zeros_like(weight))

    def grey(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[230:290].mean(0)

    def depth(image: np.ndarray) -> float:
        return float(grey(image)[[124, 136]].mean() - grey(image)[130])

    assert grey(out)[[124, 136]].mean() - grey(source)[[124, 136]].mean() > 5.0
    assert abs(depth(out) - depth(target)) < 0.2 * depth(target)


def test_a_grown_region_is_whole_on_its_outline(closed_mouth: TargetFace) -> None:
    """Softened, a region's share is about half on its outline (a fold running along the
    cheeks' inner edge beside the nose wing kept half of itself); grown, it is whole
    there, and nothing is taken away inside."""
    landmarks = closed_mouth.face_landmarks
    plain = line_weight_map(landmarks, CROP, {"cheeks": 1.0})
    grown = line_weight_map(landmarks, CROP, {"cheeks": 1.0}, grow=0.12)
    cheek = LINE_REGIONS[0].polygons[0]
    triangles, barycentric = template_anchors(cheek)
    corners = mesh_vertices(landmarks)[mesh_topology().triangles[triangles]]
    outline = np.round(np.einsum("nk,nkd->nd", barycentric, corners)).astype(int)
    inner_edge = outline[[9, 10, 11]]  # beside the nose wing and the upper lip
    assert plain[inner_edge[:, 1], inner_edge[:, 0]].max() < 0.8
    assert grown[inner_edge[:, 1], inner_edge[:, 0]].min() > 0.9
    assert (grown >= plain - 1e-6).all()


def test_the_targets_corners_show_as_far_as_it_smiles_more(
        blendshapes: Callable[..., np.ndarray]) -> None:
    """The target's own mouth corners: from a smile 0.1 above the source's, wholly from
    0.25 above; never for a source that smiles as much or more."""
    neutral = blendshapes()
    slight = blendshapes(mouthSmileLeft=0.09, mouthSmileRight=0.09)
    assert target_corners_share(neutral, slight) == 0.0
    broad = blendshapes(mouthSmileLeft=0.3, mouthSmileRight=0.3)
    assert target_corners_share(neutral, broad) == 1.0
    halfway = blendshapes(mouthSmileLeft=0.175, mouthSmileRight=0.175)
    assert target_corners_share(neutral, halfway) == pytest.approx(0.5, abs=1e-3)
    smiling = blendshapes(mouthSmileLeft=0.4, mouthSmileRight=0.4)
    assert target_corners_share(smiling, neutral) == 0.0, "a smiling source: its lips' rule"
    assert target_corners_share(smiling, smiling) == 0.0


def test_the_corners_mask_is_round_the_mouth_corners_not_the_lips_middle(
        closed_mouth: TargetFace) -> None:
    landmarks = closed_mouth.face_landmarks
    mask = corners_mask(landmarks, CROP)
    width = float(np.linalg.norm(landmarks[61, :2] - landmarks[291, :2]))
    for corner in (61, 291):
        x, y = np.round(landmarks[corner, :2]).astype(int)
        assert mask[y, x] == 1.0
        assert mask[y, x + (1 if corner == 291 else -1) * round(0.15 * width)] == 1.0
    middle = np.round(landmarks[13, :2]).astype(int)
    assert mask[middle[1], middle[0]] == 0.0
    assert float(mask.sum()) < 2 * np.pi * (0.35 * width) ** 2


def test_a_neutral_source_onto_a_smiling_target_keeps_the_targets_corners(
        blendshapes: Callable[..., np.ndarray],
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """A neutral photo with a moustache onto a smiling mouth: the moustache's ends beside
    the corners read as an unsmiling mouth (hair-forehead, smile within 0.1 on 2% of
    frames); where the target smiles more, the skin round its own corners shows, coming in
    over four frames. The lips stay the source's."""
    source = extracted("still_kit_harington_turned.jpg", crop_size=CROP)
    target = first_target_face("clip_deepfacelive_twitch_streamer_webcam.mp4", CROP)
    source_smile = source.faces_of()[0].blendshapes
    assert target_corners_share(source_smile, source_smile) == 0.0
    smiling = replace(target, blendshapes=np.maximum(target.blendshapes, blendshapes(
        mouthSmileLeft=0.4, mouthSmileRight=0.4)))
    as_source = replace(target, blendshapes=np.asarray(source_smile))
    assert target_corners_share(source_smile, smiling.blendshapes) == 1.0
    lips = lips_mask(target.face_landmarks, CROP)
    corners = (corners_mask(target.face_landmarks, CROP) > 0.99) & (lips == 0.0)
    middle = lips > 0.99

    def differences(faces: list[TargetFace]) -> list[tuple[float, float]]:
        engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
        found = []
        for face in faces:
            swapped = engine.swap_face(face).image.astype(np.float32)
            shown = np.abs(swapped - target.image).mean(axis=2)
            found.append((float(np.median(shown[corners])), float(np.median(shown[middle]))))
        return found

    (kept_corners, kept_middle), = differences([smiling])
    (source_corners, _), = differences([as_source])
    assert kept_corners < 3.0 < 10.0 < source_corners
    assert kept_middle > 6.0, "the lips stay the source's"
    # From a track's unsmiling frame to a smiling one the corners come in a quarter a frame.
    rising = [corner for corner, _ in differences([as_source] + [smiling] * 4)]
    assert rising[1] > 0.6 * source_corners
    assert rising[4] < 3.0


def test_the_targets_corners_bring_no_moustache_onto_a_smooth_source(
        blendshapes: Callable[..., np.ndarray],
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        moustache_ends: Callable[..., np.ndarray]) -> None:
    """A moustache's or goatee's ends on the target's corner skin stay off a smooth source
    (Lin-Manuel Miranda's round Paul Rudd's mouth, occlusion-mic, at 1x): where the
    target's skin there is darker against its surroundings than the source's, the source's
    corners show. Painted: dark strokes beside a smooth-skinned woman's corners."""
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=CROP)
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", CROP)
    strokes = moustache_ends(target.face_landmarks, CROP)
    painted = target.image.copy()
    painted[strokes > 0] = (painted[strokes > 0] * 0.35).astype(np.uint8)
    disc = ((corners_mask(target.face_landmarks, CROP) > 0.99)
            & (lips_mask(target.face_landmarks, CROP) == 0.0))

    def kept(image: np.ndarray, smile: float = 0.4) -> float:
        smiling = replace(target, image=image, blendshapes=np.maximum(
            target.blendshapes, blendshapes(mouthSmileLeft=smile, mouthSmileRight=smile)))
        engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
        swapped = engine.swap_face(smiling)
        assert swapped.kept is not None
        return float(np.median(swapped.kept[disc]))

    assert kept(target.image) > 0.9, "her bare corners are kept"
    assert kept(painted) < 0.1, "not with a moustache the source lacks"
    assert kept(painted, smile=0.8) < 0.1, "nor on a broad smile"
    # Fainter strokes are a smile's own crease where she smiles broadly (the streamer's
    # corners, hair-forehead).
    creased = target.image.copy()
    creased[strokes > 0] = (creased[strokes > 0] * CREASE_SHADE).astype(np.uint8)
    assert kept(creased, smile=0.45) > 0.9, "a broad smile's crease is its own"


def test_not_darker_is_one_on_the_same_skin_and_falls_where_the_target_is_darker() -> None:
    rng = np.random.default_rng(0)
    skin = np.clip(150 + rng.normal(0, 3, (96, 96, 3)), 0, 255).astype(np.float32)
    darker = skin.copy()
    darker[40:56, 40:44] -= 60
    region = np.zeros((96, 96), dtype=np.float32)
    region[36:60, 36:48] = 1.0
    assert not_darker(skin, skin, region, 256) == 1.0
    assert not_darker(skin, darker, region, 256) == 0.0
    assert not_darker(darker, skin, region, 256) == 1.0, "a darker source is its own"
    assert not_darker(skin, darker, np.zeros_like(region), 256) == 1.0


def test_the_corners_gate_allows_a_smiling_targets_own_crease() -> None:
    """A smile deepens the crease beside its corners: the streamer's read 5.6-7.4 levels
    darker than Kit Harington's where he smiles 0.36-0.45 (hair-forehead), and the gate took
    his corners away there. Allowed in proportion to the target's smile; a moustache's far
    darker ends stay off even on a broad smile (Miranda's, 10-18 levels)."""
    rng = np.random.default_rng(0)
    skin = np.clip(150 + rng.normal(0, 3, (96, 96, 3)), 0, 255).astype(np.float32)
    region = np.zeros((96, 96), dtype=np.float32)
    region[36:60, 36:48] = 1.0
    crease, moustache = skin.copy(), skin.copy()
    crease[40:56, 40:44] -= 40
    moustache[40:56, 40:44] -= 100
    assert not_darker(skin, crease, region, 256) < 0.1, "unsmiling: as dark as a moustache"
    assert not_darker(skin, crease, region, 256, smile=0.45) == 1.0
    assert not_darker(skin, moustache, region, 256, smile=0.78) == 0.0


def test_a_video_source_keeps_its_own_corners_under_a_smiling_target(
        blendshapes: Callable[..., np.ndarray],
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """A source of several faces is chosen by its mouth's blendshapes too, and the target's
    corners there cost likeness (headturn-man): only a photo source shows them."""
    source = extracted("clip_liveportrait_d18_man_frontal_mouth.mp4", max_frames=6, every=3,
                       crop_size=CROP)
    assert len(source.faces_of()) > 1
    # A smooth-skinned target, so that no darker corner skin holds the corners back.
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", CROP)
    smiling = replace(target, blendshapes=np.maximum(target.blendshapes, blendshapes(
        mouthSmileLeft=0.6, mouthSmileRight=0.6)))
    corners = ((corners_mask(target.face_landmarks, CROP) > 0.99)
               & (lips_mask(target.face_landmarks, CROP) == 0.0))
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    swapped = engine.swap_face(smiling)
    assert swapped.kept is not None
    assert float(np.median(swapped.kept[corners])) < 0.05


def test_a_tracks_corners_start_afresh_after_it_ends(
        blendshapes: Callable[..., np.ndarray],
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """`end_track` forgets the corners' eased share: a new track that smiles more than the
    source shows its corners at once, not a quarter of the way up from the old track's."""
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=CROP)
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", CROP)
    neutral = replace(target, blendshapes=np.asarray(source.faces_of()[0].blendshapes))
    smiling = replace(target, blendshapes=np.maximum(target.blendshapes, blendshapes(
        mouthSmileLeft=0.6, mouthSmileRight=0.6)))
    corners = ((corners_mask(target.face_landmarks, CROP) > 0.99)
               & (lips_mask(target.face_landmarks, CROP) == 0.0))
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    assert float(np.median(engine.swap_face(neutral).kept[corners])) < 0.05
    rising = engine.swap_face(smiling).kept
    assert float(np.median(rising[corners])) < 0.3, "eased within the track"
    engine.end_track(0)
    engine.swap_face(neutral)
    engine.end_track(0)
    assert float(np.median(engine.swap_face(smiling).kept[corners])) > 0.9


def test_the_corners_gate_reads_only_what_the_frame_shows(
        blendshapes: Callable[..., np.ndarray],
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """A target face cut by the frame's edge below its mouth: the black fill past the edge
    is no darker skin, and the corners still in the frame are shown."""
    source = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=CROP)
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", CROP)
    points = target.face_landmarks[:, :2]
    cut_row = round(max(points[61, 1], points[291, 1]) + 6)
    in_frame = np.ones((CROP, CROP), dtype=bool)
    in_frame[cut_row:] = False
    cut = replace(target, image=np.where(in_frame[..., None], target.image, 0).astype(np.uint8),
                  in_frame=in_frame, blendshapes=np.maximum(target.blendshapes, blendshapes(
                      mouthSmileLeft=0.6, mouthSmileRight=0.6)))
    corners = ((corners_mask(target.face_landmarks, CROP) > 0.99)
               & (lips_mask(target.face_landmarks, CROP) == 0.0) & in_frame)
    engine = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
    swapped = engine.swap_face(cut)
    assert swapped.kept is not None
    assert float(np.median(swapped.kept[corners])) > 0.9


def _lit_between_the_brows(frown: bool) -> np.ndarray:
    """A skin disc (as `_skin_disc`) lit down its middle as a glabella is (0.2 lighter at
    its centre, 14 px sigma), with or without a frown there: two furrows 0.15 dark, 16 px
    apart, and the bunched skin between them 0.08 lighter."""
    plain, _ = _skin_disc(fold=False)
    xx = np.mgrid[0:256, 0:256][1].astype(np.float64)
    shade = 1.0 + 0.2 * np.exp(-((xx - 128.0) ** 2) / (2 * 14.0**2))
    if frown:
        shade *= 1.0 + 0.08 * np.exp(-((xx - 128.0) ** 2) / (2 * 3.0**2))
        for furrow in (120.0, 136.0):
            shade *= 1.0 - 0.15 * np.exp(-((xx - furrow) ** 2) / (2 * 2.0**2))
    return np.clip(plain * shade[..., None], 0, 255).astype(np.uint8)


def test_a_frowns_furrows_on_lit_skin_are_lifted() -> None:
    """Furrows on lit skin, beside a lit ridge, lie barely below the band's zero or above
    it (the light lifts the skin's broad level): measured against the skin beside them
    they are lifted toward the target's smooth, as lit skin (the shouting photo's
    vertical furrows between d10's brows: their band -0.02, the skin beside them
    0.09-0.13 higher); the ridge between them is not darkened."""
    _, skin = _skin_disc(fold=False)
    frown, smooth = _lit_between_the_brows(True), _lit_between_the_brows(False)
    weight = np.zeros((256, 256), dtype=np.float32)
    weight[70:190, 95:161] = 1.0
    weight = cv2.GaussianBlur(weight, (0, 0), 3)
    nowhere = np.zeros_like(weight)
    lifted = follow_target_lines(frown, smooth, nowhere, skin, lift=weight)

    def left(columns: slice) -> float:
        """The share of the frown's difference from the smooth skin left after the lift."""
        def grey(image: np.ndarray) -> float:
            return float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[110:150, columns].mean())
        return (grey(lifted) - grey(smooth)) / (grey(frown) - grey(smooth))

    assert left(slice(119, 122)) < 0.4  # the furrow (main: 0.47)
    assert left(slice(127, 130)) >= 0.95  # the ridge left as it is
    # Where the target frowns the same, nothing moves.
    assert np.abs(follow_target_lines(frown, frown, nowhere, skin, lift=weight).astype(int)
                  - frown).max() <= 1


def test_the_nose_roots_highlight_stays_under_the_lift(
        extracted: Callable[..., Faceset], closed_mouth: TargetFace) -> None:
    """Rowan Atkinson's photo onto the talking man (who does not frown): between the
    brows his furrows are lifted, and nothing there is darkened: not the highlight down
    his nose root, between the short shadows beside it, nor the lit skin between his
    forehead lines (ungated, 10-15 levels darker at worst)."""
    source = extracted("still_rowan_atkinson_older_man.jpg", crop_size=CROP)
    # The target's first frame is its own usual expression, as in the swap.
    weights = region_weights(source.faces_of()[0].blendshapes, closed_mouth.blendshapes,
                             closed_mouth.blendshapes)
    assert weights.lift["between brows"] == 1.0
    # Gated by his own crop's wrinkles, as the engine gates them (`SourceWrinkles`).
    record = source.faces_of()[0]
    weights = replace(weights, lift=gated_lift(weights.lift, wrinkled_shares(
        source.load_image(record), landmarks_in_crop(record.frame_landmarks,
                                                     record.face_from_frame))))
    face = MeshEngine(source, MeshEngineConfig(follow=1.0, target_expression_lines=False)
                      ).swap_face(closed_mouth).image
    lined = target_expression_lines(face, closed_mouth.image, closed_mouth.face_landmarks,
                                    weights)
    change = (cv2.cvtColor(lined, cv2.COLOR_RGB2GRAY).astype(int)
              - cv2.cvtColor(face, cv2.COLOR_RGB2GRAY))
    nose_root = np.zeros((CROP, CROP), dtype=np.uint8)
    for point in (168, 6):
        x, y = np.round(closed_mouth.face_landmarks[point, :2]).astype(int)
        cv2.circle(nose_root, (int(x), int(y)), 7, 1, -1)
    assert change[nose_root > 0].min() >= -1
    lifted = line_weight_map(closed_mouth.face_landmarks, CROP, {"between brows": 1.0})
    assert change[lifted > 0.05].min() >= -1
    assert change[lifted > 0.05].max() > 10  # his furrows are lifted
