"""The frames the report shows: the worst by identity and by seam, lost frames, and an
evenly spaced strip, kept as small side-by-side crops while the video streams past, so
no frame is decoded twice and memory stays bounded."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facedub.faceset import write_png
from facedub.spread import spread_indices

THUMB_SIZE = 160  # pixels of each face crop in the report


@dataclass(frozen=True)
class Picture:
    """A report image: `file` relative to the report folder, what it shows."""

    file: str
    frame: int
    caption: str


@dataclass(frozen=True)
class Pictures:
    worst_identity: tuple[Picture, ...]
    worst_seam: tuple[Picture, ...]
    lost: tuple[Picture, ...]
    strip: Picture | None
    worst_expression: tuple[Picture, ...] = ()  # mouth opening and smile unlike the target's


def side_by_side(target_crop: np.ndarray, swapped_crop: np.ndarray) -> np.ndarray:
    """(T, 2T, 3) uint8: the target's face crop left, the swapped frame's same crop right."""
    size = (THUMB_SIZE, THUMB_SIZE)
    return np.concatenate([cv2.resize(target_crop, size, interpolation=cv2.INTER_AREA),
                           cv2.resize(swapped_crop, size, interpolation=cv2.INTER_AREA)],
                          axis=1)


class PictureKeeper:
    """Keeps the `count` highest-scoring thumbnails per kind, the first `count` lost
    frames, and the strip frames chosen up front."""

    def __init__(self, count: int, strip_frames: tuple[int, ...]) -> None:
        self._count = count
        self._heaps: dict[str, list[tuple[float, int, np.ndarray]]] = {
            "identity": [], "seam": [], "expression": []}
        self._lost: list[tuple[int, np.ndarray]] = []
        self._strip_frames = frozenset(strip_frames)
        self._strip: list[tuple[int, np.ndarray]] = []

    def wants_strip(self, frame: int) -> bool:
        return frame in self._strip_frames

    def offer(self, kind: str, score: float, frame: int, thumb: np.ndarray) -> None:
        """Keep `thumb` if `score` (higher is worse) is among the worst of its kind."""
        if self._count == 0 or not np.isfinite(score):
            return
        heap = self._heaps[kind]
        item = (score, -frame, thumb)  # ties: keep the earlier frame
        if len(heap) < self._count:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)

    def offer_lost(self, frame: int, thumb: np.ndarray) -> None:
        if len(self._lost) < self._count:
            self._lost.append((frame, thumb))

    def offer_strip(self, frame: int, thumb: np.ndarray) -> None:
        self._strip.append((frame, thumb))

    def write(self, folder: Path, times: dict[int, float]) -> Pictures:
        """Write the kept thumbnails as PNGs under `folder` (the report's frames/)."""
        folder.mkdir(parents=True, exist_ok=True)
        prefix = folder.name

        def save(name: str, frame: int, image: np.ndarray, caption: str) -> Picture:
            write_png(folder / name, image)  # fast compression: a report, not an archive
            return Picture(f"{prefix}/{name}", frame, caption)

        worst = {}
        for kind, heap in self._heaps.items():
            ranked = sorted(heap, key=lambda item: (-item[0], -item[1]))
            worst[kind] = tuple(
                save(f"worst_{kind}_{rank:02d}.png", -negative, thumb,
                     f"frame {-negative} ({times.get(-negative, 0.0):.2f} s): {score:.3f}")
                for rank, (score, negative, thumb) in enumerate(ranked))
        lost = tuple(save(f"lost_{frame:06d}.png", frame, thumb,
                          f"frame {frame} ({times.get(frame, 0.0):.2f} s)")
                     for frame, thumb in self._lost)
        strip = None
        if self._strip:
            columns = [np.concatenate(np.split(thumb, 2, axis=1), axis=0)
                       for _, thumb in sorted(self._strip, key=lambda item: item[0])]
            frames = ", ".join(str(frame) for frame, _ in sorted(self._strip))
            strip = save("strip.png", self._strip[0][0], np.concatenate(columns, axis=1),
                         f"frames {frames}: target above, swapped below")
        return Pictures(worst["identity"], worst["seam"], lost, strip, worst["expression"])


def strip_frames(face_frames: list[int], count: int) -> tuple[int, ...]:
    """`count` evenly spaced frames among those with a target face."""
    if not face_frames or count == 0:
        return ()
    return tuple(face_frames[i] for i in spread_indices(len(face_frames), count))
