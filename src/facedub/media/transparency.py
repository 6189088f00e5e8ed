"""A photo's transparency, kept through a swap.

Every photo is swapped as RGB flattened onto white (`read_photo`): the detector, the
engines and the marks see what a viewer shows on a white page. A cut-out (a sticker, a
product shot) came out white where it was transparent. Where the output's format holds
alpha (`holds_alpha`), `Transparency.restore` puts the target's alpha back unchanged and
turns the swap's changes to the flattened picture into changes of the colours under it:
shown over white, the output is the flattened swap exactly; over any other background it
shows the same changes. Pixels the swap left alone keep their colours byte for byte, and
fully transparent ones keep the target's (hidden) colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

# Photo formats Pillow writes with an alpha channel here. JPEG and BMP hold none (BMP's
# 32-bit alpha is ignored by most viewers), so their output stays flattened onto white.
_ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})


# Pillow's 16- and 32-bit one-band modes: their RGBA conversion clips the values (a 16-bit
# grey PNG with a transparent value came out nearly white, "kept"), where `read_photo`
# scales them. Such a photo is flattened, as every photo was before.
_WIDE_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def holds_alpha(path: Path) -> bool:
    """The photo format `path` names keeps an alpha channel."""
    return Path(path).suffix.lower() in _ALPHA_SUFFIXES


def has_alpha(image: Image.Image) -> bool:
    """Pillow's modes that carry transparency: an alpha band or a transparent colour."""
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


@dataclass(frozen=True)
class Transparency:
    """An upright photo's alpha, the straight colours under it, and the flattening onto
    white that was swapped (all the same height and width)."""

    alpha: np.ndarray  # (H, W) uint8: 0 transparent .. 255 opaque
    colour: np.ndarray  # (H, W, 3) uint8 RGB, not composited
    flattened: np.ndarray  # (H, W, 3) uint8 RGB: onto white, as `read_photo` returns it

    @staticmethod
    def of(image: Image.Image, flattened: np.ndarray) -> Transparency | None:
        """The transparency of an upright Pillow image; None where every pixel is opaque
        (an RGBA PNG with nothing see-through is written as the RGB photo it is)."""
        if not has_alpha(image) or image.mode in _WIDE_MODES:
            return None
        rgba = np.asarray(image.convert("RGBA"))
        alpha = np.ascontiguousarray(rgba[:, :, 3])
        if alpha.min() == 255:
            return None
        return Transparency(alpha, np.ascontiguousarray(rgba[:, :, :3]), flattened)

    def restore(self, swapped: np.ndarray, opaque: np.ndarray | None = None) -> np.ndarray:
        """The (H, W, 4) RGBA output of `swapped`, the flattened target after the swap and
        its marks. `opaque`: (H, W) bool pixels made opaque, showing `swapped` as it is
        (the visible label's box, which must show whatever the background)."""
        if swapped.shape != self.colour.shape:
            raise ValueError(f"transparency: a {swapped.shape} image for a "
                             f"{self.colour.shape} photo")
        # The change the swap made, seen over white, is a change of `alpha` times the
        # colour underneath: the colour moves by change / alpha (clipped), so that
        # composited over white the pixel is `swapped` again. At alpha 255 it is
        # `swapped` exactly; where nothing changed, the colour is the target's.
        change = swapped.astype(np.float32) - self.flattened.astype(np.float32)
        alpha = self.alpha.astype(np.float32)[:, :, None]
        moved = self.colour.astype(np.float32) + change * (255.0 / np.maximum(alpha, 1.0))
        colour = np.where(alpha > 0, np.clip(np.rint(moved), 0, 255), self.colour)
        out = np.empty((*self.alpha.shape, 4), np.uint8)
        out[:, :, :3] = colour
        out[:, :, 3] = self.alpha
        if opaque is not None:
            out[opaque, :3] = swapped[opaque]
            out[opaque, 3] = 255
        return out
