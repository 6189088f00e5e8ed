"""`carry_detail(into_face=True)` writes its result into the caller's own `face_lab`
(the compositor's temporary) instead of a copy of the whole crop: the same values to the
bit, the face's own colour outside the box where it is used, and without it the input is
left as it was."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedub.composite.tone import carry_detail

SIZE = 440


def _disc(centre: tuple[int, int], radius: int, blur: float = 6.0) -> np.ndarray:
    plane = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(plane, centre, radius, 1.0, -1)
    blurred: np.ndarray = cv2.GaussianBlur(plane, (0, 0), blur)
    return blurred


def _inputs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 1.0, (SIZE, SIZE, 3)).astype(np.float32)
    face = cv2.GaussianBlur(noise, (0, 0), 3.0) * np.float32(20.0) + np.array(
        [60.0, 12.0, 18.0], np.float32)
    face += rng.normal(0.0, 1.5, face.shape).astype(np.float32)  # fine detail
    target = cv2.resize(face[::-1].copy(), (SIZE // 2, SIZE // 2),
                        interpolation=cv2.INTER_AREA) + np.float32(3.0)
    mask = (_disc((220, 230), 170) > 0.05).astype(np.float32)
    weights = {"skin": _disc((160, 280), 40), "lids": _disc((170, 180), 25),
               "shown": _disc((220, 230), 150), "under_eyes": _disc((170, 215), 30),
               "sockets": _disc((270, 170), 30), "bare": _disc((220, 240), 140),
               "shading": _disc((220, 320), 30), "flanks": _disc((190, 270), 20),
               "target_lightness": np.ascontiguousarray(cv2.resize(
                   target, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)[..., 0]),
               "region": _disc((220, 230), 160)}
    return face, target, mask, weights


@pytest.mark.parametrize("case", ["boxed", "whole", "hair", "nothing shown"])
def test_into_face_gives_the_copys_values_in_the_faces_own_array(case: str) -> None:
    face, target, mask, weights = _inputs(3)
    options: dict[str, object] = dict(weights, relief=1.0)
    if case == "whole":
        options["region"] = None
    elif case == "hair":
        options["hair"] = _disc((220, 330), 60)
    elif case == "nothing shown":
        options["region"] = np.zeros((SIZE, SIZE), np.float32)
        options["shown"] = None
    before = face.copy()
    copied = carry_detail(face, target, mask, SIZE / 16, **options)  # type: ignore[arg-type]
    assert np.array_equal(face, before)  # without into_face the input is not touched
    own = face.copy()
    written = carry_detail(own, target, mask, SIZE / 16, into_face=True,
                           **options)  # type: ignore[arg-type]
    assert written is own
    assert written.dtype == copied.dtype == np.float32
    assert np.array_equal(written, copied)
    if case != "nothing shown":  # the result is real: the face moved to the target's base
        assert float(np.abs(copied - before).max()) > 1.0
