"""A share of the target's own pixels (its lips, its eyes) eased per target track."""

from __future__ import annotations

import numpy as np


class EasedShare:
    """Per target track, the last share shown: it rises by at most `rise_per_frame` a
    frame (at once by default: what the target's own pixels cover is never missed) and
    falls by at most `fall_per_frame` a frame, so they fade out over a few frames instead
    of popping; `update` is called once a frame, in order."""

    def __init__(self, fall_per_frame: float, rise_per_frame: float = 1.0) -> None:
        self._fall = fall_per_frame
        self._rise = rise_per_frame
        self._last: dict[int, float] = {}

    def update(self, track: int, share: float) -> float:
        last = self._last.get(track)
        eased = share if last is None else float(
            np.clip(share, last - self._fall, last + self._rise))
        self._last[track] = eased
        return eased

    def forget(self, track: int) -> None:
        self._last.pop(track, None)
