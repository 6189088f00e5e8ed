"""Helpers for the provenance tests: write (marked, edited) video, and the edits that
shared video goes through. Kept out of conftest.py so tests can import them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.provenance.watermark import WatermarkEmbedder, WatermarkPayload

CLIP = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"  # 512x512, 25 fps
SECONDS = 2.5
PAYLOAD = WatermarkPayload(job_id=0xBEEF)

Edit = Callable[[np.ndarray], np.ndarray]


def write_video(source: Path, out: Path, edit: Edit, *, crf: int, seconds: float = 1e9,
                embedder: WatermarkEmbedder | None = None) -> Path:
    """Re-encode `source` (optionally marked, then edited) with H.264 at `crf`."""
    info = media.probe(source)
    writer: media.VideoWriter | None = None
    try:
        for frame in media.iter_frames(source):
            if frame.time >= seconds - 1e-6:
                break
            image = embedder.embed(frame.image) if embedder else frame.image
            image = edit(image)
            if writer is None:
                writer = media.VideoWriter(out, image.shape[1], image.shape[0], info.fps,
                                           crf=crf, preset="veryfast")
            writer.write(image, frame.time)
    finally:
        if writer is not None:
            writer.close()
    return out


def unchanged(image: np.ndarray) -> np.ndarray:
    return image


def half_size(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)


def crop_borders(image: np.ndarray, share: float = 0.10) -> np.ndarray:
    """Cut `share` of the width and height from every border (keeps the middle 80%)."""
    height, width = image.shape[:2]
    dy, dx = int(height * share), int(width * share)
    return np.ascontiguousarray(image[dy:height - dy, dx:width - dx])
