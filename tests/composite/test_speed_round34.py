"""The compositing thread at less CPU (issue 13, thirty-fourth round): the face's feather
beyond the edge cuts worked in its box, the blend, the far reach, its rim, the mask's
cuts and the refiner's gate with fewer full-crop passes give exactly what the
formulations they replaced gave (kept here), on real crops and drawn ones."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite import compositor as compositor_module
from facedub.composite.blend import (
    BEYOND_CUT_FEATHER,
    BEYOND_CUT_LEAST,
    POLAR_ANGLES,
    _most_outwards,
    beyond_cuts,
    beyond_cuts_in_box,
    far_weights,
    feather_blend,
    reach_parts,
    rim_weights,
)
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.composite.occlusion import edge_occluders
from facedub.engines.base import SwappedFace, TargetFace
from facedub.engines.refiner import keep_detail
from facedub.faces.masks import BETWEEN_EYES, face_mask, feather, forehead_points, mask_bounds

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"
D3 = "clip_liveportrait_d3_woman_headturn.mp4"


def _beyond_cuts_as_before(cut: np.ndarray, shown: np.ndarray, centre: np.ndarray
                           ) -> np.ndarray | None:
    """The thirty-third round's `beyond_cuts`: every step over the whole crop."""
    if not cut.any():
        return None
    size = cut.shape[0]
    small_size = max(32, size // 4)
    scale = small_size / size
    small = cv2.resize(cut, (small_size, small_size), interpolation=cv2.INTER_AREA)
    middle = (float(centre[0]) * scale, float(centre[1]) * scale)
    radius = float(np.hypot(max(middle[0], small_size - middle[0]),
                            max(middle[1], small_size - middle[1])))
    polar = cv2.warpPolar(small, (max(2, round(radius)), POLAR_ANGLES), middle, radius,
                          cv2.WARP_POLAR_LINEAR | cv2.WARP_FILL_OUTLIERS)
    polar = np.maximum.accumulate(polar, axis=1)
    passed = cv2.warpPolar(polar, (small_size, small_size), middle, radius,
                           cv2.WARP_POLAR_LINEAR | cv2.WARP_INVERSE_MAP | cv2.WARP_FILL_OUTLIERS)
    passed = cv2.resize(passed, (size, size), interpolation=cv2.INTER_LINEAR)
    feathered = np.clip((1.0 - shown) * BEYOND_CUT_FEATHER, 0.0, 1.0) * (shown > 0)
    beyond = np.clip((passed - cut) * feathered / np.maximum(1.0 - cut, 1e-3), 0.0, 1.0)
    beyond[beyond < BEYOND_CUT_LEAST] = 0.0
    return beyond.astype(np.float32) if beyond.any() else None


def _feather_blend_as_before(face: np.ndarray, target: np.ndarray, mask: np.ndarray
                             ) -> np.ndarray:
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    result = np.array(target, dtype=np.uint8)
    if not rows.size:
        return result
    box = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
    part, alpha = target[box], mask[box][..., None]
    blended = part.astype(np.float32) + alpha * (face[box].astype(np.float32) - part)
    result[box] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return result


def _reached_as_before(landmarks: np.ndarray, size: int, erode: int, blur: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The thirty-third round's `reach_parts` (with the forehead) and `rim_weights`."""
    from facedub.composite.blend import turn_share

    near = face_mask(landmarks, size, forehead=True, erode=erode, blur=blur)
    share, side = turn_share(landmarks)
    assert share > 0.0
    points = np.asarray(landmarks)[:, :2].astype(np.float64)
    hull = np.zeros((size, size), dtype=np.uint8)
    outline = np.concatenate([points, forehead_points(landmarks)])
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(outline).astype(np.int32)), 255)
    far = feather(hull, round(erode * (1.0 - share)), max(1, round(blur * (1.0 - share))))
    reached = np.maximum(near, far * far_weights(points, size, side)).astype(np.float32)
    added = reached - near
    rim = np.where(added > 0, added / np.maximum(reached, 1e-6), 0.0).astype(np.float32)
    return reached, rim


@pytest.fixture(scope="module")
def faces(first_target_face: Callable[..., TargetFace]) -> list[TargetFace]:
    """Katie Hill's and d3's first faces at 440 px, as the compositor reads them."""
    return [first_target_face(name, 440) for name in (KATIE, D3)]


def _cuts(face: TargetFace) -> list[np.ndarray]:
    """The edge cuts of a real crop: its own, of a darker copy (more of it refused), and
    a band drawn down the near cheek inside the outline (the sliver's case)."""
    image, landmarks = face.image, face.face_landmarks
    darker = (image.astype(np.float32) * 0.6).astype(np.uint8)
    band = np.zeros(image.shape[:2], dtype=np.float32)
    column = round(float(landmarks[234, 0])) + 30
    band[150:330, column:column + 24] = 1.0
    band = cv2.GaussianBlur(band, (0, 0), 3.0)
    return [edge_occluders(image, landmarks), edge_occluders(darker, landmarks),
            np.maximum(edge_occluders(image, landmarks), band)]


def test_the_feather_beyond_the_cuts_on_real_crops_is_the_whole_crops(
        faces: list[TargetFace]) -> None:
    """Each real crop's cuts, its mask as the compositor shows it (reach_parts), centres
    moved about: the boxed share laid into the crop is the whole-crop formulation's to the
    bit, and the mask's product in the box its product over the crop; the box is a part
    of the crop."""
    rng = np.random.default_rng(34)
    boxed = 0
    for face in faces:
        landmarks = face.face_landmarks
        shown = reach_parts(landmarks, 440, forehead=True, erode=15, blur=45)[1]
        for cut in _cuts(face):
            for shift in ([0.0, 0.0], *rng.normal(0.0, 25.0, (3, 2))):
                centre = landmarks[BETWEEN_EYES, :2] + np.asarray(shift, np.float32)
                wanted = _beyond_cuts_as_before(cut, shown, centre)
                part = beyond_cuts_in_box(cut, shown, centre)
                got = beyond_cuts(cut, shown, centre)
                if wanted is None:
                    assert part is None and got is None
                    continue
                assert part is not None and got is not None
                assert got.dtype == np.float32 and got.tobytes() == wanted.tobytes()
                whole = shown * 0.9
                product = whole * (1.0 - wanted)
                whole[part.box] *= 1.0 - part.share
                assert whole.tobytes() == product.tobytes()
                rows, columns = part.box
                boxed += (rows.stop - rows.start) * (columns.stop - columns.start) < 0.6 * 440 ** 2
    assert boxed >= 12  # of 24: the box is well under the crop on most


@pytest.mark.parametrize("size", [24, 37, 100, 130, 255, 448, 513])
def test_the_feather_beyond_the_cuts_at_other_sizes_is_the_whole_crops(
        turned_template: Callable[[float, int], np.ndarray], size: int) -> None:
    """Drawn turned faces with a cut band inside the outline at sizes whose quarter is
    not exact (and the 32 px floor): the same bits as the whole-crop formulation."""
    rng = np.random.default_rng(size)
    faint_shares = 0
    for yaw in (-25.0, 0.0, 18.0):
        landmarks = turned_template(yaw, size)
        shown = face_mask(landmarks, size, forehead=True, erode=max(1, size // 50),
                          blur=max(1, size // 17))
        cut = np.zeros((size, size), dtype=np.float32)
        top, bottom = round(float(landmarks[159, 1])), round(float(landmarks[1, 1]))
        for row in range(top, bottom):
            whole = np.flatnonzero(shown[row] >= 0.99)
            if whole.size:
                cut[row, whole[0]:whole[0] + max(2, size // 16)] = 1.0
        cut = cv2.GaussianBlur(cut, (0, 0), max(0.5, size / 150))
        cut[: size // 5] = np.maximum(cut[: size // 5], rng.uniform(0.0, 1.0))
        # Faint cuts too: the rays' most cut just over BEYOND_CUT_LEAST still leaves a
        # share past it (the box's threshold is at its edge there).
        for faint, centre in ((1.0, landmarks[BETWEEN_EYES, :2]),
                              (1.0, rng.uniform(0, size, 2)),
                              (0.0105, landmarks[BETWEEN_EYES, :2]),
                              (0.0125, landmarks[BETWEEN_EYES, :2]),
                              (0.03, landmarks[BETWEEN_EYES, :2])):
            wanted = _beyond_cuts_as_before(cut * np.float32(faint), shown, centre)
            got = beyond_cuts(cut * np.float32(faint), shown, centre)
            assert (got is None) == (wanted is None)
            if wanted is not None and got is not None:
                assert got.tobytes() == wanted.tobytes()
            faint_shares += faint < 0.02 and wanted is not None
    assert faint_shares >= 2


def test_the_rays_most_cut_is_the_accumulated_maximum() -> None:
    rng = np.random.default_rng(7)
    for radii in (2, 3, 78, 130):
        polar = (rng.random((720, radii), dtype=np.float32)
                 * (rng.random((720, radii)) > 0.6)).astype(np.float32)
        got = _most_outwards(polar)
        assert got.flags.c_contiguous
        assert got.tobytes() == np.maximum.accumulate(polar, axis=1).tobytes()


def test_the_blend_on_real_crops_is_the_expressions(faces: list[TargetFace]) -> None:
    """A face over a target crop through the compositor's mask, a kept part's small mask,
    a float64 mask and an empty one: the same pixels as the thirty-third round's blend."""
    face, target = faces[0].image, faces[1].image
    shown = reach_parts(faces[1].face_landmarks, 440, forehead=True, erode=15, blur=45)[1]
    kept = np.zeros((440, 440), dtype=np.float32)
    kept[200:260, 120:330] = cv2.GaussianBlur(np.ones((60, 210), np.float32), (0, 0), 4.0)
    for mask in (shown, kept, shown.astype(np.float64), np.zeros_like(shown)):
        before = [a.copy() for a in (face, target, mask)]
        assert (feather_blend(face, target, mask).tobytes()
                == _feather_blend_as_before(face, target, mask).tobytes())
        assert all(np.array_equal(a, b) for a, b in zip(before, (face, target, mask),
                                                         strict=True))


def test_the_far_reach_and_its_rim_are_the_expressions(
        faces: list[TargetFace], turned_template: Callable[[float, int], np.ndarray]) -> None:
    """Turned faces (the drawn template at several yaws either way, the real crops' own
    landmarks moved to read as turned): `reach_parts`' reached mask and `rim_weights` the
    same bits as the whole-crop maxima and quotient."""
    cases = [(turned_template(yaw, 440), 15, 45) for yaw in (-35.0, -22.0, 24.0, 40.0)]
    for face in faces:
        landmarks = face.face_landmarks.copy()
        middle = float(landmarks[1, 0])
        right = landmarks[:, 0] > middle
        landmarks[right, 0] = middle + (landmarks[right, 0] - middle) * 0.35
        cases.append((landmarks, 15, 45))
    for landmarks, erode, blur in cases:
        near, reached = reach_parts(landmarks, 440, forehead=True, erode=erode, blur=blur)
        wanted_reached, wanted_rim = _reached_as_before(landmarks, 440, erode, blur)
        assert reached.dtype == np.float32 and reached.tobytes() == wanted_reached.tobytes()
        rim = rim_weights(near, reached)
        assert rim is not None and rim.tobytes() == wanted_rim.tobytes()
    flat = np.zeros((64, 64), np.float32)
    assert rim_weights(flat, flat.copy()) is None


def test_the_refiners_gate_in_the_kept_box_is_the_product(faces: list[TargetFace]) -> None:
    """`keep_detail` with the kept parts' box (as `refine_face` passes it) and without: the
    same bits (the gate mask * (1 - kept) worked only in that box)."""
    face, target = faces
    mask = reach_parts(target.face_landmarks, 440, forehead=True, erode=15, blur=45)[1]
    kept = np.zeros((440, 440), dtype=np.float32)
    kept[170:215, 110:200] = 1.0
    kept[280:330, 150:290] = 0.7
    kept = cv2.GaussianBlur(kept, (0, 0), 3.0)
    refined = cv2.GaussianBlur(face.image, (0, 0), 1.2).astype(np.float32)
    laid = face.image.astype(np.float32)
    wanted = keep_detail(refined.copy(), laid, mask, 5.15625, kept)
    got = keep_detail(refined.copy(), laid, mask, 5.15625, kept, mask_bounds(kept))
    assert got.tobytes() == wanted.tobytes()


def test_the_compositors_cuts_in_their_boxes_are_the_whole_crops(
        faces: list[TargetFace], monkeypatch: pytest.MonkeyPatch) -> None:
    """The compositor on a real crop with the occlusion mask and the edge cuts: its crop
    and alpha the same bits as when every box is the whole crop (the products over the
    crop, as before)."""
    target = faces[0]
    swapped = SwappedFace(faces[1].image, face_mask(target.face_landmarks, 440, blur=20))
    config = CompositeConfig(grain=False)
    boxed = Compositor(config).composite(target, swapped)

    def whole_crop(mask: np.ndarray) -> tuple[slice, slice] | None:
        found = mask_bounds(mask)
        return None if found is None else (slice(0, mask.shape[0]), slice(0, mask.shape[1]))

    monkeypatch.setattr(compositor_module, "mask_bounds", whole_crop)
    whole = Compositor(config).composite(target, swapped)
    assert boxed.image.tobytes() == whole.image.tobytes()
    assert boxed.alpha.tobytes() == whole.alpha.tobytes()
