"""composite/grain.py: the grain added to a smooth face, judged where it is seen, in the
frame after the paste back, against the frame's own grain round it."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from facedub.composite.grain import add_grain, frame_grain, grain_level, grain_levels
from facedub.faces.geometry import paste_back, warp_to_face, warp_to_frame

SIZE = 160
SMOKER = "clip_dlib_elon_smoke_hand_mic_occlusion.gif"  # a palette-dithered GIF


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _crop_matrix(angle: float, scale: float, centre: tuple[float, float]) -> np.ndarray:
    cos, sin = scale * math.cos(angle), scale * math.sin(angle)
    matrix = np.array([[cos, -sin, 0.0], [sin, cos, 0.0]])
    matrix[:, 2] = np.array([SIZE / 2, SIZE / 2]) - matrix[:, :2] @ np.array(centre)
    return matrix


def _pasted_grain_share(frame: np.ndarray, face_from_frame: np.ndarray) -> float:
    """The grain of a smooth face (the target's own crop blurred) given the target's grain
    and pasted back, over the frame's own grain on the same frame pixels."""
    target = warp_to_face(frame, face_from_frame, SIZE, antialias=True)
    face = cv2.GaussianBlur(target, (0, 0), 1.5)
    mask = np.zeros((SIZE, SIZE), dtype=np.float32)
    cv2.circle(mask, (SIZE // 2, SIZE // 2), SIZE // 3, 1.0, -1)
    grained = add_grain(face, grain_levels(face, target, mask), mask,
                        np.random.default_rng(0), face_from_frame)
    pasted = paste_back(frame, grained, mask, face_from_frame)
    inside = warp_to_frame(cv2.erode(mask, np.ones((5, 5), np.uint8)), face_from_frame,
                           (frame.shape[1], frame.shape[0]))
    return grain_level(_grey(pasted), inside) / grain_level(_grey(frame), inside)


def test_a_smooth_face_in_the_dithered_gif_frame_gets_most_of_its_grain(faces_dir: Path
                                                                         ) -> None:
    # The smoker's first frame: the GIF's palette dither is a 1-2 px grain on his skin.
    # Noise drawn in crop pixels matched the crop's grain, which the cut's interpolation
    # had already taken a third of: pasted, the face kept 0.65-0.66 of the frame's grain
    # on these turned crops. Drawn in frame pixels and cut like the target, 0.75-0.79.
    capture = cv2.VideoCapture(str(faces_dir / SMOKER))
    ok, bgr = capture.read()
    capture.release()
    assert ok
    frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    for angle, scale, centre in ((0.15, 1.03, (150.7, 100.2)), (-0.1, 0.97, (140.5, 105.5))):
        share = _pasted_grain_share(frame, _crop_matrix(angle, scale, centre))
        assert 0.72 < share < 1.1


def test_frame_grain_is_the_frames_kind_and_the_crop_still_reaches_the_targets_level() -> None:
    rng = np.random.default_rng(5)
    frame = np.clip(128 + rng.normal(0, 4, (240, 320, 1)), 0, 255).astype(np.uint8)
    frame = np.repeat(frame, 3, axis=2)
    matrix = _crop_matrix(0.2, 1.0, (160.4, 120.7))
    cut = warp_to_face(frame, matrix, SIZE, antialias=True)[..., 0].astype(np.float32)
    unit = frame_grain(SIZE, matrix, np.random.default_rng(1))
    inner = slice(8, SIZE - 8)
    # Interpolated like the frame's own grain: neighbours correlated alike.
    for plane in (cut[inner, inner] - cut[inner, inner].mean(), unit[inner, inner]):
        correlation = np.corrcoef(plane[:, 1:].ravel(), plane[:, :-1].ravel())[0, 1]
        assert 0.2 < correlation < 0.5
    mask = np.ones((SIZE, SIZE), dtype=np.float32)
    smooth = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
    target = np.repeat(cut.astype(np.uint8)[..., None], 3, axis=2)
    grained = add_grain(smooth, grain_levels(smooth, target, mask), mask,
                        np.random.default_rng(2), matrix)
    wanted = grain_level(_grey(target), mask)
    assert abs(grain_level(_grey(grained), mask) - wanted) < 0.2 * wanted
    # A crop at under half the frame's scale: noise in its own pixels.
    small = frame_grain(SIZE, _crop_matrix(0.0, 0.4, (160.0, 120.0)), np.random.default_rng(3))
    assert abs(np.corrcoef(small[:, 1:].ravel(), small[:, :-1].ravel())[0, 1]) < 0.05
