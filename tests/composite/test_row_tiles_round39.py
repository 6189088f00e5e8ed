"""The compositing thread on cores with a 2 MB L2 (issue 13, thirty-ninth round): the
full-size last steps of `tone.carry_detail` and the blend of `geometry.paste_back` run in
row tiles whose temporaries stay in the L2; the sockets' base (`tone._own_sockets`) is
moved channel by channel, and the colour planes (`tone._colour_planes`) are copied in
place. Each gives exactly what the formula it replaced gave (kept here as the reference),
whatever the tiles' height."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.composite import tone
from facedub.composite.color import masked_blur
from facedub.composite.tone import (
    SOCKET_CHROMA_STEP,
    SURROUND_SUPPORT,
    _blur,
    _blur_boxes,
    _carried_rows,
    _colour_planes,
    _greyed,
    _levelled_rows,
    _own_sockets,
    carry_detail,
)
from facedub.faces import geometry
from facedub.faces.geometry import paste_back
from facedub.faces.masks import three_channels

SIZE = 440


def _smooth(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    noise = rng.normal(0.0, 1.0, shape).astype(np.float32)
    blurred: np.ndarray = cv2.GaussianBlur(noise, (0, 0), 6.0) * np.float32(scale)
    return blurred


def _box_planes(seed: int, height: int, width: int) -> dict[str, np.ndarray | list[np.ndarray]]:
    """Real-looking planes of a face's box: Lab face with fine detail, smooth bases, the
    darker and brighter limits (positive), the chroma share in [0, 1], a brows' gain in
    [0.25, 1], the texture limit's cut, a hair weight in [0, 1]."""
    rng = np.random.default_rng(seed)
    shape = (height, width)
    base = [np.float32(60.0) + _smooth(rng, shape, 40.0),
            np.float32(12.0) + _smooth(rng, shape, 20.0),
            np.float32(18.0) + _smooth(rng, shape, 20.0)]
    face_box = cv2.merge([plane + rng.normal(0.0, 3.0, shape).astype(np.float32)
                          for plane in base])
    target = [plane + _smooth(rng, shape, 10.0) for plane in base]
    darker = np.float32(10.0) + np.abs(_smooth(rng, shape, 30.0))
    brighter = np.where(rng.random(shape) < 0.3, np.float32(6.0), darker).astype(np.float32)
    share = np.clip(np.float32(0.5) + _smooth(rng, shape, 2.0), 0.0, 1.0)
    gain = np.clip(np.float32(0.8) + _smooth(rng, shape, 2.0), 0.25, 1.0)
    return {"face_box": face_box, "face": np.ascontiguousarray(face_box[..., 0]),
            "smooth": [*base, *target, darker, brighter, share, gain],
            "excess": rng.normal(0.0, 1.0, shape).astype(np.float32),
            "hair": np.clip(_smooth(rng, shape, 3.0), 0.0, 1.0)}


def _whole_box(face: np.ndarray, face_box: np.ndarray, smooth: list[np.ndarray],
               gained: bool, excess: np.ndarray | None, level: np.ndarray | None,
               hair: np.ndarray | None) -> np.ndarray:
    """The thirty-eighth round's formula over the whole box (main before the tiles)."""
    face_planes = [face, cv2.extractChannel(face_box, 1), cv2.extractChannel(face_box, 2)]
    detail = face_planes[0] - smooth[0]
    if gained:
        detail *= smooth[9]
    if excess is not None:
        detail -= excess
    limit = smooth[6]
    np.copyto(limit, smooth[7], where=detail > 0)
    lightness = np.divide(detail, limit, out=detail)
    np.tanh(lightness, out=lightness)
    lightness *= limit
    lightness += smooth[3]
    chroma_a = np.subtract(face_planes[1], smooth[1], out=smooth[1])
    chroma_a *= smooth[8]
    chroma_a += smooth[4]
    chroma_b = np.subtract(face_planes[2], smooth[2], out=smooth[2])
    chroma_b *= smooth[8]
    chroma_b += smooth[5]
    boxed: np.ndarray = cv2.merge([lightness, chroma_a, chroma_b])
    if level is not None:
        cv2.subtract(boxed, level, dst=boxed)
    if hair is not None:
        keep = _greyed(boxed[..., 0], smooth[3], hair)
        boxed[..., 1] *= keep
        boxed[..., 2] *= keep
    return boxed


def _bits(image: np.ndarray) -> np.ndarray:
    return image.view(np.uint32 if image.dtype == np.float32 else np.uint8)


@pytest.mark.parametrize("rows", [1, 7, 32, 64, 1000])
@pytest.mark.parametrize("case", ["all", "plain", "gain only", "hair only"])
def test_the_carried_rows_in_tiles_are_the_whole_box_formula(rows: int, case: str) -> None:
    """A box of 317 x 301 (no multiple of any tile height) cut in tiles of `rows`."""
    planes = _box_planes(39, 317, 301)
    face, face_box = planes["face"], planes["face_box"]
    assert isinstance(face, np.ndarray) and isinstance(face_box, np.ndarray)
    smooth, excess, hair = planes["smooth"], planes["excess"], planes["hair"]
    assert isinstance(smooth, list) and isinstance(excess, np.ndarray)
    assert isinstance(hair, np.ndarray)
    gained = case in ("all", "gain only")
    cut = excess if case == "all" else None
    level = np.array([0.7, -0.3, 1.1, 0.0]) if case == "all" else None
    greyed = hair if case in ("all", "hair only") else None
    reference = _whole_box(face, face_box, [plane.copy() for plane in smooth], gained, cut,
                           level, greyed)
    tiled = [plane.copy() for plane in smooth]
    boxed = np.empty(face_box.shape, dtype=np.float32)
    starts = range(0, face_box.shape[0], rows)
    for start in starts:
        part = slice(start, start + rows)
        _carried_rows(face, face_box, tiled, gained, cut, part, boxed[part])
    for start in starts:
        part = slice(start, start + rows)
        _levelled_rows(boxed[part], level, tiled[3][part],
                       None if greyed is None else greyed[part])
    assert np.array_equal(_bits(boxed), _bits(reference))


def _disc(centre: tuple[int, int], radius: int, blur: float = 6.0) -> np.ndarray:
    plane = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(plane, centre, radius, 1.0, -1)
    blurred: np.ndarray = cv2.GaussianBlur(plane, (0, 0), blur)
    return blurred


@pytest.mark.parametrize("case", ["boxed", "whole", "into face"])
def test_carry_detail_is_the_same_whatever_the_tiles(monkeypatch: pytest.MonkeyPatch,
                                                      case: str) -> None:
    """The whole function with its hair, brows' gain, texture limit and levelling: tiles
    of 7 rows and one tile over the whole box give the same values."""
    rng = np.random.default_rng(7)
    face = cv2.merge([np.float32(55.0) + _smooth(rng, (SIZE, SIZE), 60.0),
                      np.float32(12.0) + _smooth(rng, (SIZE, SIZE), 20.0),
                      np.float32(18.0) + _smooth(rng, (SIZE, SIZE), 20.0)])
    face += rng.normal(0.0, 2.0, face.shape).astype(np.float32)
    target = cv2.resize(face[::-1].copy(), (SIZE // 2, SIZE // 2),
                        interpolation=cv2.INTER_AREA) + np.float32(3.0)
    mask = (_disc((220, 230), 170) > 0.05).astype(np.float32)
    # Dim target brows (the gain below 1) and a stubbled chin (the hair).
    target[70:90, 60:160, 0] -= np.float32(30.0)
    options: dict[str, object] = {
        "skin": _disc((160, 280), 40), "lids": _disc((170, 180), 25),
        "shown": _disc((220, 230), 150), "under_eyes": _disc((170, 215), 30),
        "sockets": _disc((270, 170), 30), "bare": _disc((220, 240), 140),
        "shading": _disc((220, 320), 30), "flanks": _disc((190, 270), 20),
        "hair": _disc((220, 340), 60), "brows": _disc((160, 110), 30),
        "target_lightness": np.ascontiguousarray(cv2.resize(
            target, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)[..., 0]),
        "region": None if case == "whole" else _disc((220, 230), 160), "relief": 1.0}
    results = []
    for rows in (7, 100_000):
        monkeypatch.setattr(tone, "TILE_ROWS", rows)
        own = face.copy()
        results.append(carry_detail(own, target, mask, SIZE / 16,
                                    into_face=case == "into face",
                                    **options))  # type: ignore[arg-type]
    assert np.array_equal(_bits(results[0]), _bits(results[1]))
    assert not np.array_equal(results[0], face)  # the face did change


def _whole_paste(frame: np.ndarray, face: np.ndarray, mask: np.ndarray,
                 face_from_frame: np.ndarray) -> np.ndarray:
    """The thirty-eighth round's `paste_back` (main before the tiles)."""
    compensation = geometry._compensation_at(geometry.RESAMPLING_COMPENSATION,
                                             face_from_frame)
    height, width = frame.shape[:2]
    box = geometry.face_box_in_frame(face_from_frame, face.shape[0], (width, height))
    result = frame.copy()
    assert box is not None
    x0, y0, x1, y1 = box
    local_from_frame = face_from_frame.copy()
    local_from_frame[:, 2] += face_from_frame[:, :2] @ np.array([x0, y0], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    face_local = geometry.warp_to_frame(face, local_from_frame, size)
    alpha = geometry.warp_to_frame(mask.astype(np.float32), local_from_frame, size)
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    inner = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
    outer = slice(y0 + rows[0], y0 + rows[-1] + 1), slice(x0 + columns[0], x0 + columns[-1] + 1)
    region = result[outer].astype(np.float32)
    blended = geometry._compensated(face_local[inner], compensation)
    blended -= region
    blended *= three_channels(alpha[inner])
    blended += region
    blended += 0.5
    result[outer] = np.clip(blended, 0, 255, out=blended).astype(np.uint8)
    return result


@pytest.mark.parametrize("rows", [1, 5, 32, 10_000])
def test_paste_back_in_tiles_is_the_whole_box_blend(monkeypatch: pytest.MonkeyPatch,
                                                    rows: int) -> None:
    """A 440 px face (textured, soft-edged mask) pasted into a 512 x 640 frame at several
    scales, angles and places, one of them over the frame's edge."""
    monkeypatch.setattr(geometry, "TILE_ROWS", rows)
    rng = np.random.default_rng(39)
    frame = np.clip(np.float32(128.0) + _smooth(rng, (512, 640), 400.0)[..., None]
                    + rng.normal(0.0, 8.0, (512, 640, 3)), 0, 255).astype(np.uint8)
    face = np.clip(np.float32(150.0) + rng.normal(0.0, 30.0, (SIZE, SIZE, 3)),
                   0, 255).astype(np.uint8)
    mask = _disc((220, 230), 170, blur=12.0)
    for scale, angle, (x, y) in ((1.2, 0.0, (40.0, 30.0)), (0.9, 0.3, (-100.0, 60.0)),
                                 (2.5, -0.2, (-600.0, -500.0))):
        cosine, sine = scale * np.cos(angle), scale * np.sin(angle)
        face_from_frame = np.array([[cosine, -sine, x], [sine, cosine, y]])
        expected = _whole_paste(frame, face, mask, face_from_frame)
        pasted = paste_back(frame, face, mask, face_from_frame)
        assert np.array_equal(pasted, expected), (scale, angle)
        assert not np.array_equal(pasted, frame)


def _old_own_sockets(lab: np.ndarray, low: np.ndarray, skin: np.ndarray,
                     sockets: np.ndarray, blur: float, supported: bool = False
                     ) -> np.ndarray:
    """The thirty-eighth round's `_own_sockets` (a broadcast last axis of 2 and 3)."""
    boxes = _blur_boxes(sockets, blur)
    assert boxes is not None
    box, read, inner = boxes
    own = masked_blur(lab[read], skin[read], blur)[inner]
    part = low[box]
    change = own - part
    weight = sockets[box]
    if supported:
        weight = weight * np.clip(_blur(skin[read], blur)[inner] / SURROUND_SUPPORT, 0.0, 1.0)
    chroma = np.hypot(change[..., 1], change[..., 2])
    change[..., 1:] *= (SOCKET_CHROMA_STEP / np.maximum(chroma, SOCKET_CHROMA_STEP))[..., None]
    blended = low.copy()
    blended[box] = part + weight[..., None] * change
    return blended


def _half_lab(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A face and its low-pass at half size (220 px): Lab with strong colour (so that the
    sockets' colour step binds) and fine detail."""
    rng = np.random.default_rng(seed)
    shape = (SIZE // 2, SIZE // 2)
    lab = cv2.merge([np.float32(60.0) + _smooth(rng, shape, 60.0),
                     np.float32(14.0) + _smooth(rng, shape, 60.0),
                     np.float32(20.0) + _smooth(rng, shape, 60.0)])
    lab += rng.normal(0.0, 2.0, lab.shape).astype(np.float32)
    low: np.ndarray = cv2.GaussianBlur(lab, (0, 0), 13.75)
    return lab, low


@pytest.mark.parametrize("supported", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sockets_base_is_the_broadcast_formulas(supported: bool, seed: int) -> None:
    lab, low = _half_lab(seed)
    half = SIZE // 2
    skin = cv2.resize(_disc((220, 230), 150), (half, half), interpolation=cv2.INTER_AREA)
    sockets = cv2.resize(np.maximum(_disc((160, 170), 28), _disc((280, 170), 28)),
                         (half, half), interpolation=cv2.INTER_AREA)
    blur = 13.75 / 3.0
    expected = _old_own_sockets(lab, low, skin, sockets, blur, supported)
    moved = _own_sockets(lab, low, skin, sockets, blur, supported)
    assert np.array_equal(_bits(moved), _bits(expected))
    assert not np.array_equal(moved, low)


def test_the_colour_planes_are_the_split_and_merged_ones() -> None:
    face, _ = _half_lab(4)
    target, _ = _half_lab(5)
    expected = cv2.merge([*cv2.split(face)[1:], *cv2.split(target)[1:]])
    assert np.array_equal(_bits(_colour_planes(face, target)), _bits(expected))
    # A target that is a view of a larger plane (the compositor's half-size target).
    wide = np.zeros((SIZE // 2, SIZE, 3), np.float32)
    wide[:, 13:13 + SIZE // 2] = target
    view = wide[:, 13:13 + SIZE // 2]
    assert np.array_equal(_bits(_colour_planes(face, view)), _bits(expected))
