"""Indices spread evenly over a sequence: which frames or faces to sample.

Apart from facedub.media (which loads PyAV) so that training, which samples faces but
reads no video, imports without the media stack (a lent GPU machine has torch alone)."""

from __future__ import annotations

import numpy as np


def spread_indices(total: int, count: int) -> tuple[int, ...]:
    """Up to `count` indices of `range(total)` spread evenly from the first to the last,
    ascending and without repeats (fewer when `total` < `count`)."""
    if total <= 0 or count <= 0:
        return ()
    if count == 1:
        return (0,)
    picks = np.linspace(0, total - 1, min(count, total))
    return tuple(sorted({round(float(p)) for p in picks}))
