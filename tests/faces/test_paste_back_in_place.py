"""paste_back blends in place on its filtered face: the same bytes as the one expression
it replaced, `region + alpha * (face - region)` rounded, on every kind of input."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from facedub.faces.geometry import (
    _compensated,
    _compensation_at,
    face_box_in_frame,
    paste_back,
    warp_to_frame,
)
from facedub.faces.masks import three_channels


def _expression_paste_back(frame: np.ndarray, face: np.ndarray, mask: np.ndarray,
                           face_from_frame: np.ndarray, compensation: float) -> np.ndarray:
    """paste_back as it was written before (2026-12-03): one expression, temporaries."""
    compensation = _compensation_at(compensation, face_from_frame)
    height, width = frame.shape[:2]
    box = face_box_in_frame(face_from_frame, face.shape[0], (width, height))
    result = frame.copy()
    assert box is not None
    x0, y0, x1, y1 = box
    local_from_frame = face_from_frame.copy()
    local_from_frame[:, 2] += face_from_frame[:, :2] @ np.array([x0, y0], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    face_local = warp_to_frame(face, local_from_frame, size)
    alpha = warp_to_frame(mask.astype(np.float32), local_from_frame, size)
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    inner = slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)
    outer = slice(y0 + rows[0], y0 + rows[-1] + 1), slice(x0 + columns[0], x0 + columns[-1] + 1)
    region = result[outer].astype(np.float32)
    blended = region + three_channels(alpha[inner]) * (_compensated(face_local[inner],
                                                                    compensation) - region)
    result[outer] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return result


@pytest.mark.parametrize(("compensation", "face_dtype", "scale"),
                         [(1 / 6, np.uint8, 1.05), (0.0, np.uint8, 0.8),
                          (1 / 6, np.float32, 2.0), (0.0, np.float32, 1.0)])
def test_paste_back_in_place_gives_the_expressions_bytes(compensation: float,
                                                         face_dtype: type, scale: float) -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (300, 360, 3), dtype=np.uint8)
    size = 256
    face = cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), (0, 0), 1.5)
    if face_dtype is np.float32:  # unrounded values, some past 0 and 255 (the clip matters)
        face = face.astype(np.float32) * 1.2 - 20.0 + rng.normal(0, 3, face.shape).astype(
            np.float32)
    mask = np.zeros((size, size), np.float32)
    cv2.circle(mask, (size // 2, size // 2), size // 3, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 8)
    angle = math.radians(7)
    face_from_frame = np.array([[scale * math.cos(angle), -scale * math.sin(angle), -30.0],
                                [scale * math.sin(angle), scale * math.cos(angle), -10.0]])
    pasted = paste_back(frame, face, mask, face_from_frame, compensation)
    expected = _expression_paste_back(frame, face, mask, face_from_frame, compensation)
    assert (pasted != frame).any()  # something was pasted
    np.testing.assert_array_equal(pasted, expected)
