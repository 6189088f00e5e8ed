"""Row bands for the mesh engine's crop-wide elementwise work.

On the two Intel cores (2 MB of L2 a core) a pass over a 440 px float32 RGB crop (2.3 MB)
is served from the shared cache at about a third of the L2's speed (BENCHMARKS.md,
thirty-eighth round). Run a band of rows at a time, a step's temporary stays in the L2.
Elementwise operations give every pixel the same value whichever band it is in (the same
operations on the same inputs): the same results to the bit. Not for neighbourhood
operations (a blur, a resize) nor reductions, whose bands would need a halo or would
regroup a sum.

Worth it only where a band replaces a crop-sized temporary that is made and read once
(the uint8 warp's float copy in `mesh_contributions.moved_towards`): the engine's other
chains of two to four steps (a face's trust and weighted texture, the faces' sums, the
mirror's gain, the target where unclean) ran as fast or slower in bands, each band's
calls and OpenCV channel merges costing what the L2 saved (BENCHMARKS.md, thirty-ninth
round).
"""

from __future__ import annotations

from collections.abc import Iterator

# Bytes of a band of one float32 RGB plane (32 rows at 440 px, 26 at 512): a step's few
# band-sized temporaries take well under the 2 MB L2. At 64 KB the band's calls ate the
# gain; 160-640 KB measured alike.
TILE_BYTES = 160 * 1024


def row_tiles(rows: int, row_bytes: int) -> Iterator[slice]:
    """Slices of `rows` rows in order, each band about TILE_BYTES for rows of
    `row_bytes` bytes (at least one row a band)."""
    step = max(1, TILE_BYTES // max(1, row_bytes))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))
