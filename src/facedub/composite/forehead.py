"""A bare forehead told from hair by its own colour and smoothness.

`occlusion.edge_occluders` judges the forehead and temples against a colour model of the
cheeks and nose. A powdered or lit forehead falls outside that model although it is skin:
paler than the cheeks, less chromatic, of about their hue (contour make-up bronzes the
cheeks and nose and leaves the forehead pale; a lamp lights a forehead and leaves the
cheeks in shade). Hair that falls there is darker, or of another hue (blond is yellower
than skin, grey has no chroma), or textured with strands. `powdered_skin` finds the
pixels the colour model refuses that are none of those.
"""

from __future__ import annotations

import cv2
import numpy as np

from facedub.composite.color import to_lab

# Hue angle in CIELAB (degrees from +a toward +b). Powder and light move a skin's hue a
# little toward red (d10's pale forehead reads 44-48 degrees against her bronzed cheeks'
# 51); blond and auburn hair lie on the yellow side, so that side gets only the
# reference's own spread and a few degrees.
# That spread is the crops' hue noise as much as the skin's: 1.5-4 degrees on real crops
# (limits 6-11), 4.6-4.9 on a reference with a*/b* noise of sd 2.5, whose limit (12-13)
# took a pale blond 12 degrees yellower for powder. So the side is bounded by YELLOWER_MOST
# (a spread of 3.5 degrees' limit; 9 moved film-headturn's margin by 0.008, 10 by 0.002).
REDDER_DEGREES = 12.0
YELLOWER_SPREADS = 2.0
YELLOWER_DEGREES = 3.0
YELLOWER_MOST = 10.0
# Chroma as a share of the reference's: powder greys the skin, it does not drain it.
CHROMA_SHARES = (0.5, 1.0)
# Smoothness: the fine band's local amplitude no more than this many times the
# reference skin's own (its median), plus a floor in L units for very smooth references.
TEXTURE_TIMES = 2.0
TEXTURE_FLOOR = 0.3


def fine_texture(image: np.ndarray, size: int, rows: int) -> np.ndarray:
    """(rows, size) float32: the local amplitude of the crop's fine lightness band (hair's
    strands, skin's pores), at `size` px, for the crop's top `rows` rows at that size.

    Measured at half the crop's resolution, where a strand is still a pixel or two wide
    and the band above it is mostly the encoder's noise."""
    full = image.shape[0]
    work = max(2 * size, full // 2)
    top = min(work, int(np.ceil(rows * work / size)) + 4)
    # Only the rows asked for (and a margin for the blurs) are resized and measured.
    source_rows = min(full, int(np.ceil(top * full / work)))
    small = cv2.resize(image[:source_rows], (work, round(source_rows * work / full)),
                       interpolation=cv2.INTER_AREA)
    lightness = to_lab(small)[..., 0]
    scale = work / 256.0
    fine = np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 0.75 * scale))
    amplitude = cv2.GaussianBlur(fine, (0, 0), 2.0 * scale)
    out_rows = int(np.ceil(amplitude.shape[0] * size / work))
    resized = cv2.resize(amplitude, (size, out_rows), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized[:rows])


def powdered_skin(image: np.ndarray, lab: np.ndarray, reference: np.ndarray,
                  judged: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the pixels `judged` ((N,) flat indices into `lab`) are paler
    skin of the reference's hue, and smooth.

    `lab`: (size, size, 3) CIELAB of the crop `image` (RGB uint8, any size) at `size` px;
    `reference`: (size, size) mask of the bare-skin reference (cheeks and nose)."""
    size = lab.shape[0]
    flat = lab.reshape(-1, 3)
    inside = reference.reshape(-1) > 0
    coloured = _powder_coloured(flat[judged].astype(np.float64), flat[inside].astype(np.float64))
    if not coloured.any():  # the texture is the costly half: only where colour asks for it
        return coloured
    rows = max(int(judged.max()), int(np.flatnonzero(inside).max())) // size + 1
    texture = fine_texture(image, size, rows).reshape(-1)
    limit = TEXTURE_TIMES * float(np.median(texture[inside[:len(texture)]])) + TEXTURE_FLOOR
    coloured[coloured] = texture[judged[coloured]] <= limit
    return coloured


def _powder_coloured(lab: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N,) bool per pixel of `lab` (N, 3): lighter than the `reference` (M, 3), its chroma
    a share of the reference's, its hue the reference's or a little redder."""
    ref_hue = np.arctan2(reference[:, 2], reference[:, 1])
    mean_hue = float(np.arctan2(np.sin(ref_hue).mean(), np.cos(ref_hue).mean()))
    spread = float(np.degrees(np.sqrt(np.mean(_wrapped(ref_hue - mean_hue) ** 2))))
    ref_chroma = float(np.hypot(reference[:, 1], reference[:, 2]).mean())
    # Positive: yellower than the reference (toward +b), negative: redder.
    turn = np.degrees(_wrapped(np.arctan2(lab[:, 2], lab[:, 1]) - mean_hue))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    result: np.ndarray = (
        (lab[:, 0] > float(reference[:, 0].mean()))
        & (chroma >= CHROMA_SHARES[0] * ref_chroma) & (chroma <= CHROMA_SHARES[1] * ref_chroma)
        & (turn >= -REDDER_DEGREES)
        & (turn <= min(YELLOWER_SPREADS * spread + YELLOWER_DEGREES, YELLOWER_MOST)))
    return result


def _wrapped(angle: np.ndarray) -> np.ndarray:
    """Angles (radians) into [-pi, pi)."""
    wrapped: np.ndarray = (angle + np.pi) % (2.0 * np.pi) - np.pi
    return wrapped
