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

from facedub.media import DecodeError


def iter_animation(path: Path, indices: Container[int] | None = None
                   ) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds since the first frame, (H, W, 3) uint8 RGB) of each frame of an
    animated image, upright by its EXIF orientation; `indices`: only these frames (the
    others are still composited, as a later frame may draw over them)."""
    with Image.open(path) as opened:
        time_ms = 0.0
        for index in range(int(getattr(opened, "n_frames", 1))):
            try:
                opened.seek(index)
                image = (_flattened(ImageOps.exif_transpose(opened))
                         if indices is None or index in indices else None)
            except (OSError, EOFError, SyntaxError, ValueError) as error:
                # A cut-short or damaged file fails in Pillow's decoder partway through: it
                # surfaced as a bare "OSError" naming no file.
                raise DecodeError(f"{path}: the animation could not be decoded after {index} "
                                  f"of its frames ({type(error).__name__}: a cut-short or "
                                  "damaged file?); export or download it again") from error
            if image is not None:
                yield index, time_ms / 1000.0, image
            time_ms += float(opened.info.get("duration", 0) or 0)


def _flattened(image: Image.Image) -> np.ndarray:
    """RGB over white, as `media.read_photo` flattens a transparent photo."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
