"""The contact sheet, REPORT/sheet.png: for each realism measure the worst frames, target
and swapped crop side by side at the crop's full resolution (never scaled down: an
artifact has to be visible), plus evenly spaced frames. One PNG to open and look at.
Given the target's occlusion mask, a third panel shows it: the target with what is kept
in front of the swapped face (hands, glasses frames, objects) tinted red.

    keeper = SheetKeeper(("blobs", "doubled_edges"), worst=2, even_frames=(0, 40, 80, 120))
    keeper.offer("blobs", score, frame, target_crop, swapped_crop)   # per frame and measure
    keeper.offer_even(frame, target_crop, swapped_crop)
    keeper.write(report_dir / "sheet.png")
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from facedub.faceset import write_png
from facedub.fsutil import atomic_path

CAPTION_HEIGHT = 28
GAP = 4
BACKGROUND = 255
TEXT = (20, 20, 20)
EVEN_ROW = "evenly spaced"


class SheetKeeper:
    """Keeps, while frames stream past, the `worst` highest-scoring (target, swapped)
    crop pairs per measure (higher is worse) and the pairs of `even_frames`. Memory: at
    most (measures * worst + len(even_frames)) pairs of crops."""

    def __init__(self, measures: Sequence[str], worst: int, even_frames: Sequence[int]
                 ) -> None:
        self._worst = worst
        self._heaps: dict[str, list[tuple[float, int, np.ndarray]]] = {m: [] for m in measures}
        self._even_frames = frozenset(even_frames)
        self._even: list[tuple[int, np.ndarray]] = []

    def wants_even(self, frame: int) -> bool:
        return frame in self._even_frames

    def would_keep(self, measure: str, score: float) -> bool:
        """Whether `offer` would keep a pair of this score (lets callers skip copies)."""
        heap = self._heaps[measure]
        return (self._worst > 0 and np.isfinite(score)
                and (len(heap) < self._worst or score > heap[0][0]))

    def offer(self, measure: str, score: float, frame: int, target: np.ndarray,
              swapped: np.ndarray, occluded: np.ndarray | None = None) -> None:
        """Keep the pair if `score` is among the `worst` of `measure`; crops (S, S, 3),
        `occluded` (S, S) float in [0, 1] or None."""
        if not self.would_keep(measure, score):
            return
        item = (score, -frame, _pair(target, swapped, occluded))
        heap = self._heaps[measure]
        if len(heap) < self._worst:
            heapq.heappush(heap, item)
        else:
            heapq.heapreplace(heap, item)

    def offer_even(self, frame: int, target: np.ndarray, swapped: np.ndarray,
                   occluded: np.ndarray | None = None) -> None:
        self._even.append((frame, _pair(target, swapped, occluded)))

    def rows(self) -> list[tuple[str, list[np.ndarray]]]:
        """(caption, tiles) per measure with kept frames, worst first, then the even row."""
        rows = []
        for measure, heap in self._heaps.items():
            ranked = sorted(heap, key=lambda item: (-item[0], -item[1]))
            if ranked:
                scores = ", ".join(f"frame {-neg}: {score:.3g}" for score, neg, _ in ranked)
                rows.append((f"worst by {measure} ({scores})", [t for _, _, t in ranked]))
        if self._even:
            ordered = sorted(self._even, key=lambda item: item[0])
            frames = ", ".join(str(frame) for frame, _ in ordered)
            rows.append((f"{EVEN_ROW} (frames {frames})", [t for _, t in ordered]))
        return rows

    def write(self, path: Path) -> bool:
        """Write the sheet as one PNG (atomically); False if nothing was kept."""
        rows = self.rows()
        if not rows:
            return False
        with atomic_path(Path(path)) as tmp:
            write_png(tmp, compose(rows))
        return True


def compose(rows: Sequence[tuple[str, Sequence[np.ndarray]]], columns: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 RGB: each row a caption over its tiles, `columns` tiles a line."""
    tile_h, tile_w = rows[0][1][0].shape[:2]
    width = columns * tile_w + (columns - 1) * GAP
    parts = []
    for caption, tiles in rows:
        parts.append(_caption(caption, width))
        for start in range(0, len(tiles), columns):
            line = np.full((tile_h, width, 3), BACKGROUND, dtype=np.uint8)
            for i, tile in enumerate(tiles[start:start + columns]):
                x = i * (tile_w + GAP)
                line[:, x:x + tile_w] = tile
            parts.append(line)
        parts.append(np.full((GAP * 2, width, 3), BACKGROUND, dtype=np.uint8))
    return np.concatenate(parts, axis=0)


def _pair(target: np.ndarray, swapped: np.ndarray, occluded: np.ndarray | None = None
          ) -> np.ndarray:
    """(S, 2S + 2, 3): target left, swapped right, a thin dark line between; with
    `occluded`, (S, 3S + 4, 3): a third panel, the target with the mask tinted red."""
    line = np.zeros((target.shape[0], 2, 3), dtype=np.uint8)
    panels = [target, line, swapped]
    if occluded is not None:
        tinted = target.astype(np.float32)
        tinted[..., 0] += (255.0 - tinted[..., 0]) * 0.7 * occluded
        tinted[..., 1:] *= 1.0 - 0.6 * occluded[..., None]
        panels += [line, tinted.astype(np.uint8)]
    return np.concatenate(panels, axis=1)


def _caption(text: str, width: int) -> np.ndarray:
    band = np.full((CAPTION_HEIGHT, width, 3), BACKGROUND, dtype=np.uint8)
    cv2.putText(band, text[:180], (4, CAPTION_HEIGHT - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                TEXT, 1, cv2.LINE_AA)
    return band
