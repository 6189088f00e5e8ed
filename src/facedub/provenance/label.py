"""Visible label: a small "AI-generated" tag in a corner of every frame.

The label is a semi-opaque dark box with white text, sized from the frame (text about
3.5% of the short side, never under 9 px), inset from the corner by 2% of the short side.
Drawing is one multiply-add on the label's box: `out = image * keep + paint`, with
`keep` and `paint` rendered once per frame size by a `LabelPainter` the caller keeps.
Images are (H, W, 3) uint8 RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from facedub.errors import FacedubError

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]
CORNERS: tuple[Corner, ...] = ("bottom-right", "bottom-left", "top-right", "top-left")
DEFAULT_TEXT = "AI-generated"
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT_HEIGHT = 0.035  # of the frame's short side
_MIN_TEXT_PX = 9
_MARGIN = 0.02  # of the short side
_BOX_OPACITY = 0.6


@dataclass(frozen=True)
class _Stamp:
    """A rendered label for one frame size: where it goes and how it blends."""

    top: int
    left: int
    keep: np.ndarray  # (h, w, 1) float32: share of the picture kept
    paint: np.ndarray  # (h, w, 1) float32: value added (white text)


class LabelPainter:
    """Draws one label text in one corner; caches the rendered label per frame size."""

    def __init__(self, text: str = DEFAULT_TEXT, corner: Corner = "bottom-right") -> None:
        if not text or not text.isascii() or not text.isprintable():
            raise FacedubError(f"label text {text!r} cannot be drawn; use plain ASCII "
                               "characters (for example 'AI-generated')")
        if corner not in CORNERS:
            raise FacedubError(f"label corner {corner!r} is unknown; use one of "
                               f"{', '.join(CORNERS)}")
        self.text, self.corner = text, corner
        self._stamps: dict[tuple[int, int], _Stamp] = {}

    def draw(self, image: np.ndarray) -> np.ndarray:
        """Return a copy of an (H, W, 3) uint8 RGB image with the label drawn."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise FacedubError(f"label: expected an (H, W, 3) uint8 RGB image, got "
                               f"{image.shape} {image.dtype}")
        stamp = self._stamp(image.shape[0], image.shape[1])
        out = image.copy()
        box = out[self.box(image.shape[0], image.shape[1])]
        blended = box.astype(np.float32) * stamp.keep + stamp.paint
        box[...] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out

    def box(self, frame_height: int, frame_width: int) -> tuple[slice, slice]:
        """The rows and columns the label covers in a frame of this size: every pixel of
        it changes (a dark box under white text)."""
        stamp = self._stamp(frame_height, frame_width)
        height, width = stamp.keep.shape[:2]
        return slice(stamp.top, stamp.top + height), slice(stamp.left, stamp.left + width)

    def _stamp(self, frame_height: int, frame_width: int) -> _Stamp:
        key = (frame_height, frame_width)
        if key not in self._stamps:
            self._stamps[key] = _render(self.text, self.corner, frame_height, frame_width)
        return self._stamps[key]


def draw_visible_label(image: np.ndarray, text: str = DEFAULT_TEXT,
                       corner: Corner = "bottom-right") -> np.ndarray:
    """Label one image. For video, keep a `LabelPainter` (it caches the rendering)."""
    return LabelPainter(text, corner).draw(image)


def _render(text: str, corner: Corner, frame_height: int, frame_width: int) -> _Stamp:
    short = min(frame_height, frame_width)
    (unit_width, unit_height), _ = cv2.getTextSize(text, _FONT, 1.0, 1)
    text_px = max(_MIN_TEXT_PX, _TEXT_HEIGHT * short)
    # Never wider than 60% of the frame: shrink the text instead.
    scale = min(text_px / unit_height, 0.6 * frame_width / (unit_width * 1.3))
    thickness = max(1, round(scale * 1.5))
    (text_width, text_height), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    pad = max(2, round(0.4 * text_height))
    height = min(frame_height, text_height + baseline + 2 * pad)
    width = min(frame_width, text_width + 2 * pad)
    ink = np.zeros((height, width), np.uint8)
    cv2.putText(ink, text, (pad, pad + text_height), _FONT, scale, 255, thickness, cv2.LINE_AA)
    text_alpha = (ink.astype(np.float32) / 255.0)[:, :, None]
    # Dark box at _BOX_OPACITY, then white text over it: out = image * keep + paint.
    keep = (1.0 - _BOX_OPACITY) * (1.0 - text_alpha)
    paint = 255.0 * text_alpha
    margin = round(_MARGIN * short)
    top = margin if corner.startswith("top") else frame_height - height - margin
    left = margin if corner.endswith("left") else frame_width - width - margin
    return _Stamp(max(0, top), max(0, left), keep.astype(np.float32), paint.astype(np.float32))
