"""The source's eyes toned like the target's own eyes in the same frame.

The compositor gives the face the target's low-pass and the source's detail. In an eye
that is the wrong split: the whites and the iris are the eye's contrast, not light, and a
soft, shadowed video source (d3 onto headturn-woman's studio-lit face) carried too little
of it, so the eyes came out grey with a faint iris, where the target's own eyes (kept,
pasted uncoloured) had been crisp. So each eye, its opening and the lash line around it,
is toned here directly against the target's same eye in the same frame: its lightness
stretched so its dark end (iris, pupil, lashes) and bright end (the whites) land on the
target's, and its colour moved so its whites have the target's white (the iris keeps its
hue against them: eye colour is identity). The compositor then pastes it uncoloured, as
it did the target's kept eyes. The stretch is eased per track: the target's eye shows
more or less white from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facedub.faces.masks import feather

DARK, BRIGHT = 5.0, 95.0  # percentiles of L in the eye region matched to the target's
WHITES = 70.0  # pixels of the opening above this L percentile are its whites
GAIN_RANGE = (0.7, 3.0)  # the lightness stretch never goes beyond these
TONE_FOLLOW = 0.4  # share of this frame's tone per frame (the rest is the last frame's)
MIN_PIXELS = 12  # an eye region smaller than this is left as it is


@dataclass(frozen=True)
class EyeTone:
    """L' = dark + gain * (L - source dark), and (a, b) moved by `shift`."""

    dark: float
    source_dark: float
    gain: float
    shift: tuple[float, float]

    def eased(self, last: EyeTone | None, follow: float) -> EyeTone:
        if last is None:
            return self
        def mix(new: float, old: float) -> float:
            return old + follow * (new - old)
        return EyeTone(mix(self.dark, last.dark), mix(self.source_dark, last.source_dark),
                       mix(self.gain, last.gain),
                       (mix(self.shift[0], last.shift[0]), mix(self.shift[1], last.shift[1])))


def eye_box(contour: np.ndarray, grow: float, size: int) -> tuple[slice, slice] | None:
    """The crop box around one eye contour (N, 2), grown by `grow` pixels (+2)."""
    low = np.floor(contour.min(axis=0) - grow - 2).astype(int).clip(0, size)
    high = np.ceil(contour.max(axis=0) + grow + 3).astype(int).clip(0, size)
    if high[0] - low[0] < 4 or high[1] - low[1] < 4:
        return None
    return slice(int(low[1]), int(high[1])), slice(int(low[0]), int(high[0]))


def eye_region(contour: np.ndarray, box: tuple[slice, slice], grow: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """(hard opening, soft region) in `box`: the opening itself (uint8 0/255) and the
    opening grown by `grow` pixels over the lash line, feathered (float32 0..1)."""
    rows, columns = box
    shape = (rows.stop - rows.start, columns.stop - columns.start)
    opening = np.zeros(shape, dtype=np.uint8)
    points = np.round(contour - (columns.start, rows.start)).astype(np.int32)
    cv2.fillPoly(opening, [points], 255)
    soft = feather(opening, erode=-max(1, round(grow)), blur=max(2, round(grow)))
    return opening, soft


def _lab(pixels: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.ascontiguousarray(pixels, dtype=np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def eye_tone(source: np.ndarray, source_region: np.ndarray, source_opening: np.ndarray,
             target: np.ndarray, target_region: np.ndarray, target_opening: np.ndarray
             ) -> EyeTone | None:
    """The tone that makes one source eye (its box of the engine's image, (h, w, 3)
    float32 RGB 0..255) look like the target's same eye (its box of the target crop): L
    percentiles DARK and BRIGHT over each region (soft mask > 0.5) matched, and the
    whites' (a, b) over each opening. None where either eye shows too little."""
    source_lab, target_lab = _lab(source), _lab(target)
    inside_s, inside_t = source_region > 0.5, target_region > 0.5
    open_s, open_t = source_opening > 0, target_opening > 0
    if min(inside_s.sum(), inside_t.sum(), open_s.sum(), open_t.sum()) < MIN_PIXELS:
        return None
    s_dark, s_bright = np.percentile(source_lab[..., 0][inside_s], (DARK, BRIGHT))
    t_dark, t_bright = np.percentile(target_lab[..., 0][inside_t], (DARK, BRIGHT))
    gain = float(np.clip((t_bright - t_dark) / max(s_bright - s_dark, 1.0), *GAIN_RANGE))

    def whites(lab: np.ndarray, opening: np.ndarray) -> np.ndarray:
        lightness = lab[..., 0][opening]
        white = lightness >= np.percentile(lightness, WHITES)
        chroma: np.ndarray = lab[..., 1:][opening][white].mean(axis=0)
        return chroma

    shift = whites(target_lab, open_t) - whites(source_lab, open_s)
    return EyeTone(float(t_dark), float(s_dark), gain, (float(shift[0]), float(shift[1])))


def toned(source: np.ndarray, tone: EyeTone) -> np.ndarray:
    """One eye's box (h, w, 3) float32 RGB 0..255 with `tone` applied, same shape."""
    lab = _lab(source)
    lab[..., 0] = np.clip(tone.dark + tone.gain * (lab[..., 0] - tone.source_dark), 0, 100)
    lab[..., 1] += tone.shift[0]
    lab[..., 2] += tone.shift[1]
    rgb: np.ndarray = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(rgb, 0.0, 255.0)
