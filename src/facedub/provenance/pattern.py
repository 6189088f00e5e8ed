"""The keyed spread-spectrum pattern behind the invisible watermark, and how to find it.

Construction (what `watermark.py` embeds and reads)
---------------------------------------------------
- A *tile* of `TILE_CHIPS` x `TILE_CHIPS` chips of value +-1 repeats over the frame,
  `TILES_PER_SHORT_SIDE` times along the short side. Its size follows the frame, so
  resizing the frame resizes the mark with it. (Fewer, larger tiles for small frames were
  tried: they helped only the smallest clip after halving and cost every other one.)
- The tile is the sum of three keyed patterns: a *sync* pattern, keyed by the facedub tag,
  and two *data* patterns at `DATA_WEIGHT`, each cyclically shifted inside the tile by a
  multiple of `SYMBOL_STRIDE` chips. The two shifts carry the job id, one byte each
  (position-shift keying: all of a pattern's energy votes for one of 256 positions, far
  more robust than one chip group per bit).
- Chips are drawn as smooth bumps and band-passed (the lowest frequencies removed): host
  images hold most of their energy there, so those frequencies only add noise to the
  reading, and they are the blotches the eye sees first.

Reading
-------
A frame's luminance is shrunk so a chip spans `READ_CHIP_PX` pixels, whitened (local
high-pass, divided by local contrast to the power 1.5, so flat areas weigh most; and, as a
second reading of the same frames, to the power 1), then *folded*: every tile-sized block
is summed onto one tile. A crop moves the tile's phase
(found by circular correlation) and changes the tile's size relative to the frame (found
by searching scales). Correlation is phase-only (SPOMF, Chen & Kalker): the fold's
spectrum is flattened first, which makes the score a z-value against white noise whatever
the picture holds.

All arrays here are float32 unless said otherwise; images are (H, W) luminance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

TILE_CHIPS = 32
TILES_PER_SHORT_SIDE = 2
DATA_WEIGHT = 0.75
SYMBOL_STRIDE = 2  # chips between neighbouring symbol positions
SYMBOL_GRID = TILE_CHIPS // SYMBOL_STRIDE  # 16 x 16 = 256 positions = one byte
BANDPASS_SIGMA_CHIPS = 0.5  # Gaussian removed from the chip pattern, in chips
RENDER_CHIP_PX = 8  # resolution of the master tile that frame patterns are resampled from
READ_CHIP_PX = 4  # reading resolution
_PATTERN_NAMES = ("sync", "data1", "data2")
# Reading: local contrast over this Gaussian (reading pixels, a chip is 4), divided out to
# the power 1.5 (`whitened_lumas`). 4 px and power 1 (plain contrast normalisation) until
# 2026-12; these read the same marks 10-27% stronger (BENCHMARKS.md, "Watermark robustness").
_CONTRAST_SIGMA = 1.5
# A second reading divides by the contrast to the power 1 (`whitened_lumas`). Power 1.5 suits
# a mark that the picture hides least in flat areas; but when a small copy is compressed
# hard (half size at CRF 28), the encoder wipes the mark from flat areas first, and
# weighting them most then weighs noise: power 1 read the test swap's half-size CRF 28 copy
# 1.12x stronger (median over 24 job ids), the benchmark's clips 0.88-0.98x. The reader
# takes the stronger of the two at nominal scale (BENCHMARKS.md, "Watermark robustness").


def keyed_chips(key: bytes, label: str) -> np.ndarray:
    """(TILE_CHIPS, TILE_CHIPS) float32 of +-1, a deterministic function of key and label."""
    seed = int.from_bytes(hashlib.sha256(key + b"\x00" + label.encode()).digest()[:8], "little")
    signs = np.random.default_rng(seed).integers(0, 2, size=(TILE_CHIPS, TILE_CHIPS))
    return (signs * 2 - 1).astype(np.float32)


def symbol_shift(symbol: int) -> tuple[int, int]:
    """Chip shift (rows, cols) inside the tile that encodes one byte."""
    row, col = divmod(symbol, SYMBOL_GRID)
    return row * SYMBOL_STRIDE, col * SYMBOL_STRIDE


def tile_chips(sync: np.ndarray, data: tuple[np.ndarray, np.ndarray],
               symbols: tuple[int, int]) -> np.ndarray:
    """The chip values of one tile: sync plus the two data patterns at their shifts."""
    tile = sync.copy()
    for pattern, symbol in zip(data, symbols, strict=True):
        tile += DATA_WEIGHT * np.roll(pattern, symbol_shift(symbol), axis=(0, 1))
    return tile


def render_tile(chips: np.ndarray, chip_px: int) -> np.ndarray:
    """Draw chips as a periodic, band-passed tile of (TILE_CHIPS * chip_px)^2 pixels.

    Chips are linearly interpolated between their centres (smooth bumps); the band-pass
    is done in the Fourier domain, so the tile stays exactly periodic.
    """
    size = TILE_CHIPS * chip_px
    coords = ((np.arange(size, dtype=np.float32) + 0.5) / chip_px - 0.5) % TILE_CHIPS
    map_x = np.ascontiguousarray(np.broadcast_to(coords[None, :], (size, size)))
    map_y = np.ascontiguousarray(np.broadcast_to(coords[:, None], (size, size)))
    tile = cv2.remap(chips.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP)
    sigma = BANDPASS_SIGMA_CHIPS * chip_px
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    highpass = 1.0 - np.exp(-2.0 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    tile = np.fft.irfft2(np.fft.rfft2(tile) * highpass, s=(size, size))
    return tile.astype(np.float32)


def tile_period(height: int, width: int) -> float:
    """The tile's side in pixels for a frame of this size (before any crop)."""
    return min(height, width) / TILES_PER_SHORT_SIDE


def frame_pattern(master_tile: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) pattern with unit RMS: the master tile repeated at this frame's
    tile period, starting at the top-left corner."""
    size = master_tile.shape[0]
    period = tile_period(height, width)
    xs = ((np.arange(width, dtype=np.float32) + 0.5) * (size / period) - 0.5) % size
    ys = ((np.arange(height, dtype=np.float32) + 0.5) * (size / period) - 0.5) % size
    map_x = np.ascontiguousarray(np.broadcast_to(xs[None, :], (height, width)))
    map_y = np.ascontiguousarray(np.broadcast_to(ys[:, None], (height, width)))
    pattern = cv2.remap(master_tile, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    rms = float(np.sqrt(np.mean(pattern * pattern))) or 1.0
    return (pattern / rms).astype(np.float32)


def reading_size(height: int, width: int, chip_px: int = READ_CHIP_PX) -> tuple[int, int]:
    """(rows, cols) of the reading image: the short side holds the nominal tiles exactly."""
    scale = TILES_PER_SHORT_SIDE * TILE_CHIPS * chip_px / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def luma_halved(image: np.ndarray, min_short_side: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> float32 luminance, halved while the short side stays at or
    above `min_short_side` (exact 2x area halving is OpenCV's fast path)."""
    luma: np.ndarray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    while min(luma.shape) >= 2 * min_short_side:
        rows, cols = luma.shape
        luma = cv2.resize(luma[: rows - rows % 2, : cols - cols % 2], (cols // 2, rows // 2),
                          interpolation=cv2.INTER_AREA)
    return luma


def whitened_lumas(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB -> reading-resolution whitened luminance, float32 in [-3, 3], twice:
    contrast to the power 1.5 (the primary reading) and 1 (high-pass and contrast shared).

    The 3x3 local mean removes the picture's smooth content; dividing by local contrast
    (over about a chip) to the power 1.5 weights each pixel by how little picture there
    is to hide the mark: flat areas, where the picture is weakest against the mark, count
    most (power 1: less so). Each result is scaled to a median magnitude of 0.5 (so every
    frame weighs the same in a sum) and clipped, which tames what is left of edges.
    """
    rows, cols = reading_size(*image.shape[:2])
    luma = luma_halved(image, min(rows, cols))
    if luma.shape != (rows, cols):
        luma = cv2.resize(luma, (cols, rows), interpolation=cv2.INTER_AREA)
    highpass = luma - cv2.blur(luma, (3, 3))
    contrast = np.sqrt(cv2.GaussianBlur(highpass * highpass, (0, 0), _CONTRAST_SIGMA)) + 0.5
    primary = highpass / (contrast * np.sqrt(contrast))
    return _normalised(primary), _normalised(highpass / contrast)


def _normalised(weighted: np.ndarray) -> np.ndarray:
    median = float(np.median(np.abs(weighted[::2, ::2]))) or 1.0  # a quarter is plenty
    weighted *= 0.5 / median
    return np.clip(weighted, -3.0, 3.0, out=weighted).astype(np.float32, copy=False)


def fold(image: np.ndarray, scale_x: float, scale_y: float, tile_px: int) -> np.ndarray:
    """Sum all tile_px-sized blocks of `image` after shrinking it by (scale_x, scale_y).

    scale > 1 means the tile in `image` is larger than nominal (the frame was cropped).
    Returns (tile_px, tile_px).
    """
    rows, cols = image.shape
    out_cols, out_rows = int(np.ceil(cols / scale_x)), int(np.ceil(rows / scale_y))
    if scale_x == 1.0 and scale_y == 1.0:
        resampled = image
    else:
        matrix = np.array([[1.0 / scale_x, 0.0, 0.0], [0.0, 1.0 / scale_y, 0.0]], np.float32)
        resampled = cv2.warpAffine(image, matrix, (out_cols, out_rows), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    tiles_y, tiles_x = -(-out_rows // tile_px), -(-out_cols // tile_px)
    padded = np.zeros((tiles_y * tile_px, tiles_x * tile_px), np.float32)
    padded[:out_rows, :out_cols] = resampled
    return np.asarray(padded.reshape(tiles_y, tile_px, tiles_x, tile_px).sum(axis=(0, 2)))


@dataclass(frozen=True)
class SyncMatch:
    """Where the sync pattern sits in a fold: z-score and (row, col) shift in fold pixels."""

    z: float
    shift: tuple[int, int]


@dataclass(frozen=True)
class DataMatch:
    """One decoded byte, its z-score and the runner-up's z-score."""

    symbol: int
    z: float
    runner_up: float


class Matcher:
    """Phase-only correlation of folds against the three keyed patterns at one resolution.

    Owns the reference spectra, so build one per key and resolution and reuse it.
    """

    def __init__(self, sync: np.ndarray, data: tuple[np.ndarray, np.ndarray],
                 chip_px: int) -> None:
        self.chip_px = chip_px
        self.tile_px = TILE_CHIPS * chip_px
        self._spectra: dict[str, tuple[np.ndarray, float]] = {}
        for name, chips in zip(_PATTERN_NAMES, (sync, *data), strict=True):
            tile = render_tile(chips, chip_px)
            tile -= tile.mean()
            # z-scale: for a unit-magnitude spectrum the correlation map has mean square
            # |tile|^2 / N (Parseval), so this turns peaks into z-values.
            norm = np.sqrt(tile.size) / float(np.linalg.norm(tile))
            self._spectra[name] = (np.conj(np.fft.rfft2(tile)), norm)
            if name == "sync":
                # Full spectrum, as OpenCV's DFT lays it out, for the batched search.
                full = np.fft.fft2(tile)
                self._sync_full = np.dstack([full.real, full.imag]).astype(np.float32)
        self._fy = np.fft.fftfreq(self.tile_px)[:, None]
        self._fx = np.fft.rfftfreq(self.tile_px)[None, :]
        # rfft2 stores half the columns; the others count twice in inner products.
        self._weight = np.full(self._spectra["sync"][0].shape, 2.0)
        self._weight[:, 0] = 1.0
        if self.tile_px % 2 == 0:
            self._weight[:, -1] = 1.0

    def flatten(self, folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit-magnitude spectrum of a fold (DC dropped) and the magnitudes it had."""
        spectrum = np.fft.rfft2(folded - folded.mean())
        magnitude = np.abs(spectrum) + 1e-9
        flat = spectrum / magnitude
        flat[0, 0] = 0.0
        return flat, magnitude

    def correlate(self, flat: np.ndarray, name: str) -> np.ndarray:
        reference, norm = self._spectra[name]
        size = (self.tile_px, self.tile_px)
        return np.asarray(np.fft.irfft2(flat * reference, s=size) * norm)

    def find_sync(self, folded: np.ndarray) -> SyncMatch:
        corr = self.correlate(self.flatten(folded)[0], "sync")
        index = int(np.argmax(corr))
        row, col = divmod(index, self.tile_px)
        return SyncMatch(float(corr.flat[index]), (row, col))

    def sync_peaks(self, folds: np.ndarray) -> np.ndarray:
        """Best sync z-score of each fold in a (N, tile_px, tile_px) stack; returns (N,).

        The hot loop of the crop search; OpenCV's DFT is several times faster than
        numpy's here.
        """
        folds = np.ascontiguousarray(folds, np.float32)
        peaks = np.empty(len(folds), np.float32)
        for index, folded in enumerate(folds):
            spectrum: np.ndarray = cv2.dft(folded, flags=cv2.DFT_COMPLEX_OUTPUT)
            magnitude = cv2.magnitude(spectrum[..., 0], spectrum[..., 1]) + 1e-9
            spectrum /= magnitude[..., None]
            spectrum[0, 0] = 0.0
            product = cv2.mulSpectrums(spectrum, self._sync_full, 0, conjB=True)
            peaks[index] = cv2.idft(product, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE).max()
        return peaks * self._spectra["sync"][1]

    def decode(self, folded: np.ndarray, sync: SyncMatch) -> tuple[DataMatch, DataMatch]:
        """Read both bytes relative to the sync position.

        Each found pattern is subtracted before the next is read (successive
        interference cancellation): the three patterns share one tile, and their
        cross-talk is otherwise the main noise on a clean picture.
        """
        flat, magnitude = self.flatten(folded)
        flat = self._cancel(flat, magnitude, "sync", sync.shift)
        step = SYMBOL_STRIDE * self.chip_px
        rows = (sync.shift[0] + step * np.arange(SYMBOL_GRID)) % self.tile_px
        cols = (sync.shift[1] + step * np.arange(SYMBOL_GRID)) % self.tile_px
        found = []
        for name in _PATTERN_NAMES[1:]:
            scores = self.correlate(flat, name)[np.ix_(rows, cols)].ravel()
            order = np.argsort(scores)
            symbol = int(order[-1])
            found.append(DataMatch(symbol, float(scores[symbol]), float(scores[order[-2]])))
            row, col = divmod(symbol, SYMBOL_GRID)
            flat = self._cancel(flat, magnitude, name, (int(rows[row]), int(cols[col])))
        return found[0], found[1]

    def _cancel(self, flat: np.ndarray, magnitude: np.ndarray, name: str,
                shift: tuple[int, int]) -> np.ndarray:
        reference, _ = self._spectra[name]
        phase = np.exp(-2j * np.pi * (self._fy * shift[0] + self._fx * shift[1]))
        component = np.conj(reference) * phase / magnitude
        component[0, 0] = 0.0
        energy = float(np.sum(self._weight * np.abs(component) ** 2)) or 1.0
        amplitude = float(np.sum(self._weight * np.real(flat * np.conj(component)))) / energy
        return np.asarray(flat - amplitude * component)
