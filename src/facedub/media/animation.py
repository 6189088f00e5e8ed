"""The frames of an animated WebP or PNG (APNG), read with Pillow.

FFmpeg reads an animated GIF as a video, but an animated WebP not at all (this build's
decoder refuses it) and an APNG named .png as its first frame (`png_pipe`): as a
`--source` such a file was its first frame while a GIF was every frame. An animated
source is a video source here: these are its frames, composited as the format's
disposal rules say (Pillow's `seek`), flattened onto white as a photo is.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def iter_animation(path: Path, indices: Container[int] | None = None
                   ) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds since the first frame, (H, W, 3) uint8 RGB) of each frame of an
    animated image, upright by its EXIF orientation; `indices`: only these frames (the
    others are still composited, as a later frame may draw over them)."""
    with Image.open(path) as opened:
        time_ms = 0.0
        for index in range(int(getattr(opened, "n_frames", 1))):
            opened.seek(index)
            if indices is None or index in indices:
                yield index, time_ms / 1000.0, _flattened(ImageOps.exif_transpose(opened))
            time_ms += float(opened.info.get("duration", 0) or 0)


def _flattened(image: Image.Image) -> np.ndarray:
    """RGB over white, as `media.read_photo` flattens a transparent photo."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
