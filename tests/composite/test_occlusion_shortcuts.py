"""The occlusion mask's shortcuts give what the long way gives: work done only in the
boxes where its maps are not 0 (or, for the ramp, over RAMP_LOW), the rims' ring search
with shared roundings and its counts as words, the top-hats opened as uint8, a track
judged bare skipping the glasses' cues, a judged track skipping the bridge and the net's
glasses evidence, the colour cues' shared parts and column sums, the motion cue's
landmark counts. Checked on d12's real 512 px crops (clear plastic glasses, a hand at
the chin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from facedub.composite import occlusion, occlusion_motion, occlusion_objects
from facedub.composite.color import to_lab
from facedub.composite.glasses_rims import (
    SAMPLES,
    SEARCH_EVERY,
    _best_rings,
    _candidates,
    _row_counts,
    draw_rims,
    fit_rims,
)
from facedub.composite.occlusion import OccluderModel, OcclusionMasks, _warp_up, _warped_box
from facedub.composite.occlusion_motion import mesh_flow
from facedub.faces.glasses_cues import (
    _top_hat,
    eyes_and_brows,
    glasses_frames,
    glasses_span,
    half_pixels,
    order_median,
    order_percentile,
    order_quantile,
)
from facedub.faces.masks import face_mask, face_oval, feather, mask_bounds
from facedub.faces.regions import mesh_regions

SIZE = 512  # aligned_frames' size


@pytest.fixture(scope="module")
def crops(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
          ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """d12's first 6 frames aligned at 512 px: (time, crop, landmarks in it)."""
    return aligned_frames("clip_liveportrait_d12_man_glasses_headturn_hand.mp4", 6)


def _fine(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, _, fine, fine_landmarks, _, _ = occlusion._canonical(image, landmarks, None)
    return fine, fine_landmarks


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """`occlusion.<name>` replaced by itself counting its calls: the list grows by one a
    call."""
    calls: list[int] = []
    real = getattr(occlusion, name)

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(occlusion, name, counted)
    return calls


def test_a_track_judged_bare_looks_for_no_glasses_and_masks_the_same(
        crops: list[tuple[float, np.ndarray, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its frames and rims are never drawn (the eased evidence stays at or under
    WEARING_LOW), so they are not looked for; the masks are those made with them."""
    model = OccluderModel()
    looked = _count_calls(monkeypatch, "glasses_frames")
    bare = OcclusionMasks(model, worn={0: 0.0})
    skipped = [bare(0, time, image, landmarks).mask for time, image, landmarks in crops]
    assert not looked
    wearing = OcclusionMasks(model, worn={0: 1.0})
    for time, image, landmarks in crops:
        wearing(0, time, image, landmarks)
    # A track wearing glasses still looks for them, on the rims' search frames.
    assert len(looked) == -(-len(crops) // SEARCH_EVERY)

    monkeypatch.setattr(occlusion, "_glasses_drawn", lambda worn, state: True)
    full = OcclusionMasks(model, worn={0: 0.0})
    for (time, image, landmarks), mask in zip(crops, skipped, strict=True):
        assert np.array_equal(full(0, time, image, landmarks).mask, mask)


def test_a_warp_up_in_its_box_is_the_whole_crops_warp(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Beyond `_warped_box` the crop-wide warp is exactly 0, and inside it the box's
    warp is the crop's (but for float32's last bit)."""
    rng = np.random.default_rng(0)
    whole = (slice(0, SIZE), slice(0, SIZE))
    for *_, landmarks in crops:
        matrix = occlusion.canonical_from_crop(landmarks)
        for scale, out in ((0.5, 64), (2.0, 256)):
            values = np.zeros((out, out), np.float32)
            y, x = rng.integers(out // 4, 3 * out // 4 - 12, 2)  # on the face
            values[y:y + 12, x:x + 9] = rng.random((12, 9), dtype=np.float32)
            to_values = matrix * scale
            crop_wide = _warp_up(values, to_values, whole)
            box = mask_bounds(face_oval(landmarks, SIZE, forehead=True))
            assert box is not None
            part = _warped_box(values, to_values, box)
            assert part is not None
            outside = crop_wide[box].copy()
            inside = (slice(part[0].start - box[0].start, part[0].stop - box[0].start),
                      slice(part[1].start - box[1].start, part[1].stop - box[1].start))
            outside[inside] = 0.0
            assert not outside.any()
            assert crop_wide[box].any()
            assert np.abs(_warp_up(values, to_values, part) - crop_wide[part]).max() < 1e-6


def test_the_glasses_span_in_a_box_is_the_whole_span_cut(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Boxes that cut the lenses' zones too: the hull is the whole zones', not their
    part's."""
    rng = np.random.default_rng(1)
    for _, _, landmarks in crops:
        whole = glasses_span(landmarks, SIZE)
        assert whole.any()
        for _ in range(20):
            top, left = rng.integers(0, SIZE // 2, 2)
            bottom, right = rng.integers(SIZE // 2 + 1, SIZE + 1, 2)
            box = (slice(int(top), int(bottom)), slice(int(left), int(right)))
            assert np.array_equal(glasses_span(landmarks, SIZE, box), whole[box])


def _rings_the_long_way(frames: np.ndarray, landmarks: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Every point of every ring rounded on its own (the search before its shortcut)."""
    regions = mesh_regions()
    points = np.asarray(landmarks)[:, :2]
    centres = [points[regions.right_eye].mean(axis=0), points[regions.left_eye].mean(axis=0)]
    spacing = float(np.linalg.norm(centres[1] - centres[0]))
    size = frames.shape[0]
    spread = max(1, round(0.025 * spacing))
    near = cv2.dilate((frames > 0.2).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spread + 1,) * 2))
    padded = np.zeros((size + 2, size + 2), np.uint8)
    padded[1:-1, 1:-1] = near
    angles = np.linspace(0.0, 2.0 * np.pi, SAMPLES, endpoint=False)
    best, cover = np.zeros((2, 4)), np.zeros(2)
    for eye, centre in enumerate(centres):
        rings = _candidates(spacing) + np.array([centre[0], centre[1], 0.0, 0.0])
        xs = np.clip(np.round(rings[:, :1] + rings[:, 2:3] * np.cos(angles)), -1, size)
        ys = np.clip(np.round(rings[:, 1:2] + rings[:, 3:4] * np.sin(angles)), -1, size)
        counts = padded[ys.astype(int) + 1, xs.astype(int) + 1].sum(axis=1)
        best[eye] = rings[int(np.argmax(counts))]
        cover[eye] = counts.max() / SAMPLES
    return best, cover


def test_the_ring_search_finds_the_rings_of_the_long_way(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    rng = np.random.default_rng(2)
    for _, image, landmarks in crops:
        fine, fine_landmarks = _fine(image, landmarks)
        frames, _ = glasses_frames(fine, fine_landmarks)
        assert frames.any()
        noise = (rng.random(frames.shape) < 0.08).astype(np.float32)
        for lines in (frames, noise, np.maximum(frames, noise)):
            expected = _rings_the_long_way(lines, fine_landmarks)
            found = _best_rings(lines, fine_landmarks)
            assert np.array_equal(found[0], expected[0])
            assert np.array_equal(found[1], expected[1])


def test_rims_blurred_in_their_box_are_rims_blurred_whole(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    regions = mesh_regions()
    for _, image, landmarks in crops:
        fine, fine_landmarks = _fine(image, landmarks)
        frames, _ = glasses_frames(fine, fine_landmarks)
        rings = fit_rims(frames, fine_landmarks)
        points = fine_landmarks[:, :2]
        spacing = float(np.linalg.norm(points[regions.left_eye].mean(axis=0)
                                       - points[regions.right_eye].mean(axis=0)))
        canvas = np.zeros(frames.shape, np.uint8)
        width = max(1, round(0.09 * spacing))
        for x, y, half_width, half_height in rings:
            cv2.ellipse(canvas, (round(x), round(y)), (round(half_width), round(half_height)),
                        0.0, 0, 360, 255, width, lineType=cv2.LINE_AA)
        whole = cv2.GaussianBlur(canvas, (0, 0), max(0.5, 0.2 * width)).astype(np.float32) / 255.0
        assert whole.any()
        assert np.array_equal(draw_rims(rings, spacing, frames.shape[0]), whole)


def test_a_top_hat_opened_as_uint8_is_the_float_ones(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))
    for _, image, landmarks in crops:
        fine, _ = _fine(image, landmarks)
        gray = cv2.cvtColor(fine, cv2.COLOR_RGB2GRAY)
        band = gray.astype(np.float32)
        expected = np.maximum(band - cv2.morphologyEx(band, cv2.MORPH_OPEN, kernel),
                              cv2.morphologyEx(band, cv2.MORPH_CLOSE, kernel) - band)
        assert expected.any()
        assert np.array_equal(_top_hat(gray, kernel), expected)


def test_eyes_and_brows_dilated_in_their_box_are_those_dilated_whole(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """At the net's 64 px and the fine crop's 256 px, near the crop's edge too."""
    regions = mesh_regions()
    for _, image, landmarks in crops:
        _, fine_landmarks = _fine(image, landmarks)
        for size, shift in ((256, 0.0), (64, 0.0), (256, 180.0)):
            points = fine_landmarks[:, :2] * (size / 256.0) + shift
            for grow in (1, 4, 7):
                mask = np.zeros((size, size), np.uint8)
                for loop in (regions.right_eye, regions.left_eye):
                    cv2.fillPoly(mask, [np.round(points[loop]).astype(np.int32)], 255)
                for brow in (regions.right_eyebrow, regions.left_eyebrow):
                    hull = cv2.convexHull(np.round(points[brow]).astype(np.int32))
                    cv2.fillConvexPoly(mask, hull, 255)
                kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
                expected = cv2.dilate(mask, kernel) > 0
                assert np.array_equal(eyes_and_brows(points, size, grow), expected)


# Twenty-third round: more of the same masks for less.


def _canonical_inputs(crops: list[tuple[float, np.ndarray, np.ndarray]], model: OccluderModel
                      ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(net probabilities, the 64 px CIELAB crop, landmarks in it, shown) per crop."""
    out = []
    for _, image, landmarks in crops:
        _, _, fine, fine_landmarks, canonical, shown = occlusion._canonical(image, landmarks,
                                                                            None)
        half = to_lab(cv2.resize(fine, shown.shape[::-1], interpolation=cv2.INTER_AREA))
        out.append((model.probabilities(canonical), half, half_pixels(fine_landmarks), shown))
    return out


def test_the_ramp_warped_around_what_passes_ramp_low_is_the_whole_ramp(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Beyond the box around the pixels over RAMP_LOW (grown by a sample's reach) the
    ramp of the warp is 0; inside it the same (but for float32's last bit)."""
    model = OccluderModel()
    for (_, _, landmarks), (probabilities, *_) in zip(crops, _canonical_inputs(crops, model),
                                                      strict=True):
        half_from_crop = occlusion.canonical_from_crop(landmarks) * 0.5
        half_from_crop[:, 2] -= 0.25
        box = mask_bounds(face_oval(landmarks, SIZE, forehead=True))
        assert box is not None
        for found in (probabilities, probabilities * 0.6):
            whole = _warp_up(found, half_from_crop, box)
            ramp = np.clip((whole - occlusion.RAMP_LOW)
                           / (occlusion.RAMP_HIGH - occlusion.RAMP_LOW), 0.0, 1.0)
            part = _warped_box(found > occlusion.RAMP_LOW, half_from_crop, box)
            assert part is not None and (probabilities > occlusion.RAMP_LOW).any()
            inside = (slice(part[0].start - box[0].start, part[0].stop - box[0].start),
                      slice(part[1].start - box[1].start, part[1].stop - box[1].start))
            shortcut = np.zeros_like(ramp)
            shortcut[inside] = np.clip((_warp_up(found, half_from_crop, part)
                                        - occlusion.RAMP_LOW)
                                       / (occlusion.RAMP_HIGH - occlusion.RAMP_LOW), 0.0, 1.0)
            assert np.abs(shortcut - ramp).max() < 1e-6
            assert ramp[inside].any()


def test_a_warp_up_into_a_view_writes_the_warp_there(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    rng = np.random.default_rng(3)
    values = rng.random((64, 64), dtype=np.float32)
    for *_, landmarks in crops:
        to_values = occlusion.canonical_from_crop(landmarks) * 0.5
        whole = np.zeros((SIZE, SIZE), np.float32)
        box = (slice(90, 400), slice(70, 430))
        written = _warp_up(values, to_values, box, whole[box])
        assert np.shares_memory(written, whole)
        assert np.array_equal(whole[box], _warp_up(values, to_values, box))
        assert not whole[:90].any() and not whole[:, 430:].any()


def _colour_distance_the_long_way(lab: np.ndarray, reference: np.ndarray, keep: float
                                  ) -> np.ndarray:
    """The colour model's distance as it was written before its shortcut."""
    pixels = reference.reshape(-1, 3).astype(np.float64)
    centre = np.median(pixels, axis=0)
    spread = np.abs(pixels - centre).sum(axis=1)
    pixels = pixels[spread <= np.percentile(spread, keep)]
    covariance = np.cov(pixels, rowvar=False) + np.diag([6.0, 2.0, 2.0])
    covariance[0] *= occlusion_objects.LIGHTNESS_SLACK
    covariance[:, 0] *= occlusion_objects.LIGHTNESS_SLACK
    inverse = np.linalg.inv(covariance).astype(np.float32)
    offset = lab.reshape(-1, 3).astype(np.float32) - pixels.mean(axis=0).astype(np.float32)
    squared = ((offset @ inverse) * offset).sum(axis=1)
    return np.asarray(np.sqrt(np.maximum(squared, 0.0)).reshape(lab.shape[:2]))


def test_the_colour_cues_with_their_shared_parts_are_the_long_way(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The colour distance's sums as columns, and each part `complete_by_colour` now makes
    once and hands on (the skin's reference, the mouth, the grown eyes, the eroded oval),
    give what each cue gives working it out itself."""
    model = OccluderModel()
    regions = mesh_regions()
    for probabilities, lab, points, shown in _canonical_inputs(crops, model):
        size = lab.shape[0]
        skin = occlusion_objects._skin_reference(points, size) & shown
        distance = occlusion_objects._colour_distance(lab, lab[skin], 80)
        assert np.array_equal(distance, _colour_distance_the_long_way(lab, lab[skin], 80))
        assert np.array_equal(distance, occlusion_objects.skin_distance(lab, points, shown))
        mouth = occlusion_objects.inside_loop(points, regions.lips_outer, size)
        where = mouth | (distance > occlusion_objects.NOT_SKIN)
        assert np.array_equal(
            occlusion_objects._lips_distance(lab, points, probabilities, shown, where, mouth,
                                             skin),
            occlusion_objects._lips_distance(lab, points, probabilities, shown, where))
        cheeks = occlusion_objects._cheeks(points, size, mouth, True,
                                           eyes_and_brows(points, size, grow=1))
        assert np.array_equal(cheeks, occlusion_objects._cheeks(points, size, mouth, True))
        assert np.array_equal(cheeks, occlusion_objects._cheeks(
            points, size, mouth, True, None, occlusion_objects._round_the_mouth(points, size,
                                                                                mouth)))
        assert np.array_equal(occlusion_objects._lit_skin(lab, skin, cheeks),
                              occlusion_objects.lit_skin(lab, points, shown, cheeks))
        inner = face_mask(points, size, forehead=False,
                          erode=max(1, round(occlusion_objects.OUTLINE_BAND * size))) > 0.5
        assert np.array_equal(inner, feather(face_oval(points, size, forehead=False),
                                             max(1, size // 16), 0) > 0.5)
        assert np.array_equal(occlusion_objects.from_outside(probabilities, points, inner),
                              occlusion_objects.from_outside(probabilities, points))
        assert np.array_equal(
            occlusion_objects._eyes_with_their_skin(probabilities, points,
                                                    eyes_and_brows(points, size, grow=1)),
            occlusion_objects._eyes_with_their_skin(probabilities, points))


def test_the_colour_step_summed_plane_by_plane_is_the_long_way(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """`_colour_step` adds the planes' differences with OpenCV: the float32 values of the
    weighted differences summed over the channels by NumPy."""
    model = OccluderModel()
    weights = np.array([occlusion_objects.LIT_LIGHTNESS, 1.0, 1.0], np.float32)
    for _, lab, _, _ in _canonical_inputs(crops, model):
        weighted = lab.astype(np.float32) * weights
        down = np.abs(weighted[1:] - weighted[:-1]).sum(axis=2)
        across = np.abs(weighted[:, 1:] - weighted[:, :-1]).sum(axis=2)
        step = np.zeros(lab.shape[:2], np.float32)
        step[1:] = np.maximum(step[1:], down)
        step[:-1] = np.maximum(step[:-1], down)
        step[:, 1:] = np.maximum(step[:, 1:], across)
        step[:, :-1] = np.maximum(step[:, :-1], across)
        assert np.array_equal(occlusion_objects._colour_step(lab), step)


def test_the_mesh_flow_counting_landmarks_is_the_long_way(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The landmarks counted per pixel by bincount: the float32 weights of adding 1.0 at
    each (several share a pixel at 64 px), so the same flow."""
    points = [half_pixels(_fine(image, landmarks)[1]) for _, image, landmarks in crops]
    for now, before in zip(points[1:], points[:-1], strict=True):
        at = np.clip(np.round(now).astype(int), 0, 63)
        weight = np.zeros((64, 64), np.float32)
        np.add.at(weight, (at[:, 1], at[:, 0]), 1.0)
        assert weight.max() > 1  # some pixels hold several landmarks
        counted = np.bincount(at[:, 1] * 64 + at[:, 0], minlength=64 * 64
                              ).reshape(64, 64).astype(np.float32)
        assert np.array_equal(counted, weight)
        flow = mesh_flow(now, before, 64)
        assert np.abs(flow).max() > 0
        summed = np.zeros((64, 64, 2), np.float32)
        np.add.at(summed, (at[:, 1], at[:, 0]), (before - now).astype(np.float32))
        sigma = occlusion_motion.FLOW_SIGMA * 64
        spread = cv2.GaussianBlur(summed, (0, 0), sigma)
        density = cv2.GaussianBlur(weight, (0, 0), sigma)
        fade = np.clip(density / (0.5 * float(density.max()) + 1e-6), 0.0, 1.0)
        expected = (spread / np.maximum(density, 1e-4)[..., None] * fade[..., None])
        assert np.array_equal(flow, expected.astype(np.float32))


def test_ring_counts_as_words_are_row_sums() -> None:
    rng = np.random.default_rng(4)
    for share in (0.0, 0.1, 0.5, 1.0):
        hits = (rng.random((875, SAMPLES)) < share).astype(np.uint8)
        assert np.array_equal(_row_counts(hits), hits.sum(axis=1))
    assert SAMPLES % 8 == 0


def test_glasses_frames_without_the_bridge_are_the_same_frames(
        crops: list[tuple[float, np.ndarray, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A track judged as a whole takes neither the bridge nor the net's glasses evidence
    (`worn` stands for both), so neither is worked out; its masks are those made with
    them."""
    for _, image, landmarks in crops:
        fine, fine_landmarks = _fine(image, landmarks)
        frames, _ = glasses_frames(fine, fine_landmarks)
        without, evidence = glasses_frames(fine, fine_landmarks, bridge=False)
        assert evidence == 0.0 and np.array_equal(without, frames)
    model = OccluderModel()
    judged = OcclusionMasks(model, worn={0: 1.0})
    masks = [judged(0, time, image, landmarks).mask for time, image, landmarks in crops]
    asked = _count_calls(monkeypatch, "net_glasses_evidence")
    judged = OcclusionMasks(model, worn={0: 1.0})
    again = [judged(0, time, image, landmarks).mask for time, image, landmarks in crops]
    assert not asked
    assert all(np.array_equal(a, b) for a, b in zip(masks, again, strict=True))
    OcclusionMasks(model)(0, 0.0, crops[0][1], crops[0][2])
    assert asked  # a track not judged still asks the net


def test_order_median_percentile_and_quantile_are_numpys_to_the_bit(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Random float32 and float64 values of every size from 1 (whole numbers too, as the
    top-hats' are), and the cues' real samples: d12's 64 px CIELAB crops and the net's
    64 px probabilities (what the eyes' rings' values are made of)."""
    rng = np.random.default_rng(5)
    samples: list[np.ndarray] = []
    for count in [*range(1, 40), *rng.integers(40, 5000, 200)]:
        for dtype in (np.float32, np.float64):
            values = (rng.random(int(count)) * 100).astype(dtype)
            samples += [values, np.round(values)]
    for probabilities, lab, _, _ in _canonical_inputs(crops, OccluderModel()):
        samples += [lab[..., channel].ravel() for channel in range(3)]
        samples += [probabilities.ravel(), probabilities[20:30, 10:50].ravel()]
        samples.append(lab.reshape(-1, 3).astype(np.float64)[:, 1])  # strided
    for values in samples:
        for percent in (50, 80, 90, 99):
            expected = np.percentile(values, percent)
            found = order_percentile(values, percent)
            assert found == expected and np.asarray(found).dtype == np.asarray(expected).dtype
        # The eyes' rings' quantile (`_eyes_with_their_skin`) and others.
        for fraction in (1.0 - 0.35, 0.0, 0.1, 0.5, 0.9, 1.0):
            expected = np.quantile(values, fraction)
            found = order_quantile(values, fraction)
            assert found == expected and np.asarray(found).dtype == np.asarray(expected).dtype
        expected = np.median(values)
        found = order_median(values)
        assert found == expected and np.asarray(found).dtype == np.asarray(expected).dtype


def test_the_covariance_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(6)
    for count in [*range(2, 30), *rng.integers(30, 4000, 100)]:
        for dims, dtype in ((2, np.float32), (3, np.float64), (3, np.float32)):
            samples = (rng.random((int(count), dims)) * 80 - 20).astype(dtype)
            assert np.array_equal(occlusion_objects.sample_covariance(samples),
                                  np.cov(samples, rowvar=False))


def test_the_span_scaled_where_it_is_is_the_span_product(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The glasses' span (0 or 255) scales the mask by 1 - wearing on it and leaves it
    off it: the values of the product with 1 - wearing * span / 255, for any wearing."""
    rng = np.random.default_rng(7)
    for _, _, landmarks in crops:
        spanned = glasses_span(landmarks, SIZE)
        assert set(np.unique(spanned)) == {0, 255}
        mask = rng.random((SIZE, SIZE), dtype=np.float32)
        for wearing in (*rng.random(20), 1.0, 0.5):
            kept = spanned.astype(np.float32)
            kept /= 255.0
            kept *= wearing
            np.subtract(1.0, kept, out=kept)
            expected = mask * kept
            found = mask.copy()
            scale = np.float32(1.0) - np.float32(1.0) * np.float32(wearing)
            np.multiply(found, scale, out=found, where=spanned > 0)
            assert np.array_equal(found, expected)
