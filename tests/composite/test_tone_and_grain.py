"""composite/tone.py and composite/grain.py: the target's light and tone with the source's
detail, and the frame's grain on a face smoother than it."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.composite.color import from_lab, masked_blur, to_lab
from facedub.composite.grain import grain_level, match_grain
from facedub.composite.tone import (
    HAIR_CHROMA,
    RELIEF_LIMIT,
    carry_detail,
    lid_weights,
    socket_weights,
)
from facedub.engines.base import TargetFace
from facedub.faces.regions import mesh_regions

SIZE = 128


def _skin(level: float, seed: int) -> np.ndarray:
    """A smooth skin-like patch with a little texture, (S, S, 3) uint8 RGB."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0, 6, (SIZE, SIZE)).astype(np.float32), (0, 0), 1.5)
    base = np.array([level, level * 0.75, level * 0.62], dtype=np.float32)
    return np.clip(base + texture[..., None], 0, 255).astype(np.uint8)


def test_the_result_takes_the_targets_low_frequencies_and_the_sources_detail() -> None:
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    target = _skin(150, 0)
    source = _skin(200, 1)
    source[:, : SIZE // 2, 2] = 230  # a blotch of invented colour over half the face
    cv2.circle(source, (SIZE // 2, SIZE // 2), 3, (40, 30, 25), -1)  # a dark mole
    sigma = SIZE / 16
    result = carry_detail(to_lab(source), to_lab(target), mask, sigma)
    low_result = masked_blur(result, mask, sigma)
    low_target = masked_blur(to_lab(target), mask, sigma)
    inner = (slice(16, -16), slice(16, -16))
    assert np.abs(low_result - low_target)[inner].max() < 3.0  # light, tone and hue: target's
    rgb = from_lab(result).astype(int)
    mole = rgb[SIZE // 2, SIZE // 2].sum()
    around = rgb[SIZE // 2, SIZE // 2 + 12].sum()
    assert mole < around - 60  # the source's detail survives


def test_identical_face_and_target_come_back_unchanged() -> None:
    target = _skin(150, 2)
    lab = to_lab(target)
    result = carry_detail(lab, lab, np.ones((SIZE, SIZE), dtype=np.float32), SIZE / 16)
    assert np.abs(from_lab(result).astype(int) - target.astype(int)).max() <= 2


def test_grain_is_added_to_a_smooth_face_up_to_the_frames_level() -> None:
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    rng = np.random.default_rng(3)
    smooth = np.full((SIZE, SIZE, 3), 140, dtype=np.uint8)
    grainy = np.clip(140 + rng.normal(0, 5, (SIZE, SIZE, 1)), 0, 255).astype(np.uint8)
    grainy = np.repeat(grainy, 3, axis=2)
    matched = match_grain(smooth, grainy, mask, rng)
    level = grain_level(cv2.cvtColor(matched, cv2.COLOR_RGB2GRAY).astype(np.float32), mask)
    wanted = grain_level(grainy[..., 0].astype(np.float32), mask)
    assert abs(level - wanted) < 0.25 * wanted
    assert match_grain(grainy, smooth, mask, rng) is grainy  # never removed
    # A face that already carries the frame's grain (an engine handing back the target's
    # own face) gets none added on top.
    assert match_grain(grainy, grainy, mask, rng) is grainy


def test_a_dark_fold_on_the_skin_is_flattened_but_not_on_the_features() -> None:
    from facedub.composite.tone import skin_weights
    from facedub.faces.regions import mesh_regions
    from facedub.faces.template import face_template

    template = face_template()[:, :2]
    points = (template - template.mean(axis=0)) * (SIZE * 0.35) + SIZE / 2
    skin = skin_weights(points, SIZE).folds
    eye = points[mesh_regions().left_eye].mean(axis=0)
    fold = (points[64] + points[61]) / 2 + (points[61] - points[291]) * 0.1  # beside the mouth
    forehead = points[151]
    assert skin[round(eye[1]), round(eye[0])] < 0.1  # the features keep the source's detail
    assert skin[round(forehead[1]), round(forehead[0])] < 0.1  # and so does the rest
    assert skin[round(fold[1]), round(fold[0])] > 0.5
    target = _skin(150, 0)
    source = _skin(150, 1)
    cv2.line(source, (20, 30), (30, 100), (60, 45, 35), 6)  # a fold, a broad dark line
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    everywhere = np.ones((SIZE, SIZE), dtype=np.float32)
    plain = from_lab(carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16))
    on_skin = from_lab(carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16,
                                    skin=everywhere))
    fold, beside = (25, 65), (45, 65)  # (x, y) on the line and beside it
    depth_plain = int(plain[beside[1], beside[0]].sum()) - int(plain[fold[1], fold[0]].sum())
    depth_skin = int(on_skin[beside[1], beside[0]].sum()) - int(on_skin[fold[1], fold[0]].sum())
    assert depth_plain > 90
    assert depth_skin < depth_plain / 2


def test_a_dark_sources_pale_lids_do_not_become_pale_patches() -> None:
    """A dark-skinned source's pale, bluish lid (+30 L on its own skin) is not added whole
    to a light target's skin; its dark lid crease still is."""
    from facedub.composite.tone import lid_weights
    from facedub.faces.regions import mesh_regions
    from facedub.faces.template import face_template

    template = face_template()[:, :2]
    points = (template - template.mean(axis=0)) * (SIZE * 0.35) + SIZE / 2
    lids = lid_weights(points, SIZE)
    regions = mesh_regions()
    eye = points[regions.left_eye].mean(axis=0)
    brow = points[regions.left_eyebrow].mean(axis=0)
    lid = (eye + brow) / 2
    cheek = points[205]
    assert lids[round(lid[1]), round(lid[0])] > 0.7
    assert lids[round(eye[1]), round(eye[0])] < 0.5  # the opening is the target's own
    assert lids[round(cheek[1]), round(cheek[0])] < 0.1

    target = _skin(200, 0)
    source = _skin(70, 1)
    cv2.circle(source, (40, 40), 8, (150, 160, 190), -1)  # a pale, bluish lid
    cv2.line(source, (20, 90), (60, 90), (25, 20, 18), 2)  # a dark lid crease
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    everywhere = np.ones((SIZE, SIZE), dtype=np.float32)
    # The colour split at sigma, like the lightness (chroma_divisor 1): at the default
    # finer split the target's own colour already covers a patch this size (r 8 px at
    # sigma 8), and the lids' rule is what this test is about.
    plain = to_lab(from_lab(carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16,
                                         chroma_divisor=1.0)))
    on_lids = to_lab(from_lab(carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16,
                                           lids=everywhere, chroma_divisor=1.0)))
    background = (40, 70)
    for result, pale in ((plain, True), (on_lids, False)):
        lift = result[40, 40, 0] - result[background[1], background[0], 0]
        blue = result[background[1], background[0], 2] - result[40, 40, 2]
        assert (lift > 15) == pale and (blue > 6) == pale
    crease = on_lids[background[1], background[0], 0] - on_lids[90, 40, 0]
    assert crease > 10


def test_the_face_shows_the_targets_mean_tone_where_it_is_blended_in() -> None:
    """A target brighter and paler in its middle than at its rim, a flatly lit source:
    the low-pass averages middle and rim, so the middle (what a feathered blend shows)
    came out darker and warmer than the target's; levelled on what shows, it is not."""
    yy, xx = np.mgrid[:SIZE, :SIZE].astype(np.float32)
    radius = np.hypot(yy - SIZE / 2, xx - SIZE / 2) / (SIZE / 2)
    target_lab = to_lab(_skin(150, 0))
    target_lab[..., 0] += 12.0 * (0.5 - radius)  # lit in the middle, shaded at the rim
    target_lab[..., 1] += 4.0 * (radius - 0.5)  # and warmer where shaded
    source_lab = to_lab(_skin(200, 1))
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    alpha = np.clip((0.6 - radius) / 0.2, 0.0, 1.0).astype(np.float32)  # the feathered face
    sigma = SIZE / 8

    def offset(result: np.ndarray) -> np.ndarray:
        weighted = np.einsum("hwc,hw->c", result - target_lab, alpha)
        return np.asarray(weighted / alpha.sum())

    # The fault with the colour split at sigma like the lightness (chroma_divisor 1; the
    # finer default split keeps the target's warmer rim as its colour already).
    plain = offset(carry_detail(source_lab, target_lab, mask, sigma, chroma_divisor=1.0))
    levelled = offset(carry_detail(source_lab, target_lab, mask, sigma, shown=alpha))
    assert plain[0] < -1.0 and plain[1] > 0.3  # the fault: darker and warmer where shown
    assert np.abs(levelled).max() < 0.3


def _broad_shade(image: np.ndarray, depth: float, sigma: float) -> np.ndarray:
    """`image` darkened (`depth` > 0) or lit (< 0) by a Gaussian of `sigma` pixels in the
    middle: a socket's or a cheekbone's relief, broader than the detail split's sigma,
    finer than the face's light."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    shade = 1.0 - depth * np.exp(-((xs - SIZE / 2) ** 2 + (ys - SIZE / 2) ** 2)
                                 / (2 * sigma * sigma))
    return np.clip(image * shade[..., None], 0, 255).astype(np.uint8)


def _rise(lab: np.ndarray, mask: np.ndarray) -> float:
    """L at the middle less L 40 px beside it, lightly blurred."""
    low = masked_blur(lab, mask, 2.0)
    return float(low[SIZE // 2, SIZE // 2][0] - low[SIZE // 2, SIZE // 2 + 40][0])


def test_relief_keeps_the_sources_middle_scale_highlight_and_the_targets_colour() -> None:
    """The target's low-pass below crop/16 carried its own cheekbones, brow ridge and
    nose, which read as the target's identity (older-glasses nearer the source 20%): with
    `relief` the source's lighter band from sigma to RELIEF_COARSE sigma is kept; its
    colour, and the light broader than that, stay the target's."""
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    sigma = SIZE / 16
    target = _skin(150, 4)
    source = _broad_shade(_skin(150, 5), -0.12, 1.5 * sigma)
    plain = carry_detail(to_lab(source), to_lab(target), mask, sigma)
    kept = carry_detail(to_lab(source), to_lab(target), mask, sigma, relief=1.0)
    # Without it only the part finer than sigma survives (about a third); with it most.
    assert _rise(plain, mask) < 0.4 * _rise(to_lab(source), mask)
    assert _rise(kept, mask) > 0.75 * _rise(to_lab(source), mask)
    inner = (slice(16, -16), slice(16, -16))
    chroma_moved = np.abs(masked_blur(kept, mask, sigma) - masked_blur(plain, mask, sigma))
    assert chroma_moved[inner][..., 1:].max() < 1.0  # colour: the target's
    broad = masked_blur(kept, mask, 4 * sigma) - masked_blur(to_lab(target), mask, 4 * sigma)
    assert np.abs(broad[inner][..., 0]).mean() < 3.0  # broad light: the target's


def test_relief_never_deepens_the_targets_sockets() -> None:
    """A source socket deeper than the target's is not carried darker: taken both ways,
    the source's deeper sockets and darker brows came out as grey patches round the eyes
    (film-headturn, hair-forehead). Before the levelling (`shown`, which moves the whole
    face's mean back to the target's), nothing of the relief darkens the face anywhere."""
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    sigma = SIZE / 16
    target = to_lab(_skin(150, 4))
    source = to_lab(_broad_shade(_skin(150, 5), 0.2, 1.5 * sigma))
    plain = carry_detail(source, target, mask, sigma)
    kept = carry_detail(source, target, mask, sigma, relief=1.0)
    assert (kept[..., 0] - plain[..., 0]).min() > -0.1


def test_relief_scales_with_the_two_faces_lightness() -> None:
    """A pale source's relief on a dark face is scaled to the dark face's lightness
    (shading multiplies the light: the same relief is fewer L units on a darker face), and
    softly limited."""
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    sigma = SIZE / 16
    source = _broad_shade(_skin(200, 6), -0.16, 1.5 * sigma)
    added = {}  # what the relief adds to the rise, on a face as light and on a dark one
    for level in (200, 80):
        target = to_lab(_skin(level, 7))
        added[level] = (_rise(carry_detail(to_lab(source), target, mask, sigma, relief=1.0),
                              mask)
                        - _rise(carry_detail(to_lab(source), target, mask, sigma), mask))
    assert added[200] > 0.5 * RELIEF_LIMIT
    assert added[80] < 0.75 * added[200]
    # A strong highlight is limited: at most RELIEF_LIMIT lighter at its centre.
    strong = _broad_shade(_skin(150, 6), -0.5, 1.5 * sigma)
    target = to_lab(_skin(150, 7))
    assert (_rise(carry_detail(to_lab(strong), target, mask, sigma, relief=1.0), mask)
            - _rise(carry_detail(to_lab(strong), target, mask, sigma), mask)
            ) <= RELIEF_LIMIT + 0.5


def test_dark_detail_marked_as_hair_is_no_more_saturated_than_the_skin() -> None:
    """A stubble band on the face (darker, its own skin's colour), carried onto the
    target: without `hair` it keeps the target's chroma at a lower lightness (brown);
    with it its chroma per lightness is at most the skin's, never below HAIR_CHROMA of
    the skin's chroma; the rest of the face, and the band's lightness, are unchanged."""
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    target, face = _skin(180, 3), _skin(190, 4)
    band = (slice(60, 72), slice(24, 104))
    face[band] = (face[band] * 0.6).astype(np.uint8)  # the stubble's darkness
    hair = np.zeros((SIZE, SIZE), dtype=np.float32)
    hair[48:84, 16:112] = 1.0
    plain = carry_detail(to_lab(face), to_lab(target), mask, SIZE / 16)
    greyed = carry_detail(to_lab(face), to_lab(target), mask, SIZE / 16, hair=hair)

    def saturation(lab: np.ndarray) -> float:
        return float(np.median(np.hypot(lab[..., 1], lab[..., 2]) / lab[..., 0]))

    inner = (slice(63, 69), slice(40, 88))
    skin = (slice(20, 40), slice(40, 88))
    assert saturation(plain[inner]) > 1.08 * saturation(plain[skin])  # 1.11
    assert saturation(greyed[inner]) <= 1.01 * saturation(greyed[skin])
    chroma = np.hypot(greyed[..., 1], greyed[..., 2])
    assert float(chroma[inner].min()) >= HAIR_CHROMA * float(np.median(chroma[skin])) - 0.5
    assert np.allclose(greyed[..., 0], plain[..., 0])
    outside = hair == 0
    assert np.allclose(greyed[outside], plain[outside])


def test_dark_hair_keeps_a_little_of_the_skins_colour() -> None:
    """Stubble far darker than the skin, marked as hair: greyed, but not to a neutral
    grey (that read ashy, bluish on Obama's skin): between a fifth and a half of the
    chroma it had carried as it was."""
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    target, face = _skin(180, 3), _skin(190, 4)
    band = (slice(60, 72), slice(24, 104))
    face[band] = (face[band] * 0.3).astype(np.uint8)
    hair = np.zeros((SIZE, SIZE), dtype=np.float32)
    hair[48:84, 16:112] = 1.0
    plain = carry_detail(to_lab(face), to_lab(target), mask, SIZE / 16)
    greyed = carry_detail(to_lab(face), to_lab(target), mask, SIZE / 16, hair=hair)
    inner = (slice(63, 69), slice(40, 88))
    ratio = float(np.median(np.hypot(greyed[inner][..., 1], greyed[inner][..., 2])
                            / np.maximum(np.hypot(plain[inner][..., 1], plain[inner][..., 2]),
                                         1e-3)))
    assert 0.65 <= ratio <= 0.85  # 0.72: covered 0.4 by hair 0.3 as colourful; 0.6 if grey


def test_a_top_lit_sources_socket_shadow_is_not_carried_whole_onto_the_lids() -> None:
    """A photo lit from above has deep sockets: a broad shadow under the brow, carried as
    detail it made a grey, box-like patch over a flat-lit target's lids. On the lids its
    middle band may be darker than the target's only by the fold zones' DARK_BAND (and
    softly DARK_SOFT); the lid crease, finer than the band, still passes."""
    target = _skin(200, 0)
    source = _skin(200, 1)
    shadow = np.zeros((SIZE, SIZE), dtype=np.float32)
    cv2.circle(shadow, (40, 40), 10, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 3)
    source = np.clip(source * (1.0 - 0.5 * shadow[..., None]), 0, 255).astype(np.uint8)
    cv2.line(source, (70, 90), (110, 90), (90, 60, 50), 1)  # a dark lid crease
    cv2.line(source, (70, 110), (110, 110), (90, 60, 50), 2)  # a broader one
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    everywhere = np.ones((SIZE, SIZE), dtype=np.float32)
    plain = carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16)
    on_lids = carry_detail(to_lab(source), to_lab(target), mask, SIZE / 16, lids=everywhere,
                           sockets=everywhere)
    background = (90, 40)  # (row, column)

    def darker(result: np.ndarray, row: int, column: int) -> float:
        return float(result[background][0] - result[row, column, 0])

    assert darker(plain, 40, 40) > 12  # carried as it is elsewhere: the socket's shadow
    assert darker(on_lids, 40, 40) < 7
    assert darker(on_lids, 90, 90) > 15  # the crease (19 L as it was)
    # A 2 px crease keeps 14 of its 19 L (10 with the band from sigma / 4)
    assert darker(on_lids, 110, 90) > 12


def test_the_sockets_are_the_lids_without_the_brows(
        first_target_face: Callable[..., TargetFace]) -> None:
    """The socket rule lifts a top-lit photo's shadow under the brows, never the brows
    themselves: a source's darker, thicker brows are who it is (lifted with the lids,
    hair-forehead's Kit Harington lost 5 of 40 frames' likeness)."""
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", 256)
    points = target.face_landmarks[:, :2]
    lids = lid_weights(target.face_landmarks, 256)
    sockets = socket_weights(target.face_landmarks, lids)
    regions = mesh_regions()
    for eye, brow in ((regions.left_eye, regions.left_eyebrow),
                      (regions.right_eye, regions.right_eyebrow)):
        brow_points = np.round(points[brow]).astype(int)
        assert np.median(lids[brow_points[:, 1], brow_points[:, 0]]) > 0.5
        assert np.median(sockets[brow_points[:, 1], brow_points[:, 0]]) < 0.1
        # A quarter of the way from the eye's top to the brow's bottom: the socket (the
        # brows' hull reaches halfway down there on d10's raised brows).
        eye_top = points[eye][np.argmin(points[eye][:, 1])]
        brow_bottom = points[brow][np.argmax(points[brow][:, 1])]
        x, y = np.round(eye_top + 0.25 * (brow_bottom - eye_top)).astype(int)
        assert sockets[y, x] > 0.8
    assert (sockets <= lids + 1e-6).all()
