"""The expression lines' parts worked out at less cost give the bits of their whole-crop
formulations (issue 13: `target_expression_lines` was the engine thread's largest piece):
the regions drawn once for all of a face's weight maps, the furrows' closing on the box
it reads, and the change scaled up on a band of rows. Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import pytest

from facedub.engines import mesh_expression
from facedub.engines.base import TargetFace
from facedub.engines.mesh_expression_regions import (
    LINE_REGIONS,
    LineWeights,
    RegionMaps,
    line_weight_map,
    region_weights,
)
from facedub.engines.mesh_topology import mesh_topology, mesh_vertices, template_anchors
from facedub.faces.align import landmarks_in_crop
from facedub.faces.masks import blur_rows
from facedub.faces.regions import eye_distance
from facedub.faceset import Faceset

CROP = 256  # the crop of conftest's smile_without_lines


def _reference_weight_map(face_landmarks: np.ndarray, size: int, weights: dict[str, float],
                          grow: float = 0.0) -> np.ndarray:
    """`line_weight_map` as main had it: every region placed and drawn per map."""
    vertices = mesh_vertices(face_landmarks)
    result = np.zeros((size, size), dtype=np.float32)
    scale = eye_distance(face_landmarks)
    radius = round(grow * scale)
    kernel = (cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
              if radius > 0 else None)
    for region in LINE_REGIONS:
        weight = weights.get(region.name, 0.0)
        if weight <= 0.0:
            continue
        drawn = np.zeros((size, size), dtype=np.uint8)
        for polygon in region.polygons:
            triangles, barycentric = template_anchors(polygon)
            corners = vertices[mesh_topology().triangles[triangles]]
            points = np.einsum("nk,nkd->nd", barycentric, corners)
            cv2.fillPoly(drawn, [np.round(points * 16).astype(np.int32)], 255,
                         lineType=cv2.LINE_AA, shift=4)
        if kernel is not None:
            cv2.dilate(drawn, kernel, dst=drawn)
        np.maximum(result, weight * drawn.astype(np.float32) / 255.0, out=result)
    if not result.any():
        return result
    return blur_rows(result, max(1.0, 0.08 * scale))


def test_the_regions_drawn_once_give_every_maps_bits(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray]) -> None:
    _, target, _ = smile_without_lines
    work = CROP // 2
    points = np.asarray(target.face_landmarks, dtype=np.float64)[:, :2] * 0.5
    maps = RegionMaps(points, work)  # one for all, as a frame's lines use it
    weight_sets = [{"cheeks": 0.7, "eye corners": 0.3}, {"between brows": 1.0},
                   {"forehead": 0.45, "cheeks": 1.0}, {"cheeks": 0.0}]
    for weights in weight_sets:
        for grow in (0.0, 0.12):
            expected = _reference_weight_map(points, work, weights, grow)
            np.testing.assert_array_equal(maps(weights, grow), expected)
            np.testing.assert_array_equal(line_weight_map(points, work, weights, grow),
                                          expected)


def test_the_furrows_closing_on_its_box_is_the_whole_crops(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray]) -> None:
    face, target, _ = smile_without_lines
    fine = mesh_expression._fine_blur(mesh_expression._log_lightness(face))
    between = line_weight_map(target.face_landmarks, CROP, {"between brows": 1.0}) != 0.0
    assert 0 < between.sum() < 0.3 * CROP * CROP
    radius = max(1, round(mesh_expression.FURROW_WIDTH * CROP / 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    whole = cv2.morphologyEx(fine, cv2.MORPH_CLOSE, kernel) - fine
    boxed = mesh_expression._furrow_closing(fine, between)
    np.testing.assert_array_equal(boxed[between], whole[between])
    np.testing.assert_array_equal(mesh_expression._furrow_closing(fine), whole)


def photo_gated(weights: LineWeights, extracted: Callable[..., Faceset]) -> LineWeights:
    """`weights` with the lift gated by the smiling photo's wrinkles on its own crop, as the
    engine gates them (`SourceWrinkles`)."""
    faceset = extracted("still_biden_frontal.jpg", crop_size=CROP)  # conftest's SMILING
    record = faceset.faces_of()[0]
    shares = mesh_expression.wrinkled_shares(
        faceset.load_image(record), landmarks_in_crop(record.frame_landmarks,
                                                      record.face_from_frame))
    return replace(weights, lift=mesh_expression.gated_lift(weights.lift, shares))


@pytest.mark.parametrize("weights", ["blendshapes", "between brows"])
def test_the_change_scaled_up_on_its_rows_is_the_whole_crops(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray], weights: str,
        extracted: Callable[..., Faceset],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Scaled up on a band of rows (half of them where only the brows change) and on the
    whole crop, the lines give the same pixels."""
    face, target, source_blendshapes = smile_without_lines
    lines = (photo_gated(region_weights(source_blendshapes, target.blendshapes), extracted)
             if weights == "blendshapes"
             else LineWeights(fade={"between brows": 0.76}, deepen={},
                              lift={"between brows": 1.0}))
    bands: list[tuple[int, int, int] | None] = []
    upsized_rows = mesh_expression._upsized_rows

    def recorded(size: int, work: int, reach: int, *images: np.ndarray
                 ) -> tuple[int, int, int] | None:
        bands.append(upsized_rows(size, work, reach, *images))
        return bands[-1]

    monkeypatch.setattr(mesh_expression, "_upsized_rows", recorded)
    banded = mesh_expression.target_expression_lines(face, target.image, target.face_landmarks,
                                                     lines)
    assert len(bands) == 1 and bands[0] is not None
    if weights == "between brows":
        assert bands[0][1] - bands[0][0] < CROP // 4, "a band of the rows"
    assert not np.array_equal(banded, face), "the lines changed the face"

    def whole_rows(size: int, work: int, reach: int, *images: np.ndarray
                   ) -> tuple[int, int, int] | None:
        found = upsized_rows(size, work, reach, *images)
        return None if found is None else (0, work, 0)

    monkeypatch.setattr(mesh_expression, "_upsized_rows", whole_rows)
    whole = mesh_expression.target_expression_lines(face, target.image, target.face_landmarks,
                                                    lines)
    np.testing.assert_array_equal(banded, whole)


def test_a_band_scaled_up_gives_the_whole_crops_rows(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray]) -> None:
    """Away from the band's first and last rows scaled up, cv2's INTER_LINEAR gives a
    band's rows the bits of the whole crop's (the band's alignment at twice the size)."""
    face, _, _ = smile_without_lines
    image = mesh_expression._log_lightness(cv2.resize(face, (CROP // 2, CROP // 2),
                                                      interpolation=cv2.INTER_AREA))
    whole = cv2.resize(image, (CROP, CROP), interpolation=cv2.INTER_LINEAR)
    for first, last in ((0, 40), (17, 90), (50, CROP // 2), (3, 4 + 3)):
        band = mesh_expression._upsized(image[first:last], CROP, (first, last, 2 * first))
        inner = slice(1 if first else 0, 2 * (last - first) - (1 if last < CROP // 2 else 0))
        np.testing.assert_array_equal(band[inner],
                                      whole[2 * first:2 * last][inner])
    zero = np.zeros_like(image)  # a weight that is nowhere: not scaled up, zeros all the same
    np.testing.assert_array_equal(mesh_expression._upsized(zero[17:90], CROP, (17, 90, 34)),
                                  cv2.resize(zero, (CROP, CROP))[34:180])


def test_the_band_holds_the_whole_crops_box(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray]) -> None:
    """The band of rows scaled up holds the box `_changed_box` finds on the whole crop
    scaled up, `reach` rows past the change included, with the same values in it."""
    face, target, _ = smile_without_lines
    work = CROP // 2
    points = np.asarray(target.face_landmarks, dtype=np.float64)[:, :2] * 0.5
    weight = line_weight_map(points, work, {"between brows": 1.0})
    image = mesh_expression._log_lightness(cv2.resize(face, (work, work),
                                                      interpolation=cv2.INTER_AREA))
    reach = max(2 * mesh_expression._core_radius(CROP) + 1, mesh_expression._line_reach(CROP))
    rows = mesh_expression._upsized_rows(CROP, work, reach, weight)
    assert rows is not None and rows[1] - rows[0] < work // 2
    band = [mesh_expression._upsized(part[rows[0]:rows[1]], CROP, rows)
            for part in (weight, image)]
    whole = [cv2.resize(part, (CROP, CROP), interpolation=cv2.INTER_LINEAR)
             for part in (weight, image)]
    box = mesh_expression._changed_box(whole[0], whole[0], reach)
    in_band = mesh_expression._changed_box(band[0], band[0], reach)
    assert box is not None and in_band is not None
    band_rows = range(band[0].shape[0])[in_band[0]]
    assert (rows[2] + band_rows.start, rows[2] + band_rows.stop) == (box[0].start,
                                                                     box[0].stop)
    assert in_band[1] == box[1]
    for banded, crop in zip(band, whole, strict=True):
        np.testing.assert_array_equal(banded[in_band], crop[box])


@pytest.mark.parametrize("rows", [(40, 70), (0, 20), (100, 128)])
def test_the_thin_lines_on_their_rows_are_the_whole_crops(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray],
        rows: tuple[int, int]) -> None:
    """`_foreign` worked out on the rows read and as far as it reads past them gives the
    whole crop's values there, with the lines it leaves out (`besides`) and without."""
    face, target, _ = smile_without_lines
    for image, contrast in ((face, mesh_expression.SOURCE_THIN_LINE),
                            (target.image, mesh_expression.THIN_LINE)):
        log = mesh_expression._log_lightness(cv2.resize(image, (CROP // 2, CROP // 2),
                                                        interpolation=cv2.INTER_AREA))
        fine = mesh_expression._fine_blur(log)
        besides = log < np.quantile(log, 0.05)  # some dark pixels, as the brows are
        for left_out in (None, besides):
            whole = mesh_expression._foreign(log, contrast, fine, left_out)
            banded = mesh_expression._foreign(log, contrast, fine, left_out, rows)
            assert whole[rows[0]:rows[1]].any()
            np.testing.assert_array_equal(banded[rows[0]:rows[1]], whole[rows[0]:rows[1]])


@pytest.mark.parametrize("rows", [(30, 60), (60, 75), (90, 128)])
def test_the_skins_chroma_on_its_rows_is_the_whole_crops(
        smile_without_lines: tuple[np.ndarray, TargetFace, np.ndarray],
        rows: tuple[int, int]) -> None:
    """`_off_skin` worked out on the rows read gives the whole crop's values there (its
    median still the whole skin's)."""
    face, target, _ = smile_without_lines
    work = CROP // 2
    small = cv2.resize(face, (work, work), interpolation=cv2.INTER_AREA)
    points = np.asarray(target.face_landmarks, dtype=np.float64)[:, :2] * 0.5
    skin = mesh_expression.skin_mask(points, work)
    whole = mesh_expression._off_skin(small, skin)
    banded = mesh_expression._off_skin(small, skin, rows)
    assert 0.0 < whole[rows[0]:rows[1]].mean() < 1.0
    np.testing.assert_array_equal(banded[rows[0]:rows[1]], whole[rows[0]:rows[1]])
