"""The mesh engine's speed cuts of the twenty-first round (issue 9's speed), each against
the computation it replaced, on the arguments of a real swap (Kit Harington's turned
photo onto the streamer, as in test_mesh_speed_equal: the mirror fill, the stubble as
hair, the eye tone and the mouth-corner gate all run there): equal where the cut keeps
the values, within a bound where it does not (the mirror's levels)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from facedub.engines import mesh as mesh_module
from facedub.engines import mesh_contributions, mesh_eyes_tone, mesh_mirror
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_eyes_tone import (
    BRIGHT,
    CHROMA,
    DARK,
    GAIN_RANGE,
    IRIS,
    MAX_SHIFT,
    TOP,
    WHITES,
    EyeTone,
    eye_tone,
    gain_floor,
)
from facedub.engines.mesh_mirror import (
    DIRECT_LEVEL_SIGMA,
    LEVEL_SIGMA_PIXELS,
    MIRROR_SHADE_SIGMA,
    _enlarged,
    _shrunk_blurs,
    levelled_mirror,
)
from facedub.engines.mesh_mouth import (
    CORNER_DETAIL,
    CORNER_SURROUND,
    _darkness,
    keep_target_interior,
    not_darker,
    target_interior,
)
from facedub.engines.mesh_stubble import SKIN_FILL, SPECK_SCALE, _skin_fill, stubble_as_hair
from facedub.faces.masks import mask_bounds
from facedub.faceset import Faceset

TURNED = "still_kit_harington_turned.jpg"
FRONTAL = "clip_deepfacelive_twitch_streamer_webcam.mp4"
CROP = 256


@pytest.fixture(scope="module")
def calls(extracted: Callable[..., Faceset],
          first_target_face: Callable[..., TargetFace]) -> dict[str, list[tuple[Any, ...]]]:
    """The arguments (copied) of the functions the cuts changed, in one real swap."""
    recorded: dict[str, list[tuple[Any, ...]]] = {}

    def spy(module: Any, name: str) -> None:
        original = getattr(module, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            recorded.setdefault(name, []).append(tuple(
                arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args))
            return original(*args, **kwargs)
        patch.setattr(module, name, call)

    with pytest.MonkeyPatch.context() as patch:
        for name in ("not_darker", "stubble_as_hair", "target_interior"):
            spy(mesh_module, name)
        spy(mesh_contributions, "levelled_mirror")
        spy(mesh_eyes_tone, "eye_tone")
        MeshEngine(extracted(TURNED, max_frames=1, crop_size=CROP)).swap_face(
            first_target_face(FRONTAL, CROP))
    return recorded


def test_the_swap_runs_every_cut_function(calls: dict[str, list[tuple[Any, ...]]]) -> None:
    assert set(calls) == {"levelled_mirror", "not_darker", "stubble_as_hair",
                          "target_interior", "eye_tone"}


def _old_shrunk_blurs(planes: tuple[np.ndarray, ...], sigma: float
                      ) -> tuple[list[np.ndarray], int]:
    """`_shrunk_blurs` as it was (main 578c711): shrunk by sigma / LEVEL_SIGMA_PIXELS,
    not a whole factor (and no factor returned: `_old_enlarged` needs none)."""
    height, width = planes[0].shape
    shrink = max(1.0, sigma / LEVEL_SIGMA_PIXELS)
    small = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    return [cv2.GaussianBlur(cv2.resize(plane.astype(np.float32), small,
                                        interpolation=cv2.INTER_AREA), (0, 0), sigma / shrink)
            for plane in planes], 0


def _old_enlarged(planes: tuple[np.ndarray, ...], shape: tuple[int, ...], _: int
                  ) -> list[np.ndarray]:
    return [cv2.resize(plane, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
            for plane in planes]


def test_levels_shrunk_by_a_whole_factor_stay_near_the_exact_factors_ones(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    """The blurred level of the mirrored luma (as `levelled_mirror` takes it: weighted sum
    over weight), enlarged back, within 1.5 grey levels of the old one where its trust is
    at least a tenth of the box's best, 0.3 on average there."""
    for mirrored, trust, _, _, size in calls["levelled_mirror"]:
        luma = cv2.cvtColor(mirrored, cv2.COLOR_RGB2GRAY)
        for sigma in (size * MIRROR_SHADE_SIGMA, size * DIRECT_LEVEL_SIGMA):
            levels = []
            for blurs, enlarged in ((_shrunk_blurs, _enlarged),
                                    (_old_shrunk_blurs, _old_enlarged)):
                (total, mass), shrink = blurs((luma * trust, trust), sigma)
                level = np.divide(total, mass, out=np.zeros_like(total), where=mass > 0)
                levels.append(enlarged((level,), trust.shape, shrink)[0])
            known = cv2.GaussianBlur(trust, (0, 0), sigma) > 0.1 * trust.max()
            difference = np.abs(levels[0] - levels[1])[known]
            assert difference.max() < 1.5 and difference.mean() < 0.3


def test_the_levelled_mirror_stays_near_the_exact_factors_one(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    """Within 4 grey levels of the old one where the mirror's trust is at least a tenth
    of the box's best, 0.3 on average there."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mesh_mirror, "_shrunk_blurs", _old_shrunk_blurs)
        patch.setattr(mesh_mirror, "_enlarged", _old_enlarged)
        old = [levelled_mirror(*call) for call in calls["levelled_mirror"]]
    for call, expected in zip(calls["levelled_mirror"], old, strict=True):
        trust = call[1]
        shown = trust > 0.1 * trust.max()
        difference = np.abs(levelled_mirror(*call) - expected).max(axis=2)[shown]
        assert difference.max() < 4.0 and difference.mean() < 0.3


def _old_not_darker_excess(source: np.ndarray, target: np.ndarray, weight: np.ndarray,
                           size: int) -> float:
    """`not_darker`'s weighted excess darkness as it was (main 578c711): each image's
    darkness blurred alone."""
    def darkness(image: np.ndarray) -> np.ndarray:
        luma = image.mean(axis=2).astype(np.float32)
        near = cv2.GaussianBlur(luma, (0, 0), max(size * CORNER_DETAIL, 0.5))
        around = cv2.GaussianBlur(luma, (0, 0), size * CORNER_SURROUND)
        return around - near
    return float(((darkness(target) - darkness(source)) * weight).sum()) / float(weight.sum())


def test_the_corner_gate_is_its_old_value_on_the_difference(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    """Blurred once on the difference, the gate's excess darkness is the old one to
    float32 rounding (within 1e-3 grey levels), and so is the gate where it is partial."""
    for source, target, weight, size, *_ in calls["not_darker"]:
        expected = _old_not_darker_excess(source, target, weight, size)
        excess = float((_darkness(target.mean(axis=2) - source.mean(axis=2), size)
                        * weight).sum()) / float(weight.sum())
        assert excess == pytest.approx(expected, abs=1e-3)
        for gate in (0.25, 0.5, 0.75):  # the smile at which the old gate is this
            smile = (expected - 2.0 * (1.0 - gate) - 4.0) / 8.0
            if 0.0 <= smile <= 0.45:
                assert not_darker(source, target, weight, size, smile) == pytest.approx(
                    gate, abs=1e-3)


def _old_stubble_as_hair(face: np.ndarray, zone: np.ndarray, skin: np.ndarray,
                         size: int) -> np.ndarray:
    """`stubble_as_hair` as it was (main 578c711)."""
    result = face.copy()
    rows, columns = np.nonzero(zone > 0.01)
    if len(rows) == 0:
        return result
    sigma = max(1.0, size / SPECK_SCALE)
    pad = int(3 * sigma) + 1
    box = (slice(max(0, rows.min() - pad), rows.max() + pad + 1),
           slice(max(0, columns.min() - pad), columns.max() + pad + 1))
    fill = _skin_fill(face, skin, size / SKIN_FILL)[box]
    fill_grey = np.maximum(cv2.cvtColor(fill, cv2.COLOR_RGB2GRAY), 1.0)
    grey = cv2.cvtColor(face[box], cv2.COLOR_RGB2GRAY)
    broad = cv2.GaussianBlur(grey, (0, 0), sigma)
    wanted = broad + np.minimum(grey - broad, 7.0)
    rgb = fill * (np.maximum(wanted, 0.0) / fill_grey)[..., None]
    result[box] += zone[box][..., None] * (rgb - face[box])
    return result


def test_stubble_as_hair_in_place_is_the_old_copy(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    for face, zone, skin, size, *_ in calls["stubble_as_hair"]:
        expected = _old_stubble_as_hair(face, zone, skin, size)
        assert not np.array_equal(expected, face), "the zone changes nothing"
        assert np.array_equal(stubble_as_hair(face, zone, skin, size), expected)
        changed = face.copy()
        assert stubble_as_hair(changed, zone, skin, size, in_place=True) is changed
        assert np.array_equal(changed, expected)
        empty = np.zeros_like(zone)
        assert np.array_equal(stubble_as_hair(face, empty, skin, size), face)


def _old_bounds(mask: np.ndarray) -> tuple[slice, slice] | None:
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def test_mask_bounds_are_numpys(calls: dict[str, list[tuple[Any, ...]]]) -> None:
    zone = calls["stubble_as_hair"][0][1]
    trust = calls["levelled_mirror"][0][1]
    masks = [zone > 0.01, zone > 0.99, trust > 0.5, (zone > 0.5)[::2, 1::3],
             zone, np.zeros((7, 5), bool), np.ones((3, 9), bool)]
    single = np.zeros((40, 30), bool)
    single[39, 0] = True
    masks.append(single)
    for mask in masks:
        assert mask_bounds(mask) == _old_bounds(mask)


def test_the_mouth_interior_in_place_is_keep_target_interior_with_a_mask_of_ones(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    for face, target, interior, *_ in calls["target_interior"]:
        ones = np.ones(interior.shape, np.float32)
        expected, not_interior = keep_target_interior(face, ones, target, interior)
        changed = face.copy()
        found = target_interior(changed, target, interior)
        assert found is not None
        box, share = found
        assert np.array_equal(changed, expected)
        kept = np.zeros(interior.shape, np.float32)
        kept[box] = np.maximum(kept[box], 1.0 - (1.0 - share))
        assert np.array_equal(kept, np.maximum(0.0, 1.0 - not_interior))
        assert target_interior(face.copy(), target, np.zeros_like(interior)) is None


def _old_eye_tone(source: np.ndarray, source_opening: np.ndarray, target: np.ndarray,
                  target_opening: np.ndarray) -> EyeTone | None:
    """`eye_tone` as it was (main 578c711): each percentile in a call of its own."""
    def lab(pixels: np.ndarray) -> np.ndarray:
        converted: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, np.float32) / 255.0,
                                             cv2.COLOR_RGB2LAB)
        return converted

    def between(lab_image: np.ndarray, opening: np.ndarray, q: tuple[float, float]
                ) -> np.ndarray:
        lightness = lab_image[..., 0][opening]
        low, high = np.percentile(lightness, q)
        chosen = (lightness >= low) & (lightness <= high)
        mean: np.ndarray = lab_image[..., 1:][opening][chosen].mean(axis=0)
        return mean

    source_lab, target_lab = lab(source), lab(target)
    open_s, open_t = source_opening > 0, target_opening > 0
    s_dark, s_bright = np.percentile(source_lab[..., 0][open_s], (DARK, BRIGHT))
    t_dark, t_bright, t_top = np.percentile(target_lab[..., 0][open_t], (DARK, BRIGHT, TOP))
    gain = float(np.clip((t_bright - t_dark) / max(s_bright - s_dark, 1.0),
                         gain_floor(int(np.count_nonzero(open_t.any(axis=0)))), GAIN_RANGE[1]))
    source_whites = between(source_lab, open_s, WHITES)
    target_whites = between(target_lab, open_t, WHITES)
    shift = target_whites - source_whites
    shift *= min(1.0, MAX_SHIFT / max(float(np.linalg.norm(shift)), 1e-6))
    target_whites = source_whites + shift
    iris = (target_whites + CHROMA * (between(source_lab, open_s, (DARK, IRIS))
                                      - source_whites) - between(target_lab, open_t, (DARK, IRIS)))
    return EyeTone(float(t_bright), float(s_bright), max(float(t_top), float(t_bright) + 1.0),
                   gain, float(shift[0]), float(shift[1]), float(source_whites[0]),
                   float(source_whites[1]), float(iris[0]), float(iris[1]))


def test_the_eye_tone_from_one_percentile_call_is_the_old_one(
        calls: dict[str, list[tuple[Any, ...]]]) -> None:
    for call in calls["eye_tone"]:
        tone = eye_tone(*call)  # the engine's call: the source's Lab made beforehand
        assert tone is not None
        assert tone == _old_eye_tone(*call[:4]) == eye_tone(*call[:4])
