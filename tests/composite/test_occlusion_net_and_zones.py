"""The twenty-sixth round's cuts to the occlusion mask give what the long way gives, or
stay within a stated bound of it: OccluderNet's input scaled before the graph, its
decoder's concatenations left out (logits within 1e-5), its logistic in place; the 64 px
face zones made once for the colour, dark-object and motion cues; the identity resize
of a crop at the fine crop's own scale left out; the 64 px crop shrunk from floats; the
glasses' span's row ends written into one array. Checked on d12's real 512 px crops
(clear plastic glasses)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from safetensors.numpy import load_file

from facedub.composite import occlusion, occlusion_objects
from facedub.composite.color import to_lab
from facedub.composite.occlusion import OccluderModel, occluder_weights
from facedub.composite.occlusion_objects import face_zones
from facedub.faces.glasses_cues import glasses_span, half_pixels, lens_zones
from facedub.faces.masks import face_mask
from facedub.faces.regions import mesh_regions
from facedub.models.occluder_graph import occluder_graph, scaled_input

SIZE = 512  # aligned_frames' size
LOGIT_BOUND = 1e-5  # the split decoder's logits against the concatenated one's


@pytest.fixture(scope="module")
def crops(aligned_frames: Callable[[str, int], list[tuple[float, np.ndarray, np.ndarray]]]
          ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """d12's first 6 frames aligned at 512 px: (time, crop, landmarks in it)."""
    return aligned_frames("clip_liveportrait_d12_man_glasses_headturn_hand.mp4", 6)


def _session(graph: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _canonicals(crops: list[tuple[float, np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    return [occlusion._canonical(image, landmarks, None)[4] for _, image, landmarks in crops]


def test_the_scaled_input_gives_the_graphs_own_logits(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """2 * crop / 255 - 1 made before the graph: the same logits to the bit as the graph
    making it (its Mul and Sub) from crop / 255."""
    state = load_file(str(occluder_weights()))
    plain, scaled = _session(occluder_graph(state)), _session(occluder_graph(state, scaled=True))
    assert {node.op_type for node in onnx.load_from_string(
        occluder_graph(state, scaled=True)).graph.node}.isdisjoint({"Mul", "Sub"})
    for canonical in _canonicals(crops):
        unit = canonical.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        (expected,) = plain.run(None, {"image": unit})
        (logits,) = scaled.run(None, {"image": scaled_input(canonical)})
        assert np.array_equal(logits, expected)


def test_the_split_decoder_stays_within_its_bound_of_the_concatenated(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Each decoder level's convolution of the concatenation as two convolutions added:
    no Concat left, the same sums in another order (logits within LOGIT_BOUND, the
    masks' probabilities within a tenth of that)."""
    state = load_file(str(occluder_weights()))
    split = occluder_graph(state, scaled=True, split=True)
    assert "Concat" not in {node.op_type for node in onnx.load_from_string(split).graph.node}
    plain, fast = _session(occluder_graph(state, scaled=True)), _session(split)
    model = OccluderModel()
    largest = 0.0
    for canonical in _canonicals(crops):
        batch = scaled_input(canonical)
        (expected,) = plain.run(None, {"image": batch})
        (logits,) = fast.run(None, {"image": batch})
        largest = max(largest, float(np.abs(logits - expected).max()))
        exact = (1.0 / (1.0 + np.exp(-expected[0, 0]))).astype(np.float32)
        assert np.abs(model.probabilities(canonical) - exact).max() < LOGIT_BOUND / 10
    assert 0.0 < largest < LOGIT_BOUND  # not the same graph, and near it


def test_the_logistic_in_place_is_the_expression(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The model's probabilities: 1 / (1 + exp(-logits)) in float32, to the bit."""
    state = load_file(str(occluder_weights()))
    session = _session(occluder_graph(state, scaled=True, split=True))
    model = OccluderModel()
    for canonical in _canonicals(crops):
        (logits,) = session.run(None, {"image": scaled_input(canonical)})
        probabilities = model.probabilities(canonical)
        assert probabilities.dtype == np.float32 and probabilities.shape == (64, 64)
        assert np.array_equal(probabilities,
                              (1.0 / (1.0 + np.exp(-logits[0, 0]))).astype(np.float32))


def test_the_face_zones_are_what_each_cue_made(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The zones made once are those each cue made itself (the oval over a half, the
    oval eroded as the outline's band and the motion cue's depth, the mouth, the shown
    skin). The cues given none make these same zones (`face_zones`), so comparing a cue
    with and without them would test nothing: the equality is here, zone by zone."""
    regions = mesh_regions()
    for _, image, landmarks in crops:
        _, _, fine, fine_landmarks, _, shown = occlusion._canonical(image, landmarks,
                                                                            None)
        lab = to_lab(cv2.resize(fine, shown.shape[::-1], interpolation=cv2.INTER_AREA))
        points = half_pixels(fine_landmarks)
        size = lab.shape[0]
        shown = shown.copy()
        shown[:, :3] = False  # an edge the frame cuts, so `shown` counts
        zones = face_zones(points, size, shown)
        assert np.array_equal(zones.whole, face_mask(points, size, forehead=False) > 0.5)
        for band in (occlusion_objects.OUTLINE_BAND, 0.06):  # the motion cue's DEEP
            assert zones.erode == max(1, round(band * size))
            assert np.array_equal(zones.inner, face_mask(points, size, forehead=False,
                                                         erode=zones.erode) > 0.5)
        assert np.array_equal(zones.mouth,
                              occlusion_objects.inside_loop(points, regions.lips_outer, size))
        assert np.array_equal(zones.skin,
                              occlusion_objects._skin_reference(points, size) & shown)


def _warp_down_the_long_way(image: np.ndarray, matrix: np.ndarray, out: int) -> np.ndarray:
    """`_warp_down` as written before: any crop under the scale 0.5 resized first."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        original = image.shape[0]
        small = max(out, round(original * 2.0 * scale))
        image = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
        factor = original / small
        offset = 0.5 * factor - 0.5
        matrix = matrix.copy()
        matrix[:, 2] += matrix[:, :2] @ np.array([offset, offset])
        matrix[:, :2] *= factor
    return cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def test_a_crop_at_the_fine_scale_is_warped_as_it_was(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """Scales a hair under 0.5 (a 512 px crop, about half its frames) skip the resize to
    the crop's own size; smaller ones are still shrunk first: the same fine crops."""
    for _, image, landmarks in crops:
        matrix = occlusion.canonical_from_crop(landmarks) * 2.0
        matrix[:, 2] += 0.5
        for factor in (1.0 - 1e-8, 1.0, 0.9, 0.6):
            scaled = matrix.copy()
            scaled[:, :2] *= factor
            assert np.array_equal(occlusion._warp_down(image, scaled, 256),
                                  _warp_down_the_long_way(image, scaled, 256))


def test_the_glasses_span_is_the_hull_of_the_whole_zones(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The hull of each row's ends is the hull of every pixel of the lenses' zones."""
    for _, _, landmarks in crops:
        zones = lens_zones(landmarks, SIZE, outer=True)
        rows, columns = np.nonzero(zones)
        hull = np.zeros((SIZE, SIZE), np.uint8)
        points = np.stack([columns, rows], 1).astype(np.int32)
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 255)
        assert np.array_equal(glasses_span(landmarks, SIZE), hull)


def test_the_area_shrink_from_floats_is_opencvs_uint8_one(
        crops: list[tuple[float, np.ndarray, np.ndarray]]) -> None:
    """The 64 px crop of the colour cues from the fine crop: OpenCV's uint8 INTER_AREA
    values, ties (a block's mean at a half) rounded alike, on real fine crops and on
    random ones with many ties."""
    rng = np.random.default_rng(5)
    fines = [occlusion._canonical(image, landmarks, None)[2] for _, image, landmarks in crops]
    for _ in range(20):
        noise = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
        fines += [noise, (noise // 8) * 8]
    for fine in fines:
        shrunk = occlusion._area_shrunk(fine, 64)
        assert shrunk.dtype == np.float32
        assert np.array_equal(shrunk, cv2.resize(fine, (64, 64), interpolation=cv2.INTER_AREA))
