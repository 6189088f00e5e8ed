"""Invisible watermark: a 32-bit payload (facedub tag + job id) in every frame.

The mark is a keyed spread-spectrum pattern added to the luminance (see `pattern.py` for
its construction). It is designed to survive what happens to a shared video: H.264
re-encoding at CRF 28, downscaling to half size, a crop of 10% at the borders, and a single
frame grabbed as a JPEG at quality 70. Reading sums evidence over all frames given, so a
video is read far more reliably than one frame.

Typical use::

    embedder = WatermarkEmbedder(WatermarkPayload(job_id=1234))
    for frame in frames:
        writer.write(embedder.embed(frame.image), frame.time)

    reading = read_watermark(Path("out.mp4"))
    if reading.found: ...

The embedder caches one pattern per frame size, so keep one per job. Images are (H, W, 3)
uint8 RGB everywhere.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.errors import FacedubError
from facedub.provenance import pattern as pt
from facedub.provenance.search import Geometry, find_geometry

log = logging.getLogger(__name__)

FACEDUB_TAG = 0xFD0B  # the 16 high bits of every facedub payload
MAX_JOB_ID = 0xFFFF  # job ids are the low 16 bits: 0..MAX_JOB_ID
DEFAULT_KEY = b"facedub-watermark-v1"
MIN_PSNR_DB = 40.5  # the mark's energy is capped so PSNR never falls below this


@dataclass(frozen=True)
class MaskShape:
    """How the mark's amplitude follows the picture: `gain` luma levels per unit of local
    texture (RMS of the high-passed luminance), never below `floor` nor above `ceiling`.

    Texture hides the mark from the eye, but the reader weights flat areas most (there the
    picture hides the mark least from it too), and a face is mostly flat skin with a
    little texture (1.2-1.6 levels), which SSIM and the eye read as noise. So the mark sits
    at an even floor over skin and flat background and rises only slowly with texture.
    """

    gain: float
    floor: float
    ceiling: float

    def __post_init__(self) -> None:
        if not 0.0 < self.floor <= self.ceiling or self.gain < 0.0:
            raise FacedubError(f"watermark mask {self}: need 0 < floor <= ceiling, gain >= 0")


# Marks made before 2026-12 (v1): full texture gain, half a level on flat areas. Their
# outputs still read (tests/provenance/test_watermark.py), with more margin than before.
MASK_V1 = MaskShape(gain=1.0, floor=0.5, ceiling=6.0)
MASK = MaskShape(gain=0.6, floor=0.8, ceiling=6.0)
_MASK_SHORT_SIDE = 256  # texture is measured after 2x halvings down to 256..511 px
_DATA_MIN_Z = 3.5  # a byte is trusted when its peak clears this z and its runner-up
_DATA_MIN_MARGIN = 0.75  # by this much
_KEPT_FRAMES = 64  # frames kept (thinned evenly) to measure per-frame agreement


@dataclass(frozen=True)
class WatermarkPayload:
    """What the mark carries: the facedub tag (constant) and a 16-bit job id."""

    job_id: int

    def __post_init__(self) -> None:
        if not 0 <= self.job_id <= MAX_JOB_ID:
            raise FacedubError(f"watermark job id {self.job_id} is out of range; "
                               f"use 0..{MAX_JOB_ID}")

    @property
    def value(self) -> int:
        """The 32-bit payload: tag in the high 16 bits, job id in the low 16."""
        return (FACEDUB_TAG << 16) | self.job_id

    @property
    def bits(self) -> tuple[int, ...]:
        """The 32 payload bits, most significant first (the first 16 are the tag)."""
        return tuple((self.value >> (31 - i)) & 1 for i in range(32))

    @property
    def symbols(self) -> tuple[int, int]:
        """The job id as the two bytes the data patterns carry (high, low)."""
        return self.job_id >> 8, self.job_id & 0xFF


@dataclass(frozen=True)
class WatermarkReading:
    """The result of reading media for the mark.

    `found` means the facedub sync pattern was detected (`score` at or above
    `threshold`); `payload` is set when the job id was also read with confidence.
    `frames_agreeing` is the share of (up to 64, evenly thinned) frames whose own
    reading gives the same payload. `scale` is the tile size relative to nominal
    (1.0 uncropped, however resized; about 1.25 after cropping 10% from every side).
    `damage`: why the picture stopped decoding, when it did (the reading is then of the
    frames before the damage, or of none).
    """

    found: bool
    payload: WatermarkPayload | None
    score: float
    threshold: float
    frames_read: int
    frames_agreeing: float
    scale: tuple[float, float] = (1.0, 1.0)
    damage: str | None = None


@dataclass(frozen=True)
class _KeyedPatterns:
    sync: np.ndarray
    data: tuple[np.ndarray, np.ndarray]


def _keyed_patterns(key: bytes) -> _KeyedPatterns:
    # The sync pattern is keyed by the tag, so finding it is finding the tag.
    sync = pt.keyed_chips(key, f"sync-{FACEDUB_TAG:04x}")
    return _KeyedPatterns(sync, (pt.keyed_chips(key, "data1"), pt.keyed_chips(key, "data2")))


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise FacedubError(f"watermark: expected an (H, W, 3) uint8 RGB image, got "
                           f"{image.shape} {image.dtype}; convert the frame first")
    if min(image.shape[:2]) < 32:
        raise FacedubError(f"watermark: image {image.shape[1]}x{image.shape[0]} is too small "
                           "to carry a mark; use frames of at least 32 px")


class WatermarkEmbedder:
    """Adds one payload's mark to frames. Owns a per-frame-size pattern cache."""

    def __init__(self, payload: WatermarkPayload, key: bytes = DEFAULT_KEY,
                 min_psnr_db: float = MIN_PSNR_DB, mask: MaskShape = MASK) -> None:
        self.payload = payload
        self.mask = mask
        keyed = _keyed_patterns(key)
        chips = pt.tile_chips(keyed.sync, keyed.data, payload.symbols)
        self._master = pt.render_tile(chips, pt.RENDER_CHIP_PX)
        self._max_rms = 255.0 / 10.0 ** (min_psnr_db / 20.0)
        self._patterns: dict[tuple[int, int], np.ndarray] = {}

    def embed(self, image: np.ndarray) -> np.ndarray:
        """Return a marked copy of an (H, W, 3) uint8 RGB image."""
        _check_image(image)
        height, width = image.shape[:2]
        delta = self._pattern(height, width) * self._amplitude(image)  # (H, W) luma levels
        # Adding the same value to R, G and B changes luminance only, not colour.
        return cv2.add(image, cv2.merge([delta, delta, delta]), dtype=cv2.CV_8U)

    def _pattern(self, height: int, width: int) -> np.ndarray:
        key = (height, width)
        if key not in self._patterns:
            self._patterns[key] = pt.frame_pattern(self._master, height, width)
        return self._patterns[key]

    def _amplitude(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 amplitude in luma levels from local texture (perceptual mask)."""
        height, width = image.shape[:2]
        small = pt.luma_halved(image, _MASK_SHORT_SIDE)
        highpass = small - cv2.GaussianBlur(small, (0, 0), 1.5)
        # The mask is smooth, so it is shaped at half that resolution (4x cheaper).
        rows, cols = highpass.shape
        energy = cv2.resize((highpass * highpass)[: rows - rows % 2, : cols - cols % 2],
                            (cols // 2, rows // 2), interpolation=cv2.INTER_AREA)
        texture = np.sqrt(cv2.GaussianBlur(energy, (0, 0), 1.0))
        # Erode so the strong mark of an edge does not spill onto the flat skin beside it.
        texture = cv2.GaussianBlur(cv2.erode(texture, np.ones((4, 4), np.uint8)), (0, 0), 1.0)
        amplitude = np.clip(self.mask.gain * texture, self.mask.floor, self.mask.ceiling)
        rms = float(np.sqrt(np.mean(amplitude * amplitude)))
        if rms > self._max_rms:
            amplitude *= self._max_rms / rms
        return np.asarray(cv2.resize(amplitude, (width, height), interpolation=cv2.INTER_LINEAR))


def embed_watermark(image: np.ndarray, payload: WatermarkPayload,
                    key: bytes = DEFAULT_KEY) -> np.ndarray:
    """Mark one image. For video, keep a `WatermarkEmbedder` (it caches the pattern)."""
    return WatermarkEmbedder(payload, key).embed(image)


class WatermarkDetector:
    """Accumulates evidence for the mark over frames of one video (or one photo).

    All frames must have the same size. Each frame is read twice (`pattern.whitened_lumas`:
    two weightings, summed apart; the stronger sum decides). Memory: two reading-resolution
    sums plus up to 64 kept frames of the primary reading (about 15 MB for 1280x720).
    """

    def __init__(self, key: bytes = DEFAULT_KEY) -> None:
        keyed = _keyed_patterns(key)
        self._matcher = pt.Matcher(keyed.sync, keyed.data, pt.READ_CHIP_PX)
        self._coarse = pt.Matcher(keyed.sync, keyed.data, pt.READ_CHIP_PX // 2)
        self._sums: tuple[np.ndarray, ...] = ()
        self._shape: tuple[int, ...] = ()
        self._kept: list[np.ndarray] = []
        self._keep_every = 1
        self.frames_read = 0

    def add(self, image: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 RGB frame's evidence."""
        _check_image(image)
        if self._sums and image.shape != self._shape:
            raise FacedubError(f"watermark: frame size changed from {self._shape[:2]} to "
                               f"{image.shape[:2]}; read each video with its own detector")
        readings = pt.whitened_lumas(image)
        if not self._sums:
            self._sums = tuple(np.zeros_like(whitened) for whitened in readings)
            self._shape = image.shape
        for total, whitened in zip(self._sums, readings, strict=True):
            total += whitened
        if self.frames_read % self._keep_every == 0:
            # The primary reading only: the per-frame agreement means what it always meant.
            self._kept.append(readings[0].astype(np.float16))
            if len(self._kept) > _KEPT_FRAMES:
                # Thin evenly: keep every other frame and halve the keeping rate from now on.
                self._kept = self._kept[::2]
                self._keep_every *= 2
        self.frames_read += 1

    def reading(self) -> WatermarkReading:
        """Decide on the evidence so far (cheap when the frame was not cropped)."""
        if not self._sums:
            raise FacedubError("watermark: no frames were read; give a video or photo with "
                               "picture content")
        geometry = find_geometry(self._sums, self._matcher, self._coarse)
        if not geometry.found:
            return WatermarkReading(False, None, geometry.z, geometry.threshold,
                                    self.frames_read, 0.0, geometry.scale)
        payload = self._decode(self._sums[geometry.reading], geometry)
        agreeing = 0.0
        if payload is not None:
            same = [self._decode(frame.astype(np.float32), geometry, resync=True) == payload
                    for frame in self._kept]
            agreeing = sum(same) / len(same)
        return WatermarkReading(True, payload, geometry.z, geometry.threshold,
                                self.frames_read, agreeing, geometry.scale)

    def _decode(self, image: np.ndarray, geometry: Geometry,
                resync: bool = False) -> WatermarkPayload | None:
        folded = pt.fold(image, *geometry.scale, self._matcher.tile_px)
        sync = self._matcher.find_sync(folded) if resync else geometry.sync
        high, low = self._matcher.decode(folded, sync)
        for byte in (high, low):
            if byte.z < _DATA_MIN_Z or byte.z - byte.runner_up < _DATA_MIN_MARGIN:
                return None
        return WatermarkPayload((high.symbol << 8) | low.symbol)


def read_watermark(path: Path, max_frames: int = 150, key: bytes = DEFAULT_KEY) -> WatermarkReading:
    """Read the mark from a video (up to `max_frames` frames spread over it) or a photo."""
    if max_frames < 1:
        raise FacedubError(f"max_frames must be at least 1, got {max_frames}")
    info = media.probe(path)
    every = max(1, math.ceil(info.frame_count / max_frames)) if info.kind == "video" else 1
    detector = WatermarkDetector(key)
    try:
        for frame in media.iter_frames(path):
            if frame.index % every:
                continue
            detector.add(frame.image)
            if detector.frames_read >= max_frames:
                break
    except media.DecodeError as error:
        if detector.frames_read == 0:
            raise
        # A file damaged part-way still carries the mark in the frames before the damage.
        log.debug("%s", error)
        return replace(detector.reading(), damage=str(error))
    reading = detector.reading()
    log.debug("%s: watermark score %.1f (threshold %.1f) over %d frames", path, reading.score,
              reading.threshold, reading.frames_read)
    return reading
