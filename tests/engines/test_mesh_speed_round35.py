"""The engine's eye toner and expression lines at less CPU (issue 13, thirty-fifth round):
each rewritten step gives exactly the values of the formulation it replaced (kept here),
on real crops (../shared/data/faces) and on made-up inputs at their edges."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines import mesh_expression, mesh_eyes_tone
from facedub.engines.mesh_expression import skin_mask
from facedub.engines.mesh_eyes import EYES
from facedub.engines.mesh_eyes_tone import (
    LASH_LINE,
    LID_SKIN,
    EyeToner,
    column_medians,
    eye_box,
    eye_opening,
    eye_tone,
    grown_runs,
    percentiles,
    row_runs,
)

SIZE = 440
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
EYE_PERCENTS = ((15.0, 90.0, 70.0, 95.0, 50.0), (15.0, 90.0, 99.0, 70.0, 95.0, 50.0))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def faces(faces_dir: Path, aligned_face: Aligner
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two real crops at the swap's 440 px with their landmarks: a studio photo and a
    turned face (eyes of different sizes and lights)."""
    return [aligned_face(media.read_photo(faces_dir / name), SIZE)
            for name in ("still_paul_rudd_frontal_studio.jpg", "still_kit_harington_turned.jpg")]


def _openings(faces: list[tuple[np.ndarray, np.ndarray]], grow: float
              ) -> list[tuple[np.ndarray, tuple[slice, slice], np.ndarray]]:
    """(crop, box, opening) of each eye of each face, in boxes grown by `grow`."""
    found = []
    for crop, landmarks in faces:
        for eye in EYES:
            contour = np.asarray(landmarks)[eye.contour, :2]
            box = eye_box(contour, grow, SIZE)
            assert box is not None
            found.append((crop, box, eye_opening(contour, box)))
    return found


def test_an_eyes_percentiles_and_medians_are_numpys(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """`percentiles` and `column_medians` against np.percentile and np.median: on the
    real eyes' Lab (both eyes of both faces, as the toner reads them), and on made-up
    values of every count from 1, with ties and all equal."""
    for crop, box, opening in _openings(faces, 2 * LASH_LINE * SIZE):
        lab = mesh_eyes_tone._lab(crop[box])
        inside = opening > 0
        for percents in EYE_PERCENTS:
            assert _same(percentiles(lab[..., 0][inside], percents),
                         np.percentile(lab[..., 0][inside], percents))
        pixels = lab[inside]
        for count in (len(pixels), len(pixels) - 1):
            assert _same(column_medians(pixels[:count]), np.median(pixels[:count], axis=0))
    rng = np.random.default_rng(35)
    for count in range(1, 120):
        values = (rng.random(count) * 100.0).astype(np.float32)
        for made in (values, np.round(values / 10.0).astype(np.float32),
                     np.full(count, values[0])):
            for percents in (*EYE_PERCENTS, (0.0, 100.0, 33.3)):
                assert _same(percentiles(made, percents), np.percentile(made, percents))
            pixels = np.round(rng.normal(0.0, 20.0, (count, 3))).astype(np.float32)
            assert _same(column_medians(pixels), np.median(pixels, axis=0))


def test_the_lids_rings_grown_from_runs_are_opencvs_dilation(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """`grown_runs` against cv2.dilate with OpenCV's ellipse: the real eyes' openings in
    their lid boxes at the toner's two radii (and others), and made-up convex polygons cut
    by the box's edges at radii up to past the box; a mask with two runs in a row has
    none (OpenCV's fill of a convex polygon can leave such a gap: dilated as before)."""
    near, far = (max(1, round(share * SIZE)) for share in LID_SKIN)
    shapes = [opening for _, _, opening in _openings(faces, far)]
    rng = np.random.default_rng(35)
    while len(shapes) < 400:
        height, width = (int(value) for value in rng.integers(1, 70, 2))
        mask = np.zeros((height, width), np.uint8)
        corners = np.stack([rng.integers(-6, width + 6, 5), rng.integers(-6, height + 6, 5)],
                           axis=1).astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(corners), 255)
        shapes.append(mask)
    checked = 0
    for mask in shapes:
        runs = row_runs(mask)
        if runs is None:  # OpenCV's fill left a gap in a row: the toner dilates as before
            continue
        checked += 1
        for radius in (near, far, 1, 2, 3, 30):
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
            assert _same(grown_runs(runs, mask.shape, radius), cv2.dilate(mask, disc) > 0)
    assert checked > 0.9 * len(shapes)
    two = np.zeros((9, 12), np.uint8)
    two[4, 1:3] = two[4, 6:9] = 255
    assert row_runs(two) is None


def test_the_lab_of_the_pixels_read_is_the_boxs(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """OpenCV's float Lab is each pixel's own: the pixels the toner reads converted alone
    (an eye's opening, a lid's ring) give the values of the whole box's conversion
    there, for the engine's float32 face and the target's uint8 crop."""
    for crop, box, opening in _openings(faces, LID_SKIN[1] * SIZE):
        inside = opening > 0
        for pixels in (crop[box], crop[box].astype(np.float32) + np.float32(0.25)):
            assert _same(mesh_eyes_tone._lab(pixels[inside][None])[0],
                         mesh_eyes_tone._lab(pixels)[inside])


def _old_percentile(values: np.ndarray, percents: tuple[float, ...]) -> np.ndarray:
    return np.percentile(values, percents)


def _old_lab(pixels: np.ndarray) -> np.ndarray:
    """`_lab` with the box's conversion read where the new code reads gathered pixels:
    here gathered pixels are converted as they come (the same call)."""
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def test_the_toner_gives_the_bits_of_its_old_steps(
        faces: list[tuple[np.ndarray, np.ndarray]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The eye toner on a real pair (the turned face's eyes toned like the studio photo's,
    three frames of one track) against the same toner with NumPy's percentile and median
    and OpenCV's dilation in place of the rewritten steps: its regions and toned face to
    the bit."""
    (target, target_landmarks), (source, source_landmarks) = faces
    image = source.astype(np.float32) * np.float32(0.9)

    def toned(toner: EyeToner) -> list[np.ndarray]:
        results = []
        for _ in range(3):
            face = image.copy()
            regions = toner(face, source_landmarks, target, target_landmarks, 0)
            results += [regions, face]
        return results

    new = toned(EyeToner())
    assert new[0].max() > 0.5  # both eyes toned
    with monkeypatch.context() as patch:
        patch.setattr(mesh_eyes_tone, "percentiles", _old_percentile)
        patch.setattr(mesh_eyes_tone, "column_medians",
                      lambda pixels: np.median(pixels, axis=0))
        patch.setattr(mesh_eyes_tone, "row_runs", lambda mask: None)  # cv2.dilate
        old = toned(EyeToner())
    assert all(_same(a, b) for a, b in zip(new, old, strict=True))
    # And one eye's tone with the target's box as uint8 and as the float32 copy it was.
    eye = EYES[0]
    grow = LASH_LINE * SIZE
    contour = np.asarray(source_landmarks)[eye.contour, :2]
    target_contour = np.asarray(target_landmarks)[eye.contour, :2]
    box, target_box = eye_box(contour, 2 * grow, SIZE), eye_box(target_contour, 2 * grow, SIZE)
    assert box is not None and target_box is not None
    opening, target_opening = eye_opening(contour, box), eye_opening(target_contour, target_box)
    assert eye_tone(image[box], opening, target[target_box], target_opening,
                    _old_lab(image[box])) == eye_tone(
        image[box], opening, target[target_box].astype(np.float32), target_opening)


def test_the_skins_chroma_medians_from_byte_counts_are_numpys(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """`_median_of_bytes` against np.median of the float32 copy: the real crops' Lab
    chroma on their skin (every fifth pixel, as `_off_skin` picks it, and one fewer), and
    made-up bytes of every count, narrow and wide."""
    for crop, landmarks in faces:
        work = SIZE // 2
        small = cv2.resize(crop, (work, work), interpolation=cv2.INTER_AREA)
        skin = skin_mask(np.asarray(landmarks, dtype=np.float64)[:, :2] * 0.5, work)
        picked = np.flatnonzero(skin > 0.5)[::5]
        pixels = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).reshape(-1, 3)
        for channel in (1, 2):
            for values in (pixels[picked, channel], pixels[picked[1:], channel]):
                median = mesh_expression._median_of_bytes(values)
                assert type(median) is np.float32
                assert median == np.median(values.astype(np.float32))
    rng = np.random.default_rng(35)
    for count in range(1, 300):
        for high in (2, 9, 256):
            values = rng.integers(0, high, count).astype(np.uint8)
            assert mesh_expression._median_of_bytes(values) == np.median(
                values.astype(np.float32))


def test_the_lines_steps_give_their_old_values(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """On the real crops at the lines' half size: the log lightness looked up by OpenCV
    against NumPy's indexing of the strided Y plane; `_largest` against
    np.maximum.reduce; `_Wide`'s normalised blur with the skin's share made once against
    np.where of the quotient and the plain blur, at each width the lines use, with a skin
    that leaves part of the crop unreached."""
    for crop, landmarks in faces:
        work = SIZE // 2
        small = cv2.resize(crop, (work, work), interpolation=cv2.INTER_AREA)
        log = mesh_expression._log_lightness(small)
        assert _same(log, mesh_expression._LOG_LIGHTNESS[
            cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)[..., 0]])
        rows = small[37:151, 5:201]
        assert _same(mesh_expression._log_lightness(rows), mesh_expression._LOG_LIGHTNESS[
            cv2.cvtColor(rows, cv2.COLOR_RGB2YCrCb)[..., 0]])
        skin = skin_mask(np.asarray(landmarks, dtype=np.float64)[:, :2] * 0.5, work)
        fine = mesh_expression._fine_blur(log)
        images = [log, fine, skin, log * skin, fine - log]
        for count in (1, 2, 3, 5):
            assert _same(mesh_expression._largest(*images[:count]),
                         np.maximum.reduce(images[:count]))
        shares: dict[float, mesh_expression.SkinShare] = {}
        for image in (log, fine):  # two images sharing the skin's blurs, as face and target
            wide = mesh_expression._Wide(image, skin, shares)
            for width in (1 / 32, 1 / 16, 1 / 8):
                sigma = work * width
                share = mesh_expression._wide_blur(skin, sigma)
                assert (share <= 0.05).any() and (share > 0.05).any()
                on_skin = (mesh_expression._wide_blur(image * skin, sigma)
                           / np.maximum(share, 1e-3))
                expected = np.where(share > 0.05, on_skin,
                                    mesh_expression._wide_blur(image, sigma))
                assert _same(wide(width), expected)


def _old_skin_mask(face_landmarks: np.ndarray, size: int) -> np.ndarray:
    """`skin_mask` as main had it: the features grown over the whole crop."""
    from facedub.faces.regions import mesh_regions

    regions = mesh_regions()
    points = np.asarray(face_landmarks, dtype=np.float64)[:, :2]
    skin = np.zeros((size, size), dtype=np.uint8)
    cv2.fillPoly(skin, [np.round(points[regions.face_oval]).astype(np.int32)], 255)
    features = np.zeros_like(skin)
    for loop in (regions.left_eye, regions.right_eye, regions.left_eyebrow,
                 regions.right_eyebrow, regions.lips_outer):
        cv2.fillPoly(features, [np.round(points[loop]).astype(np.int32)], 255)
    grow = max(1, round(0.02 * size))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    skin[cv2.dilate(features, kernel) > 0] = 0
    skin_mask_values: np.ndarray = skin.astype(np.float32) / 255.0
    return skin_mask_values


def test_the_skin_grown_on_the_features_box_is_the_whole_crops(
        faces: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """`skin_mask` against its whole-crop dilation: the real faces at the lines' half
    size and at full size, and moved so the features reach past the crop's edges."""
    for _, landmarks in faces:
        points = np.asarray(landmarks, dtype=np.float64)[:, :2]
        for size, moved in ((SIZE // 2, points * 0.5), (SIZE, points),
                            (SIZE // 2, points * 0.5 + (-60.0, 80.0)),
                            (SIZE // 2, points * 0.5 + (90.0, -70.0))):
            assert _same(skin_mask(moved, size), _old_skin_mask(moved, size))
